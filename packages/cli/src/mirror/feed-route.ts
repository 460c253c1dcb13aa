import { buildAppImageHubFeed } from './feed.ts'
import type { ApiAppDetail } from './api-types.ts'
import type { Route } from '../daemon/http-server.ts'

export interface FeedRouteInit {
  /** every app of the catalog, as the API's app pages show them */
  apps (options?: { signal?: AbortSignal }): Promise<ApiAppDetail[]>
  /** the mirror's public URL (or a getter, when it is known only once the server listens); feed links are absolute on it */
  baseUrl: string | (() => string)
}

/** `GET /feed.json`: the catalog in AppImageHub's feed schema ({@link buildAppImageHubFeed}) */
export function createFeedRoute (init: FeedRouteInit): Route {
  return async (req, res, url) => {
    if (url.pathname !== '/feed.json') return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      res.end('use GET\n')
      return true
    }
    const clientGone = new AbortController()
    res.on('close', () => { clientGone.abort() })
    const feed = buildAppImageHubFeed(await init.apps({ signal: clientGone.signal }), typeof init.baseUrl === 'function' ? init.baseUrl() : init.baseUrl)
    const body = JSON.stringify(feed)
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'public, max-age=60',
      'access-control-allow-origin': '*'
    })
    res.end(req.method === 'HEAD' ? undefined : body)
    return true
  }
}
