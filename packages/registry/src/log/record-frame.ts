import * as dagCbor from '@ipld/dag-cbor'
import { cachedEntryFields } from './entry-proof.ts'
import type { SignedRecord, UnsignedRecord } from '../records/types.ts'

/**
 * One log entry as the record index keeps it (record-store.ts): its hash, its record's id, the
 * record's bytes and signatures, and the entry's own bytes (served to peers taking a snapshot).
 * The same frames made up the record cache file of earlier versions, so that file is read with
 * this codec when an old data dir is upgraded (legacy-record-file.ts).
 *
 * Full frame:    u32 length of the rest | u8 hashLen | hash | u8 idLen | id | u32 rLen | r | 64 s |
 *                u8 flags | [64 c] | u32 entryLen | entry bytes
 * Compact frame: u32 length of the rest | u8 hashLen | hash | u8 idLen | id | u32 0xffffffff |
 *                u32 rOffset | u32 rLen | u32 sOffset | u8 flags | [u32 cOffset] | u32 entryLen | entry bytes
 * flags: 1 = a countersignature follows, 2 = the record has no own signature (s is zeros, or its
 * offset 0; the entry signs it, and its proof is read from the entry bytes), 4 = an earlier entry
 * carries the same record (the record is listed once, at its first entry).
 *
 * The entry carries the record's envelope, so a compact frame points into the entry's bytes for
 * the record and its signatures (offsets from the entry's start) rather than holding them twice:
 * the scale bench's frames went from 1,478 to 1,139 bytes, a fifth less for LevelDB to write and
 * compact. Frames are written compact whenever the entry holds those bytes; full frames (older
 * data dirs, the old record cache file) stay readable.
 */
const HAS_COUNTERSIGNATURE = 1
const ENTRY_SIGNED = 2
const DUPLICATE = 4
/** where a full frame has the record's length: no record is this long */
const COMPACT = 0xffffffff

export interface CachedEntry {
  entryHash: string
  signed: SignedRecord
  /** the entry's bytes, while it is being written; the index keeps them, memory does not */
  entry?: Uint8Array
}

export interface DecodedFrame extends CachedEntry {
  /** the writer identity the entry names, when it could be read */
  identity?: string
  /** an earlier entry carries the same record */
  duplicate: boolean
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** where the record and its signatures lie in the entry's bytes, when they all do */
interface InEntry { r: number, s: number, c: number }

function findInEntry (item: CachedEntry): InEntry | undefined {
  const entry = item.entry
  if (entry == null) return undefined
  const haystack = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength)
  const at = (bytes: Uint8Array | undefined): number => bytes == null ? 0 : haystack.indexOf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  const { bytes, signature, countersignature } = item.signed
  const found = { r: at(bytes), s: at(signature), c: at(countersignature) }
  return found.r < 0 || found.s < 0 || found.c < 0 ? undefined : found
}

function frameLength (item: CachedEntry, inEntry: InEntry | undefined): number {
  const c = item.signed.countersignature
  const head = 4 + 1 + Buffer.byteLength(item.entryHash) + 1 + Buffer.byteLength(item.signed.id)
  const record = inEntry != null
    ? 4 + 4 + 4 + 4 + 1 + (c == null ? 0 : 4)
    : 4 + item.signed.bytes.length + 64 + 1 + (c == null ? 0 : 64)
  return head + record + 4 + (item.entry?.length ?? 0)
}

/** write one frame at `o` of `out`; returns the position after it */
function writeFrame (item: CachedEntry, inEntry: InEntry | undefined, out: Uint8Array, view: DataView, o: number, duplicate: boolean): number {
  const r = item.signed.bytes
  const c = item.signed.countersignature
  const entry = item.entry ?? new Uint8Array(0)
  view.setUint32(o, frameLength(item, inEntry) - 4); o += 4
  for (const text of [item.entryHash, item.signed.id]) {
    const { written } = textEncoder.encodeInto(text, out.subarray(o + 1, o + 1 + Buffer.byteLength(text)))
    out[o] = written
    o += 1 + written
  }
  const flags = (c == null ? 0 : HAS_COUNTERSIGNATURE) | (item.signed.signature == null ? ENTRY_SIGNED : 0) | (duplicate ? DUPLICATE : 0)
  if (inEntry != null) {
    view.setUint32(o, COMPACT); view.setUint32(o + 4, inEntry.r); view.setUint32(o + 8, r.length); view.setUint32(o + 12, inEntry.s); o += 16
    out[o++] = flags
    if (c != null) { view.setUint32(o, inEntry.c); o += 4 }
  } else {
    view.setUint32(o, r.length); o += 4; out.set(r, o); o += r.length
    if (item.signed.signature != null) out.set(item.signed.signature, o)
    o += 64
    out[o++] = flags
    if (c != null) { out.set(c, o); o += 64 }
  }
  view.setUint32(o, entry.length); o += 4; out.set(entry, o)
  return o + entry.length
}

/** One frame */
export function encodeFrame (item: CachedEntry, duplicate = false): Uint8Array {
  const inEntry = findInEntry(item)
  const out = new Uint8Array(frameLength(item, inEntry))
  writeFrame(item, inEntry, out, new DataView(out.buffer), 0, duplicate)
  return out
}

/** Full frames of `items`, one after the other, in one allocation (the old record cache file's layout) */
export function encodeFrames (items: CachedEntry[]): Uint8Array {
  let size = 0
  for (const item of items) size += frameLength(item, undefined)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  for (const item of items) o = writeFrame(item, undefined, out, view, o, false)
  return out
}

interface Layout {
  hash: [number, number]
  id: [number, number]
  r: [number, number]
  /** where the signature starts (meaningless with ENTRY_SIGNED), and the countersignature (with HAS_COUNTERSIGNATURE) */
  s: number
  c: number
  flags: number
  flagsAt: number
  entry: [number, number]
}

/** Where the frame's fields are, in either form; throws a RangeError on a frame cut short */
function layout (buf: Uint8Array, view: DataView): Layout {
  const end = 4 + view.getUint32(0)
  let p = 4
  const hash: [number, number] = [p + 1, p + 1 + buf[p]!]; p = hash[1]
  const id: [number, number] = [p + 1, p + 1 + buf[p]!]; p = id[1]
  const rLen = view.getUint32(p); p += 4
  if (rLen === COMPACT) {
    const rOffset = view.getUint32(p); const length = view.getUint32(p + 4); const sOffset = view.getUint32(p + 8); p += 12
    const flagsAt = p
    const flags = buf[p++]!
    const signedApart = (flags & ENTRY_SIGNED) === 0
    const countersigned = (flags & HAS_COUNTERSIGNATURE) !== 0
    let cOffset = 0
    if (countersigned) { cOffset = view.getUint32(p); p += 4 }
    const eLen = view.getUint32(p); p += 4
    if (p + eLen !== end || end > buf.length) throw new RangeError('the frame is cut short or malformed')
    // every piece must lie inside the entry
    if (rOffset + length > eLen || (signedApart && sOffset + 64 > eLen) || (countersigned && cOffset + 64 > eLen)) throw new RangeError('the frame points outside its entry')
    return { hash, id, r: [p + rOffset, p + rOffset + length], s: p + sOffset, c: p + cOffset, flags, flagsAt, entry: [p, end] }
  }
  const r: [number, number] = [p, p + rLen]; p += rLen
  const s = p; p += 64
  const flagsAt = p
  const flags = buf[p++]!
  const c = p
  if ((flags & HAS_COUNTERSIGNATURE) !== 0) p += 64
  const eLen = view.getUint32(p); p += 4
  if (p + eLen !== end || end > buf.length) throw new RangeError('the frame is cut short or malformed')
  return { hash, id, r, s, c, flags, flagsAt, entry: [p, end] }
}

/**
 * Decode one frame (the record was verified before it was written, so only its bytes are
 * decoded). Its byte arrays are views of `buf`, which should be a buffer of its own (a LevelDB
 * value), not a piece of a larger one that would then stay in memory. `hashes` gives the strings
 * of entry hashes already held, so that proofs share them.
 */
export function decodeFrame (frame: Uint8Array, hashes?: Map<string, string>): DecodedFrame {
  // LevelDB hands out Node Buffers: the record's arrays are plain Uint8Arrays, as everywhere else
  const buf = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const at = layout(buf, view)
  const entryHash = textDecoder.decode(buf.subarray(...at.hash))
  const id = textDecoder.decode(buf.subarray(...at.id))
  const bytes = buf.subarray(...at.r)
  const signed: SignedRecord = { id, record: dagCbor.decode(bytes) as UnsignedRecord, bytes }
  if ((at.flags & ENTRY_SIGNED) === 0) signed.signature = buf.subarray(at.s, at.s + 64)
  if ((at.flags & HAS_COUNTERSIGNATURE) !== 0) signed.countersignature = buf.subarray(at.c, at.c + 64)
  const entry = buf.subarray(...at.entry)
  const { identity, proof } = cachedEntryFields(entry, (at.flags & ENTRY_SIGNED) !== 0, hashes)
  if (proof !== undefined) signed.entry = proof
  const out: DecodedFrame = { entryHash, signed, entry, duplicate: (at.flags & DUPLICATE) !== 0 }
  if (identity !== undefined) out.identity = identity
  return out
}

/** The entry hash, record id and entry bytes of a frame, without decoding its record */
export function frameHeader (buf: Uint8Array): { entryHash: string, id: string, entry: Uint8Array, duplicate: boolean } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const at = layout(buf, view)
  return { entryHash: textDecoder.decode(buf.subarray(...at.hash)), id: textDecoder.decode(buf.subarray(...at.id)), entry: buf.subarray(...at.entry), duplicate: (at.flags & DUPLICATE) !== 0 }
}

/** The same frame, marked as carrying a record an earlier entry carries */
export function markDuplicate (frame: Uint8Array): Uint8Array {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const at = layout(frame, view)
  const out = frame.slice()
  out[at.flagsAt] = out[at.flagsAt]! | DUPLICATE
  return out
}

/**
 * Split `buf` into whole frames (copies, each a buffer of its own) from its start; `rest` is
 * where the first frame that is not whole starts, `bad` tells a malformed frame from one cut short.
 */
export function splitFrames (buf: Uint8Array): { frames: Uint8Array[], rest: number, bad: boolean } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const frames: Uint8Array[] = []
  let o = 0
  while (o + 4 <= buf.length) {
    const end = o + 4 + view.getUint32(o)
    if (end > buf.length) break
    // a copy (a Node Buffer's slice would be a view)
    const frame = Uint8Array.prototype.slice.call(buf, o, end)
    try {
      layout(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength))
    } catch {
      return { frames, rest: o, bad: true }
    }
    frames.push(frame)
    o = end
  }
  return { frames, rest: o, bad: false }
}
