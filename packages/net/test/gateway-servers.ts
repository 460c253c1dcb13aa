import { once } from 'node:events'
import { createServer } from 'node:http'
import { CID } from 'multiformats/cid'
import { createGatewayHandler, openUnixfsFile, sendRangedFile } from '../src/index.ts'
import type { AddressInfo } from 'node:net'
import type { GatewayHandler, NodeHelia, RangedFile } from '../src/index.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

export interface TestServer {
  url: string
  requests: number
  close: () => Promise<void>
}

async function listen (server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve() })
  })
  const { port } = server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

function closer (server: Server): () => Promise<void> {
  return async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  }
}

/** A real HTTP server mounting the node's gateway handler, as the CLI daemon does. */
export async function serveGateway (handler: GatewayHandler): Promise<TestServer> {
  const state = { requests: 0 }
  const server = createServer((req, res) => {
    state.requests++
    handler(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404).end('not a gateway path\n')
      }
    }, (err: unknown) => { res.destroy(err as Error) })
  })
  const url = await listen(server)
  return { url, get requests () { return state.requests }, close: closer(server) }
}

/** Forwards to `upstream` and flips one bit in every body: a gateway that lies. */
export async function serveTampering (upstream: string): Promise<TestServer> {
  const state = { requests: 0 }
  const server = createServer((req, res) => {
    state.requests++
    fetch(upstream + (req.url ?? '/'), { headers: { accept: req.headers.accept ?? '*/*' } })
      .then(async (response) => {
        const body = new Uint8Array(await response.arrayBuffer())
        if (body.length > 0) body[body.length >> 1]! ^= 0x01
        res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/octet-stream' })
        res.end(body)
      }, (err: unknown) => { res.destroy(err as Error) })
  })
  const url = await listen(server)
  return { url, get requests () { return state.requests }, close: closer(server) }
}

/** How a file server misbehaves on byte ranges of files (blocks, `?format=raw`, are always served right) */
export type RangeMisbehaviour = 'flip-a-byte' | 'ignore-ranges' | 'endless-part-head' | 'first-range-only'

export interface FileServer extends TestServer {
  /** the Range headers of file requests, in order */
  ranges: string[]
  /** requests for blocks (`?format=raw`) */
  blockRequests: number
  /** answers to file requests whose connection the client closed before the end */
  cutShort: number
}

/**
 * A mirror's file route and gateway on one server: `/ipfs/{cid}` with a format goes to the
 * trustless gateway, without one answers the file with byte ranges (as `@hubless/mirror` does),
 * or misbehaves as told.
 */
export async function serveFiles (node: Parameters<typeof createGatewayHandler>[0], misbehave?: RangeMisbehaviour): Promise<FileServer> {
  const gateway = createGatewayHandler(node)
  const state = { requests: 0, ranges: [] as string[], blockRequests: 0, cutShort: 0 }
  const server = createServer((req, res) => {
    state.requests++
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.searchParams.has('format')) {
      state.blockRequests++
      void gateway(req, res).catch((err: unknown) => { res.destroy(err as Error) })
      return
    }
    state.ranges.push(req.headers.range ?? '')
    res.once('close', () => { if (!res.writableFinished) state.cutShort++ })
    void answerFile(node.helia, url, req, res, misbehave).catch((err: unknown) => { res.destroy(err as Error) })
  })
  const url = await listen(server)
  return {
    url,
    get requests () { return state.requests },
    get ranges () { return state.ranges },
    get blockRequests () { return state.blockRequests },
    get cutShort () { return state.cutShort },
    close: closer(server)
  }
}

async function answerFile (helia: NodeHelia, url: URL, req: IncomingMessage, res: ServerResponse, misbehave: RangeMisbehaviour | undefined): Promise<void> {
  const file = await openUnixfsFile(helia, CID.parse(url.pathname.slice('/ipfs/'.length)))
  if (misbehave === 'ignore-ranges') {
    // the whole file, and then some, forever: a client must not wait for the end of it
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    const filler = new Uint8Array(64 * 1024)
    while (!res.destroyed) {
      if (!res.write(filler)) await once(res, 'drain').catch(() => {})
    }
    return
  }
  if (misbehave === 'endless-part-head') {
    res.writeHead(206, { 'content-type': 'multipart/byteranges; boundary=b' })
    res.write(`\r\n--b\r\nContent-Range: bytes 0-0/${file.size}\r\n`)
    while (!res.destroyed) {
      if (!res.write('X-Filler: a header that goes on and on\r\n')) await once(res, 'drain').catch(() => {})
    }
    return
  }
  if (misbehave === 'first-range-only' && req.headers.range != null) {
    // allowed by RFC 9110: a server may answer fewer ranges than asked
    req.headers.range = req.headers.range.split(',')[0]!
  }
  const served: RangedFile = misbehave !== 'flip-a-byte'
    ? file
    : {
        size: file.size,
        async * read (offset, length, options) {
          let first = true
          for await (const chunk of file.read(offset, length, options)) {
            const copy = Uint8Array.from(chunk)
            if (first && copy.byteLength > 0) copy[0]! ^= 0x01
            first = false
            yield copy
          }
        }
      }
  await sendRangedFile(req, res, served, { etag: `"${url.pathname}"`, headers: { 'content-type': 'application/octet-stream' } })
}
