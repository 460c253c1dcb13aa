import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { GatewayHandler } from '../src/index.ts'
import type { Server } from 'node:http'

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
