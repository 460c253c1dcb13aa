import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { buildReleaseRecord, createPublisherKey, recordToJSON, signRecord } from '@hubless/registry/records'
import { EPOCH_HEADER, POSITION_HEADER, createCatalog, createHttpSource } from '../src/index.ts'
import type { HttpSource } from '../src/index.ts'
import type { SignedRecord } from '@hubless/registry/records'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

const author = createPublisherKey()

async function release (n: number): Promise<SignedRecord> {
  return signRecord(buildReleaseRecord({
    appId: `org.example.App${n}`,
    version: '1.0',
    channel: 'release',
    arch: 'x86_64',
    content: { urls: [`https://example.org/app${n}.AppImage`] },
    app: { name: `App ${n}`, summary: 'A test app' }
  }, { publisher: author.did, time: 1_000 + n }), author)
}

/** a mirror's record feed, as lines the test controls */
interface FakeMirror {
  url: string
  lines: string[]
  epoch: string
  requests: string[]
  status: number
  /** the live set's lines (`/api/v1/records/live`), and the feed position it names; none: 404, as an older mirror */
  live?: { lines: string[], position: number }
}

async function bounded<T> (work: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([work, new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error(`not done within ${ms} ms`)) }, ms).unref())])
}

describe('HTTP record source', () => {
  let server: Server
  const mirror: FakeMirror = { url: '', lines: [], epoch: 'one', requests: [], status: 200 }
  const sources: HttpSource[] = []
  const source = (pollInterval = 0, history?: boolean): HttpSource => {
    const s = createHttpSource({ url: mirror.url, pollInterval, ...(history != null ? { history } : {}) })
    sources.push(s)
    return s
  }

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      mirror.requests.push(url.pathname + url.search)
      if (url.pathname === '/api/v1/records/live' && mirror.live != null) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson', [EPOCH_HEADER]: mirror.epoch, [POSITION_HEADER]: String(mirror.live.position) })
        res.end(mirror.live.lines.map(l => `${l}\n`).join(''))
        return
      }
      if (url.pathname !== '/api/v1/records') {
        res.writeHead(404).end()
        return
      }
      if (mirror.status !== 200) {
        res.writeHead(mirror.status).end('{"error":{}}')
        return
      }
      const from = Number(url.searchParams.get('after') ?? 0)
      res.writeHead(200, { 'content-type': 'application/x-ndjson', [EPOCH_HEADER]: mirror.epoch })
      // in small pieces, so lines span chunks
      const body = mirror.lines.slice(from).map(l => `${l}\n`).join('')
      for (let i = 0; i < body.length; i += 100) res.write(body.slice(i, i + 100))
      res.end()
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    mirror.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(async () => {
    for (const s of sources) s.stop()
    await new Promise(resolve => server.close(resolve))
  })

  it('reads and verifies the feed, drops what does not verify, then polls from where it stopped', async () => {
    const good = await Promise.all([1, 2, 3].map(release))
    const tampered = recordToJSON(await release(4))
    ;(tampered.record as { version: string }).version = '9.9' // no longer the record its id names
    const forged = recordToJSON(await release(10))
    forged.signature = `${forged.signature![0] === 'A' ? 'B' : 'A'}${forged.signature!.slice(1)}`
    mirror.lines = [
      JSON.stringify(recordToJSON(good[0]!)),
      'not json at all',
      JSON.stringify(tampered),
      JSON.stringify(forged),
      'x'.repeat((1 << 20) + 10), // longer than any record
      JSON.stringify(recordToJSON(good[1]!))
    ]
    mirror.epoch = 'one'
    const feed = source()
    const rejected: Array<{ position: number, name: string }> = []
    feed.addEventListener('rejected', event => { rejected.push({ position: event.detail.position, name: event.detail.error.name }) })
    const catalog = await bounded(createCatalog({ source: feed }, {}))
    assert.deepEqual(catalog.search({}).hits.map(h => h.appId).sort(), ['org.example.App1', 'org.example.App2'])
    // the long line is refused by the reader (HttpSourceError) or, when it came in one piece, by the record parser
    const long = rejected.at(-1)
    assert.ok(long != null && ['HttpSourceError', 'OversizeRecordError'].includes(long.name), `the long line is rejected: ${JSON.stringify(long)}`)
    assert.deepEqual(rejected.slice(0, -1), [
      { position: 2, name: 'MalformedRecordError' },
      { position: 3, name: 'MalformedRecordError' },
      { position: 4, name: 'InvalidSignatureError' }
    ])
    assert.equal(long.position, 5)

    // a new record on the mirror: the poll asks only for what follows the six lines read
    mirror.lines.push(JSON.stringify(recordToJSON(good[2]!)))
    mirror.requests.length = 0
    assert.equal(await bounded(feed.poll()), 1)
    assert.deepEqual(mirror.requests, ['/api/v1/records?after=6'])
    assert.ok(catalog.app('org.example.App3') != null, 'the polled record reached the catalog as a live event')
    assert.equal(await bounded(feed.poll()), 0, 'nothing new')
    await catalog.stop()
  })

  it('reads the live set first, then the whole feed; without the history, only what is new after the live set\'s position', async () => {
    const records = await Promise.all([20, 21, 22, 23].map(release))
    const line = (r: SignedRecord): string => JSON.stringify(recordToJSON(r))
    // the feed: 20, 21, 22; the live set: 22 (say 20 and 21 were superseded), read at position 3
    mirror.lines = records.slice(0, 3).map(line)
    mirror.epoch = 'live'
    mirror.live = { lines: [line(records[2]!)], position: 3 }
    try {
      mirror.requests.length = 0
      const order: string[] = []
      for await (const r of source().records()) order.push(r.record.kind === 'release' ? r.record.appId : r.id)
      assert.deepEqual(order, ['org.example.App22', 'org.example.App20', 'org.example.App21', 'org.example.App22'], 'the live set, then every line of the feed')
      assert.deepEqual(mirror.requests, ['/api/v1/records/live', '/api/v1/records'])

      mirror.requests.length = 0
      const today = source(0, false)
      const catalog = await bounded(createCatalog({ source: today }, {}))
      assert.deepEqual(catalog.search({}).hits.map(h => h.appId), ['org.example.App22'], 'only the live set')
      assert.deepEqual(mirror.requests, ['/api/v1/records/live'], 'no history read')
      mirror.lines.push(line(records[3]!))
      assert.equal(await bounded(today.poll()), 1)
      assert.deepEqual(mirror.requests.at(-1), '/api/v1/records?after=3', 'polled from the live set\'s position')
      assert.ok(catalog.app('org.example.App23') != null)
      await catalog.stop()
    } finally {
      delete mirror.live
    }
  })

  it('an older mirror without a live set is read as before, whatever `history` says', async () => {
    const records = await Promise.all([24, 25].map(release))
    mirror.lines = records.map(r => JSON.stringify(recordToJSON(r)))
    mirror.epoch = 'old'
    mirror.requests.length = 0
    const catalog = await bounded(createCatalog({ source: source(0, false) }, {}))
    assert.equal(catalog.size, 2)
    assert.deepEqual(mirror.requests, ['/api/v1/records/live', '/api/v1/records'])
    await catalog.stop()
  })

  it('reads from the start when the mirror\'s order changed', async () => {
    const records = await Promise.all([5, 6, 7].map(release))
    mirror.lines = records.slice(0, 2).map(r => JSON.stringify(recordToJSON(r)))
    mirror.epoch = 'before'
    const feed = source()
    const catalog = await bounded(createCatalog({ source: feed }, {}))
    assert.equal(catalog.size, 2)
    // a restarted mirror: another order, one more record
    mirror.lines = [records[2]!, records[1]!, records[0]!].map(r => JSON.stringify(recordToJSON(r)))
    mirror.epoch = 'after'
    mirror.requests.length = 0
    assert.equal(await bounded(feed.poll()), 3)
    assert.deepEqual(mirror.requests, ['/api/v1/records?after=2', '/api/v1/records'])
    assert.equal(catalog.size, 3)
    await catalog.stop()
  })

  it('polls on its own once started, and stops', async () => {
    const [first, second] = await Promise.all([8, 9].map(release))
    mirror.lines = [JSON.stringify(recordToJSON(first!))]
    mirror.epoch = 'polling'
    const feed = source(50)
    const catalog = await bounded(createCatalog({ source: feed }, {}))
    const arrived = new Promise<void>(resolve => {
      catalog.events.addEventListener('changed', event => { if (event.detail.appIds.includes('org.example.App9')) resolve() })
    })
    mirror.lines.push(JSON.stringify(recordToJSON(second!)))
    await bounded(arrived, 5_000)
    feed.stop()
    await catalog.stop()
  })

  it('names what it cannot read', async () => {
    assert.throws(() => createHttpSource({ url: 'not a url' }), { name: 'HttpSourceError' })
    assert.throws(() => createHttpSource({ url: 'ftp://mirror.example.org' }), { name: 'HttpSourceError' })
    assert.throws(() => createHttpSource({ url: mirror.url, pollInterval: -1 }), { name: 'HttpSourceError' })
    mirror.status = 500
    try {
      await assert.rejects(createCatalog({ source: source() }, {}), { name: 'HttpSourceError' })
    } finally {
      mirror.status = 200
    }
    // nothing listens there (the port of a server that was closed)
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    await assert.rejects(createCatalog({ source: createHttpSource({ url: `http://127.0.0.1:${port}`, pollInterval: 0 }) }, {}), { name: 'HttpSourceError' })
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(createCatalog({ source: source() }, {}, { signal: controller.signal }), { name: 'AbortError' })
  })
})
