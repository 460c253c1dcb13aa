import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { OversizeRecordError, SnapshotManifestError, SnapshotPieceError, SnapshotVersionError } from '../errors.ts'
import { MAX_ENVELOPE_BYTES } from '../records/codec.ts'

/**
 * Snapshot format 2 on the wire (see the package README, "Snapshots"): a snapshot is a manifest
 * naming pieces by CID, each piece up to MAX_PIECE_ENTRIES entries (u32 length + entry bytes, the
 * framing of format 1) in the order the serving peer's log took them in (parents first). A peer
 * asks for the manifest, then for pieces by CID, one stream each, and checks every piece against
 * its CID, its entry count and its size before it decodes a byte of it.
 *
 * Format 2 lives under its own protocol id; format 1 (`/hubless/registry/snapshot/1.0.0/…`, one
 * stream of every entry) is still served and still imported. A peer that does not speak 2 is
 * never offered it (libp2p's protocol negotiation fails and the asker falls back to 1), and a
 * manifest of a later version is skipped (SnapshotVersionError), never imported in part.
 *
 * Request (dag-cbor): `{ v: 2 }` for the manifest, `{ v: 2, piece: CID }` for a piece, sent as a
 * u16 length and the request's bytes (the asker's end stays open until the answer is in).
 * Manifest (dag-cbor): `{ v: 2, log, entries, heads, pieces: [[CID, entries, bytes], …] }`:
 * `heads` are the log's heads the pieces cover (what the asker must hold once all are in).
 * Piece CIDs are CIDv1, raw codec, sha2-256 of the piece's bytes.
 */

export const SNAPSHOT_FORMAT = 2
export const RAW_CODE = 0x55
/** entries in one piece, at most */
export const MAX_PIECE_ENTRIES = 512
/** a serving peer closes a piece once it holds this many bytes */
export const TARGET_PIECE_BYTES = 1024 * 1024
/** the largest piece an asker accepts: a full piece of the largest entries */
export const MAX_ENTRY_BYTES = MAX_ENVELOPE_BYTES + 16 * 1024
export const MAX_PIECE_BYTES = TARGET_PIECE_BYTES + 4 + MAX_ENTRY_BYTES
export const MAX_MANIFEST_BYTES = 2 * 1024 * 1024
export const MAX_REQUEST_BYTES = 256
/** entries in one snapshot of format 2, at most (memory no longer grows with it) */
export const MAX_SNAPSHOT_V2_ENTRIES = 8_000_000
const MAX_HEADS = 4096

export function snapshotProtocolV2 (address: string): string {
  return `/hubless/registry/snapshot/2.0.0/${address.split('/').pop()}`
}

export interface PieceRef {
  cid: CID
  entries: number
  bytes: number
}

export interface SnapshotManifest {
  v: number
  log: string
  entries: number
  heads: string[]
  pieces: PieceRef[]
}

export function pieceCid (bytes: Uint8Array): CID {
  return CID.createV1(RAW_CODE, Digest.create(sha256.code, createHash('sha256').update(bytes).digest()))
}

/** entries framed as u32 length + bytes, one after the other */
export function encodePiece (entries: Uint8Array[]): Uint8Array {
  let size = 0
  for (const e of entries) size += 4 + e.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  for (const e of entries) {
    view.setUint32(o, e.length)
    out.set(e, o + 4)
    o += 4 + e.length
  }
  return out
}

/** The entries of a piece, after checking it is the piece `ref` names: its CID, size and entry count */
export function decodePiece (bytes: Uint8Array, ref: PieceRef): Uint8Array[] {
  if (bytes.length !== ref.bytes) throw new SnapshotPieceError(`piece ${ref.cid} has ${bytes.length} bytes, its manifest says ${ref.bytes} (a truncated or padded piece)`)
  if (!pieceCid(bytes).equals(ref.cid)) throw new SnapshotPieceError(`piece ${ref.cid} does not hash to its CID (a wrong or altered piece)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const entries: Uint8Array[] = []
  let o = 0
  while (o < bytes.length) {
    if (o + 4 > bytes.length) throw new SnapshotPieceError(`piece ${ref.cid} ends inside a length`)
    const len = view.getUint32(o)
    if (len > MAX_ENTRY_BYTES) throw new OversizeRecordError(`an entry of piece ${ref.cid} has ${len} bytes`)
    if (o + 4 + len > bytes.length) throw new SnapshotPieceError(`piece ${ref.cid} ends inside an entry`)
    entries.push(bytes.subarray(o + 4, o + 4 + len))
    o += 4 + len
  }
  if (entries.length !== ref.entries) throw new SnapshotPieceError(`piece ${ref.cid} holds ${entries.length} entries, its manifest says ${ref.entries}`)
  return entries
}

export function encodeManifest (manifest: SnapshotManifest): Uint8Array {
  return dagCbor.encode({
    v: manifest.v,
    log: manifest.log,
    entries: manifest.entries,
    heads: manifest.heads,
    pieces: manifest.pieces.map(p => [p.cid, p.entries, p.bytes])
  })
}

const isCount = (n: unknown, max: number): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max

/** A manifest from another peer, checked for shape and bounds (its pieces are checked as they arrive) */
export function decodeManifest (bytes: Uint8Array, logId: string): SnapshotManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new OversizeRecordError(`a snapshot manifest has ${bytes.length} bytes, more than ${MAX_MANIFEST_BYTES}`)
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new SnapshotManifestError(`a snapshot manifest is not dag-cbor: ${(err as Error).message}`)
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new SnapshotManifestError('a snapshot manifest is not a map')
  const m = value as Record<string, unknown>
  if (m.v !== SNAPSHOT_FORMAT) throw new SnapshotVersionError(`a snapshot manifest of format ${String(m.v)}; this peer reads format ${SNAPSHOT_FORMAT} (and 1)`)
  if (m.log !== logId) throw new SnapshotManifestError(`a snapshot manifest of log ${String(m.log)}, not of ${logId}`)
  if (!isCount(m.entries, MAX_SNAPSHOT_V2_ENTRIES)) throw new SnapshotManifestError(`a snapshot manifest names ${String(m.entries)} entries, not a count up to ${MAX_SNAPSHOT_V2_ENTRIES}`)
  if (!Array.isArray(m.heads) || m.heads.length > MAX_HEADS || !m.heads.every(h => typeof h === 'string' && h.length > 0 && h.length <= 128)) throw new SnapshotManifestError('a snapshot manifest\'s heads are not a list of entry hashes')
  if (!Array.isArray(m.pieces)) throw new SnapshotManifestError('a snapshot manifest\'s pieces are not a list')
  const pieces: PieceRef[] = []
  const seen = new Set<string>()
  let total = 0
  for (const p of m.pieces as unknown[]) {
    if (!Array.isArray(p) || p.length !== 3) throw new SnapshotManifestError('a snapshot piece is not [cid, entries, bytes]')
    const cid = CID.asCID(p[0])
    if (cid == null || cid.version !== 1 || cid.code !== RAW_CODE || cid.multihash.code !== sha256.code) throw new SnapshotManifestError('a snapshot piece is not named by a raw sha2-256 CIDv1')
    if (!isCount(p[1], MAX_PIECE_ENTRIES) || p[1] === 0) throw new SnapshotManifestError(`snapshot piece ${cid} names ${String(p[1])} entries, not 1 to ${MAX_PIECE_ENTRIES}`)
    if (!isCount(p[2], MAX_PIECE_BYTES) || p[2] < p[1] * 4) throw new OversizeRecordError(`snapshot piece ${cid} names ${String(p[2])} bytes, more than ${MAX_PIECE_BYTES} or too few for its entries`)
    // a manifest that names one piece twice (a loop) would have an asker fetch and check it again and again
    if (seen.has(cid.toString())) throw new SnapshotManifestError(`snapshot piece ${cid} is named twice`)
    seen.add(cid.toString())
    total += p[1]
    pieces.push({ cid, entries: p[1], bytes: p[2] })
  }
  if (total !== m.entries) throw new SnapshotManifestError(`a snapshot manifest names ${m.entries} entries, its pieces hold ${total}`)
  return { v: SNAPSHOT_FORMAT, log: logId, entries: total, heads: m.heads as string[], pieces }
}

/** the asker's request: the manifest, or one piece */
export function encodeRequest (piece?: CID): Uint8Array {
  return dagCbor.encode(piece == null ? { v: SNAPSHOT_FORMAT } : { v: SNAPSHOT_FORMAT, piece })
}

/** a request on the wire: u16 length, then the request's bytes */
export function frameRequest (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length)
  out[0] = body.length >> 8
  out[1] = body.length & 0xff
  out.set(body, 2)
  return out
}

export function decodeRequest (bytes: Uint8Array): { piece?: CID } {
  if (bytes.length > MAX_REQUEST_BYTES) throw new OversizeRecordError(`a snapshot request has ${bytes.length} bytes`)
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch {
    throw new SnapshotManifestError('a snapshot request is not dag-cbor')
  }
  const r = value as Record<string, unknown> | null
  if (r == null || typeof r !== 'object' || r.v !== SNAPSHOT_FORMAT) throw new SnapshotVersionError(`a snapshot request of format ${String(r?.v)}`)
  if (r.piece == null) return {}
  const piece = CID.asCID(r.piece)
  if (piece == null) throw new SnapshotManifestError('a snapshot request names no piece CID')
  return { piece }
}
