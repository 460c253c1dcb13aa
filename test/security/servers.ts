/**
 * Real HTTP servers on 127.0.0.1 that tell the truth or lie: a gateway mounting a node's
 * trustless-gateway handler, a proxy that flips a bit in every body, a server that never stops
 * sending, and a plain file server (optionally tampered) for records' HTTP URLs.
 */
import { createServer } from 'node:http'
import type { GatewayHandler } from '@hubless/net'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

export interface TestServer {
  url: string
  readonly requests: number
  close (): Promise<void>
}

async function serve (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const state = { requests: 0 }
  const server: Server = createServer((req, res) => {
    state.requests++
    handler(req, res)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve() })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get requests () { return state.requests },
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

export async function serveGateway (handler: GatewayHandler): Promise<TestServer> {
  return serve((req, res) => {
    handler(req, res).then(handled => {
      if (!handled) res.writeHead(404).end()
    }, (err: unknown) => { res.destroy(err as Error) })
  })
}

/** forwards to `upstream` and flips one bit in the middle of every body */
export async function serveTampering (upstream: string): Promise<TestServer> {
  return serve((req, res) => {
    fetch(upstream + (req.url ?? '/'), { headers: { accept: req.headers.accept ?? '*/*' } }).then(async response => {
      const body = new Uint8Array(await response.arrayBuffer())
      if (body.length > 0) body[body.length >> 1]! ^= 0x01
      res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/octet-stream' })
      res.end(body)
    }, (err: unknown) => { res.destroy(err as Error) })
  })
}

/**
 * answers every request with bytes that never end (until the client hangs up), with 200, or 206 to
 * a Range request as if resuming; counts bytes sent, and records Range headers in `ranges` if given
 */
export async function serveEndless (sent: { bytes: number, ranges?: Array<string | undefined> }): Promise<TestServer> {
  return serve((req, res) => {
    sent.ranges?.push(req.headers.range)
    res.writeHead(/^bytes=[1-9]\d*-$/.test(req.headers.range ?? '') ? 206 : 200, { 'content-type': 'application/octet-stream' })
    const chunk = new Uint8Array(64 * 1024).fill(0x41)
    const pump = (): void => {
      while (!res.destroyed) {
        sent.bytes += chunk.byteLength
        if (!res.write(chunk)) {
          res.once('drain', pump)
          return
        }
      }
    }
    res.on('close', () => { res.removeAllListeners('drain') })
    pump()
  })
}

/** serves `body` at every path, with one byte flipped if `tamper` */
export async function serveFile (body: Uint8Array, tamper = false): Promise<TestServer> {
  const bytes = Uint8Array.from(body)
  if (tamper) bytes[bytes.length >> 1]! ^= 0x01
  return serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) })
    res.end(bytes)
  })
}
