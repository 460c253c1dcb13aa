import assert from 'node:assert/strict'
import { stat, truncate, writeFile } from 'node:fs/promises'
import { after, describe, it } from 'node:test'
import { createNode } from '@hubless/net'
import { buildEndorseRecord, buildYankRecord, createPublisherKey, createRegistry } from '../src/index.ts'
import { decodeFrame, encodeFrame, encodeFrames, frameHeader, markDuplicate, splitFrames } from '../src/log/record-frame.ts'
import { RecordIndex } from '../src/log/record-index.ts'
import { RecordStore } from '../src/log/record-store.ts'
import type { RecordDb } from '../src/log/record-store.ts'
import { encodeSignedRecord, signRecord } from '../src/records/index.ts'
import { releaseRecord, signedRelease } from './fixtures.ts'
import { connect, ids, indexPaths, Peers, waitForRecords, withRecordKeys } from './peers.ts'
import type { Registry, ReleaseRecord, SignedRecord } from '../src/index.ts'
import type { Peer, RecordKeys } from './peers.ts'

/** the frames of every entry in the record index, as the old record cache file held them; then the index is emptied */
async function toOldFormat (peer: Peer): Promise<Uint8Array> {
  const file = await withRecordKeys(peer, async records => {
    const frames: Uint8Array[] = []
    for await (const value of records.values({ gte: 's!', lt: 's"' })) {
      assert.equal(frameHeader(value).duplicate, false, 'the fixture has no record twice')
      frames.push(value)
    }
    await records.clear()
    return Buffer.concat(frames)
  }, 'frames')
  await withRecordKeys(peer, async records => { await records.clear() })
  return file
}

/** a RecordDb in memory (sorted keys), for the index without LevelDB */
function memoryDb (): RecordDb {
  const map = new Map<string, Uint8Array>()
  const sorted = (): string[] => [...map.keys()].sort()
  const inRange = (k: string, o: { gt?: string, gte?: string, lt?: string }): boolean => (o.gt == null || k > o.gt) && (o.gte == null || k >= o.gte) && (o.lt == null || k < o.lt)
  return {
    get: async key => map.get(key),
    getMany: async keys => keys.map(k => map.get(k)),
    batch: async ops => { for (const op of ops) { if (op.type === 'put') map.set(op.key, op.value); else map.delete(op.key) } },
    iterator: async function * (o) { for (const k of sorted()) if (inRange(k, o)) yield [k, map.get(k)!] },
    keys: async function * (o) { for (const k of sorted()) if (inRange(k, o)) yield k },
    clear: async () => { map.clear() }
  }
}

async function collect<T> (items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/** a record index in memory over an empty log, taking entries only through `commit` */
async function memoryIndex (): Promise<RecordIndex> {
  const store = new RecordStore(memoryDb(), memoryDb())
  const index = new RecordIndex({ store, legacyFile: '/nonexistent/none.records', stopped: () => false, onRecord: () => {}, onReplicated: () => {} })
  const log = { heads: async () => [], has: async () => true, get: async () => undefined, storage: { get: async () => undefined } }
  await index.load(log as never, { check: async () => { throw new Error('nothing to check') } })
  return index
}

async function all (records: AsyncIterable<SignedRecord>): Promise<string[]> {
  const out: string[] = []
  for await (const r of records) out.push(r.id)
  return out
}

async function inOrder (registry: Registry): Promise<string[]> {
  return all(registry.records())
}

describe('record index', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('answers by id, publisher, app, kind and newest release after a reopen, from keys on disk', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    const other = createPublisherKey()
    const r1 = await peer.registry.publish(releaseRecord(key, { appId: 'org.example.One', channel: 'release', time: 1_000 }, 1), key)
    const r2 = await peer.registry.publish(releaseRecord(key, { appId: 'org.example.One', channel: 'release', time: 3_000 }, 2), key)
    const b1 = await peer.registry.publish(releaseRecord(key, { appId: 'org.example.One', channel: 'beta', time: 2_000 }, 3), key)
    const t1 = await peer.registry.publish(releaseRecord(key, { appId: 'org.example.Two', time: 1_500 }, 4), key)
    const c1 = await peer.registry.publish(releaseRecord(other, { appId: 'org.example.One', channel: 'release', time: 500 }, 5), other)
    const yank = await peer.registry.publish(buildYankRecord(r2 as SignedRecord<ReleaseRecord>, 'broken', { publisher: key.did }), key)
    const endorse = await peer.registry.publish(buildEndorseRecord(key.did, {}, { publisher: other.did }), other)
    const order = [r1, r2, b1, t1, c1, yank, endorse].map(r => r.id)
    assert.deepEqual(await inOrder(peer.registry), order)
    await peers.stop(peer)

    peer = await peers.start(dir)
    const registry = peer.registry
    assert.deepEqual(await inOrder(registry), order, 'records in the order they entered the log')
    assert.equal((await registry.get(b1.id))?.id, b1.id)
    assert.deepEqual((await registry.get(r2.id))?.bytes, r2.bytes)
    assert.equal(await registry.get('bafyreinothere'), undefined)
    assert.equal((await registry.status()).records, 7)
    assert.deepEqual(await all(registry.find({ publisher: other.did })), [c1.id, endorse.id])
    assert.deepEqual(await all(registry.find({ appId: 'org.example.One' })), [r1.id, r2.id, b1.id, c1.id, yank.id])
    assert.deepEqual(await all(registry.find({ kind: 'yank' })), [yank.id])
    assert.deepEqual(await all(registry.find({ kind: 'endorse' })), [endorse.id])
    assert.deepEqual((await all(registry.latest({ appId: 'org.example.One' }))).sort(), [r2.id, b1.id, c1.id].sort(), 'newest per channel, arch and publisher')
    assert.deepEqual((await all(registry.latest({ appId: 'org.example.One', channel: 'release' }))).sort(), [r2.id, c1.id].sort())
    assert.deepEqual(await all(registry.latest({ appId: 'org.example.One', channel: 'release', arch: 'aarch64' })), [])
    assert.deepEqual(await all(registry.latest({ appId: 'org.example.Two' })), [t1.id])
    assert.deepEqual((await all(registry.latest({}))).sort(), [r2.id, b1.id, c1.id, t1.id].sort(), 'every app\'s')
    assert.deepEqual((await all(registry.latest({ channel: 'beta' }))), [b1.id])
    assert.deepEqual((await all(registry.latest({ appId: 'org.example.One', arch: 'x86_64' }))).sort(), [r2.id, b1.id, c1.id].sort())
  })

  it('lists entries after a sequence number, in the order they entered the log', async () => {
    const key = createPublisherKey()
    const index = await memoryIndex()
    const candidates = await Promise.all([0, 1, 2].map(async i => {
      const signed = await signRecord(releaseRecord(key, {}, i), key)
      return { entryHash: `zdpu-${i}`, signed, entry: Uint8Array.of(i), deps: i === 0 ? [] : [`zdpu-${i - 1}`] }
    }))
    await index.serial.run(async () => index.commit([candidates[2]!, candidates[0]!]))
    assert.equal(index.entries, 1, 'an entry whose parent is not indexed waits')
    await index.serial.run(async () => index.commit([candidates[1]!, candidates[2]!]))
    assert.equal(index.lastSeq, 3)
    const after = async (seq: number) => { const out = []; for await (const e of index.entriesAfter(seq)) out.push([e.seq, e.entryHash, e.entry[0]]); return out }
    assert.deepEqual(await after(0), [[1, 'zdpu-0', 0], [2, 'zdpu-1', 1], [3, 'zdpu-2', 2]])
    assert.deepEqual(await after(2), [[3, 'zdpu-2', 2]])
    assert.equal(await index.containsEntry('zdpu-2'), true)
    assert.equal(await index.containsEntry('zdpu-9'), false)
  })

  it('reads every entry with its position, one that repeats a record included, where `records()` skips it', async () => {
    const key = createPublisherKey()
    const index = await memoryIndex()
    const signed = await Promise.all([0, 1, 2].map(async i => signRecord(releaseRecord(key, {}, i), key)))
    // the third entry carries the first entry's record again (two peers appended it at once)
    const carried = [signed[0]!, signed[1]!, signed[0]!, signed[2]!]
    const candidates = carried.map((record, i) => ({ entryHash: `zdpu-${i}`, signed: record, entry: Uint8Array.of(i), deps: i === 0 ? [] : [`zdpu-${i - 1}`] }))
    await index.serial.run(async () => index.commit(candidates))
    const { index: epoch } = index.position()
    const logged = async (after?: { index: string, seq: number }) => { const out = []; for await (const e of index.logged(after)) out.push([e.position.index, e.position.seq, e.signed.id]); return out }
    assert.deepEqual(await logged(), carried.map((r, i) => [epoch, i + 1, r.id]))
    assert.deepEqual(await logged({ index: epoch, seq: 2 }), [[epoch, 3, signed[0]!.id], [epoch, 4, signed[2]!.id]])
    assert.deepEqual(await logged({ index: 'another', seq: 2 }), await logged(), 'a position of another index reads from the start')
    assert.deepEqual(await all(index.records()), signed.map(r => r.id), 'records() gives each record once')
  })

  it('resumes `records()` from a position of its own index, across a reopen, and ignores a position of another', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    const first = []
    for (let i = 0; i < 3; i++) first.push((await peer.registry.publish(releaseRecord(key, { time: 1_000 + i }, i), key)).id)
    // every record up to the position was dispatched: a listener that took it misses nothing
    const seen: string[] = []
    const before = peer.registry.position()
    const during: number[] = []
    peer.registry.addEventListener('record', e => { seen.push(e.detail.id); during.push(peer.registry.position().seq) })
    const later = (await peer.registry.publish(releaseRecord(key, { time: 2_000 }, 9), key)).id
    assert.deepEqual(seen, [later])
    assert.deepEqual(during, [before.seq], 'the position passes a record only once its event went out')
    assert.equal(peer.registry.position().seq, before.seq + 1)
    await peers.stop(peer)

    peer = await peers.start(dir)
    assert.equal(peer.registry.position().index, before.index, 'the index keeps its identity across a reopen')
    assert.deepEqual(await all(peer.registry.records({ after: before })), [later])
    assert.deepEqual(await all(peer.registry.records({ after: peer.registry.position() })), [])
    const everything = [...first, later]
    for (const foreign of [{ index: 'another', seq: 1 }, { index: before.index, seq: 99 }, { index: before.index, seq: -1 }, { index: before.index, seq: 1.5 }]) {
      assert.deepEqual(await all(peer.registry.records({ after: foreign })), everything, JSON.stringify(foreign))
    }
    const other = await peers.start(await peers.dir())
    assert.notEqual(other.registry.position().index, before.index)
    await peers.stop(other)
    await peers.stop(peer)
  })

  it('upgrades an old data dir (the record cache file) without losing a record, and a new peer replicates it', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    const batch = await peer.registry.publishMany(Array.from({ length: 20 }, (_, i) => releaseRecord(key, {}, 100 + i)), key)
    for (let i = 0; i < 3; i++) await peer.registry.publish(releaseRecord(key, {}, i), key)
    const order = await inOrder(peer.registry)
    assert.equal(order.length, 23)
    assert.deepEqual(order.slice(0, 20), batch.map(r => r.id))
    const { legacy } = indexPaths(peer)
    await peers.stop(peer)
    const old = await toOldFormat(peer)
    await writeFile(legacy, old)

    peer = await peers.start(dir)
    assert.deepEqual(await inOrder(peer.registry), order, 'every record, in the same order')
    await assert.rejects(stat(legacy), 'the old file is removed once its records are in the index')
    assert.equal((await peer.registry.status()).records, 23)

    const fresh = await peers.start()
    await connect(fresh, peer)
    await waitForRecords(fresh.registry, order)
    assert.deepEqual((await ids(fresh.registry)), [...order].sort())
  })

  it('takes from the log what an old file lacks (torn, short, garbage) or an index that is missing', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    for (let i = 0; i < 5; i++) await peer.registry.publish(releaseRecord(key, {}, i), key)
    const order = await inOrder(peer.registry)
    const { legacy } = indexPaths(peer)
    await peers.stop(peer)
    const whole = await toOldFormat(peer)
    const firstFrame = splitFrames(whole).frames[0]!.length
    const damage: Array<[string, () => Promise<void>]> = [
      ['torn', async () => { await writeFile(legacy, whole); await truncate(legacy, whole.length - 7) }],
      ['short', async () => { await writeFile(legacy, whole.subarray(0, firstFrame)) }],
      ['garbage', async () => { await writeFile(legacy, Uint8Array.of(0, 0, 0, 9, 1, 2)) }],
      ['missing', async () => {}]
    ]
    for (const [what, hurt] of damage) {
      await hurt()
      peer = await peers.start(dir)
      assert.deepEqual(await inOrder(peer.registry), order, `after a ${what} old file`)
      await peers.stop(peer)
      assert.deepEqual(await toOldFormat(peer), whole, `the index after a ${what} old file holds every entry`)
    }
  })

  it('moves the full frames of an older layout to their own database, reads them beside compact ones, and refuses a layout from a newer version', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    await peer.registry.publishMany(Array.from({ length: 4 }, (_, i) => releaseRecord(key, {}, i)), key)
    await peer.registry.publish(releaseRecord(key, {}, 9), key)
    const order = await inOrder(peer.registry)
    await peers.stop(peer)
    const readMeta = async (records: RecordKeys): Promise<{ format: number }> => JSON.parse(new TextDecoder().decode(await records.get('m!'))) as { format: number }
    const writeMeta = async (records: RecordKeys, meta: object): Promise<void> => { await records.put('m!', new TextEncoder().encode(JSON.stringify(meta))) }
    // what layout 1 wrote: every frame full, among the keys, and the meta saying 1
    const written = await withRecordKeys(peer, async frames => {
      const all = await collect(frames.values({ gte: 's!', lt: 's"' }))
      await frames.clear()
      return all
    }, 'frames')
    assert.equal(written.length, order.length)
    await withRecordKeys(peer, async records => {
      const meta = await readMeta(records)
      assert.equal(meta.format, 2)
      for (const [i, frame] of written.entries()) {
        const decoded = decodeFrame(frame.slice())
        const full = encodeFrames([decoded])
        assert.ok(full.length > frame.length + decoded.signed.bytes.length, 'the frame written was compact')
        await records.put(`s!${(i + 1).toString(16).padStart(12, '0')}`, full)
      }
      await writeMeta(records, { ...meta, format: 1 })
    })
    peer = await peers.start(dir)
    assert.deepEqual(await inOrder(peer.registry), order, 'full frames read as before, moved to their own database')
    const more = await peer.registry.publish(releaseRecord(key, {}, 10), key)
    assert.deepEqual(await inOrder(peer.registry), [...order, more.id])
    const fresh = await peers.start()
    await connect(fresh, peer)
    await waitForRecords(fresh.registry, [...order, more.id])
    await peers.stop(fresh)
    await peers.stop(peer)
    await withRecordKeys(peer, async records => {
      const meta = await readMeta(records)
      assert.equal(meta.format, 2, 'the next write says layout 2')
      assert.equal((await collect(records.values({ gte: 's!', lt: 's"' }))).length, 0, 'no frame is left among the keys')
      await writeMeta(records, { ...meta, format: 3 })
    })
    assert.equal((await withRecordKeys(peer, async frames => collect(frames.values({ gte: 's!', lt: 's"' })), 'frames')).length, order.length + 1)
    const node = await createNode({ directory: dir, listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      await assert.rejects(createRegistry({ node }, { name: 'test-registry' }), { name: 'IndexFormatError' })
    } finally {
      await node.stop()
    }
    await withRecordKeys(peer, async records => { assert.equal((await readMeta(records)).format, 3, 'left as it was') })
  })

  it('does not list frames a crash left past the last entry written, and writes over them', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    await peer.registry.publishMany(Array.from({ length: 3 }, (_, i) => releaseRecord(key, {}, i)), key)
    const order = await inOrder(peer.registry)
    await peers.stop(peer)
    // the frames of a batch whose keys never made it: written first, so they can be there alone
    await withRecordKeys(peer, async frames => {
      for (const seq of [4, 5]) await frames.put(`s!${seq.toString(16).padStart(12, '0')}`, Uint8Array.of(0, 0, 0, 1, 0))
    }, 'frames')
    peer = await peers.start(dir)
    assert.deepEqual(await inOrder(peer.registry), order)
    const next = await peer.registry.publish(releaseRecord(key, {}, 7), key)
    assert.deepEqual(await inOrder(peer.registry), [...order, next.id], 'the next entry takes sequence number 4')
  })

  it('reads no record it is not asked for when it opens (a stored list is not loaded)', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    await peer.registry.publishMany(Array.from({ length: 50 }, (_, i) => releaseRecord(key, {}, i)), key)
    await peers.stop(peer)
    // a frame the open would have to decode is made unreadable: opening and the other answers still work
    await withRecordKeys(peer, async frames => { await frames.put(`s!${(10).toString(16).padStart(12, '0')}`, Uint8Array.of(0, 0, 0, 1, 0)) }, 'frames')
    peer = await peers.start(dir)
    assert.equal((await peer.registry.status()).records, 50)
    await assert.rejects(inOrder(peer.registry), 'a full listing reaches the broken frame')
  })
})

describe('record frames', () => {
  it('decode to the record they were encoded from, and mark a record carried twice', async () => {
    const signed = await signedRelease()
    const entry = new Uint8Array(1000).fill(7)
    const frame = encodeFrame({ entryHash: 'zdpu-entry', signed, entry })
    const decoded = decodeFrame(frame)
    assert.equal(decoded.entryHash, 'zdpu-entry')
    assert.equal(decoded.signed.id, signed.id)
    assert.deepEqual(decoded.signed.bytes, signed.bytes)
    assert.deepEqual(decoded.signed.signature, signed.signature)
    assert.deepEqual(decoded.entry, entry)
    assert.equal(decoded.duplicate, false)
    assert.equal(decodeFrame(markDuplicate(frame)).duplicate, true)
    assert.deepEqual(frameHeader(frame).entry, entry)
  })

  it('point into the entry for a record its entry carries, and read back the same record either way', async () => {
    const signed = await signedRelease()
    const countersigned = { ...signed, countersignature: new Uint8Array(64).fill(9) }
    // (records their entries sign are read from real entries in the tests of peers)
    for (const [what, record] of [['signed apart', signed], ['countersigned', countersigned]] as const) {
      // an entry whose payload is the record's envelope, with bytes around it
      const envelope = encodeSignedRecord(record)
      const entry = new Uint8Array(envelope.length + 300).fill(3)
      entry.set(envelope, 200)
      const frame = encodeFrame({ entryHash: 'zdpu-entry', signed: record, entry })
      const full = encodeFrames([{ entryHash: 'zdpu-entry', signed: record, entry }])
      assert.ok(frame.length < full.length - record.bytes.length, `${what}: the record is not written twice`)
      for (const bytes of [frame, full]) {
        const decoded = decodeFrame(bytes.slice())
        assert.deepEqual(decoded.signed.bytes, record.bytes, what)
        assert.deepEqual(decoded.signed.record, record.record, what)
        assert.deepEqual(decoded.signed.signature, record.signature, what)
        assert.deepEqual(decoded.signed.countersignature, record.countersignature, what)
        assert.deepEqual(decoded.entry, entry, what)
      }
      assert.equal(decodeFrame(markDuplicate(frame)).duplicate, true, what)
      assert.deepEqual(frameHeader(frame).entry, entry, what)
      // an offset past the entry's end is refused, not read from the bytes after it
      const broken = frame.slice()
      const view = new DataView(broken.buffer)
      const rOffsetAt = 4 + 1 + 'zdpu-entry'.length + 1 + record.id.length + 4
      view.setUint32(rOffsetAt, entry.length - 10)
      assert.throws(() => decodeFrame(broken), { name: 'RangeError' }, what)
      assert.equal(splitFrames(broken).bad, true, what)
    }
  })

  it('split a file of frames into copies, stopping at a torn or malformed one', async () => {
    const signed = await signedRelease()
    const file = encodeFrames([{ entryHash: 'a', signed, entry: new Uint8Array(10) }, { entryHash: 'b', signed, entry: new Uint8Array(10) }])
    const whole = splitFrames(file)
    assert.equal(whole.frames.length, 2)
    assert.equal(whole.rest, file.length)
    assert.notEqual(whole.frames[0]!.buffer, file.buffer, 'a frame is a copy, not a view of the file')
    const torn = splitFrames(file.subarray(0, file.length - 3))
    assert.equal(torn.frames.length, 1)
    assert.equal(torn.bad, false)
    const bad = splitFrames(Uint8Array.of(0, 0, 0, 2, 1, 2))
    assert.deepEqual([bad.frames.length, bad.bad], [0, true])
  })
})
