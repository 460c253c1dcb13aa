import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { fromString } from 'uint8arrays/from-string'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { decodeManifest, decodePiece, decodeRequest, encodeManifest, encodePiece, encodeRequest, MAX_PIECE_ENTRIES, pieceCid } from '../src/log/snapshot-wire.ts'
import type { SnapshotManifest } from '../src/log/snapshot-wire.ts'
import { SNAPSHOT_V2 } from './vectors/snapshot-v2.ts'
import { WIRE_V1 } from './vectors/wire-v1.ts'

const hex = (b: Uint8Array): string => bytesToString(b, 'base16')
const unhex = (s: string): Uint8Array => fromString(s, 'base16')
const NAMED = new Set(['SnapshotManifestError', 'SnapshotVersionError', 'SnapshotPieceError', 'OversizeRecordError'])

describe('snapshot format 2: frozen vectors', () => {
  const entries = [WIRE_V1.publisherEntry.bytes, WIRE_V1.oldEntry.bytes].map(unhex)

  it('encodes requests, a piece and its manifest to the frozen bytes', () => {
    const piece = encodePiece(entries)
    assert.equal(pieceCid(piece).toString(), SNAPSHOT_V2.pieceCid)
    assert.equal(piece.length, SNAPSHOT_V2.pieceBytes)
    assert.equal(hex(encodeRequest()), SNAPSHOT_V2.manifestRequest)
    assert.equal(hex(encodeRequest(CID.parse(SNAPSHOT_V2.pieceCid))), SNAPSHOT_V2.pieceRequest)
    const manifest: SnapshotManifest = { v: 2, log: SNAPSHOT_V2.log, entries: 2, heads: [WIRE_V1.publisherEntry.hash], pieces: [{ cid: pieceCid(piece), entries: 2, bytes: piece.length }] }
    assert.equal(hex(encodeManifest(manifest)), SNAPSHOT_V2.manifest)
  })

  it('decodes the frozen bytes back to the entries of format 1', () => {
    const manifest = decodeManifest(unhex(SNAPSHOT_V2.manifest), SNAPSHOT_V2.log)
    assert.deepEqual(manifest.heads, [WIRE_V1.publisherEntry.hash])
    assert.equal(manifest.pieces[0]!.cid.toString(), SNAPSHOT_V2.pieceCid)
    assert.equal(decodeRequest(unhex(SNAPSHOT_V2.pieceRequest)).piece?.toString(), SNAPSHOT_V2.pieceCid)
    assert.equal(decodeRequest(unhex(SNAPSHOT_V2.manifestRequest)).piece, undefined)
    assert.deepEqual(decodePiece(encodePiece(entries), manifest.pieces[0]!).map(hex), entries.map(hex))
  })
})

describe('snapshot format 2: hostile input', () => {
  const piece = encodePiece([Uint8Array.of(1, 2, 3), Uint8Array.of(4)])
  const ref = { cid: pieceCid(piece), entries: 2, bytes: piece.length }

  it('a wrong, truncated, padded or miscounted piece is a SnapshotPieceError', () => {
    const other = encodePiece([Uint8Array.of(9, 9, 9), Uint8Array.of(4)])
    assert.throws(() => decodePiece(other, ref), { name: 'SnapshotPieceError' }, 'another piece of the same size')
    assert.throws(() => decodePiece(piece.subarray(0, piece.length - 1), ref), { name: 'SnapshotPieceError' }, 'truncated')
    assert.throws(() => decodePiece(Uint8Array.of(...piece, 0), ref), { name: 'SnapshotPieceError' }, 'padded')
    assert.throws(() => decodePiece(piece, { ...ref, entries: 3 }), { name: 'SnapshotPieceError' }, 'miscounted')
  })

  it('a manifest that names a piece twice (a loop), an unknown format, or counts that disagree is refused by name', () => {
    const base = { v: 2, log: SNAPSHOT_V2.log, entries: 2, heads: [], pieces: [[ref.cid, 2, ref.bytes]] }
    const enc = (v: unknown): Uint8Array => dagCbor.encode(v)
    assert.equal(decodeManifest(enc(base), SNAPSHOT_V2.log).entries, 2)
    assert.throws(() => decodeManifest(enc({ ...base, entries: 4, pieces: [[ref.cid, 2, ref.bytes], [ref.cid, 2, ref.bytes]] }), SNAPSHOT_V2.log), { name: 'SnapshotManifestError' })
    assert.throws(() => decodeManifest(enc({ ...base, v: 3 }), SNAPSHOT_V2.log), { name: 'SnapshotVersionError' })
    assert.throws(() => decodeManifest(enc({ ...base, entries: 3 }), SNAPSHOT_V2.log), { name: 'SnapshotManifestError' })
    assert.throws(() => decodeManifest(enc(base), '/orbitdb/zdpuOther'), { name: 'SnapshotManifestError' })
    assert.throws(() => decodeManifest(enc({ ...base, entries: MAX_PIECE_ENTRIES + 1, pieces: [[ref.cid, MAX_PIECE_ENTRIES + 1, 10_000]] }), SNAPSHOT_V2.log), { name: 'SnapshotManifestError' })
    assert.throws(() => decodeManifest(enc({ ...base, pieces: [[ref.cid, 2, 2 ** 40]] }), SNAPSHOT_V2.log), { name: 'OversizeRecordError' }, 'a huge piece')
  })

  it('fuzz: any bytes as a manifest, piece or request fail only with a named error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), bytes => {
      for (const decode of [() => decodeManifest(bytes, SNAPSHOT_V2.log), () => decodePiece(bytes, ref), () => decodeRequest(bytes)]) {
        try { decode() } catch (err) { assert.ok(NAMED.has((err as Error).name), `unnamed error ${(err as Error).name}: ${(err as Error).message}`) }
      }
    }), { numRuns: 2000 })
  })

  it('property: a piece of any entries decodes to those entries', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 40 }), entries => {
      const bytes = encodePiece(entries)
      assert.deepEqual(decodePiece(bytes, { cid: pieceCid(bytes), entries: entries.length, bytes: bytes.length }).map(hex), entries.map(hex))
    }))
  })
})
