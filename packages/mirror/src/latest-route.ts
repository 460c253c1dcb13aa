import { isChannel } from '@hubless/registry'
import { sendRangedFile } from '@hubless/net'
import { CID } from 'multiformats/cid'
import { sendJson } from './http-server.ts'
import { apiRelease } from './api-mapping.ts'
import { createZsyncControls } from './zsync-controls.ts'
import type { Route } from './http-server.ts'
import type { ZsyncControlsInit } from './zsync-controls.ts'
import type { HublessNode, RangedFile } from '@hubless/net'
import type { Catalog } from '@hubless/query'

export interface LatestRouteComponents {
  catalog: () => Promise<Catalog>
  node: HublessNode
}

const PATH = /^\/apps\/([^/]+)\/([^/]+)\/([^/]+)\/latest\.AppImage(\.zsync)?$/

/**
 * Stable URLs for AppImage updaters: `GET /apps/{appId}/{channel}/{arch}/latest.AppImage` is the
 * bytes of the release the catalog shows as latest for that channel and architecture (as
 * `/api/v1/apps/{appId}` does), with byte ranges; `…/latest.AppImage.zsync` is its zsync control
 * file, whose URL is the release's immutable download on this mirror (`/ipfs/{cid}?filename=…`),
 * so a zsync client that started on one release finishes on it when a newer one appears. An
 * AppImage built with `-u "zsync|https://MIRROR/apps/ID/CHANNEL/ARCH/latest.AppImage.zsync"`
 * updates itself from any mirror.
 */
export function createLatestRoute (components: LatestRouteComponents, init: ZsyncControlsInit = {}): Route {
  const controls = createZsyncControls(init)
  return async (req, res, url) => {
    const match = PATH.exec(url.pathname)
    if (match == null) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      sendJson(res, 405, { error: { name: 'MethodNotAllowed', message: 'use GET or HEAD' } })
      return true
    }
    let appId: string, channel: string, arch: string
    try {
      [appId, channel, arch] = [match[1]!, match[2]!, match[3]!].map(decodeURIComponent) as [string, string, string]
    } catch {
      sendJson(res, 400, { error: { name: 'BadParameterError', message: 'the path is not valid percent-encoding' } })
      return true
    }
    if (!isChannel(channel)) {
      sendJson(res, 400, { error: { name: 'BadParameterError', message: `"${channel.slice(0, 50)}" is not one of release, beta, alpha, nightly, continuous` } })
      return true
    }
    const app = (await components.catalog()).app(appId)
    const latest = app?.latest.find(l => l.channel === channel && l.arch === arch)
    if (app == null || latest == null) {
      sendJson(res, 404, { error: { name: 'ReleaseNotFound', message: `${app == null ? `no app ${appId}` : `${appId} has no release on ${channel} for ${arch}`} in this mirror's catalog` } })
      return true
    }
    const release = apiRelease(latest.release, app.trust)
    const download = release.content.download
    if (release.content.cid == null || download == null) {
      sendJson(res, 404, { error: { name: 'ContentNotOnMirrorError', message: `${appId} ${release.version} is known only by URL (an imported record without a CID); download it from ${release.content.urls[0] ?? 'its publisher'}` } })
      return true
    }
    const cid = CID.parse(release.content.cid)
    let file: RangedFile
    try {
      if (!(await components.node.content.has(cid))) throw new Error('no root block')
      file = await components.node.content.openFile(cid)
    } catch {
      sendJson(res, 404, { error: { name: 'ContentNotFoundError', message: `this mirror does not hold ${cid} (${appId} ${release.version}) yet; try /ipfs/${cid} on another mirror` } })
      return true
    }
    const filename = new URL(download, 'http://mirror.invalid').searchParams.get('filename') ?? `${cid}.AppImage`
    res.setHeader('x-hubless-release', release.id)
    if (match[4] != null) {
      const control = await controls.get({ cid: cid.toString(), file, filename, url: download.replace(/&download=true$/, ''), mtime: new Date(release.published) })
      res.writeHead(200, {
        'content-type': 'application/x-zsync',
        'content-length': String(control.byteLength),
        'cache-control': 'no-cache',
        etag: `"${cid}.zsync"`,
        'access-control-allow-origin': '*'
      })
      res.end(req.method === 'HEAD' ? undefined : control)
      return true
    }
    await sendRangedFile(req, res, file, {
      etag: `"${cid}"`,
      headers: {
        'content-type': 'application/vnd.appimage',
        'content-disposition': `attachment; filename="${filename}"`,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'access-control-allow-origin': '*'
      }
    })
    return true
  }
}
