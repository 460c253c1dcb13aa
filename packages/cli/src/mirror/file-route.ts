import { CID } from 'multiformats/cid'
import { drained, sendJson } from '../daemon/http-server.ts'
import type { Route } from '../daemon/http-server.ts'
import type { HublessNode } from '@hubless/net'

const RAW = 'application/vnd.ipld.raw'
const CAR = 'application/vnd.ipld.car'

/**
 * Plain downloads through the mirror: `GET /ipfs/{cid}` asking for no IPLD format (a browser
 * following the storefront's download link, an <img> of an icon) gets the file's bytes, read
 * from blocks this mirror holds, each of which was verified against its CID when it arrived.
 * Requests for `?format=raw|car` fall through to the trustless gateway. Record-supplied content
 * is untrusted: it is served sandboxed, never as a page of this origin.
 */
export function createFileRoute (node: HublessNode): Route {
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/ipfs/') || wantsIpld(req.headers.accept, url)) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const segments = url.pathname.slice('/ipfs/'.length).split('/')
    if (segments.length !== 1) return false
    let cid: CID
    try {
      cid = CID.parse(decodeURIComponent(segments[0] ?? ''))
    } catch {
      return false
    }
    if (!(await node.content.has(cid))) {
      sendJson(res, 404, { error: { name: 'ContentNotFoundError', message: `this mirror does not hold ${cid}` } })
      return true
    }
    const controller = new AbortController()
    res.once('close', () => { controller.abort() })
    const chunks = node.content.cat(cid, { offline: true, signal: controller.signal })[Symbol.asyncIterator]()
    let first: IteratorResult<Uint8Array>
    try {
      first = await chunks.next()
    } catch (err) {
      sendJson(res, 404, { error: { name: (err as Error).name, message: `${cid} is not complete here` } })
      return true
    }
    const download = url.searchParams.get('download') === 'true' || url.searchParams.has('filename')
    const filename = (url.searchParams.get('filename') ?? cid.toString()).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)
    res.writeHead(200, {
      'content-type': download ? 'application/octet-stream' : sniff(first.done === true ? undefined : first.value),
      'cache-control': 'public, max-age=31536000, immutable',
      etag: `"${cid.toString()}"`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
      ...(download ? { 'content-disposition': `attachment; filename="${filename}"` } : {})
    })
    if (req.method === 'HEAD' || first.done === true) {
      res.end()
      return true
    }
    try {
      let next: IteratorResult<Uint8Array> = first
      while (next.done !== true) {
        if (!res.write(next.value) && !(await drained(res))) return true
        next = await chunks.next()
      }
      res.end()
    } catch {
      res.destroy()
    }
    return true
  }
}

function wantsIpld (accept: string | undefined, url: URL): boolean {
  const format = url.searchParams.get('format')
  return format === 'raw' || format === 'car' || (accept ?? '').includes(RAW) || (accept ?? '').includes(CAR)
}

function sniff (bytes: Uint8Array | undefined): string {
  if (bytes == null) return 'application/octet-stream'
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png'
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg'
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart()
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'image/svg+xml'
  return 'application/octet-stream'
}
