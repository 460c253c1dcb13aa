/**
 * The one set of rules for a search: what `Catalog.search` accepts and what a mirror's HTTP API
 * reads from a URL's parameters. The limits bound the work one query can ask for, whoever asks:
 * - a query of at most 256 characters: no title, app id or sentence a person types is longer,
 *   and every extra word is another pass over the index (the HTTP API's old limit; the
 *   catalog's 512 bought nothing but cost);
 * - a page of at most 1,000 hits: the catalog's own callers read the whole catalog in pages of
 *   1,000 (the mirror's feed, `hubless search --limit`), and a page's cost is a partial sort of
 *   `offset + limit` hits, so the bound is on the offset as well (10,000 pages);
 * - at most 20 categories, and no parameter longer than the query's limit.
 */

import { CHANNEL_LADDER, isChannel } from './channels.ts'
import { InvalidQueryError } from './errors.ts'
import { shown } from './shown.ts'
import type { SearchQuery, SortOrder } from './index.ts'

/** The limits of a search, the same for a catalog's caller and a mirror's HTTP client */
export const SEARCH_LIMITS = Object.freeze({
  /** characters of the query text, and of any one URL parameter */
  queryLength: 256,
  /** hits in one page (`limit`, `pageSize`) */
  pageSize: 1000,
  /** the highest page number (`page`); an `offset` stays below `page × pageSize` of it */
  page: 10_000,
  /** hits skipped (`offset`): `(page - 1) × pageSize` at most */
  offset: 9_999 * 1000,
  /** categories in one query */
  categories: 20,
  /** hits in a page when the query names no size */
  defaultPageSize: 20
})

const SORTS: readonly SortOrder[] = ['relevance', 'updated', 'name']
const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['', '0', 'false', 'no', 'off'])

/** A search's options after {@link checkSearchQuery}: text trimmed, defaults set, categories a list */
export interface CheckedSearchQuery extends SearchQuery {
  query: string
  sort: SortOrder
  offset: number
  limit: number
  category?: string[]
}

function fail (parameter: string, message: string): never {
  throw new InvalidQueryError(message, { parameter })
}

function optionalString (query: SearchQuery, name: 'arch' | 'publisher'): string | undefined {
  const value: unknown = query[name]
  if (value == null) return undefined
  if (typeof value !== 'string' || value.length > SEARCH_LIMITS.queryLength) {
    fail(name, `${name} must be a string of at most ${SEARCH_LIMITS.queryLength} characters, not ${shown(value)}`)
  }
  return value
}

/** Checks a search's typed options against {@link SEARCH_LIMITS}; throws `InvalidQueryError` naming the parameter */
export function checkSearchQuery (input: SearchQuery = {}): CheckedSearchQuery {
  if (input == null || typeof input !== 'object') fail('query', 'a search takes an object of options')
  if (input.query != null && typeof input.query !== 'string') fail('query', 'query must be a string')
  const text = typeof input.query === 'string' ? input.query.trim() : ''
  if (text.length > SEARCH_LIMITS.queryLength) fail('query', `the query is ${text.length} characters long; the limit is ${SEARCH_LIMITS.queryLength}`)
  const limit = input.limit ?? SEARCH_LIMITS.defaultPageSize
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.pageSize) fail('limit', `limit must be an integer from 1 to ${SEARCH_LIMITS.pageSize}, not ${shown(limit)}`)
  const offset = input.offset ?? 0
  if (!Number.isInteger(offset) || offset < 0 || offset > SEARCH_LIMITS.offset) fail('offset', `offset must be an integer from 0 to ${SEARCH_LIMITS.offset}, not ${shown(offset)}`)
  if (input.channel != null && !isChannel(input.channel)) fail('channel', `channel must be one of ${CHANNEL_LADDER.join(', ')}, not ${shown(input.channel)}`)
  const sort = input.sort ?? (text === '' ? 'name' : 'relevance')
  if (!SORTS.includes(sort)) fail('sort', `sort must be relevance, updated or name, not ${shown(sort)}`)
  const { category, ...rest } = input
  const checked: CheckedSearchQuery = { ...rest, query: text, sort, offset, limit }
  if (category != null) {
    const categories: unknown[] = Array.isArray(category) ? category : [category]
    if (!categories.every(c => typeof c === 'string' && c.length <= SEARCH_LIMITS.queryLength)) fail('category', 'category must be a string or a list of strings')
    if (categories.length > SEARCH_LIMITS.categories) fail('category', `at most ${SEARCH_LIMITS.categories} categories`)
    checked.category = categories as string[]
  }
  const arch = optionalString(input, 'arch')
  const publisher = optionalString(input, 'publisher')
  if (arch == null) delete checked.arch
  if (publisher == null) delete checked.publisher
  return checked
}

/** URL parameters, or a plain object of them (a form, a router's params) */
export type SearchParams = URLSearchParams | Record<string, string | string[] | undefined>

export interface ParseSearchQueryOptions {
  /** hits in a page when the parameters name no `pageSize`; default {@link SEARCH_LIMITS}.defaultPageSize */
  defaultPageSize?: number
}

function reader (params: SearchParams): { get: (name: string) => string | undefined, getAll: (name: string) => string[], entries: () => Iterable<[string, string]> } {
  if (params instanceof URLSearchParams) {
    return { get: name => params.get(name) ?? undefined, getAll: name => params.getAll(name), entries: () => params }
  }
  const all = (name: string): string[] => {
    const value = Object.hasOwn(params, name) ? params[name] : undefined
    return value == null ? [] : Array.isArray(value) ? value : [value]
  }
  return {
    get: name => all(name)[0],
    getAll: all,
    * entries () {
      for (const name of Object.keys(params)) for (const value of all(name)) yield [name, value]
    }
  }
}

/**
 * A search from string parameters, as a mirror's HTTP API gets them (`GET /api/v1/apps?q=…`):
 * `q`, `category` (repeated or comma separated), `channel`, `arch`, `publisher`, `free` or
 * `license=free`, `trusted`, `sort`, `page` (from 1) and `pageSize`. An empty value is absent;
 * booleans are true/false, 1/0, yes/no or on/off. The result is what `Catalog.search` takes, with
 * `limit` and `offset` set (the page is `offset / limit + 1`); it is checked as the catalog checks
 * it. A bad parameter throws `InvalidQueryError` whose `parameter` names it.
 */
export function parseSearchQuery (params: SearchParams, options: ParseSearchQueryOptions = {}): CheckedSearchQuery {
  if (params == null || typeof params !== 'object') fail('query', 'search parameters must be URLSearchParams or an object of strings')
  const p = reader(params)
  for (const [name, value] of p.entries() as Iterable<[string, unknown]>) {
    if (typeof value !== 'string') fail(name.slice(0, 50), `${name.slice(0, 50)} must be a string`)
    if (value.length > SEARCH_LIMITS.queryLength) fail(name.slice(0, 50), `${name.slice(0, 50)} is longer than ${SEARCH_LIMITS.queryLength} characters`)
  }
  const nonEmpty = (name: string): string | undefined => {
    const value = p.get(name)
    return value == null || value === '' ? undefined : value
  }
  const flag = (name: string): boolean | undefined => {
    const value = p.get(name)
    if (value == null) return undefined
    if (TRUE.has(value)) return true
    if (FALSE.has(value)) return false
    fail(name, `${name}="${value.slice(0, 50)}" is not a boolean (use true or false)`)
  }
  const whole = (name: string, fallback: number, max: number): number => {
    const value = nonEmpty(name)
    if (value == null) return fallback
    const n = Number(value)
    if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > max) fail(name, `${name}="${value.slice(0, 50)}" must be a whole number from 1 to ${max}`)
    return n
  }
  const channel = nonEmpty('channel')
  if (channel != null && !isChannel(channel)) fail('channel', `channel="${channel.slice(0, 50)}" is not one of ${CHANNEL_LADDER.join(', ')}`)
  const sort = nonEmpty('sort')
  if (sort != null && !SORTS.includes(sort as SortOrder)) fail('sort', `sort="${sort.slice(0, 50)}" is not one of ${SORTS.join(', ')}`)
  const license = nonEmpty('license')
  if (license != null && license !== 'free') fail('license', 'license takes only "free"')
  const categories = p.getAll('category').flatMap(c => c.split(',')).map(c => c.trim()).filter(c => c !== '')
  if (categories.length > SEARCH_LIMITS.categories) fail('category', `at most ${SEARCH_LIMITS.categories} categories`)
  const pageSize = whole('pageSize', options.defaultPageSize ?? SEARCH_LIMITS.defaultPageSize, SEARCH_LIMITS.pageSize)
  const page = whole('page', 1, SEARCH_LIMITS.page)
  const query: SearchQuery = { query: p.get('q') ?? '', limit: pageSize, offset: (page - 1) * pageSize }
  if (categories.length > 0) query.category = categories
  if (channel != null) query.channel = channel as SearchQuery['channel']
  const arch = nonEmpty('arch')
  if (arch != null) query.arch = arch
  const publisher = nonEmpty('publisher')
  if (publisher != null) query.publisher = publisher
  if (flag('free') === true || license === 'free') query.free = true
  if (flag('trusted') === true) query.trustedOnly = true
  if (sort != null) query.sort = sort as SortOrder
  const checked = checkSearchQuery(query)
  // the text is kept as sent (the catalog trims it again), so a caller can echo it back
  checked.query = query.query!
  return checked
}
