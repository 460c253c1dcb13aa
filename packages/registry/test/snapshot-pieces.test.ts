import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { RecordCache } from '../src/log/record-cache.ts'
import type { CachedEntry } from '../src/log/record-cache.ts'
import { cacheEntries, SnapshotPieces } from '../src/log/snapshot-pieces.ts'
import { decodePiece, MAX_PIECE_ENTRIES } from '../src/log/snapshot-wire.ts'
import type { SnapshotManifest } from '../src/log/snapshot-wire.ts'

/** a cache frame with `entry` as its entry bytes (the server never decodes them) */
function item (i: number, entry: Uint8Array): CachedEntry {
  return { entryHash: `zdpuEntry${i}`, signed: { id: `bafyRecord${i}`, record: {} as never, bytes: Uint8Array.of(0xa0) }, entry }
}

const entryOf = (i: number): Uint8Array => Uint8Array.from({ length: 20 + (i % 50) }, (_, j) => (i + j) & 0xff)

async function entriesOf (pieces: SnapshotPieces, manifest: SnapshotManifest): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (const ref of manifest.pieces) out.push(...decodePiece((await pieces.piece(ref.cid.toString()))!, ref))
  return out
}

describe('snapshot pieces cut from the record cache', () => {
  const dirs: string[] = []
  after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

  it('names every entry once, in file order; whole pieces stay as the file grows, and a handed-out tail is still served', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hubless-pieces-'))
    dirs.push(dir)
    const cache = new RecordCache(join(dir, 'log.records'))
    const n = MAX_PIECE_ENTRIES * 2 + 17
    await cache.append(Array.from({ length: n }, (_, i) => item(i, entryOf(i))))
    const pieces = new SnapshotPieces({ path: cache.path, logId: '/orbitdb/zdpuLog', heads: async () => ['zdpuEntry1', 'zdpuNotCached'], cached: h => h === 'zdpuEntry1' })
    const first = await pieces.manifest()
    assert.equal(first.entries, n)
    assert.deepEqual(first.pieces.map(p => p.entries), [MAX_PIECE_ENTRIES, MAX_PIECE_ENTRIES, 17])
    assert.deepEqual(first.heads, ['zdpuEntry1'], 'only heads the cache holds')
    assert.deepEqual(await entriesOf(pieces, first), Array.from({ length: n }, (_, i) => entryOf(i)))

    await cache.append(Array.from({ length: 600 }, (_, i) => item(n + i, entryOf(n + i))))
    const second = await pieces.manifest()
    assert.equal(second.entries, n + 600)
    assert.deepEqual(second.pieces.slice(0, 2).map(p => p.cid.toString()), first.pieces.slice(0, 2).map(p => p.cid.toString()), 'whole pieces do not change')
    assert.deepEqual(await entriesOf(pieces, second), Array.from({ length: n + 600 }, (_, i) => entryOf(i)))
    assert.ok(await pieces.piece(first.pieces[2]!.cid.toString()), 'the tail of the first manifest is still served')

    const all: Uint8Array[] = []
    for await (const e of cacheEntries(cache.path)) all.push(e)
    assert.equal(all.length, n + 600, 'format 1 serves every entry of the file')
    await cache.close()
  })
})
