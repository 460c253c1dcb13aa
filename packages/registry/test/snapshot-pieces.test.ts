import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SnapshotPieces } from '../src/log/snapshot-pieces.ts'
import { decodePiece, MAX_PIECE_ENTRIES } from '../src/log/snapshot-wire.ts'
import type { SnapshotPiecesSource } from '../src/log/snapshot-pieces.ts'
import type { SnapshotManifest } from '../src/log/snapshot-wire.ts'

const entryOf = (i: number): Uint8Array => Uint8Array.from({ length: 20 + (i % 50) }, (_, j) => (i + j) & 0xff)

/** a record index stub: entries under dense sequence numbers from 1, appended at the end only */
class StubIndex implements SnapshotPiecesSource {
  readonly entries: Uint8Array[] = []
  reads = 0

  get lastSeq (): number {
    return this.entries.length
  }

  append (n: number): void {
    const from = this.entries.length
    for (let i = 0; i < n; i++) this.entries.push(entryOf(from + i))
  }

  async * entriesAfter (after: number): AsyncGenerator<{ seq: number, entry: Uint8Array }> {
    this.reads++
    for (let seq = after + 1; seq <= this.entries.length; seq++) yield { seq, entry: this.entries[seq - 1]! }
  }
}

async function entriesOf (pieces: SnapshotPieces, manifest: SnapshotManifest): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (const ref of manifest.pieces) out.push(...decodePiece((await pieces.piece(ref.cid.toString()))!, ref))
  return out
}

describe('snapshot pieces cut from the record index by sequence number', () => {
  it('names every entry once, in index order; whole pieces stay as the index grows, and a handed-out tail is still served', async () => {
    const index = new StubIndex()
    const n = MAX_PIECE_ENTRIES * 2 + 17
    index.append(n)
    const pieces = new SnapshotPieces({ index, logId: '/orbitdb/zdpuLog', heads: async () => ['zdpuEntry1', 'zdpuNotIndexed'], indexed: async h => h === 'zdpuEntry1' })
    const first = await pieces.manifest()
    assert.equal(first.entries, n)
    assert.deepEqual(first.pieces.map(p => p.entries), [MAX_PIECE_ENTRIES, MAX_PIECE_ENTRIES, 17])
    assert.deepEqual(first.heads, ['zdpuEntry1'], 'only heads the index holds')
    assert.deepEqual(await entriesOf(pieces, first), index.entries)

    index.append(600)
    const readsBefore = index.reads
    const second = await pieces.manifest()
    assert.equal(index.reads, readsBefore + 1, 'one read from where the whole pieces end')
    assert.equal(second.entries, n + 600)
    assert.deepEqual(second.pieces.slice(0, 2).map(p => p.cid.toString()), first.pieces.slice(0, 2).map(p => p.cid.toString()), 'whole pieces do not change')
    assert.deepEqual(await entriesOf(pieces, second), index.entries)
    assert.ok(await pieces.piece(first.pieces[2]!.cid.toString()), 'the tail of the first manifest is still served')
    assert.equal(await pieces.piece('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'), undefined, 'a piece that is not ours')
  })

  it('an empty index gives a manifest of no pieces', async () => {
    const pieces = new SnapshotPieces({ index: new StubIndex(), logId: '/orbitdb/zdpuLog', heads: async () => [], indexed: async () => false })
    const manifest = await pieces.manifest()
    assert.equal(manifest.entries, 0)
    assert.deepEqual(manifest.pieces, [])
  })
})
