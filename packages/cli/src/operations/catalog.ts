import { isChannel } from '@hubless/registry'
import { UsageError } from '../errors.ts'
import { catalogFor } from './catalog-source.ts'
import { witnessesFor } from './witness-source.ts'
import { defineOperation } from './operation.ts'
import type { AppView, SearchQuery, SearchResults, WitnessSummary } from '@hubless/query'

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
  if (input.limit != null && (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > 1000)) {
    throw new UsageError('--limit takes a whole number from 1 to 1000')
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

export const search = defineOperation<SearchInput, SearchResults>('search', async ({ services, signal }, input) => {
  const query = toSearchQuery(input)
  const { catalog, done } = await catalogFor(services, input.mirror, signal)
  try {
    return catalog.search(query)
  } finally {
    await done()
  }
})

/** An app's view, and the witnesses of its releases (by release id) when mirrors witnessed any */
export type ShownApp = AppView & { witnesses?: Record<string, WitnessSummary> }

export const showApp = defineOperation<{ appId: string, mirror?: string }, ShownApp | null>('show', async ({ services, signal }, input) => {
  const { catalog, done } = await catalogFor(services, input.mirror, signal)
  let app: AppView | undefined
  try {
    app = catalog.app(input.appId)
  } finally {
    await done()
  }
  if (app == null) return null
  const index = await witnessesFor(services, input.mirror, signal)
  const witnesses: Record<string, WitnessSummary> = {}
  for (const release of [...app.history, ...app.claimants.map(c => c.newest)]) {
    const summary = index.forRelease(release.id)
    if (summary != null) witnesses[release.id] = summary
  }
  return Object.keys(witnesses).length > 0 ? { ...app, witnesses } : app
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

export const trust = defineOperation<TrustInput, TrustOutput>('trust', async ({ services, signal }, input) => {
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
