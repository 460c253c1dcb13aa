import type MiniSearch from 'minisearch'
import { PostingCache } from './postings.ts'

/**
 * Scores a query over MiniSearch's own index the way `MiniSearch.search` does (BM25 per field,
 * field boosts, prefix and fuzzy term weights, OR combination, the matched-term "quality"
 * factor), without its per-posting allocations: MiniSearch builds an object with a term list and
 * a match map for every document a term touches, then a result object per hit and a full sort.
 * A broad query at 20k apps touches thousands of documents, so that bookkeeping was most of its
 * cost. Here scores go into typed arrays indexed by MiniSearch's short document ids, read from
 * posting lists flattened into typed arrays ({@link PostingCache}), and the hits stay typed arrays:
 * the catalog makes objects only for the page it returns.
 *
 * It reads MiniSearch 7's internals, which its typings do not declare; {@link internalsOf}
 * checks their shape and the caller falls back to `MiniSearch.search` when they differ. The
 * tests compare both on the same index.
 */

/** field id → (short document id → term frequency) */
export type FieldTermData = Map<number, Map<number, number>>

interface RadixTree {
  get: (term: string) => FieldTermData | undefined
  has: (term: string) => boolean
  atPrefix: (prefix: string) => Iterable<[string, FieldTermData]>
  fuzzyGet: (term: string, maxDistance: number) => Map<string, [FieldTermData, number]>
}

export interface MiniSearchInternals {
  _index: RadixTree
  _documentIds: Map<number, string>
  _idToShortId: Map<string, number>
  _fieldIds: Record<string, number>
  _fieldLength: Map<number, number[]>
  _avgFieldLength: number[]
  _documentCount: number
  _nextId: number
  /** documents removed or replaced whose postings are still in the index */
  _dirtCount: number
}

export function internalsOf (mini: MiniSearch<never> | MiniSearch<object>): MiniSearchInternals | undefined {
  const m = mini as unknown as Partial<MiniSearchInternals>
  const index = m._index as Partial<RadixTree> | undefined
  if (index == null || typeof index.get !== 'function' || typeof index.has !== 'function' ||
    typeof index.atPrefix !== 'function' || typeof index.fuzzyGet !== 'function') return undefined
  if (!(m._documentIds instanceof Map) || !(m._idToShortId instanceof Map) || !(m._fieldLength instanceof Map) || m._fieldIds == null ||
    !Array.isArray(m._avgFieldLength) || typeof m._documentCount !== 'number' || typeof m._nextId !== 'number' || typeof m._dirtCount !== 'number') return undefined
  return m as MiniSearchInternals
}

/** whether a document in the index (not only a removed one) holds the term */
export function holdsTerm (internals: MiniSearchInternals, term: string): boolean {
  const data = internals._index.get(term)
  if (data == null) return false
  for (const postings of data.values()) {
    for (const doc of postings.keys()) if (internals._fieldLength.has(doc)) return true
  }
  return false
}

/** one processed query word and how far it may be expanded */
export interface TermSpec {
  term: string
  prefix: boolean
  /** largest edit distance for typo matches; 0 for none */
  fuzzy: number
}

export interface ScoringWeights {
  boost: Record<string, number>
  /** MiniSearch's defaults: fuzzy 0.45, prefix 0.375 */
  fuzzyWeight: number
  prefixWeight: number
  k: number
  b: number
  d: number
}

/** hits as parallel arrays: short id `docs[i]` scored `scores[i]` and matched `matched[i]` distinct query words */
export interface ScoredHits {
  docs: Int32Array
  scores: Float64Array
  matched: Uint16Array
}

interface BoostedField { id: number, boost: number, avg: number }

export class Bm25Scorer {
  private scores = new Float64Array(0)
  private matched = new Uint16Array(0)
  private lastWord = new Int32Array(0)
  /** the documents touched so far in this query, in the order first touched (the hits' order) */
  private touched = new Int32Array(0)
  private touchedCount = 0
  private outScores = new Float64Array(0)
  private outMatched = new Uint16Array(0)
  private readonly internals: MiniSearchInternals
  private readonly weights: ScoringWeights
  private readonly postings: PostingCache
  /** the boosted fields by MiniSearch's field id; their average lengths change with every document */
  private readonly fields: BoostedField[]

  constructor (internals: MiniSearchInternals, weights: ScoringWeights) {
    this.internals = internals
    this.weights = weights
    this.postings = new PostingCache(internals)
    this.fields = Object.entries(weights.boost).flatMap(([field, boost]) => {
      const id = internals._fieldIds[field]
      return id != null ? [{ id, boost, avg: 1 }] : []
    })
  }

  /** the index changed: flattened postings are stale */
  invalidate (): void {
    this.postings.invalidate()
  }

  private ensureCapacity (n: number): void {
    if (this.scores.length >= n) return
    const size = Math.max(n, this.scores.length * 2, 1024)
    this.scores = new Float64Array(size)
    this.matched = new Uint16Array(size)
    this.lastWord = new Int32Array(size).fill(-1)
    this.touched = new Int32Array(size)
    this.outScores = new Float64Array(size)
    this.outMatched = new Uint16Array(size)
  }

  /** the hits of a query; their arrays are overwritten by the next call */
  score (specs: TermSpec[]): ScoredHits {
    const ix = this.internals
    this.ensureCapacity(ix._nextId)
    this.postings.check()
    const fields = this.fields
    for (const field of fields) field.avg = ix._avgFieldLength[field.id] ?? 1
    // a repeated word adds its score again but counts once as a matched word, as in MiniSearch: its
    // second pass touches exactly the documents its first did
    const seen = new Set<string>()
    for (const [word, spec] of specs.entries()) {
      this.scoreTerm(spec, seen.has(spec.term) ? -1 : word, fields)
      seen.add(spec.term)
    }
    const n = this.touchedCount
    // the results are views of buffers kept for the next query: a broad query at 100k apps has
    // ~100k hits, and arrays that size allocated per query went straight to the old generation
    // and brought on major GCs, whose marking steps were the slowest queries
    const docs = this.touched.subarray(0, n)
    const scores = this.outScores.subarray(0, n)
    const matched = this.outMatched.subarray(0, n)
    for (let i = 0; i < n; i++) {
      const doc = docs[i]!
      // MiniSearch multiplies by the number of query words a document matched ("quality")
      scores[i] = this.scores[doc]! * this.matched[doc]!
      matched[i] = this.matched[doc]!
      this.scores[doc] = 0
      this.matched[doc] = 0
      this.lastWord[doc] = -1
    }
    this.touchedCount = 0
    return { docs, scores, matched }
  }

  private scoreTerm (spec: TermSpec, word: number, fields: BoostedField[]): void {
    const index = this.internals._index
    const { term } = spec
    this.addTerm(index.get(term), 1, word, fields)
    let fuzzy: Map<string, [FieldTermData, number]> | undefined
    if (spec.fuzzy > 0) fuzzy = index.fuzzyGet(term, spec.fuzzy)
    if (spec.prefix) {
      for (const [derived, data] of index.atPrefix(term)) {
        const distance = derived.length - term.length
        if (distance === 0) continue
        // a word that is both a prefix and a typo match counts as a prefix match
        fuzzy?.delete(derived)
        this.addTerm(data, this.weights.prefixWeight * derived.length / (derived.length + 0.3 * distance), word, fields)
      }
    }
    if (fuzzy != null) {
      for (const [derived, [data, distance]] of fuzzy) {
        if (distance === 0) continue
        this.addTerm(data, this.weights.fuzzyWeight * derived.length / (derived.length + distance), word, fields)
      }
    }
  }

  /** `word` is the query word's position, or -1 for a repeated word that must not count again */
  private addTerm (data: FieldTermData | undefined, weight: number, word: number, fields: BoostedField[]): void {
    if (data == null) return
    const { k, b, d } = this.weights
    const total = this.internals._documentCount
    const { scores, matched, lastWord, touched } = this
    let count = this.touchedCount
    for (const field of fields) {
      const list = data.get(field.id)
      if (list == null) continue
      const { docs, frequencies, lengths } = this.postings.get(list, field.id)
      const matching = docs.length
      const idf = Math.log(1 + (total - matching + 0.5) / (matching + 0.5))
      const scale = weight * field.boost * idf
      const kb = k * (1 - b)
      const kbAvg = k * b / field.avg
      for (let i = 0; i < matching; i++) {
        const doc = docs[i]!
        const frequency = frequencies[i]!
        scores[doc]! += scale * (d + frequency * (k + 1) / (frequency + kb + kbAvg * lengths[i]!))
        if (word >= 0 && lastWord[doc] !== word) {
          if (matched[doc] === 0) touched[count++] = doc
          lastWord[doc] = word
          matched[doc]!++
        }
      }
    }
    this.touchedCount = count
  }
}
