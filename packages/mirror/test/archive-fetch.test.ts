import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createOriginFetcher, retryAfterMs } from '../src/archive/origin-fetch.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { closeServer, listenOnLoopback } from './local-server.ts'

const FILE = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) & 0xff))
const SHA = createHash('sha256').update(FILE).digest('hex')

describe('fetching from origins for archiving', () => {
  let server: Server
  let base: string
  let dir: string
  const seen = { busy: 0, cut: 0, active: 0, maxActive: 0 }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hubless-origin-'))
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
      const start = range == null ? 0 : Number(range[1])
      const send = (): void => {
        res.writeHead(range == null ? 200 : 206, { 'content-type': 'application/octet-stream', 'content-length': FILE.byteLength - start })
        res.end(FILE.subarray(start))
      }
      if (req.url === '/busy') {
        if (seen.busy++ === 0) res.writeHead(503, { 'retry-after': '1' }).end()
        else send()
      } else if (req.url === '/busy-long') {
        res.writeHead(429, { 'retry-after': '3600' }).end()
      } else if (req.url === '/cut') {
        if (seen.cut++ === 0) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': FILE.byteLength })
          res.write(FILE.subarray(0, 80_000), () => { setTimeout(() => { res.destroy() }, 50) })
        } else send()
      } else if (req.url?.startsWith('/count')) {
        seen.active++
        seen.maxActive = Math.max(seen.maxActive, seen.active)
        setTimeout(() => { seen.active--; send() }, 200)
      } else res.writeHead(404).end()
    })
    base = await listenOnLoopback(server)
  })

  after(async () => {
    await closeServer(server)
    await rm(dir, { recursive: true, force: true })
  })

  it('waits out a short Retry-After, and fails a long one with the time to come back', async () => {
    const fetcher = createOriginFetcher({ maxRetryWait: 5_000 })
    const started = Date.now()
    const got = await fetcher.fetchToFile(`${base}/busy`, join(dir, 'busy'), { signal: AbortSignal.timeout(10_000), maxBytes: 1e6 })
    assert.ok(Date.now() - started >= 900, 'waited about a second')
    assert.equal(got.sha256, SHA)
    await assert.rejects(fetcher.fetchToFile(`${base}/busy-long`, join(dir, 'long'), { signal: AbortSignal.timeout(10_000), maxBytes: 1e6 }), (err: Error & { retryAt?: number }) => {
      assert.equal(err.name, 'OriginHttpError')
      assert.ok(err.retryAt != null && err.retryAt > Date.now() + 3_500_000)
      return true
    })
  })

  it('resumes a cut transfer with a Range request', async () => {
    const fetcher = createOriginFetcher()
    const file = join(dir, 'cut')
    await assert.rejects(fetcher.fetchToFile(`${base}/cut`, file, { signal: AbortSignal.timeout(10_000), maxBytes: 1e6 }), { name: 'OriginUnreachableError' })
    const got = await fetcher.fetchToFile(`${base}/cut`, file, { signal: AbortSignal.timeout(10_000), maxBytes: 1e6 })
    assert.equal(got.resumed, true)
    assert.equal(got.sha256, SHA)
    assert.ok((await readFile(file)).equals(FILE))
  })

  it('sends at most 2 requests at once to one host', async () => {
    const fetcher = createOriginFetcher()
    await Promise.all(Array.from({ length: 6 }, async (_, i) => fetcher.fetchToFile(`${base}/count/${i}`, join(dir, `count-${i}`), { signal: AbortSignal.timeout(10_000), maxBytes: 1e6 })))
    assert.equal(seen.maxActive, 2)
  })

  it('reads Retry-After as seconds or a date', () => {
    assert.equal(retryAfterMs('120'), 120_000)
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000)
    assert.equal(retryAfterMs('soon'), undefined)
  })
})
