/**
 * What one client, or a crowd of them, can cost a mirror's HTTP server: the feed is built once
 * per catalog change however many ask for it, answers carry an ETag and come compressed as asked,
 * a client that sends its headers a byte at a time is cut, the connection limit holds, a flood of
 * expensive requests gets 503 rather than a queue without end, and long answers leave no
 * listeners behind. Bounds on time are generous: this is about "seconds, not minutes".
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { buildReleaseRecord, createPublisherKey, signRecord } from '@hubless/registry'
import { sendJson, startHttpServer } from '../../packages/mirror/src/http-server.ts'
import { createFeedRoute } from '../../packages/mirror/src/feed-route.ts'
import { createLimiter } from '../../packages/mirror/src/limiter.ts'
import { createPublicApiRoute } from '../../packages/mirror/src/public-api.ts'
import { loadCatalog } from '../../packages/mirror/test/storefront-fixtures.ts'
import type { HttpServer, Route } from '../../packages/mirror/src/http-server.ts'
import type { MirrorComponents } from '@hubless/mirror'
import type { SignedRecord } from '@hubless/registry'
import type { Socket } from 'node:net'

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

async function get (base: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { headers, agent: false, signal: AbortSignal.timeout(30_000) }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => { chunks.push(c) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const healthz: Route = async (_req, res, url) => {
  if (url.pathname !== '/healthz') return false
  sendJson(res, 200, { ok: true })
  return true
}

/** resolves with the ms until the server closes `socket` (or rejects after `limit` ms) */
async function closedWithin (socket: Socket, limit: number): Promise<number> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the server kept the connection open over ${limit} ms`)) }, limit)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(Date.now() - start)
    })
    socket.on('error', () => {})
  })
}

async function connected (base: string): Promise<Socket> {
  const { hostname, port } = new URL(base)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  // read whatever the server answers (a 408), else the end of the stream is never seen
  socket.resume()
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

describe('HTTP limits of a mirror', () => {
  const apps = loadCatalog()
  let server: HttpServer
  let generation = 0
  let builds = 0

  before(async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0 }, [
      healthz,
      createFeedRoute({
        apps: async () => apps,
        baseUrl: 'http://mirror.test',
        generation: async () => generation,
        onBuild: () => { builds++ }
      })
    ])
  })
  after(async () => { await server?.close() })

  it('builds /feed.json once per catalog change however many ask, and /healthz answers meanwhile', async () => {
    const health: number[] = []
    let flooding = true
    const probing = (async () => {
      while (flooding) {
        const start = performance.now()
        assert.equal((await get(server.url, '/healthz')).status, 200)
        health.push(performance.now() - start)
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    })()
    const flood = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        const answer = await get(server.url, '/feed.json', { 'accept-encoding': 'gzip, br' })
        assert.equal(answer.status, 200)
      }
    }
    await Promise.all(Array.from({ length: 10 }, flood))
    flooding = false
    await probing
    assert.equal(builds, 1, `50 requests for an unchanged catalog built the feed ${builds} times; expected once`)
    assert.ok(Math.max(...health) < 3_000, `/healthz took up to ${Math.max(...health).toFixed(0)} ms during the flood`)

    generation++
    await Promise.all(Array.from({ length: 5 }, async () => get(server.url, '/feed.json')))
    assert.equal(builds, 2, 'a catalog change builds the feed once more')
  })

  it('answers with an ETag, and 304 when the client has it', async () => {
    const first = await get(server.url, '/feed.json')
    const etag = first.headers.etag as string
    assert.match(etag ?? '', /^"[^"]+"$/, 'the feed has a strong ETag')
    const again = await get(server.url, '/feed.json', { 'if-none-match': etag })
    assert.equal(again.status, 304)
    assert.equal(again.body.length, 0)
    const other = await get(server.url, '/feed.json', { 'if-none-match': '"something-else"' })
    assert.equal(other.status, 200)
  })

  it('compresses as the client asks: br, gzip or none, with Vary: Accept-Encoding', async () => {
    const plain = await get(server.url, '/feed.json')
    assert.equal(plain.headers['content-encoding'], undefined)
    const feed = JSON.parse(plain.body.toString('utf8')) as { items: unknown[] }
    assert.equal(feed.items.length, apps.length)

    const br = await get(server.url, '/feed.json', { 'accept-encoding': 'gzip, deflate, br' })
    assert.equal(br.headers['content-encoding'], 'br')
    assert.match(String(br.headers.vary), /accept-encoding/i)
    assert.ok(br.body.length < plain.body.length / 3, `brotli made ${br.body.length} of ${plain.body.length} bytes`)
    assert.deepEqual(brotliDecompressSync(br.body), plain.body)

    const gz = await get(server.url, '/feed.json', { 'accept-encoding': 'gzip' })
    assert.equal(gz.headers['content-encoding'], 'gzip')
    assert.deepEqual(gunzipSync(gz.body), plain.body)
    assert.notEqual(gz.headers.etag, plain.headers.etag, 'each encoding has its own ETag')

    const refused = await get(server.url, '/feed.json', { 'accept-encoding': 'br;q=0, gzip;q=0' })
    assert.equal(refused.headers['content-encoding'], undefined)
  })

  it('cuts a client that sends its headers a byte a second (slowloris)', { timeout: 30_000 }, async () => {
    const socket = await connected(server.url)
    socket.write('GET /healthz HTTP/1.1\r\nHost: mirror.test\r\n')
    const trickle = setInterval(() => { if (!socket.destroyed) socket.write('X') }, 1_000)
    try {
      const ms = await closedWithin(socket, 20_000)
      assert.ok(ms < 20_000, `cut after ${ms} ms`)
    } finally {
      clearInterval(trickle)
      socket.destroy()
    }
  })

  it('cuts a connection that sends nothing', { timeout: 30_000 }, async () => {
    const socket = await connected(server.url)
    try {
      const ms = await closedWithin(socket, 20_000)
      assert.ok(ms < 20_000, `cut after ${ms} ms`)
    } finally {
      socket.destroy()
    }
  })
})

describe('the connection limit', () => {
  let server: HttpServer
  before(async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0 }, [healthz], { maxConnections: 4 })
  })
  after(async () => { await server?.close() })

  it('closes connections over the limit as they arrive, and takes new ones once others close', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, async () => connected(server.url)))
    try {
      // the server counts a connection once it has accepted it
      await new Promise(resolve => setTimeout(resolve, 100))
      const extra = await connected(server.url)
      const ms = await closedWithin(extra, 5_000)
      assert.ok(ms < 5_000)
    } finally {
      for (const socket of held) socket.destroy()
    }
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal((await get(server.url, '/healthz')).status, 200)
  })
})

describe('expensive work under a limiter', () => {
  let server: HttpServer
  before(async () => {
    const limiter = createLimiter({ concurrency: 1, queue: 2 })
    const slow: Route = async (_req, res, url) => {
      if (url.pathname !== '/slow') return false
      await limiter.run(async () => new Promise(resolve => setTimeout(resolve, 200)))
      sendJson(res, 200, { ok: true })
      return true
    }
    server = await startHttpServer({ host: '127.0.0.1', port: 0 }, [healthz, slow])
  })
  after(async () => { await server?.close() })

  it('answers the excess of a flood with 503 and Retry-After, never 500, and /healthz stays up', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, async () => get(server.url, '/slow')))
    const statuses = answers.map(a => a.status)
    assert.equal(statuses.filter(s => s === 200).length, 3, `one running and two waiting succeed: ${statuses.join(',')}`)
    assert.equal(statuses.filter(s => s === 503).length, 7, `the rest are refused: ${statuses.join(',')}`)
    for (const a of answers.filter(a => a.status === 503)) {
      assert.match(String(a.headers['retry-after']), /^\d+$/)
      assert.equal(JSON.parse(a.body.toString('utf8')).error.name, 'ServerBusyError')
    }
    assert.equal((await get(server.url, '/healthz')).status, 200)
  })
})

describe('long answers leave no listeners behind', () => {
  let server: HttpServer
  let record: SignedRecord
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }

  before(async () => {
    const key = await createPublisherKey()
    record = await signRecord(buildReleaseRecord({
      appId: 'org.limits.Listing',
      version: '1.0',
      channel: 'release',
      arch: 'x86_64',
      content: { urls: ['https://example.org/listing-1.0.AppImage'] },
      app: { name: 'Listing', summary: 'a long answer, many times over '.repeat(20) }
    }, { publisher: key.did, time: Date.now() }), key)
    // a registry of 8,000 records: a listing of several MB
    const registry = {
      position: () => ({ index: 'listing', seq: 8_000 }),
      async * entries (options?: { after?: { seq: number } }) { for (let seq = (options?.after?.seq ?? 0) + 1; seq <= 8_000; seq++) yield { position: { index: 'listing', seq }, signed: record } },
      addEventListener () {},
      removeEventListener () {}
    }
    const catalog = { events: { addEventListener () {} }, get size (): number { throw new Error('not in this test') } }
    const services = { registry, catalog } as unknown as MirrorComponents
    server = await startHttpServer({ host: '127.0.0.1', port: 0 }, [createPublicApiRoute({ services })])
    process.on('warning', onWarning)
  })
  after(async () => {
    process.off('warning', onWarning)
    await server?.close()
  })

  it('emits no MaxListenersExceededWarning over many record listings', async () => {
    for (let i = 0; i < 20; i++) {
      const answer = await get(server.url, '/api/v1/records')
      assert.equal(answer.status, 200)
      assert.equal(answer.body.toString('utf8').split('\n').length - 1, 8_000)
    }
    // warnings are emitted on a later tick
    await new Promise(resolve => setImmediate(resolve))
    const leaks = warnings.filter(w => w.name === 'MaxListenersExceededWarning')
    assert.deepEqual(leaks.map(w => w.message), [], 'no listener piles up on a response or a shared emitter')
  })
})
