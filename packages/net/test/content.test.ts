import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { contentDefinedLayout, fixedSizeChunker } from '../src/index.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { Chunker } from '../src/index.ts'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

async function * chunksOf (bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

async function collect (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}

/** The leaves of a UnixFS file's DAG, in file order */
async function leavesOf (blockstore: Pick<Blockstore, 'get'>, cid: CID): Promise<CID[]> {
  if (cid.code === 0x55) return [cid]
  const dagPb = await import('@ipld/dag-pb')
  const leaves: CID[] = []
  for (const link of dagPb.decode(await collect(blockstore.get(cid))).Links) leaves.push(...await leavesOf(blockstore, link.Hash))
  return leaves
}

describe('content API', () => {
  const fixture = createFixture()
  after(async () => { await fixture.cleanup() })

  it('adds bytes, a stream and a file as CIDv1 with raw leaves, and gets them back', async () => {
    const node = await fixture.node()
    const data = randomBytes(2_500_000, 5)
    const fromBytes = await node.content.add(data)
    const fromStream = await node.content.add(chunksOf(data, 10_000))
    const path = join(node.directory, 'input.bin')
    await writeFile(path, data)
    const fromFile = await node.content.add(path)
    assert.equal(fromBytes.version, 1)
    assert.equal(fromBytes.toString(), fromStream.toString(), 'the chunker, not the input shape, decides the DAG')
    assert.equal(fromBytes.toString(), fromFile.toString())
    assert.deepEqual(await node.content.get(fromBytes), data)
    const leaves = await leavesOf(node.helia.blockstore, fromBytes)
    assert.equal(leaves.length, 3, '1 MiB default chunks')
    assert.ok(leaves.every(leaf => leaf.code === 0x55), 'leaves are raw blocks')
  })

  it('adds with the CIDs of Helia\'s addByteStream (and hubless\'s DAG layout), every block stored and pinned, the leaves not read back to pin', async () => {
    const node = await fixture.node()
    const data = randomBytes(5_000_000, 21)
    // a leaf repeated inside the file, so the DAG links one block twice
    data.set(data.subarray(0, 100_000), 2_000_000)
    const chunker = fixedSizeChunker(100_000)
    const { unixfs } = await import('@helia/unixfs')
    const expected = await unixfs(node.helia).addByteStream(chunksOf(data, 65_536), { cidVersion: 1, rawLeaves: true, chunker, layout: contentDefinedLayout() })
    const other = await fixture.node()
    // Helia's pins read through the storage under helia.blockstore (its GC lock)
    const storage = (other.helia.blockstore as unknown as { unwrap: () => Blockstore }).unwrap()
    const gets: string[] = []
    const get = storage.get.bind(storage)
    storage.get = (cid, options) => { gets.push(cid.toString()); return get(cid, options) }
    const cid = await other.content.add(chunksOf(data, 65_536), { chunker })
    storage.get = get
    assert.equal(cid.toString(), expected.toString())
    assert.deepEqual(gets, [], 'the pin walk takes the blocks it has just stored from memory')
    assert.equal(await other.content.isPinned(cid), true)
    const leaves = await leavesOf(other.helia.blockstore, cid)
    assert.equal(leaves.length, 50)
    for (const leaf of leaves) assert.equal(await other.content.isPinned(leaf), true, `leaf ${leaf} is pinned`)
    assert.deepEqual(await other.content.get(cid, { offline: true }), data)
    const again = await other.content.add(data, { chunker })
    assert.equal(again.toString(), cid.toString(), 'adding the same bytes again changes nothing')
  })

  it('holds garbage collection back until an add is stored and pinned', async () => {
    const node = await fixture.node()
    const data = randomBytes(4_000_000, 23)
    const order: string[] = []
    const adding = node.content.add(chunksOf(data, 65_536), { chunker: fixedSizeChunker(50_000) }).then((cid) => { order.push('added'); return cid })
    await new Promise(resolve => setImmediate(resolve))
    const collecting = node.content.gc().then(() => { order.push('collected') })
    const cid = await adding
    await collecting
    assert.deepEqual(order, ['added', 'collected'])
    assert.deepEqual(await node.content.get(cid, { offline: true }), data, 'the collection left every block of the add')
  })

  it('uses the chunker it is given (fixed size and a custom one)', async () => {
    const node = await fixture.node()
    const data = randomBytes(100_000, 9)
    const fixed = await node.content.add(data, { chunker: fixedSizeChunker(10_000) })
    const cuts: number[] = []
    // cuts at every zero byte after at least 1000 bytes: content-defined, like the squashfs-aware one will be
    const custom: Chunker = async function * (source) {
      let pending: number[] = []
      for await (const chunk of source) {
        for (const byte of chunk) {
          pending.push(byte)
          if (byte === 0 && pending.length >= 1000) {
            cuts.push(pending.length)
            yield Uint8Array.from(pending)
            pending = []
          }
        }
      }
      if (pending.length > 0) yield Uint8Array.from(pending)
    }
    const customCid = await node.content.add(data, { chunker: custom })
    const fixedLeaves = await leavesOf(node.helia.blockstore, fixed)
    const customLeaves = await leavesOf(node.helia.blockstore, customCid)
    assert.equal(fixedLeaves.length, 10)
    assert.equal(customLeaves.length, cuts.length + 1)
    assert.notEqual(fixed.toString(), customCid.toString())
    assert.deepEqual(await node.content.get(customCid), data)
  })

  it('reports progress and honours offset, length and abort', async () => {
    const node = await fixture.node()
    const data = randomBytes(3_000_000, 13)
    const added: number[] = []
    const cid = await node.content.add(data, { onProgress: (evt) => { added.push(evt.detail.bytes) } })
    assert.equal(added.at(-1), data.length)
    const read: Array<{ bytes: number, total?: number }> = []
    const part = await node.content.get(cid, { offset: 1_000_000, length: 1500, onProgress: (evt) => { read.push(evt.detail) } })
    assert.deepEqual(part, data.subarray(1_000_000, 1_001_500))
    assert.deepEqual(read.at(-1), { bytes: 1500, total: 1500 })
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(node.content.get(cid, { signal: controller.signal }), { name: 'AbortError' })
    await assert.rejects(node.content.add(data, { signal: controller.signal }), { name: 'AbortError' })
  })

  it('exports and imports CAR files, verifying every block', async () => {
    const a = await fixture.node()
    const b = await fixture.node()
    const data = randomBytes(500_000, 17)
    const cid = await a.content.add(data, { chunker: fixedSizeChunker(100_000) })
    const car = await collect(a.content.exportCar(cid))
    assert.deepEqual((await b.content.importCar(car)).map(String), [cid.toString()])
    assert.deepEqual(await b.content.get(cid, { offline: true }), data)

    const c = await fixture.node()
    const tampered = car.slice()
    tampered[tampered.length - 10]! ^= 0xff
    await assert.rejects(c.content.importCar(tampered), { name: 'BlockVerificationError' })
    await assert.rejects(c.content.importCar(new TextEncoder().encode('not a car')), { name: 'BadCarError' })
  })

  it('stores many blocks in one batch, each checked against its CID, and reads them back through Helia', async () => {
    const { CID } = await import('multiformats/cid')
    const { sha256 } = await import('multiformats/hashes/sha2')
    const { sha512 } = await import('multiformats/hashes/sha2')
    const dir = await fixture.dir()
    let node = await fixture.node({ directory: dir })
    const blocks = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const bytes = randomBytes(300 + i, 100 + i)
      return { cid: CID.createV1(0x71, await (i === 7 ? sha512 : sha256).digest(bytes)), bytes }
    }))
    await node.content.putBlocks(blocks)
    for (const { cid, bytes } of blocks) assert.deepEqual(await collect(node.helia.blockstore.get(cid, { offline: true })), bytes, `block ${cid} reads back`)

    const spoiled = { cid: CID.createV1(0x71, await sha256.digest(Uint8Array.of(1))), bytes: Uint8Array.of(2) }
    const fine = { cid: CID.createV1(0x71, await sha256.digest(Uint8Array.of(3))), bytes: Uint8Array.of(3) }
    await assert.rejects(node.content.putBlocks([fine, spoiled]), { name: 'BlockVerificationError' })
    assert.equal(await node.content.has(fine.cid), false, 'nothing of a batch with a bad block is stored')

    // on disk, under the keys Helia's LevelDB blockstore reads
    await node.stop()
    node = await fixture.node({ directory: dir })
    assert.deepEqual(await collect(node.helia.blockstore.get(blocks[3]!.cid, { offline: true })), blocks[3]!.bytes)
  })

  it('holds garbage collection back while blocks stored now are pinned later', async () => {
    const node = await fixture.node()
    const { CID } = await import('multiformats/cid')
    const { sha256 } = await import('multiformats/hashes/sha2')
    const block = async (n: number): Promise<{ cid: InstanceType<typeof CID>, bytes: Uint8Array }> => {
      const bytes = randomBytes(200, 900 + n)
      return { cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes }
    }
    const [kept, dropped] = [await block(1), await block(2)]
    const release = await node.content.holdGc()
    await node.content.putBlocks([kept, dropped])
    let collected = false
    const gc = node.content.gc().then(result => { collected = true; return result })
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(collected, false, 'the collection waits for the hold')
    assert.equal(await node.content.has(kept.cid), true)
    await node.content.pin(kept.cid)
    // a hold asked for while a collection waits comes after it
    let heldAgain = false
    const again = node.content.holdGc().then(r => { heldAgain = true; return r })
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(heldAgain, false, 'a new hold waits for the collection')
    release()
    assert.ok((await gc).removed >= 1)
    ;(await again)()
    assert.equal(await node.content.has(kept.cid), true, 'pinned during the hold: kept')
    assert.equal(await node.content.has(dropped.cid), false, 'never pinned: collected once the hold ended')
  })

  it('names bad input', async () => {
    const node = await fixture.node()
    await assert.rejects(node.content.get('nonsense'), { name: 'BadCidError' })
    await assert.rejects(node.content.add(join(node.directory, 'missing.bin')), { name: 'FileReadError' })
    await assert.rejects(node.content.add(node.directory), { name: 'FileReadError' })
    const { CID } = await import('multiformats/cid')
    const { sha256 } = await import('multiformats/hashes/sha2')
    const missing = CID.createV1(0x55, await sha256.digest(new Uint8Array([1, 2, 3])))
    await assert.rejects(node.content.get(missing, { offline: true }), { name: 'ContentNotFoundError' })
    await assert.rejects(collect(node.content.exportCar(missing)), { name: 'ContentNotFoundError' })
    await assert.rejects(node.dial('/ip4/127.0.0.1/tcp/notaport'), { name: 'BadMultiaddrError' })
    await assert.rejects(node.dial('/ip4/127.0.0.1/tcp/9', { signal: AbortSignal.timeout(5000) }), { name: 'PeerUnreachableError' })
  })
})
