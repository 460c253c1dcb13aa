import { createServer } from 'node:http'
import { logger } from '@libp2p/logger'
import { PortInUseError, UsageError } from '../errors.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const log = logger('hubless:cli:http')

/** A route answers a request it recognizes (returns true) or leaves it to the next route */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>

export interface HttpServer {
  /** `http://host:port` */
  readonly url: string
  close (): Promise<void>
}

export function parseHostPort (value: string): { host: string, port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  const port = Number(match?.[3])
  if (match == null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`"${value}" is not HOST:PORT (for example 127.0.0.1:7420 or [::1]:7420)`)
  }
  return { host: match[1] ?? match[2] ?? '', port }
}

/**
 * One HTTP server for the daemon: its local API, the trustless gateway and (for mirrors) the
 * public API and storefront. Nothing a client sends may take it down: every route runs inside
 * one error boundary that answers 500 and keeps serving.
 */
export async function startHttpServer (listen: { host: string, port: number }, routes: Route[]): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    void handle(req, res, routes)
  })
  server.requestTimeout = 60_000
  server.headersTimeout = 15_000

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      if (err.code === 'EADDRINUSE') {
        reject(new PortInUseError(`port ${listen.port} on ${listen.host} is in use; pick another with --http HOST:PORT`))
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new UsageError(`cannot listen on ${listen.host}: no such local address`))
      } else {
        reject(err)
      }
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(listen.port, listen.host)
  })

  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

async function handle (req: IncomingMessage, res: ServerResponse, routes: Route[]): Promise<void> {
  try {
    const url = requestUrl(req.url)
    if (url == null) {
      sendJson(res, 400, { error: { name: 'BadRequest', message: 'the request target must be a path starting with /' } })
      return
    }
    for (const route of routes) {
      if (await route(req, res, url)) {
        return
      }
    }
    sendJson(res, 404, { error: { name: 'NotFound', message: `nothing at ${url.pathname}` } })
  } catch (err) {
    log.error('request %s %s failed: %e', req.method, req.url, err)
    if (!res.headersSent) {
      sendJson(res, 500, { error: { name: (err as Error).name ?? 'Error', message: 'internal error' } })
    } else {
      res.destroy()
    }
  }
}

/**
 * The request target read as a path. `new URL(target, base)` would read `//x/…` as the host x
 * (and throw on `//`), so the path is appended to the base instead of resolved against it.
 */
function requestUrl (target: string | undefined): URL | undefined {
  if (target == null || !target.startsWith('/')) return undefined
  try {
    return new URL(`http://localhost${target}`)
  } catch {
    return undefined
  }
}

export function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store'
  })
  res.end(text)
}

/** Reads a JSON request body of at most `limit` bytes */
export async function readJsonBody (req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) {
      throw new UsageError(`request body over ${limit} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') {
    return {}
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError('request body is not JSON')
  }
}
