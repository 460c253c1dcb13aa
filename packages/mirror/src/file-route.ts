import { CID } from 'multiformats/cid'
import { sendJson } from './http-server.ts'
import { imageType } from './image-type.ts'
import type { Route } from './http-server.ts'
import { sendRangedFile } from '@hubless/net'
import type { HublessNode, RangedFile } from '@hubless/net'

const RAW = 'application/vnd.ipld.raw'
const CAR = 'application/vnd.ipld.car'

/**
 * Plain downloads through the mirror: `GET /ipfs/{cid}` asking for no IPLD format (a browser
 * following the storefront's download link, an <img> of an icon) gets the file's bytes, read
 * from blocks this mirror holds, each of which was verified against its CID when it arrived.
 * Requests for `?format=raw|car` fall through to the trustless gateway. Record-supplied content
 * is untrusted: it is served sandboxed, never as a page of this origin. Byte ranges are answered
 * (zsync and download managers resume and patch with them).
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
    let file: RangedFile
    let first: Uint8Array
    try {
      file = await node.content.openFile(cid)
      first = await readHead(file)
    } catch (err) {
      sendJson(res, 404, { error: { name: (err as Error).name, message: `${cid} is not complete here` } })
      return true
    }
    const download = url.searchParams.get('download') === 'true' || url.searchParams.has('filename')
    const filename = (url.searchParams.get('filename') ?? cid.toString()).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)
    await sendRangedFile(req, res, file, {
      etag: `"${cid.toString()}"`,
      headers: {
        'content-type': download ? 'application/octet-stream' : sniff(first.byteLength === 0 ? undefined : first),
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
        ...(download ? { 'content-disposition': `attachment; filename="${filename}"` } : {})
      }
    })
    return true
  }
}

function wantsIpld (accept: string | undefined, url: URL): boolean {
  const format = url.searchParams.get('format')
  return format === 'raw' || format === 'car' || (accept ?? '').includes(RAW) || (accept ?? '').includes(CAR)
}

/** The first bytes of a file, for sniffing its type; throws when its first leaf is missing */
async function readHead (file: RangedFile): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of file.read(0, Math.min(4096, file.size))) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function sniff (bytes: Uint8Array | undefined): string {
  if (bytes == null) return 'application/octet-stream'
  return imageType(bytes) ?? 'application/octet-stream'
}
