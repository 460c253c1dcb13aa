import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LevelBlockstore } from 'blockstore-level'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { createBlockFiles } from '../src/block-files.ts'
import { openDataDir } from '../src/data-dir.ts'
import { createTieredBlockstore, DEFAULT_LARGE_BLOCK_BYTES, levelKey } from '../src/tiered-blockstore.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { DataDir } from '../src/data-dir.ts'

const LARGE = DEFAULT_LARGE_BLOCK_BYTES

async function block (size: number, seed: number, hasher: typeof sha256 | typeof sha512 = sha256, code: number = raw.code): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = randomBytes(size, seed)
  return { cid: CID.createV1(code, await hasher.digest(bytes)), bytes }
}

async function collect (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}

/** Every file under `dir`, relative to it */
async function filesUnder (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name).slice(dir.length + 1)).sort()
}

describe('tiered blockstore', () => {
  const fixture = createFixture()
  const dirs: DataDir[] = []
  after(async () => {
    await Promise.allSettled(dirs.map(async dir => dir.close()))
    await fixture.cleanup()
  })

  async function open (directory?: string): Promise<DataDir> {
    const dir = await openDataDir(directory ?? await fixture.dir())
    dirs.push(dir)
    return dir
  }

  it('keeps small blocks in LevelDB and large ones as files, and reads both back', async () => {
    const dir = await open()
    const small = await block(LARGE - 1, 1)
    const large = await block(LARGE, 2)
    const node = await block(3_000, 3, sha256, 0x70)
    for (const b of [small, large, node]) await dir.blockstore.put(b.cid, b.bytes)
    const files = await filesUnder(join(dir.directory, 'block-files'))
    assert.equal(files.length, 1, `one block file, for the large block; found ${files.join(', ')}`)
    assert.match(files[0]!, /^[A-Z2-7]{2}\/[A-Z2-7]+\.data$/, 'blockstore-fs layout: <shard>/<base32 multihash>.data')
    assert.ok(files[0]!.startsWith(levelKey(large.cid).slice(-2)), 'sharded by the last two characters of the key')
    assert.deepEqual(new Uint8Array(await readFile(join(dir.directory, 'block-files', files[0]!))), large.bytes)
    for (const b of [small, large, node]) {
      assert.equal(await dir.blockstore.has(b.cid), true, `has ${b.cid}`)
      assert.deepEqual(await collect(dir.blockstore.get(b.cid)), b.bytes, `reads back ${b.cid}`)
    }
    const all = new Map<string, Uint8Array>()
    for await (const pair of dir.blockstore.getAll()) all.set(levelKey(pair.cid), await collect(pair.bytes))
    assert.equal(all.size, 3, 'getAll lists the blocks of both stores')
    assert.deepEqual(all.get(levelKey(large.cid)), large.bytes)
  })

  it('reports a missing block as Helia expects: has is false, get throws NotFoundError', async () => {
    const dir = await open()
    for (const b of [await block(10, 4), await block(LARGE * 2, 5), await block(10, 6, sha256, 0x71)]) {
      assert.equal(await dir.blockstore.has(b.cid), false)
      await assert.rejects(collect(dir.blockstore.get(b.cid)), { name: 'NotFoundError' }, `get of missing ${b.cid}`)
    }
  })

  it('deletes a block from whichever store holds it, and a missing block without complaint', async () => {
    const dir = await open()
    const small = await block(100, 7)
    const large = await block(LARGE * 3, 8)
    await dir.blockstore.put(small.cid, small.bytes)
    await dir.blockstore.put(large.cid, large.bytes)
    for (const b of [small, large]) {
      await dir.blockstore.delete(b.cid)
      assert.equal(await dir.blockstore.has(b.cid), false, `${b.cid} is gone`)
      await assert.rejects(collect(dir.blockstore.get(b.cid)), { name: 'NotFoundError' })
      await dir.blockstore.delete(b.cid)
    }
    assert.deepEqual(await filesUnder(join(dir.directory, 'block-files')), [])
  })

  it('reads, lists and deletes the blocks of a data directory written before block files (LevelDB only)', async () => {
    const directory = await fixture.dir()
    const old = new LevelBlockstore(join(directory, 'blocks'))
    await old.open()
    const blocks = [await block(LARGE * 16, 9), await block(200, 10), await block(LARGE * 2, 11, sha512)]
    for (const b of blocks) await old.put(b.cid, b.bytes)
    await old.close()

    const dir = await open(directory)
    for (const b of blocks) {
      assert.equal(await dir.blockstore.has(b.cid), true, `the old ${b.cid} is still there`)
      assert.deepEqual(await collect(dir.blockstore.get(b.cid)), b.bytes)
    }
    // a new block beside the old ones, and one written again (now as a file; both copies are the same bytes)
    const fresh = await block(LARGE * 4, 12)
    await dir.blockstore.put(fresh.cid, fresh.bytes)
    await dir.blockstore.put(blocks[0]!.cid, blocks[0]!.bytes)
    const listed = new Set<string>()
    for await (const pair of dir.blockstore.getAll()) listed.add(levelKey(pair.cid))
    assert.deepEqual(listed, new Set([...blocks, fresh].map(b => levelKey(b.cid))))
    await dir.blockstore.delete(blocks[0]!.cid)
    assert.equal(await dir.blockstore.has(blocks[0]!.cid), false, 'deleted from both stores')
  })

  it('answers has for many blocks at once and reads a leaf of known size from either store', async () => {
    const directory = await fixture.dir()
    // a large leaf an older hubless kept in LevelDB, where its size would not put it now
    const old = new LevelBlockstore(join(directory, 'blocks'))
    await old.open()
    const legacy = await block(LARGE * 2, 20)
    await old.put(legacy.cid, legacy.bytes)
    await old.close()
    const dir = await open(directory)
    const small = await block(300, 21)
    const large = await block(LARGE * 3, 22)
    const missing = await block(LARGE, 23)
    await dir.blockstore.put(small.cid, small.bytes)
    await dir.blockstore.put(large.cid, large.bytes)
    const all = [small, large, legacy, missing]
    assert.deepEqual(await dir.blockstore.hasMany(all.map(b => b.cid)), [true, true, true, false])
    assert.deepEqual(await dir.blockstore.hasMany([]), [])
    for (const b of [small, large, legacy]) assert.deepEqual(new Uint8Array(await dir.blockstore.getSized(b.cid, b.bytes.byteLength)), b.bytes)
    await assert.rejects(dir.blockstore.getSized(missing.cid, missing.bytes.byteLength), (err: Error) => err.name === 'NotFoundError')
  })

  it('writes a block file whole or not at all: through a temp file, none left behind', async () => {
    const dir = await open()
    const blocks = await Promise.all(Array.from({ length: 12 }, async (_, i) => block(LARGE + i * 1000, 20 + i)))
    // the same block written by several writers at once (two adds of one file) ends up whole
    await Promise.all([...blocks, blocks[0]!, blocks[0]!].map(async b => dir.blockstore.put(b.cid, b.bytes)))
    const files = await filesUnder(join(dir.directory, 'block-files'))
    assert.equal(files.length, blocks.length, `only block files, no temp files: ${files.join(', ')}`)
    for (const b of blocks) assert.deepEqual(await collect(dir.blockstore.get(b.cid)), b.bytes)
  })

  it('fails a write it cannot make with BlockWriteError, leaving no file behind', async () => {
    const directory = await fixture.dir()
    const files = createBlockFiles(join(directory, 'block-files'))
    await files.open()
    const large = await block(LARGE, 30)
    // a plain file where the block's shard directory belongs
    const shard = levelKey(large.cid).slice(-2)
    await writeFile(join(directory, 'block-files', shard), 'in the way')
    await assert.rejects(files.put(large.cid, large.bytes), { name: 'BlockWriteError' })
    await rm(join(directory, 'block-files', shard))
    await mkdir(join(directory, 'block-files', shard))
    assert.deepEqual(await filesUnder(join(directory, 'block-files')), [])
    await files.put(large.cid, large.bytes)
    assert.equal(await files.has(large.cid), true)
  })

  it('writes many blocks at once, the small ones in one LevelDB batch', async () => {
    const directory = await fixture.dir()
    const level = new LevelBlockstore(join(directory, 'blocks'))
    await level.open()
    const files = createBlockFiles(join(directory, 'block-files'))
    await files.open()
    const store = createTieredBlockstore({ level, files }, { largeBlockBytes: 1000 })
    try {
      const batches: number[] = []
      const batch = level.db.batch.bind(level.db)
      level.db.batch = ((ops: unknown[]) => { batches.push(ops.length); return batch(ops as never) }) as typeof level.db.batch
      const blocks = await Promise.all([10, 999, 1000, 5000, 20].map(async (size, i) => block(size, 40 + i)))
      await store.putAll(blocks)
      assert.deepEqual(batches, [3], 'the three blocks under 1,000 bytes, in one batch')
      assert.equal((await filesUnder(join(directory, 'block-files'))).length, 2)
      for (const b of blocks) assert.deepEqual(await collect(store.get(b.cid)), b.bytes)
    } finally {
      await store.close()
    }
  })
})
