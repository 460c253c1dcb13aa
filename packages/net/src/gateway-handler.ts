import { once } from 'node:events'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { exportLocalCar } from './car-export.ts'
import { sendRangedFile } from './file-response.ts'
import { toBytes } from './iterables.ts'
import type { NodeHelia } from './index.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'

const log = logger('hubless:net:gateway-handler')

const RAW = 'application/vnd.ipld.raw'
const CAR = 'application/vnd.ipld.car'

/** Answers `/ipfs/…` requests and returns true; returns false (touching nothing) for any other path. */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

export interface GatewayHandlerInit {
  /** Path prefix the handler answers under. Default `/ipfs/`. */
  prefix?: string
}

type Format = 'raw' | 'car'

function requestedFormat (req: IncomingMessage, url: URL): Format | undefined {
  const param = url.searchParams.get('format')
  if (param === 'raw' || param === 'car') return param
  if (param != null) return undefined
  const accept = req.headers.accept ?? ''
  // the first supported type in the Accept list wins, as the spec asks
  for (const part of accept.split(',')) {
    const type = part.split(';')[0]?.trim()
    if (type === RAW) return 'raw'
    if (type === CAR) return 'car'
  }
  return undefined
}

function reply (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
  res.end(message + '\n')
}

const IMMUTABLE = {
  'cache-control': 'public, max-age=29030400, immutable',
  'x-content-type-options': 'nosniff',
  'accept-ranges': 'none',
  vary: 'Accept'
}

/**
 * The IPFS trustless-gateway protocol for the blocks a node holds: `GET /ipfs/{cid}` with
 * `?format=raw` or `Accept: application/vnd.ipld.raw` answers one block, `?format=car` or
 * `Accept: application/vnd.ipld.car` the DAG under it as a CAR. A block answers `Range` requests
 * (a CAR does not: its bytes depend on the traversal). It never asks the network for
 * blocks; a gateway that did would let any client make the node fetch anything.
 */
export function createGatewayHandler (node: { helia: NodeHelia }, init: GatewayHandlerInit = {}): GatewayHandler {
  const prefix = init.prefix ?? '/ipfs/'
  const { helia } = node
  return async (req, res) => {
    // appended, not resolved: `new URL('//x/…', base)` reads x as a host, and throws on `//`
    const target = req.url ?? '/'
    if (!target.startsWith('/')) return false
    let url: URL
    try {
      url = new URL(`http://gateway.invalid${target}`)
    } catch {
      return false
    }
    if (!url.pathname.startsWith(prefix)) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'Only GET and HEAD are supported', { allow: 'GET, HEAD' })
      return true
    }
    const [cidText = '', ...rest] = url.pathname.slice(prefix.length).split('/')
    if (rest.some(segment => segment !== '')) {
      reply(res, 400, 'BadRequest: paths under a CID are not supported; ask for the CID of the block or DAG itself')
      return true
    }
    let cid: CID
    try {
      cid = CID.parse(decodeURIComponent(cidText))
    } catch (err) {
      reply(res, 400, `BadCidError: "${cidText}" is not a CID (${(err as Error).message})`)
      return true
    }
    const format = requestedFormat(req, url)
    if (format == null) {
      reply(res, 406, `NotAcceptable: this is a trustless gateway; ask for ?format=raw or ?format=car (Accept: ${RAW} or ${CAR})`)
      return true
    }
    const controller = new AbortController()
    res.once('close', () => { controller.abort() })
    try {
      if (!(await helia.blockstore.has(cid, { signal: controller.signal }))) {
        reply(res, 404, `ContentNotFoundError: this node does not hold ${cid}`)
        return true
      }
      if (format === 'raw') {
        const bytes = await toBytes(helia.blockstore.get(cid, { offline: true, signal: controller.signal }))
        const block = { size: bytes.byteLength, async * read (offset: number, length: number) { yield bytes.subarray(offset, offset + length) } }
        await sendRangedFile(req, res, block, {
          etag: `"${cid.toString()}.raw"`,
          headers: { ...IMMUTABLE, 'content-type': RAW, 'content-disposition': `attachment; filename="${cid.toString()}.bin"` }
        })
        return true
      }
      res.writeHead(200, {
        ...IMMUTABLE,
        'content-type': `${CAR}; version=1`,
        etag: `"${cid.toString()}.car"`,
        'content-disposition': `attachment; filename="${cid.toString()}.car"`
      })
      if (req.method === 'HEAD') {
        res.end()
        return true
      }
      for await (const chunk of exportLocalCar(helia, cid, { signal: controller.signal })) {
        if (!res.write(chunk)) {
          await once(res, 'drain', { signal: controller.signal })
        }
      }
      res.end()
    } catch (err) {
      log.error('serving %s failed - %e', url.pathname, err)
      if (!res.headersSent) {
        reply(res, 500, `${(err as Error).name}: ${(err as Error).message}`)
      } else {
        // the status line is gone; breaking the connection is how the client learns the CAR is incomplete
        res.destroy(err as Error)
      }
    }
    return true
  }
}
