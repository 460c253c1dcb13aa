import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { fixedSizeChunker } from '../src/index.ts'
import { leafKey } from '../src/leaf-assembler.ts'
import { openPartFile } from '../src/part-file.ts'
import { copyFromSeed, scanSeed } from '../src/seed.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { LeafGroup } from '../src/leaf-assembler.ts'

const CHUNK = 10_000

async function groupOf (bytes: Uint8Array, offset: number): Promise<LeafGroup> {
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), size: bytes.byteLength, offsets: [offset] }
}

describe('seed (the installed file, read once while the DAG loads)', () => {
  const fixture = createFixture()
  after(async () => { await fixture.cleanup() })

  it('indexes every chunk, then copies the wanted ones it holds, and leaves a chunk changed since the scan wanted', async () => {
    const dir = await fixture.dir()
    const path = join(dir, 'installed.AppImage')
    const seed = randomBytes(10 * CHUNK, 31)
    await writeFile(path, seed)
    const scanned = await scanSeed(path, fixedSizeChunker(CHUNK))
    assert.equal(scanned.error, undefined)
    assert.equal(scanned.index.size, 10)
    // the new file holds chunks 2..5 of the seed (at other offsets), and one the seed lacks
    const wanted = new Map<string, LeafGroup>()
    for (const i of [2, 3, 4, 5]) {
      const group = await groupOf(seed.subarray(i * CHUNK, (i + 1) * CHUNK), (i - 2) * CHUNK)
      wanted.set(leafKey(group.cid), group)
    }
    const foreign = await groupOf(randomBytes(CHUNK, 32), 4 * CHUNK)
    wanted.set(leafKey(foreign.cid), foreign)
    // chunk 4 changes between the scan and the copy
    const changed = new Uint8Array(seed)
    changed[4 * CHUNK + 7]! ^= 0xff
    await writeFile(path, changed)
    const got: Array<{ offset: number, bytes: Uint8Array }> = []
    await copyFromSeed(path, scanned.index, wanted, async (group, bytes) => {
      wanted.delete(leafKey(group.cid))
      got.push({ offset: group.offsets[0]!, bytes: new Uint8Array(bytes) })
    })
    assert.deepEqual(got.map(g => g.offset), [0, CHUNK, 3 * CHUNK], 'chunks 2, 3 and 5, in file order')
    assert.deepEqual(got[2]!.bytes, seed.subarray(5 * CHUNK, 6 * CHUNK))
    assert.equal(wanted.size, 2, 'the changed chunk and the one the seed never had are still wanted')
  })

  it('hands chunks to match once it is set, notes the others, and passes on what match throws', async () => {
    const path = join(await fixture.dir(), 'installed.AppImage')
    const seed = randomBytes(6 * CHUNK, 35)
    await writeFile(path, seed)
    const taken: number[] = []
    let seen = 0
    const scanned = await scanSeed(path, fixedSizeChunker(CHUNK), {
      // known after the third chunk; it takes the even chunks
      match: () => seen++ < 3 ? undefined : async (_key, bytes) => {
        const i = seed.indexOf(bytes[0]!) >= 0 ? Buffer.from(seed).indexOf(Buffer.from(bytes)) / CHUNK : -1
        if (i % 2 !== 0) return false
        taken.push(i)
        return true
      }
    })
    assert.deepEqual(taken, [4])
    assert.equal(scanned.index.size, 5, 'chunks 0-2 (before match) and 3, 5 (not taken) are noted')
    await assert.rejects(scanSeed(path, fixedSizeChunker(CHUNK), {
      match: () => async () => { throw Object.assign(new Error('limit'), { name: 'ContentTooLargeError' }) }
    }), (err: Error) => err.name === 'ContentTooLargeError')
  })

  it('gives what it read of a seed it cannot read to its end, with the error', async () => {
    const scanned = await scanSeed(join(await fixture.dir(), 'gone.AppImage'), fixedSizeChunker(CHUNK))
    assert.equal(scanned.index.size, 0)
    assert.equal(scanned.error?.name, 'FileReadError')
  })
})

describe('part file', () => {
  const fixture = createFixture()
  after(async () => { await fixture.cleanup() })

  it('gathers writes that continue one another, in any order with others, and hashes what was written', async () => {
    const path = join(await fixture.dir(), 'file.part')
    const bytes = randomBytes(1_000_000, 33)
    const part = await openPartFile(path, bytes.byteLength)
    // runs of adjacent pieces, the runs out of order, one piece alone
    const pieces: Array<[number, number]> = []
    for (let at = 500_000; at < 1_000_000; at += 12_500) pieces.push([at, 12_500])
    for (let at = 0; at < 480_000; at += 40_000) pieces.push([at, 40_000])
    pieces.push([480_000, 20_000])
    for (const [at, length] of pieces) await part.write(bytes.subarray(at, at + length), at)
    const sha = await part.finish()
    await part.close()
    const { createHash } = await import('node:crypto')
    assert.equal(sha, createHash('sha256').update(bytes).digest('hex'))
  })

  it('writes what it gathered when closed without finishing, so that the next run resumes from it', async () => {
    const path = join(await fixture.dir(), 'file.part')
    const bytes = randomBytes(100_000, 34)
    const part = await openPartFile(path, bytes.byteLength)
    await part.write(bytes.subarray(0, 30_000), 0)
    await part.write(bytes.subarray(30_000, 60_000), 30_000)
    await part.close()
    const again = await openPartFile(path, bytes.byteLength)
    assert.equal(again.existed, true)
    const group = await groupOf(bytes.subarray(30_000, 60_000), 30_000)
    const { sha256: hasher } = await import('multiformats/hashes/sha2')
    assert.deepEqual(await again.holds(group, () => hasher), bytes.subarray(30_000, 60_000))
    await again.close()
  })
})
