import { isLoopback, readJsonBody, sendJson } from './http-server.ts'
import { operations } from '../operations/index.ts'
import type { Route } from './http-server.ts'
import type { Services } from '../services.ts'

/**
 * The daemon's local API: `/healthz`, and `POST /api/v1/op/{name}` that runs an operation for
 * another `hubless` command and streams NDJSON (`{"progress":…}` lines, then `{"result":…}` or
 * `{"error":{name,message}}`). Operations act with the node's keys, so they answer loopback
 * clients only, whatever address the server is exposed on.
 */
export function createApiRoutes (services: Services, signal: AbortSignal): Route {
  return async (req, res, url) => {
    if (url.pathname === '/healthz') {
      sendJson(res, 200, { ok: true, peerId: services.node.peerId.toString() })
      return true
    }

    const match = /^\/api\/v1\/op\/([a-z-]+)$/.exec(url.pathname)
    if (match == null) {
      return false
    }
    if (!isLoopback(req)) {
      sendJson(res, 403, { error: { name: 'Forbidden', message: 'operations are for local clients only' } })
      return true
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: { name: 'MethodNotAllowed', message: 'use POST' } })
      return true
    }
    const operation = operations.get(match[1] ?? '')
    if (operation == null) {
      sendJson(res, 404, { error: { name: 'UnknownOperation', message: `no operation ${match[1]}` } })
      return true
    }

    let input: unknown
    try {
      input = await readJsonBody(req)
    } catch (err) {
      sendJson(res, 400, { error: { name: (err as Error).name, message: (err as Error).message } })
      return true
    }
    // every operation takes an object; anything else would reach it as null, a number or a list
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      sendJson(res, 400, { error: { name: 'UsageError', message: `the body of /api/v1/op/${operation.name} must be a JSON object` } })
      return true
    }
    const clientGone = new AbortController()
    res.on('close', () => { clientGone.abort() })
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
    try {
      const result = await operation.run({
        services,
        signal: AbortSignal.any([signal, clientGone.signal]),
        onProgress: progress => { res.write(JSON.stringify({ progress }) + '\n') }
      }, input)
      res.end(JSON.stringify({ result: result ?? null }) + '\n')
    } catch (err) {
      const error = err as Error
      res.end(JSON.stringify({ error: { name: error.name ?? 'Error', message: error.message } }) + '\n')
    }
    return true
  }
}
