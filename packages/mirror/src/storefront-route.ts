import { createHash } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { logger } from '@libp2p/logger'
import type { Route } from './http-server.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'

const log = logger('hubless:mirror:storefront')

/**
 * The storefront web page: static files from `packages/mirror/storefront/`, served at `/` (the
 * page) and `/storefront/<file>`. The page reads everything else from `/api/v1/…`.
 *
 * Files are read once, into memory, by name from a listing of that one folder: a request names a
 * key of that map or gets 404, so no request path ever reaches the file system (`..`, encoded
 * slashes and the like cannot escape, there is nothing to escape from).
 */

export interface StorefrontRouteInit {
  /** folder of the page's files; default the `storefront/` folder of this package */
  directory?: string
}

interface Asset {
  body: Buffer
  type: string
  etag: string
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8'
}

const NAME = /^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*\.([a-z0-9]+)$/

/**
 * The page runs only its own script and style; images may come from https hosts because
 * imported records name their icons by https URL. Nothing is sent to those hosts as referrer.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY'
}

async function loadAssets (directory: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>()
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const match = NAME.exec(entry.name)
    const type = match == null ? undefined : TYPES[match[1] ?? '']
    if (!entry.isFile() || type == null) continue
    const body = await readFile(`${directory}/${entry.name}`)
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    assets.set(entry.name, { body, type, etag })
  }
  log('loaded %d storefront files from %s', assets.size, directory)
  return assets
}

function send (req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const headers: Record<string, string | number> = {
    'content-type': asset.type,
    etag: asset.etag,
    // names are not content-hashed, so clients revalidate every time; a 304 costs one round trip
    'cache-control': 'no-cache',
    ...SECURITY_HEADERS
  }
  const match = req.headers['if-none-match']
  if (match?.split(/\s*,\s*/).some(tag => tag === asset.etag || tag === `W/${asset.etag}` || tag === '*')) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  headers['content-length'] = asset.body.byteLength
  res.writeHead(200, headers)
  res.end(req.method === 'HEAD' ? undefined : asset.body)
}

function notFound (res: ServerResponse, message: string): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  res.end(message + '\n')
}

export function createStorefrontRoute (init: StorefrontRouteInit = {}): Route {
  const directory = init.directory ?? fileURLToPath(new URL('../storefront', import.meta.url))
  let loading: Promise<Map<string, Asset>> | undefined

  return async (req, res, url) => {
    const path = url.pathname
    let name: string
    if (path === '/' || path === '/index.html') {
      name = 'index.html'
    } else if (path === '/favicon.ico') {
      name = 'icon.svg'
    } else if (path.startsWith('/storefront/')) {
      name = path.slice('/storefront/'.length)
    } else {
      return false
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      res.end('the storefront is read-only: use GET\n')
      return true
    }
    loading ??= loadAssets(directory)
    let assets: Map<string, Asset>
    try {
      assets = await loading
    } catch (err) {
      loading = undefined
      throw err
    }
    const asset = NAME.test(name) ? assets.get(name) : undefined
    if (asset == null) {
      notFound(res, `no storefront file ${JSON.stringify(name.slice(0, 100))}`)
      return true
    }
    send(req, res, asset)
    return true
  }
}
