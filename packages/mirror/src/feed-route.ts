import { createAnswerCache } from './answer-cache.ts'
import { encodeAnswer } from './encoded-answer.ts'
import { buildAppImageHubFeed } from './feed.ts'
import { sendAnswer } from './send-answer.ts'
import type { ApiAppDetail } from './api-types.ts'
import type { EncodedAnswer } from './encoded-answer.ts'
import type { Limiter } from './limiter.ts'
import type { Route } from './http-server.ts'

export interface FeedRouteInit {
  /** every app of the catalog, as the API's app pages show them */
  apps (options?: { signal?: AbortSignal }): Promise<ApiAppDetail[]>
  /** the mirror's public URL (or a getter, when it is known only once the server listens); feed links are absolute on it */
  baseUrl: string | (() => string)
  /** the catalog's change counter ({@link createGenerations}); default: the apps never change */
  generation?: () => Promise<number>
  /** bounds feed builds (a build takes a few hundred ms of CPU for a few thousand apps) */
  limiter?: Limiter
  /** called when a build starts */
  onBuild?: () => void
}

/**
 * `GET /feed.json`: the catalog in AppImageHub's feed schema ({@link buildAppImageHubFeed}),
 * several MB that take a few hundred ms to make, so it is built and compressed once per catalog
 * change and served from memory, with an ETag, to everyone until the next change.
 */
export function createFeedRoute (init: FeedRouteInit): Route {
  const cache = createAnswerCache<EncodedAnswer>({ maxEntries: 2, onBuild: init.onBuild })
  const build = async (baseUrl: string): Promise<EncodedAnswer> => {
    const make = async (): Promise<EncodedAnswer> => {
      // the build is shared by every waiting request, so no one client's going away aborts it
      const feed = buildAppImageHubFeed(await init.apps(), baseUrl)
      return encodeAnswer(JSON.stringify(feed), 'application/json; charset=utf-8')
    }
    return init.limiter == null ? make() : init.limiter.run(make)
  }

  return async (req, res, url) => {
    if (url.pathname !== '/feed.json') return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      res.end('use GET\n')
      return true
    }
    const baseUrl = typeof init.baseUrl === 'function' ? init.baseUrl() : init.baseUrl
    const generation = await init.generation?.() ?? 0
    const answer = await cache.get(generation, baseUrl, async () => build(baseUrl))
    sendAnswer(req, res, answer, {
      'cache-control': 'public, max-age=60',
      'access-control-allow-origin': '*'
    })
    return true
  }
}
