import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { EPOCH_HEADER } from '@hubless/query'
import { isChannel, isRecordId, recordToJSON } from '@hubless/registry'
import { sendJson } from '../daemon/http-server.ts'
import { BadParameterError } from '../errors.ts'
import { apiAppDetail, apiAppList } from './api-mapping.ts'
import type { Route } from '../daemon/http-server.ts'
import type { Services } from '../services.ts'
import type { SearchQuery } from '@hubless/query'
import type { ServerResponse } from 'node:http'

const MAX_PAGE_SIZE = 100
const MAX_QUERY_LENGTH = 256

export interface PublicApiInit {
  services: Services
  /** extra facts for `/api/v1/status` (the mirror's pins, missing content) */
  status?: () => Promise<Record<string, unknown>>
}

/**
 * The mirror's public JSON API, version 1. Anyone may call it: every parameter is checked and a
 * bad one gets a 400 with a JSON error; records are served with their signatures so a client
 * verifies them itself (`recordFromJSON` of @hubless/registry).
 */
export function createPublicApiRoute (init: PublicApiInit): Route {
  const { services } = init
  // the record feed's order is the order records entered this process's registry: stable while it
  // runs, maybe not across restarts; a client whose cursor has another epoch reads from the start
  const epoch = randomUUID()
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/api/v1/') || url.pathname.startsWith('/api/v1/op/')) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      sendJson(res, 405, { error: { name: 'MethodNotAllowed', message: 'the public API is read-only: use GET' } })
      return true
    }
    res.setHeader('access-control-allow-origin', '*')
    try {
      await answer(url, res, req.method === 'HEAD')
    } catch (err) {
      if (err instanceof BadParameterError) {
        sendJson(res, 400, { error: { name: err.name, message: err.message } })
        return true
      }
      throw err
    }
    return true
  }

  async function answer (url: URL, res: ServerResponse, head: boolean): Promise<void> {
    const path = url.pathname.slice('/api/v1/'.length)
    if (path === 'records') {
      await sendFeed(url, res, head)
      return
    }
    if (path === 'apps') {
      const catalog = await services.catalog()
      const { query, page } = searchQueryOf(url.searchParams)
      const results = catalog.search(query)
      sendJson(res, 200, apiAppList(query.query ?? '', page, results, appId => catalog.app(appId)?.metadata))
      return
    }
    if (path.startsWith('apps/')) {
      const appId = decodeSegment(path.slice('apps/'.length))
      const app = (await services.catalog()).app(appId)
      if (app == null) {
        sendJson(res, 404, { error: { name: 'AppNotFound', message: `no app ${appId}` } })
      } else {
        sendJson(res, 200, apiAppDetail(app))
      }
      return
    }
    if (path.startsWith('records/')) {
      const id = decodeSegment(path.slice('records/'.length))
      if (!isRecordId(id)) throw new BadParameterError(`"${String(id).slice(0, 100)}" is not a record id (a dag-cbor CIDv1)`)
      const signed = await (await services.registry()).get(id)
      if (signed == null) {
        sendJson(res, 404, { error: { name: 'RecordNotFound', message: `no record ${id}` } })
      } else {
        sendJson(res, 200, recordToJSON(signed))
      }
      return
    }
    if (path === 'status') {
      const registry = await (await services.registry()).status()
      sendJson(res, 200, {
        peerId: services.node.peerId.toString(),
        registry: { name: registry.name, address: registry.address, records: registry.records, heads: registry.heads.length, peers: registry.peers.length, lastSync: registry.lastSync == null ? null : new Date(registry.lastSync).toISOString() },
        apps: (await services.catalog()).size,
        ...(await init.status?.() ?? {})
      })
      return
    }
    sendJson(res, 404, { error: { name: 'NotFound', message: `no API resource ${url.pathname}` } })
  }

  /**
   * Every signed record, one JSON object per line (the form of `/api/v1/records/{id}`), from the
   * `after`-th on: what an app store's catalog reads where peer-to-peer is blocked
   * (`createHttpSource` of @hubless/query), verifying each line itself.
   */
  async function sendFeed (url: URL, res: ServerResponse, head: boolean): Promise<void> {
    const after = wholeNumber(url.searchParams, 'after')
    const registry = await services.registry()
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache', [EPOCH_HEADER]: epoch })
    if (head) {
      res.end()
      return
    }
    let position = 0
    let batch = ''
    for await (const signed of registry.records()) {
      if (position++ < after) continue
      batch += `${JSON.stringify(recordToJSON(signed))}\n`
      if (batch.length < 64 * 1024) continue
      if (res.destroyed) return
      // a client that goes away mid-feed closes the response rather than draining it
      if (!res.write(batch)) await Promise.race([once(res, 'drain'), once(res, 'close')])
      batch = ''
    }
    res.end(batch)
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

const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['', '0', 'false', 'no', 'off'])
const SORTS = new Set(['relevance', 'updated', 'name'])

function flag (params: URLSearchParams, name: string): boolean | undefined {
  const value = params.get(name)
  if (value == null) return undefined
  if (TRUE.has(value)) return true
  if (FALSE.has(value)) return false
  throw new BadParameterError(`${name}="${value.slice(0, 50)}" is not a boolean (use true or false)`)
}

function positiveInt (params: URLSearchParams, name: string, fallback: number, max: number): number {
  const value = params.get(name)
  if (value == null || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BadParameterError(`${name}="${value.slice(0, 50)}" must be a whole number from 1 to ${max}`)
  return n
}

export function searchQueryOf (params: URLSearchParams): { query: SearchQuery, page: number } {
  for (const [key, value] of params) {
    if (value.length > MAX_QUERY_LENGTH) throw new BadParameterError(`${key.slice(0, 50)} is longer than ${MAX_QUERY_LENGTH} characters`)
  }
  const channel = params.get('channel') ?? undefined
  if (channel != null && channel !== '' && !isChannel(channel)) throw new BadParameterError(`channel="${channel.slice(0, 50)}" is not one of release, beta, alpha, nightly, continuous`)
  const sort = params.get('sort') ?? undefined
  if (sort != null && sort !== '' && !SORTS.has(sort)) throw new BadParameterError(`sort="${sort.slice(0, 50)}" is not one of relevance, updated, name`)
  const license = params.get('license')
  if (license != null && license !== '' && license !== 'free') throw new BadParameterError('license takes only "free"')
  const categories = params.getAll('category').flatMap(c => c.split(',')).map(c => c.trim()).filter(c => c !== '')
  if (categories.length > 20) throw new BadParameterError('at most 20 categories')
  const pageSize = positiveInt(params, 'pageSize', 24, MAX_PAGE_SIZE)
  const page = positiveInt(params, 'page', 1, 10_000)
  const arch = params.get('arch') ?? ''
  const publisher = params.get('publisher') ?? ''
  const free = flag(params, 'free') === true || license === 'free'
  return {
    page,
    query: {
      query: params.get('q') ?? '',
      category: categories.length > 0 ? categories : undefined,
      channel: channel === '' ? undefined : channel as SearchQuery['channel'],
      arch: arch === '' ? undefined : arch,
      publisher: publisher === '' ? undefined : publisher,
      free: free ? true : undefined,
      trustedOnly: flag(params, 'trusted') === true ? true : undefined,
      sort: sort === '' ? undefined : sort as SearchQuery['sort'],
      limit: pageSize,
      offset: (page - 1) * pageSize
    }
  }
}
