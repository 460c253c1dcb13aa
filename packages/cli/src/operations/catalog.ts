import { SEARCH_LIMITS } from '@hubless/query'
import { isChannel } from '@hubless/registry/records'
import { UsageError } from '../errors.ts'
import { catalogFor } from './catalog-source.ts'
import { defineOperation } from './operation.ts'
import { apiAppDetail, apiSearchAnswer, releasedVersions, witnessFields } from '@hubless/mirror/api'
import type { ApiAppDetail, ApiSearchAnswer, AppWitnesses } from '@hubless/mirror/api'
import type { AppView, Catalog, SearchQuery } from '@hubless/query'

export interface SearchInput {
  query?: string
  category?: string[]
  channel?: string
  arch?: string
  free?: boolean
  trustedOnly?: boolean
  publisher?: string
  sort?: 'relevance' | 'updated' | 'name'
  limit?: number
  offset?: number
  /** read the catalog from this mirror over HTTP(S) instead of the registry */
  mirror?: string
}

export function toSearchQuery (input: SearchInput): SearchQuery {
  if (input.channel != null && !isChannel(input.channel)) {
    throw new UsageError(`--channel "${input.channel}" is not one of release, beta, alpha, nightly, continuous`)
  }
  // the limits are the query package's, said in the flag's words
  if (input.limit != null && (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > SEARCH_LIMITS.pageSize)) {
    throw new UsageError(`--limit takes a whole number from 1 to ${SEARCH_LIMITS.pageSize}`)
  }
  return {
    query: input.query,
    category: input.category != null && input.category.length > 0 ? input.category : undefined,
    channel: input.channel as SearchQuery['channel'],
    arch: input.arch,
    free: input.free,
    trustedOnly: input.trustedOnly,
    publisher: input.publisher,
    sort: input.sort,
    limit: input.limit,
    offset: input.offset
  }
}

export interface ShowInput {
  appId: string
  mirror?: string
}

/**
 * What `search` answers from a catalog (the node's, a mirror's, or the saved index's:
 * saved-answers.ts), in the HTTP API's words (schemas/search.json), without facets
 */
export function searchCatalog (catalog: Catalog, input: SearchInput): ApiSearchAnswer {
  const results = catalog.search({ ...toSearchQuery(input), facets: false })
  return apiSearchAnswer(input.query ?? '', results, appId => catalog.app(appId)?.metadata)
}

/** An app as `/api/v1/apps/{appId}` gives it (schemas/app.json) */
export function showFromCatalog (catalog: Catalog, input: ShowInput): ApiAppDetail | null {
  const app = catalog.app(input.appId)
  return app == null ? null : apiAppDetail(app)
}

export const search = defineOperation<SearchInput, ApiSearchAnswer, 'search'>('search', async ({ services, signal }, input) => {
  toSearchQuery(input)
  const { catalog, done } = await catalogFor(services, input.mirror, signal)
  try {
    return searchCatalog(catalog, input)
  } finally {
    await done()
  }
})

/** An app as `/api/v1/apps/{appId}` gives it (schemas/app.json), with the witnesses of its releases when mirrors witnessed any */
export type ShownApp = ApiAppDetail & Partial<AppWitnesses>

export const showApp = defineOperation<ShowInput, ShownApp | null, 'show'>('show', async ({ services, signal }, input) => {
  const { catalog, done } = await catalogFor(services, input.mirror, signal)
  let app: AppView | undefined
  try {
    app = catalog.app(input.appId)
  } finally {
    await done()
  }
  if (app == null) return null
  // loaded here, not with the module: the saved-index answers (saved-answers.ts) share this file
  const { witnessesFor } = await import('./witness-source.ts')
  const witnesses = await witnessesFor(services, input.mirror, signal)
  // a daemon's catalog keeps part of the history; its registry holds every release (a mirror's reader has none)
  const released = input.mirror == null ? await releasedVersions(await services.registry(), witnesses, app, { signal }) : undefined
  return { ...apiAppDetail(app), ...witnessFields(witnesses, app, released) }
})

export interface TrustInput {
  action: 'add' | 'remove' | 'list'
  key?: string
  /** the witness scope: trust (or stop trusting) the key's witness records, not its releases */
  witness?: boolean
}

export interface TrustOutput {
  roots: string[]
  /** mirror keys trusted as witnesses */
  witnesses: string[]
  /** every key the roots reach, with the path that explains it */
  trusted: Array<{ key: string, depth: number, explanation: string }>
}

export const trust = defineOperation<TrustInput, TrustOutput, 'trust'>('trust', async ({ services, signal }, input) => {
  if (input.action === 'add' || input.action === 'remove') {
    if (input.key == null) throw new UsageError(`trust ${input.action} needs a KEY (did:key:z6Mk…)`)
    const roots = services.trustRoots
    if (input.witness === true) await (input.action === 'add' ? roots.addWitness(input.key) : roots.removeWitness(input.key))
    else await (input.action === 'add' ? roots.add(input.key) : roots.remove(input.key))
    await services.reloadTrustRoots()
  }
  const catalog = await services.catalog({ signal })
  return {
    roots: catalog.roots(),
    witnesses: await services.trustRoots.witnesses(),
    trusted: catalog.trusted().map(t => ({ key: t.key, depth: t.depth, explanation: t.explanation }))
  }
})
