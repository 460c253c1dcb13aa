import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { importFile } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import { fixedSizeChunker, openUnixfsFile, parseRange, sendRangedFile } from '../src/index.ts'
import { serveGateway } from './gateway-servers.ts'
import { createFixture, randomBytes } from './helpers.ts'
import { checkRanges } from './range-checks.ts'
import type { TestServer } from './gateway-servers.ts'
import type { HublessNode } from '../src/index.ts'
import type { Blockstore } from 'interface-blockstore'

describe('parseRange', () => {
  it('reads single, multiple, suffix and open ranges, and tells what to ignore from what is unsatisfiable', () => {
    assert.equal(parseRange(undefined, 100), undefined)
    assert.deepEqual(parseRange('bytes=0-9', 100), [{ start: 0, end: 9 }])
    assert.deepEqual(parseRange('bytes=90-', 100), [{ start: 90, end: 99 }])
    assert.deepEqual(parseRange('bytes=-10', 100), [{ start: 90, end: 99 }])
    assert.deepEqual(parseRange('bytes=-1000', 100), [{ start: 0, end: 99 }])
    assert.deepEqual(parseRange('Bytes = 0-0, 5-1000 ,200-300', 100), [{ start: 0, end: 0 }, { start: 5, end: 99 }])
    assert.equal(parseRange('bytes=100-200', 100), 'unsatisfiable')
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable')
    assert.equal(parseRange('bytes=0-0', 0), 'unsatisfiable')
    for (const ignored of ['items=0-1', 'bytes=', 'bytes=5-1', 'bytes=a-b', 'bytes=-', 'bytes=1-2-3', `bytes=${'0-1,'.repeat(101)}`]) {
      assert.equal(parseRange(ignored, 100), undefined, ignored)
    }
  })

  it('returns only ranges inside the file, never empty, for any header', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), fc.integer({ min: 0, max: 1e12 }), (tail, size) => {
      const result = parseRange(`bytes=${tail}`, size)
      if (result == null || result === 'unsatisfiable') return
      assert.ok(result.length > 0)
      for (const { start, end } of result) assert.ok(start >= 0 && start <= end && end < size, `${tail} on ${size}`)
    }))
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(1000), fc.nat(1000)), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 2000 }), (pairs, size) => {
      const ranges = pairs.map(([a, b]) => [Math.min(a, b), Math.max(a, b)])
      const result = parseRange(`bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(',')}`, size)
      const fitting = ranges.filter(([a]) => a! < size).map(([a, b]) => ({ start: a, end: Math.min(b!, size - 1) }))
      assert.deepEqual(result, fitting.length === 0 ? 'unsatisfiable' : fitting)
    }))
  })
})

describe('sendRangedFile over a UnixFS file', () => {
  const fixture = createFixture()
  const data = randomBytes(200_000, 21)
  let node: HublessNode
  let server: TestServer
  let cid: CID

  before(async () => {
    node = await fixture.node()
    cid = await node.content.add(data, { chunker: fixedSizeChunker(50_000) })
    server = await serveGateway(async (req, res) => {
      const file = await openUnixfsFile(node.helia, CID.parse((req.url ?? '').slice(1)))
      await sendRangedFile(req, res, file, { etag: `"${cid}"`, headers: { 'content-type': 'application/octet-stream' } })
      return true
    })
  })

  after(async () => {
    await server?.close()
    await fixture.cleanup()
  })

  it('answers 200, 206, multipart/byteranges, 416, HEAD and If-Range as HTTP asks', async () => {
    await checkRanges(`${server.url}/${cid}`, data)
  })

  it('reads only the blocks under a range', async () => {
    const blockstore = node.helia.blockstore
    const original = blockstore.get.bind(blockstore)
    const read: string[] = []
    blockstore.get = ((key: CID, options?: never) => {
      read.push(key.toString())
      return original(key, options)
    }) as typeof blockstore.get
    try {
      const response = await fetch(`${server.url}/${cid}`, { headers: { range: 'bytes=120000-120099' } })
      assert.equal(response.status, 206)
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), data.subarray(120_000, 120_100))
    } finally {
      blockstore.get = original
    }
    assert.equal(read.filter(c => c !== cid.toString()).length, 1, `expected one leaf of four to be read, read ${read.length} blocks`)
  })

  it('answers ranges of a DAG that keeps its data in dag-pb leaves (an old import) as well', async () => {
    const old = await importFile({ content: (async function * () { yield data })() }, node.helia.blockstore as unknown as Blockstore, {
      cidVersion: 1, rawLeaves: false, chunker: fixedSizeChunker(50_000)
    })
    await checkRanges(`${server.url}/${old.cid}`, data)
  })
})
