/// <reference path="../src/orbitdb.d.ts" />
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPublisherKey, encodeSignedRecord, signRecord } from '../src/index.ts'
import { SnapshotPieceError } from '../src/errors.ts'
import { CHECK_WINDOW, importPieces } from '../src/log/snapshot-stream.ts'
import type { StreamImportContext } from '../src/log/snapshot-stream.ts'
import { releaseRecord } from './fixtures.ts'
import { accessController, entryBytes, LOG_ID } from './helpers/snapshot-entries.ts'
import type { Built } from './helpers/snapshot-entries.ts'

/** what an import did to the stubbed log: blocks, OrbitDB index, record index, joins, in order */
interface Recorded { blocks: string[], indexed: string[], committed: string[], joined: string[], rejected: Map<string, string> }

function context (): { ctx: StreamImportContext, rec: Recorded } {
  const rec: Recorded = { blocks: [], indexed: [], committed: [], joined: [], rejected: new Map() }
  const inLog = new Set<string>()
  return {
    rec,
    ctx: {
      logId: LOG_ID,
      access: undefined as never,
      held: async hashes => hashes.map(h => inLog.has(h)),
      putBlocks: async blocks => { rec.blocks.push(...blocks.map(b => b.cid.toString())) },
      index: async hashes => { rec.indexed.push(...hashes) },
      joinEntry: async entry => { rec.joined.push(entry.hash!); return true },
      keepIdentities: async () => {},
      commit: async entries => {
        for (const e of entries) {
          assert.ok(e.deps.every(d => inLog.has(d)), `${e.entryHash} committed before its parents`)
          inLog.add(e.entryHash)
          rec.committed.push(e.entryHash)
        }
      },
      onRejected: (hash, error) => { rec.rejected.set(hash, error.name) }
    }
  }
}

async function * source (pieces: Built[][], fail?: Error): AsyncGenerator<Uint8Array[]> {
  for (const piece of pieces) yield piece.map(b => b.bytes)
  if (fail != null) throw fail
}

/** a chain of `n` entries by `key`, each pointing to the one before */
async function chain (n: number, spoil: (i: number) => Parameters<typeof entryBytes>[4] = () => ({})): Promise<Built[]> {
  const key = createPublisherKey()
  const out: Built[] = []
  for (let i = 0; i < n; i++) {
    const wire = encodeSignedRecord(await signRecord(releaseRecord(key, {}, i), key))
    out.push(await entryBytes(wire, key, i + 1, out.length === 0 ? [] : [out.at(-1)!.hash], spoil(i)))
  }
  return out
}

describe('snapshot import, piece by piece', () => {
  it('writes each piece as it is checked, parents first, and joins the last entry as the head', async () => {
    const entries = await chain(12)
    const { ctx, rec } = context()
    ctx.access = await accessController()
    const progress: number[] = []
    const result = await importPieces(source([entries.slice(0, 5), entries.slice(5, 9), entries.slice(9)]), ctx, { onProgress: p => { progress.push(p.imported) } })
    assert.equal(result.imported, 12)
    assert.deepEqual(rec.committed, entries.map(e => e.hash), 'every entry, in order')
    assert.deepEqual(rec.joined, [entries.at(-1)!.hash], 'the tip is joined through OrbitDB, not indexed')
    assert.deepEqual(rec.indexed.sort(), entries.slice(0, -1).map(e => e.hash).sort(), 'every other entry is indexed')
    assert.deepEqual(progress, [5, 9, 12])
  })

  it('refuses a forged entry, an entry of another log, and what hangs under them, by name, keeping the rest', async () => {
    const entries = await chain(6, i => i === 2 ? { entrySig: true } : {})
    const other = (await chain(1, () => ({ logId: '/orbitdb/zdpuOtherLog' })))[0]!
    const { ctx, rec } = context()
    ctx.access = await accessController()
    const result = await importPieces(source([[...entries.slice(0, 3), other], entries.slice(3)]), ctx)
    assert.deepEqual(rec.committed, entries.slice(0, 2).map(e => e.hash))
    assert.equal(rec.rejected.get(entries[2]!.hash), 'InvalidSignatureError')
    assert.equal(rec.rejected.get(other.hash), 'MalformedRecordError')
    assert.equal(result.rejected, 5, 'the forged one, the other log\'s, and the three under the forged one')
  })

  it('a source that fails half-way keeps and joins what checked out before the failure, and throws', async () => {
    const entries = await chain(2 * CHECK_WINDOW + 1)
    const { ctx, rec } = context()
    ctx.access = await accessController()
    // twice the window of pieces in hand, of one entry each; the last never comes
    const pieces = entries.slice(0, 2 * CHECK_WINDOW).map(e => [e])
    await assert.rejects(importPieces(source(pieces, new SnapshotPieceError('piece 9 does not hash to its CID')), ctx), { name: 'SnapshotPieceError' })
    assert.ok(rec.committed.length >= 4, `what was written before the failure stays: ${rec.committed.length}`)
    assert.deepEqual(rec.committed, entries.slice(0, rec.committed.length).map(e => e.hash))
    assert.deepEqual(rec.joined, [rec.committed.at(-1)], 'the last written entry is joined as the head')
  })

  it('an entry whose parent comes later (or never) is left to replication, not refused', async () => {
    const entries = await chain(3)
    const { ctx, rec } = context()
    ctx.access = await accessController()
    const result = await importPieces(source([[entries[0]!, entries[2]!, entries[1]!]]), ctx)
    assert.deepEqual(rec.committed, [entries[0]!.hash, entries[1]!.hash])
    assert.equal(rec.rejected.size, 0, 'nothing refused by name')
    assert.equal(result.rejected, 1)
  })

  it('a snapshot that does not bring the heads it names throws SnapshotHeadsError, keeping what it brought', async () => {
    const entries = await chain(4)
    const { ctx, rec } = context()
    ctx.access = await accessController()
    await assert.rejects(importPieces(source([entries.slice(0, 2)]), ctx, { heads: [entries[3]!.hash] }), { name: 'SnapshotHeadsError' })
    assert.deepEqual(rec.committed, entries.slice(0, 2).map(e => e.hash))
    assert.deepEqual(rec.joined, [entries[1]!.hash])
  })

  it('a stop (the signal) between checkpoints leaves blocks only: nothing indexed, joined or shown', async () => {
    // more pieces than the window holds, so that some are written before the stop
    const entries = await chain(CHECK_WINDOW + 4)
    const { ctx, rec } = context()
    ctx.access = await accessController()
    const stop = new AbortController()
    async function * stopping (): AsyncGenerator<Uint8Array[]> {
      for (const e of entries) yield [e.bytes]
      stop.abort()
      yield []
    }
    await assert.rejects(importPieces(stopping(), ctx, { signal: stop.signal }), { name: 'AbortError' })
    assert.deepEqual(rec.committed, [], 'no record shown')
    assert.deepEqual(rec.joined, [])
    assert.deepEqual(rec.indexed, [], 'nothing indexed')
    assert.ok(rec.blocks.length > 0, 'the checked blocks were stored')
  })
})
