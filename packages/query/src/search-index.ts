import MiniSearch from 'minisearch'
import type { Options, SearchOptions } from 'minisearch'
import type { AppMetadata } from '@hubless/registry/records'
import { Bm25Scorer, holdsTerm, internalsOf } from './bm25-scorer.ts'
import type { MiniSearchInternals, TermSpec } from './bm25-scorer.ts'

/**
 * The full-text index: MiniSearch with BM25 scoring, one document per app, built from the
 * owner's metadata. Field weights name > keywords > summary > app id > description; any-term
 * (OR) matching, so "record my screen" finds a "screen recorder"; prefix matching for partial
 * words (from four letters: `app` as a prefix matched a third of the catalog at 3x the cost); fuzzy
 * matching for typos, for words the index does not hold (a swap of two letters, or one edit from
 * three letters, two from nine).
 */

export interface SearchDocument {
  id: string
  name: string
  keywords: string
  summary: string
  appId: string
  description: string
}

export const FIELDS = ['name', 'keywords', 'summary', 'appId', 'description'] as const

// tuned on the judged query set of scripts/bench/query-search.ts; a heavier name weight let
// "Tag Editor" outrank Kdenlive ("Video Editor") for "video editor"
const BOOST = { name: 3, keywords: 2, summary: 1.5, appId: 1.2, description: 0.6 }
// MiniSearch's defaults, which the judged set was tuned with
const WEIGHTS = { fuzzyWeight: 0.45, prefixWeight: 0.375, k: 1.2, b: 0.7, d: 0.5 }

// words that carry no meaning in a query about apps ("record my screen", "an editor for pdf")
const STOP_WORDS = new Set([
  'a', 'an', 'and', 'by', 'for', 'from', 'i', 'in', 'is', 'it', 'me', 'my', 'of', 'on', 'or', 'the', 'that',
  'this', 'to', 'with', 'your'
])

export function processTerm (term: string): string | null {
  const t = term.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
  return t === '' || STOP_WORDS.has(t) ? null : t
}

// MiniSearch's default tokenizer: space or punctuation
const QUERY_SEPARATOR = /[\n\r\p{Z}\p{P}]+/u

const prefixOf = (term: string): boolean => term.length >= 4

// the last word of a query of several is the one being typed ("libreoffice wri"): a prefix from
// three letters, where the words before it already say what is meant (unless it repeats an
// earlier word: a word is expanded one way, whichever its place)
const prefixAt = (term: string, i: number, terms: string[]): boolean =>
  prefixOf(term) || (i === terms.length - 1 && terms.length > 1 && term.length >= 3 && terms.indexOf(term) === i)

// a word the index holds is taken as meant; only an unknown word is a likely typo. Expanding
// known words too cost 3–5x the time at 20k apps and mostly added noise. Swapped letters, the
// commonest typo, are fixed before (see rewrite), so one edit is enough below nine letters
const fuzzyOf = (term: string, known: (term: string) => boolean): number =>
  known(term) ? 0 : term.length >= 9 ? 2 : term.length >= 3 ? 1 : 0

function searchOptions (known: (term: string) => boolean): SearchOptions {
  return {
    boost: BOOST,
    combineWith: 'OR',
    prefix: prefixAt,
    fuzzy: (term) => fuzzyOf(term, known) || false,
    maxFuzzy: 2
  }
}

export const INDEX_OPTIONS: Options<SearchDocument> = {
  idField: 'id',
  fields: [...FIELDS],
  storeFields: [],
  processTerm,
  // replaced documents are cleaned out in the background; MiniSearch runs the first batch inside
  // the replace call, so small batches keep one replace well under a millisecond
  autoVacuum: { batchSize: 200, batchWait: 5, minDirtCount: 20, minDirtFactor: 0.1 }
}

/** MiniSearch 7's term dictionary (a radix tree); not in its typings, so reached structurally */
interface TermDictionary { has (term: string): boolean }

/** "AudioVideoEditing" → "Audio Video Editing", so category words match queries */
function splitCamel (text: string): string {
  return text.replace(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/g, ' ')
}

/** the HTML AppStream descriptions carry, as text */
export function stripMarkup (html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/&(?:[a-z]+|#\d+);/gi, ' ')
}

// reverse-DNS parts that nearly every app id has: indexed, `gith` would match 3 apps in 4
const ID_NOISE = new Set(['io', 'com', 'org', 'net', 'de', 'github', 'gitlab', 'codeberg', 'sourceforge', 'appimagehub'])

/** the app id's telling parts (`io.github.user.Tool` → `user Tool`); an exact id is matched apart from the index */
function appIdWords (appId: string): string {
  return appId.split('.').filter(part => !ID_NOISE.has(part.toLowerCase())).join(' ')
}

export function documentFor (appId: string, app: AppMetadata): SearchDocument {
  return {
    id: appId,
    name: app.name,
    keywords: [...(app.keywords ?? []), ...(app.categories ?? []).map(splitCamel)].join(' '),
    summary: app.summary ?? '',
    appId: appIdWords(appId),
    description: stripMarkup(app.description ?? '').slice(0, 4096)
  }
}

/** a document and its score; {@link SearchIndex.search} returns them in no particular order */
export interface IndexHit {
  id: string
  score: number
  /** the index's number for the document ({@link SearchIndex.docOf}), when known */
  doc?: number
}

/** hits as parallel arrays: document `docs[i]` ({@link SearchIndex.docOf}) scored `scores[i]` */
export interface DocHits {
  docs: Int32Array
  scores: Float64Array
}

/**
 * BM25 sums per-term scores; an app matching more of the query's words gains up to 2x, so
 * "torrent client" prefers a torrent client over every app named "... Client". The hits are then
 * no longer in score order: the caller selects the page it needs.
 */
function matchBonus (matched: number, terms: number): number {
  return 1 + (matched - 1) / (terms - 1)
}

export class SearchIndex {
  private readonly mini: MiniSearch<SearchDocument>
  private readonly options: SearchOptions
  private readonly known: ((term: string) => boolean) | undefined
  private readonly scorer: Bm25Scorer | undefined
  private readonly internals: MiniSearchInternals | undefined

  constructor (mini?: MiniSearch<SearchDocument>) {
    this.mini = mini ?? new MiniSearch(INDEX_OPTIONS)
    // should a MiniSearch update change its internals, search falls back to MiniSearch's own: slower, same results
    const internals = internalsOf(this.mini)
    this.internals = internals
    this.scorer = internals != null ? new Bm25Scorer(internals, { boost: BOOST, ...WEIGHTS }) : undefined
    const dictionary = (this.mini as unknown as { _index?: Partial<TermDictionary> })._index
    // a replaced document's words stay in the dictionary until MiniSearch's vacuum: ask for a live
    // document. Should a MiniSearch update hide the dictionary, every term gets typo tolerance:
    // slower, same results
    this.known = internals != null
      ? (term: string) => holdsTerm(internals, term)
      : typeof dictionary?.has === 'function' ? (term: string) => dictionary.has!(term) : undefined
    this.options = searchOptions(this.known ?? (() => false))
  }

  /**
   * Fix swapped letters (`krtia` → `krita`), which Levenshtein distance counts as two edits: an
   * unknown word whose one adjacent swap is a known word becomes that word.
   */
  private rewrite (query: string): string {
    const known = this.known
    if (known == null) return query
    let changed = false
    const words = query.split(QUERY_SEPARATOR).map((raw) => {
      const term = processTerm(raw)
      if (term == null || term.length < 4 || known(term)) return raw
      for (let i = 0; i + 1 < term.length; i++) {
        const swapped = term.slice(0, i) + term[i + 1] + term[i] + term.slice(i + 2)
        if (known(swapped)) {
          changed = true
          return swapped
        }
      }
      return raw
    })
    return changed ? words.join(' ') : query
  }

  static load (json: string): SearchIndex {
    return new SearchIndex(MiniSearch.loadJSON<SearchDocument>(json, INDEX_OPTIONS))
  }

  put (doc: SearchDocument): void {
    this.scorer?.invalidate()
    if (this.mini.has(doc.id)) this.mini.replace(doc)
    else this.mini.add(doc)
  }

  /**
   * The document's number in the index, which its hits carry; it changes when the document is
   * replaced. Undefined when the document is not indexed or the index does not number documents.
   */
  docOf (id: string): number | undefined {
    return this.internals?._idToShortId.get(id)
  }

  has (id: string): boolean {
    return this.mini.has(id)
  }

  get size (): number {
    return this.mini.documentCount
  }

  search (query: string): IndexHit[] {
    const scored = this.searchDocs(query)
    if (scored == null) return this.scoreWithMiniSearch(query)
    const { docs, scores } = scored
    const hits: IndexHit[] = new Array(docs.length)
    for (let i = 0; i < docs.length; i++) hits[i] = { id: this.idOf(docs[i]!)!, score: scores[i]!, doc: docs[i]! }
    return hits
  }

  /**
   * The hits as parallel arrays of document numbers and scores, in no particular order (the same
   * as {@link search}'s); undefined when the index does not number documents (then use `search`).
   * The arrays are reused: the next search overwrites them.
   */
  searchDocs (query: string): DocHits | undefined {
    return this.scorer != null ? this.scoreFast(this.scorer, this.rewrite(query)) : undefined
  }

  /** the id of the document numbered `doc` ({@link docOf}), while it is in the index */
  idOf (doc: number): string | undefined {
    return this.internals?._documentIds.get(doc)
  }

  private scoreFast (scorer: Bm25Scorer, query: string): DocHits {
    const known = this.known ?? (() => false)
    const words: string[] = []
    for (const raw of query.split(QUERY_SEPARATOR)) {
      const term = processTerm(raw)
      if (term != null) words.push(term)
    }
    const specs: TermSpec[] = words.map((term, i) => ({ term, prefix: prefixAt(term, i, words), fuzzy: fuzzyOf(term, known) }))
    const { docs, scores, matched } = scorer.score(specs)
    let terms = 0
    for (let i = 0; i < matched.length; i++) terms = Math.max(terms, matched[i]!)
    if (terms > 1) for (let i = 0; i < scores.length; i++) scores[i]! *= matchBonus(matched[i]!, terms)
    return { docs, scores }
  }

  /** MiniSearch's own search, for a MiniSearch whose internals the fast scorer does not know */
  scoreWithMiniSearch (query: string): IndexHit[] {
    const results = this.mini.search(this.rewrite(query), this.options)
    let terms = 0
    for (const r of results) terms = Math.max(terms, r.queryTerms.length)
    if (terms > 1) {
      // in place: a broad query at 20k apps has thousands of hits, and copying them was a tenth of its cost
      for (const r of results) r.score *= matchBonus(r.queryTerms.length, terms)
    }
    return results as IndexHit[]
  }

  toJSON (): string {
    return JSON.stringify(this.mini)
  }
}
