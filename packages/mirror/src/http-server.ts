import { createServer } from 'node:http'
import { logger } from '@libp2p/logger'
import { BadRequestBodyError, ListenAddressError, PortInUseError, ServerBusyError } from './errors.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

const log = logger('hubless:mirror:http')

/** A route answers a request it recognizes (returns true) or leaves it to the next route */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>

/**
 * Limits that keep one client (or a few thousand) from holding the server: every default is
 * generous for a real client and short for one that dawdles on purpose (slowloris).
 */
export interface HttpServerInit {
  /** open connections at once; more are closed as they arrive; default 256 */
  maxConnections?: number
  /** ms from a request's first byte until its headers are complete (checked every second); default 8 000 */
  headersTimeout?: number
  /** ms from a request's first byte until its body is complete; default 30 000 */
  requestTimeout?: number
  /** ms an idle keep-alive connection stays open after an answer; default 5 000 */
  keepAliveTimeout?: number
  /** ms a connection may go without traffic while nothing is being answered on it (or the client stops reading an answer); default 10 000 */
  idleTimeout?: number
}

export const HTTP_DEFAULTS: Required<HttpServerInit> = {
  maxConnections: 256,
  headersTimeout: 8_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  idleTimeout: 10_000
}

/** seconds a refused client is asked to wait (503 of a busy expensive route) */
const RETRY_AFTER_SECONDS = 5

export interface HttpServer {
  /** `http://host:port` */
  readonly url: string
  close (): Promise<void>
}

/**
 * One HTTP server for the daemon: its local API, the trustless gateway and (for mirrors) the
 * public API and storefront. Nothing a client sends may take it down: every route runs inside
 * one error boundary that answers 500 and keeps serving.
 */
export async function startHttpServer (listen: { host: string, port: number }, routes: Route[], init: HttpServerInit = {}): Promise<HttpServer> {
  const limits = { ...HTTP_DEFAULTS, ...init }
  // connections with an answer under way; the idle timeout spares them while the server is still working
  const answering = new WeakSet<Socket>()
  const server: Server = createServer({
    // the header and request timeouts are checked this often (Node's default, 30 s, lets a slow client stay that long)
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeout),
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout
  }, (req, res) => {
    const socket = req.socket
    answering.add(socket)
    res.once('close', () => { answering.delete(socket) })
    void handle(req, res, routes)
  })
  server.maxConnections = limits.maxConnections
  server.setTimeout(limits.idleTimeout, (socket: Socket) => {
    // a long operation may write nothing for a while; a client that does not read what is written is gone
    if (answering.has(socket) && socket.writableLength === 0) return
    log('closing a connection from %s idle for %d ms', socket.remoteAddress, limits.idleTimeout)
    socket.destroy()
  })
  server.on('drop', (data?: { remoteAddress?: string }) => {
    log('refused a connection from %s: %d open already', data?.remoteAddress, limits.maxConnections)
  })

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      if (err.code === 'EADDRINUSE') {
        reject(new PortInUseError(`port ${listen.port} on ${listen.host} is in use; pick another with --http HOST:PORT`))
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new ListenAddressError(`cannot listen on ${listen.host}: no such local address`))
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
    if (err instanceof ServerBusyError) {
      if (!res.headersSent) {
        res.setHeader('retry-after', String(RETRY_AFTER_SECONDS))
        sendJson(res, 503, { error: { name: err.name, message: err.message } })
      }
      return
    }
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

/**
 * Waits until a response that returned false from `write` can take more: true on `drain`, false
 * when the client went away first. Both listeners are removed either way, so a long answer written
 * in many chunks leaves none behind (`events.once` for each would leave the loser of every race).
 */
export async function drained (res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return false
  return new Promise(resolve => {
    const settle = (value: boolean) => (): void => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      resolve(value)
    }
    const onDrain = settle(true)
    const onClose = settle(false)
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

/** Reads a JSON request body of at most `limit` bytes */
export async function readJsonBody (req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) {
      throw new BadRequestBodyError(`request body over ${limit} bytes`)
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
    throw new BadRequestBodyError('request body is not JSON')
  }
}
