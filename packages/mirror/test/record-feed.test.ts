import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { createNode } from '@hubless/net'
import { EPOCH_HEADER, POSITION_HEADER } from '@hubless/query'
import { buildReleaseRecord, createPublisherKey, createRegistry, recordFromJSON } from '@hubless/registry'
import type { HublessNode } from '@hubless/net'
import type { Registry } from '@hubless/registry'
import { startHttpServer } from '../src/http-server.ts'
import { createRecordFeed } from '../src/record-feed.ts'
import type { HttpServer } from '../src/http-server.ts'

const RECORDS = 1_203

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

async function get (base: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers, signal: AbortSignal.timeout(30_000) }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

function lines (body: Buffer): string[] {
  return body.toString('utf8').split('\n').filter(line => line !== '')
}

/** The record feed on a real registry: streamed in pieces, resumed by position, compressed, and a stream that ends early frees its place */
describe('record feed', () => {
  let dir: string
  let node: HublessNode
  let registry: Registry
  let server: HttpServer | undefined

  async function serve (maxStreams?: number): Promise<HttpServer> {
    await server?.close()
    const feed = createRecordFeed(registry, { maxStreams })
    server = await startHttpServer({ host: '127.0.0.1', port: 0 }, [async (req, res, url) => {
      if (url.pathname === '/records/live') {
        await feed.sendLive(req, res)
        return true
      }
      if (url.pathname !== '/records') return false
      await feed.send(req, res, Number(url.searchParams.get('after') ?? 0))
      return true
    }])
    return server
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hubless-record-feed-'))
    node = await createNode({ directory: dir, listen: [] })
    registry = await createRegistry({ node }, { name: 'record-feed-test' })
    const key = createPublisherKey()
    const records = Array.from({ length: RECORDS }, (_, i) => buildReleaseRecord({
      appId: `org.example.Feed${i % 40}`,
      version: `1.${i}`,
      channel: 'nightly',
      arch: 'x86_64',
      content: { urls: [`https://example.org/feed-${i}.AppImage`] },
      // characters of two and three bytes in UTF-8: a line is written as bytes, not as a string
      app: { name: `Fëed 日本 ${i % 40}` }
    }, { publisher: key.did, time: 1_700_000_000_000 + i }))
    await registry.publishMany(records, key)
  })

  after(async () => {
    await server?.close()
    await registry?.stop()
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('streams every entry as a verifiable line, in the log\'s order, and resumes after any line', async () => {
    const { url } = await serve()
    const all = await get(url, '/records')
    assert.equal(all.status, 200)
    assert.match(String(all.headers['content-type']), /^application\/x-ndjson/)
    assert.equal(all.headers['content-length'], undefined, 'streamed, not held whole')
    assert.equal(all.headers[EPOCH_HEADER], registry.position().index, 'the order is named by the record index')
    const everyLine = lines(all.body)
    assert.equal(everyLine.length, RECORDS)
    const ids: string[] = []
    for await (const signed of registry.records()) ids.push(signed.id)
    assert.deepEqual(await Promise.all(everyLine.map(async line => (await recordFromJSON(line)).id)), ids)

    for (const from of [1, 499, 500, 501, 1_000, RECORDS - 1]) {
      assert.deepEqual(lines((await get(url, `/records?after=${from}`)).body), everyLine.slice(from), `after=${from}`)
    }
    const rest = await get(url, `/records?after=${RECORDS}`)
    assert.equal(rest.status, 200)
    assert.equal(rest.body.byteLength, 0, 'nothing after the last line')
    assert.equal((await get(url, `/records?after=${RECORDS + 10}`)).body.byteLength, 0)

    const gzipped = await get(url, '/records?after=7', { 'accept-encoding': 'gzip' })
    assert.equal(gzipped.headers['content-encoding'], 'gzip')
    assert.deepEqual(lines(gunzipSync(gzipped.body)), everyLine.slice(7))
  })

  it('serves the live set: each app\'s newest release, verifiable, with the feed position it was read at', async () => {
    const { url } = await serve()
    const whole = await get(url, '/records')
    const live = await get(url, '/records/live', { 'accept-encoding': 'gzip' })
    assert.equal(live.status, 200)
    assert.equal(live.headers['content-encoding'], 'gzip')
    assert.equal(live.headers[EPOCH_HEADER], whole.headers[EPOCH_HEADER])
    assert.equal(live.headers[POSITION_HEADER], String(RECORDS))
    const records = await Promise.all(lines(gunzipSync(live.body)).map(async line => recordFromJSON(line)))
    const newest: string[] = []
    for await (const r of registry.latest({})) newest.push(r.id)
    assert.equal(records.length, 40)
    assert.deepEqual(records.map(r => r.id).sort(), newest.sort())
    assert.ok(records.every(r => r.record.kind === 'release' && Number(r.record.version.slice(2)) >= RECORDS - 40), 'the newest of each app')
  })

  it('keeps a reader\'s cursor good across a restart of the registry', async () => {
    const { url } = await serve()
    const before = await get(url, '/records?after=1200')
    await registry.stop()
    registry = await createRegistry({ node }, { name: 'record-feed-test' })
    const { url: again } = await serve()
    const after = await get(again, '/records?after=1200')
    assert.equal(after.headers[EPOCH_HEADER], before.headers[EPOCH_HEADER], 'the same order after the restart')
    assert.deepEqual(lines(after.body), lines(before.body))
  })

  it('frees a stream\'s place when its client leaves mid-feed', async () => {
    const { url } = await serve(1)
    // a client that takes the first bytes and leaves
    await new Promise<void>((resolve, reject) => {
      const req = request(new URL('/records', url), res => {
        res.once('data', () => { req.destroy(); resolve() })
      })
      req.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'ECONNRESET') reject(err) })
      req.end()
    })
    // the only place comes back: a later reader gets the whole feed
    const deadline = Date.now() + 10_000
    let answer = await get(url, '/records')
    while (answer.status === 503 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 50))
      answer = await get(url, '/records')
    }
    assert.equal(answer.status, 200)
    assert.equal(lines(answer.body).length, RECORDS)
  })
})
