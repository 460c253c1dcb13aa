import MiniSearch from 'minisearch'
import type { Options, SearchOptions } from 'minisearch'
import type { AppMetadata } from '@hubless/registry/records'

/**
 * The full-text index: MiniSearch with BM25 scoring, one document per app, built from the
 * owner's metadata. Field weights name > keywords > summary > app id > description; any-term
 * (OR) matching, so "record my screen" finds a "screen recorder"; prefix matching for partial
 * words; fuzzy matching (one edit from 4 letters, two from 8) for typos.
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

const BOOST = { name: 6, keywords: 3, summary: 2, appId: 1.5, description: 0.8 }

// words that carry no meaning in a query about apps ("record my screen", "an editor for pdf")
const STOP_WORDS = new Set([
  'a', 'an', 'and', 'by', 'for', 'from', 'i', 'in', 'is', 'it', 'me', 'my', 'of', 'on', 'or', 'the', 'that',
  'this', 'to', 'with', 'your'
])

export function processTerm (term: string): string | null {
  const t = term.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
  return t === '' || STOP_WORDS.has(t) ? null : t
}

const SEARCH_OPTIONS: SearchOptions = {
  boost: BOOST,
  combineWith: 'OR',
  prefix: (term) => term.length >= 2,
  fuzzy: (term) => term.length >= 8 ? 2 : term.length >= 4 ? 1 : false,
  maxFuzzy: 2
}

export const INDEX_OPTIONS: Options<SearchDocument> = {
  idField: 'id',
  fields: [...FIELDS],
  storeFields: [],
  processTerm,
  searchOptions: SEARCH_OPTIONS
}

/** "AudioVideoEditing" → "Audio Video Editing", so category words match queries */
function splitCamel (text: string): string {
  return text.replace(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/g, ' ')
}

/** the HTML AppStream descriptions carry, as text */
export function stripMarkup (html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/&(?:[a-z]+|#\d+);/gi, ' ')
}

export function documentFor (appId: string, app: AppMetadata): SearchDocument {
  return {
    id: appId,
    name: app.name,
    keywords: [...(app.keywords ?? []), ...(app.categories ?? []).map(splitCamel)].join(' '),
    summary: app.summary ?? '',
    appId,
    description: stripMarkup(app.description ?? '').slice(0, 4096)
  }
}

export interface IndexHit {
  id: string
  score: number
}

export class SearchIndex {
  private mini: MiniSearch<SearchDocument>

  constructor (mini?: MiniSearch<SearchDocument>) {
    this.mini = mini ?? new MiniSearch(INDEX_OPTIONS)
  }

  static load (json: string): SearchIndex {
    return new SearchIndex(MiniSearch.loadJSON<SearchDocument>(json, INDEX_OPTIONS))
  }

  put (doc: SearchDocument): void {
    if (this.mini.has(doc.id)) this.mini.replace(doc)
    else this.mini.add(doc)
  }

  has (id: string): boolean {
    return this.mini.has(id)
  }

  get size (): number {
    return this.mini.documentCount
  }

  search (query: string): IndexHit[] {
    return this.mini.search(query) as IndexHit[]
  }

  toJSON (): string {
    return JSON.stringify(this.mini)
  }
}
