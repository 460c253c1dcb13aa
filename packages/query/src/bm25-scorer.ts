import type MiniSearch from 'minisearch'

/**
 * Scores a query over MiniSearch's own index the way `MiniSearch.search` does (BM25 per field,
 * field boosts, prefix and fuzzy term weights, OR combination, the matched-term "quality"
 * factor), without its per-posting allocations: MiniSearch builds an object with a term list and
 * a match map for every document a term touches, then a result object per hit and a full sort.
 * A broad query at 20k apps touches thousands of documents, so that bookkeeping was most of its
 * cost. Here scores go into typed arrays indexed by MiniSearch's short document ids.
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

/** hits as parallel arrays: `ids[i]` (short id `docs[i]`) scored `scores[i]` and matched `matched[i]` distinct query words */
export interface ScoredHits {
  ids: string[]
  docs: Int32Array
  scores: Float64Array
  matched: Uint16Array
}

export class Bm25Scorer {
  private scores = new Float64Array(0)
  private matched = new Uint16Array(0)
  private lastWord = new Int32Array(0)
  private readonly touched: number[] = []
  private readonly internals: MiniSearchInternals
  private readonly weights: ScoringWeights
  /** the boosted fields by MiniSearch's field id; their average lengths change with every document */
  private readonly fields: Array<{ id: number, boost: number, avg: number }>

  constructor (internals: MiniSearchInternals, weights: ScoringWeights) {
    this.internals = internals
    this.weights = weights
    this.fields = Object.entries(weights.boost).flatMap(([field, boost]) => {
      const id = internals._fieldIds[field]
      return id != null ? [{ id, boost, avg: 1 }] : []
    })
  }

  private ensureCapacity (n: number): void {
    if (this.scores.length >= n) return
    const size = Math.max(n, this.scores.length * 2, 1024)
    this.scores = new Float64Array(size)
    this.matched = new Uint16Array(size)
    this.lastWord = new Int32Array(size).fill(-1)
  }

  score (specs: TermSpec[]): ScoredHits {
    const ix = this.internals
    this.ensureCapacity(ix._nextId)
    const fields = this.fields
    for (const field of fields) field.avg = ix._avgFieldLength[field.id] ?? 1
    // a repeated word adds its score again but counts once as a matched word, as in MiniSearch: its
    // second pass touches exactly the documents its first did
    const seen = new Set<string>()
    for (const [word, spec] of specs.entries()) {
      this.scoreTerm(spec, seen.has(spec.term) ? -1 : word, fields)
      seen.add(spec.term)
    }
    const n = this.touched.length
    const ids: string[] = new Array(n)
    const docs = new Int32Array(n)
    const scores = new Float64Array(n)
    const matched = new Uint16Array(n)
    let kept = 0
    for (let i = 0; i < n; i++) {
      const doc = this.touched[i]!
      const id = ix._documentIds.get(doc)
      if (id != null) {
        ids[kept] = id
        docs[kept] = doc
        // MiniSearch multiplies by the number of query words a document matched ("quality")
        scores[kept] = this.scores[doc]! * this.matched[doc]!
        matched[kept] = this.matched[doc]!
        kept++
      }
      this.scores[doc] = 0
      this.matched[doc] = 0
      this.lastWord[doc] = -1
    }
    this.touched.length = 0
    ids.length = kept
    return { ids, docs: docs.subarray(0, kept), scores: scores.subarray(0, kept), matched: matched.subarray(0, kept) }
  }

  private scoreTerm (spec: TermSpec, word: number, fields: Array<{ id: number, boost: number, avg: number }>): void {
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
  private addTerm (data: FieldTermData | undefined, weight: number, word: number, fields: Array<{ id: number, boost: number, avg: number }>): void {
    if (data == null) return
    const ix = this.internals
    const { k, b, d } = this.weights
    const total = ix._documentCount
    const dirty = ix._dirtCount > 0
    for (const field of fields) {
      const postings = data.get(field.id)
      if (postings == null) continue
      // a replaced document's postings stay until MiniSearch's vacuum; they must not count in the
      // document frequency (more postings than documents makes the IDF negative). Drop them, as
      // MiniSearch's own search does when it meets them
      if (dirty) for (const doc of postings.keys()) if (!ix._fieldLength.has(doc)) postings.delete(doc)
      const matching = postings.size
      const idf = Math.log(1 + (total - matching + 0.5) / (matching + 0.5))
      const scale = weight * field.boost * idf
      const kb = k * (1 - b)
      const kbAvg = k * b / field.avg
      for (const [doc, frequency] of postings) {
        const length = ix._fieldLength.get(doc)?.[field.id] ?? 0
        this.scores[doc]! += scale * (d + frequency * (k + 1) / (frequency + kb + kbAvg * length))
        if (word >= 0 && this.lastWord[doc] !== word) {
          if (this.matched[doc] === 0) this.touched.push(doc)
          this.lastWord[doc] = word
          this.matched[doc]!++
        }
      }
    }
  }
}
