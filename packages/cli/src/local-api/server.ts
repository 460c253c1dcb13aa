import { randomBytes } from 'node:crypto'
import { chmod, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { logger } from '@libp2p/logger'
import { refuse } from './guard.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const log = logger('hubless:cli:local-api')

/** Longest Unix socket path Linux takes (sun_path is 108 bytes with its terminator), with margin */
const MAX_SOCKET_PATH = 100

export interface LocalApiInit {
  /** where the Unix socket goes (DATA_DIR/api.sock) */
  socketPath: string
  /** where this run's token goes (DATA_DIR/api-token, 0600) */
  tokenFile: string
}

export interface LocalApi {
  /** `unix:/path/to/api.sock`, or `http://127.0.0.1:PORT` where the socket path is too long */
  readonly endpoint: string
  close (): Promise<void>
}

/** Answers one request that passed every check of guard.ts */
export type LocalApiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/**
 * The listener of the local operation API, apart from the public HTTP side: a Unix socket that
 * only this user may connect to (0600), or, where the data dir's path is too long for one, a
 * random port on 127.0.0.1. Either way every request needs this run's token.
 */
export async function startLocalApi (init: LocalApiInit, handler: LocalApiHandler): Promise<LocalApi> {
  const token = randomBytes(32).toString('hex')
  await writeToken(init.tokenFile, token)
  const useSocket = init.socketPath.length <= MAX_SOCKET_PATH
  let host = 'localhost'

  const server: Server = createServer((req, res) => {
    const refusal = refuse(req.method, req.headers, { token, host })
    if (refusal != null) {
      log('refused %s %s: %s', req.method, req.url, refusal.name)
      sendError(res, refusal.status, refusal.name, refusal.message)
      req.resume()
      return
    }
    handler(req, res).catch(err => {
      log.error('local API request %s failed: %e', req.url, err)
      if (!res.headersSent) sendError(res, 500, 'Error', 'internal error')
      else res.destroy()
    })
  })
  // a client of this API is our own CLI: it sends its request at once
  server.headersTimeout = 5_000
  server.requestTimeout = 30_000

  if (useSocket) {
    // a socket left by a daemon that was killed; the data dir's lock shows none runs now
    await rm(init.socketPath, { force: true })
    await listen(server, { path: init.socketPath })
    await chmod(init.socketPath, 0o600)
  } else {
    await listen(server, { host: '127.0.0.1', port: 0 })
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  const endpoint = useSocket ? `unix:${init.socketPath}` : `http://${host}`
  log('local API at %s', endpoint)

  return {
    endpoint,
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
      await rm(init.tokenFile, { force: true })
      if (useSocket) await rm(init.socketPath, { force: true })
    }
  }
}

/** A new file each run (never a reused one whose mode someone else set), readable by this user only */
async function writeToken (file: string, token: string): Promise<void> {
  await rm(file, { force: true })
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' })
}

async function listen (server: Server, options: { path: string } | { host: string, port: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

export function sendError (res: ServerResponse, status: number, name: string, message: string): void {
  const text = JSON.stringify({ error: { name, message } })
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}
