import { EPOCH_HEADER, POSITION_HEADER, parseSearchQuery } from '@hubless/query'
import { isRecordId, recordToJSON } from '@hubless/registry'
import { sendJson } from './http-server.ts'
import { BadParameterError } from './errors.ts'
import { createAnswerCache } from './answer-cache.ts'
import { apiAppDetail, apiAppList } from './api-mapping.ts'
import { appReleases } from './app-releases.ts'
import { encodeAnswer } from './encoded-answer.ts'
import { createGenerations } from './generations.ts'
import { createLimiter } from './limiter.ts'
import { createRecordFeed } from './record-feed.ts'
import { sendAnswer } from './send-answer.ts'
import type { MediaSource } from './media-mapping.ts'
import type { Route } from './http-server.ts'
import type { MirrorComponents } from './index.ts'
import type { EncodedAnswer } from './encoded-answer.ts'
import type { Generations } from './generations.ts'
import type { Limiter } from './limiter.ts'
import type { AppView } from '@hubless/query'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** the storefront's page, when a request names no page size */
const DEFAULT_PAGE_SIZE = 24
/** releases in a page of `/api/v1/apps/{appId}/releases`, by default and at most */
const DEFAULT_RELEASES_PAGE = 100
const MAX_RELEASES_PAGE = 1_000
const JSON_TYPE = 'application/json; charset=utf-8'

export interface PublicApiInit {
  services: MirrorComponents
  /** extra facts for `/api/v1/status` (the mirror's pins, missing content) */
  status?: () => Promise<Record<string, unknown>>
  /** change counters of the catalog and the registry, the keys of cached answers; default over `services` */
  generations?: Generations
  /** bounds the expensive answers (searches, pages of releases); default one of this route's own */
  limiter?: Limiter
  /** called when an answer is built rather than served from the cache (tests count builds) */
  onBuild?: (key: string) => void
  /** fields added to `/api/v1/apps/{appId}` (the witnesses of its releases) */
  appExtra?: (app: AppView) => Promise<Record<string, unknown>>
  /** this mirror's archived copies of icons and screenshots, served instead of the original URLs (kept as fallback) */
  media?: MediaSource
}

/**
 * The mirror's public JSON API, version 1. Anyone may call it: every parameter is checked and a
 * bad one gets a 400 with a JSON error; records are served with their signatures so a client
 * verifies them itself (`recordFromJSON` of @hubless/registry).
 */
export function createPublicApiRoute (init: PublicApiInit): Route {
  const { services } = init
  const feed = createRecordFeed(services.registry)
  const generations = init.generations ?? createGenerations(services)
  const limiter = init.limiter ?? createLimiter()
  // each cache follows one source: searches the catalog, release pages the registry and the catalog
  const searches = createAnswerCache<EncodedAnswer>({ maxEntries: 64, onBuild: init.onBuild })
  const releasePages = createAnswerCache<EncodedAnswer | undefined>({ maxEntries: 32, onBuild: init.onBuild })
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/api/v1/') || url.pathname.startsWith('/api/v1/op/')) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      sendJson(res, 405, { error: { name: 'MethodNotAllowed', message: 'the public API is read-only: use GET' } })
      return true
    }
    res.setHeader('access-control-allow-origin', '*')
    // an app store on another origin reads the feed's order and the live set's position
    res.setHeader('access-control-expose-headers', `${EPOCH_HEADER}, ${POSITION_HEADER}`)
    try {
      await answer(url, req, res)
    } catch (err) {
      // a bad parameter, whichever package's rules it broke (the query's limits are @hubless/query's)
      if (err instanceof BadParameterError || (err as Error).name === 'InvalidQueryError') {
        sendJson(res, 400, { error: { name: (err as Error).name, message: (err as Error).message } })
        return true
      }
      throw err
    }
    return true
  }

  async function answer (url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = url.pathname.slice('/api/v1/'.length)
    if (path === 'records') {
      await feed.send(req, res, wholeNumber(url.searchParams, 'after'))
      return
    }
    if (path === 'records/live') {
      await feed.sendLive(req, res)
      return
    }
    if (path === 'apps') {
      const query = parseSearchQuery(url.searchParams, { defaultPageSize: DEFAULT_PAGE_SIZE })
      const page = query.offset / query.limit + 1
      const generation = await generations.catalog()
      const key = `media=${init.media?.count() ?? 0}&apps?${[...url.searchParams].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`
      const list = await searches.get(generation, key, async () => limiter.run(async () => {
        const catalog = services.catalog
        const results = catalog.search(query)
        return encodeAnswer(JSON.stringify(apiAppList(query.query ?? '', page, results, appId => catalog.app(appId)?.metadata, init.media?.copyOf)), JSON_TYPE)
      }))
      sendAnswer(req, res, list, { 'cache-control': 'no-cache' })
      return
    }
    const releasesOf = /^apps\/([^/]+)\/releases$/.exec(path)
    if (releasesOf != null) {
      const appId = decodeSegment(releasesOf[1]!)
      const offset = wholeNumber(url.searchParams, 'offset')
      const limit = url.searchParams.has('limit') ? wholeNumber(url.searchParams, 'limit') : DEFAULT_RELEASES_PAGE
      if (limit < 1 || limit > MAX_RELEASES_PAGE) throw new BadParameterError(`limit must be from 1 to ${MAX_RELEASES_PAGE}`)
      // judged by the catalog (trust, yanks, revocations), read from the registry: either may change it
      const generation = await generations.registry() * 1_000_003 + await generations.catalog()
      const page = await releasePages.get(generation, `${appId}\n${offset}\n${limit}`, async () => limiter.run(async () => {
        const found = await appReleases(services, appId, { offset, limit })
        return found == null ? undefined : encodeAnswer(JSON.stringify(found), JSON_TYPE)
      }))
      if (page == null) sendJson(res, 404, { error: { name: 'AppNotFound', message: `no app ${appId}` } })
      else sendAnswer(req, res, page, { 'cache-control': 'no-cache' })
      return
    }
    if (path.startsWith('apps/')) {
      const appId = decodeSegment(path.slice('apps/'.length))
      const app = services.catalog.app(appId)
      if (app == null) {
        sendJson(res, 404, { error: { name: 'AppNotFound', message: `no app ${appId}` } })
      } else {
        sendJson(res, 200, { ...apiAppDetail(app, init.media?.copyOf), ...await init.appExtra?.(app) })
      }
      return
    }
    if (path.startsWith('records/')) {
      const id = decodeSegment(path.slice('records/'.length))
      if (!isRecordId(id)) throw new BadParameterError(`"${String(id).slice(0, 100)}" is not a record id (a dag-cbor CIDv1)`)
      const signed = await services.registry.get(id)
      if (signed == null) {
        sendJson(res, 404, { error: { name: 'RecordNotFound', message: `no record ${id}` } })
      } else {
        sendJson(res, 200, recordToJSON(signed))
      }
      return
    }
    if (path === 'status') {
      const registry = await services.registry.status()
      sendJson(res, 200, {
        peerId: services.node.peerId.toString(),
        registry: { name: registry.name, address: registry.address, records: registry.records, heads: registry.heads.length, peers: registry.peers.length, lastSync: registry.lastSync == null ? null : new Date(registry.lastSync).toISOString(), ...(registry.live == null ? {} : { live: registry.live }) },
        apps: services.catalog.size,
        ...(await init.status?.() ?? {})
      })
      return
    }
    sendJson(res, 404, { error: { name: 'NotFound', message: `no API resource ${url.pathname}` } })
  }
}

function wholeNumber (params: URLSearchParams, name: string): number {
  const value = params.get(name)
  if (value == null || value === '') return 0
  const n = Number(value)
  if (!/^\d{1,15}$/.test(value) || !Number.isSafeInteger(n)) throw new BadParameterError(`${name}="${value.slice(0, 50)}" must be a whole number from 0`)
  return n
}

function decodeSegment (segment: string): string {
  let value: string
  try {
    value = decodeURIComponent(segment)
  } catch {
    throw new BadParameterError('the path is not valid percent-encoding')
  }
  if (value === '' || value.length > 255 || value.includes('/')) throw new BadParameterError('expected one path segment of at most 255 characters')
  return value
}
