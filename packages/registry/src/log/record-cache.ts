import { open, readFile, rename, rm } from 'node:fs/promises'
import * as dagCbor from '@ipld/dag-cbor'
import { logger } from '@libp2p/logger'
import type { SignedRecord, UnsignedRecord } from '../records/types.ts'
import { cachedEntryFields } from './entry-proof.ts'
import type { FileHandle } from 'node:fs/promises'

const log = logger('hubless:registry:cache')

/**
 * The local record cache: an append-only file beside the OrbitDB log with, for every entry in
 * the log, its hash, its record's id, the record's bytes and signatures, and the entry's own
 * bytes. Reopening reads this one file instead of walking the log entry by entry (the walk
 * fetches and decodes every entry from the blockstore), and a peer catching up is served the
 * entry bytes straight from it.
 *
 * Only entries already in the log are appended, and in Lamport-clock order (parents first), so
 * any prefix of the file is closed under ancestry. After a crash the file can be behind the log
 * or end in a torn frame; the registry checks on open that every head of the log is in the file
 * (which, with the ordering, means every entry is) and rebuilds it from the log otherwise.
 *
 * Frame: u32 length of the rest | u8 hashLen | hash | u8 idLen | id | u32 rLen | r | 64 s |
 *        u8 flags | [64 c] | u32 entryLen | entry bytes
 * flags: 1 = a countersignature follows, 2 = the record has no own signature (s is zeros; the
 * entry signs it, and its proof is read from the entry bytes on load)
 */
const HAS_COUNTERSIGNATURE = 1
const ENTRY_SIGNED = 2

export interface CachedEntry {
  entryHash: string
  signed: SignedRecord
  /** the entry's bytes, while it is being written; the file keeps them, memory does not */
  entry?: Uint8Array
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

function frameLength (item: CachedEntry): number {
  const c = item.signed.countersignature
  return 4 + 1 + Buffer.byteLength(item.entryHash) + 1 + Buffer.byteLength(item.signed.id) + 4 + item.signed.bytes.length + 64 + 1 + (c == null ? 0 : 64) + 4 + (item.entry?.length ?? 0)
}

/** write one frame at `o` of `out`; returns the position after it */
function writeFrame (item: CachedEntry, out: Uint8Array, view: DataView, o: number): number {
  const r = item.signed.bytes
  const c = item.signed.countersignature
  const entry = item.entry ?? new Uint8Array(0)
  view.setUint32(o, frameLength(item) - 4); o += 4
  for (const text of [item.entryHash, item.signed.id]) {
    const { written } = textEncoder.encodeInto(text, out.subarray(o + 1, o + 1 + Buffer.byteLength(text)))
    out[o] = written
    o += 1 + written
  }
  view.setUint32(o, r.length); o += 4; out.set(r, o); o += r.length
  if (item.signed.signature != null) out.set(item.signed.signature, o)
  o += 64
  out[o++] = (c == null ? 0 : HAS_COUNTERSIGNATURE) | (item.signed.signature == null ? ENTRY_SIGNED : 0)
  if (c != null) { out.set(c, o); o += 64 }
  view.setUint32(o, entry.length); o += 4; out.set(entry, o)
  return o + entry.length
}

/** Frames of `items`, one after the other, in one allocation */
export function encodeFrames (items: CachedEntry[]): Uint8Array {
  let size = 0
  for (const item of items) size += frameLength(item)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  for (const item of items) o = writeFrame(item, out, view, o)
  return out
}

/** record bytes and signatures are copied into shared blocks of this size: one allocation for many records */
const ARENA_BYTES = 256 * 1024
/** the cache file is read in pieces of this size, so that loading never holds all of it */
const READ_BYTES = 1024 * 1024

/** Copies of small byte ranges, packed into shared blocks (a record is never freed apart from the others) */
function arena (): (buf: Uint8Array, start: number, end: number) => Uint8Array {
  let block = new Uint8Array(0)
  let used = 0
  return (buf, start, end) => {
    const n = end - start
    if (used + n > block.length) {
      block = new Uint8Array(Math.max(ARENA_BYTES, n))
      used = 0
    }
    const out = block.subarray(used, used + n)
    out.set(buf.subarray(start, end))
    used += n
    return out
  }
}

export interface LoadedCache {
  items: CachedEntry[]
  /** the writer identities (hashes) the entries name */
  writers: Set<string>
  /** bytes of whole frames; anything after is a torn write */
  validLength: number
  torn: boolean
}

interface DecodedFrames extends LoadedCache {
  /** what follows the whole frames is a frame cut short (more bytes may complete it), not a bad one */
  incomplete: boolean
}

/**
 * Parse frames; records were verified before they were written, so only their bytes are decoded.
 * Record bytes and signatures are copied out of `buf` (a Node Buffer's `slice` is a view, which
 * would keep the whole file in memory for as long as any record lives).
 */
export function decodeFrames (buf: Uint8Array, copy = arena(), hashes = new Map<string, string>(), writers = new Set<string>()): DecodedFrames {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const items: CachedEntry[] = []
  let o = 0
  let incomplete = true
  try {
    while (o + 4 <= buf.length) {
      const rest = view.getUint32(o)
      const end = o + 4 + rest
      if (end > buf.length) break
      incomplete = false
      let p = o + 4
      const hLen = buf[p++]!
      const entryHash = textDecoder.decode(buf.subarray(p, p + hLen)); p += hLen
      const iLen = buf[p++]!
      const id = textDecoder.decode(buf.subarray(p, p + iLen)); p += iLen
      const rLen = view.getUint32(p); p += 4
      const bytes = copy(buf, p, p + rLen); p += rLen
      const signatureAt = p; p += 64
      const flags = buf[p++]!
      const signed: SignedRecord = { id, record: dagCbor.decode(bytes) as UnsignedRecord, bytes }
      if ((flags & ENTRY_SIGNED) === 0) signed.signature = copy(buf, signatureAt, signatureAt + 64)
      if ((flags & HAS_COUNTERSIGNATURE) !== 0) { signed.countersignature = copy(buf, p, p + 64); p += 64 }
      const eLen = view.getUint32(p); p += 4
      if (p + eLen !== end) break
      const { identity, proof } = cachedEntryFields(buf.subarray(p, end), (flags & ENTRY_SIGNED) !== 0, hashes)
      if (proof !== undefined) signed.entry = proof
      if (identity !== undefined) writers.add(identity)
      hashes.set(entryHash, entryHash)
      items.push({ entryHash, signed })
      o = end
      incomplete = true
    }
  } catch (err) {
    incomplete = false
    log('stopped reading the cache at byte %d - %e', o, err)
  }
  return { items, writers, validLength: o, torn: o !== buf.length, incomplete }
}

export class RecordCache {
  readonly path: string
  #handle: FileHandle | undefined
  #queue: Promise<void> = Promise.resolve()

  constructor (path: string) {
    this.path = path
  }

  async load (): Promise<LoadedCache> {
    let fh: FileHandle
    try {
      fh = await open(this.path, 'r')
    } catch {
      return { items: [], writers: new Set(), validLength: 0, torn: false }
    }
    const items: CachedEntry[] = []
    const copy = arena()
    // entry hashes read so far: the proofs' parents share their strings
    const hashes = new Map<string, string>()
    const writers = new Set<string>()
    let validLength = 0
    let pending = new Uint8Array(0)
    try {
      const chunk = new Uint8Array(READ_BYTES)
      while (true) {
        const { bytesRead } = await fh.read(chunk, 0, READ_BYTES, null)
        if (bytesRead === 0) break
        const buf = new Uint8Array(pending.length + bytesRead)
        buf.set(pending)
        buf.set(chunk.subarray(0, bytesRead), pending.length)
        // records are copied out of buf (and chunk is read into again)
        const part = decodeFrames(buf, copy, hashes, writers)
        for (const item of part.items) items.push(item)
        validLength += part.validLength
        pending = buf.slice(part.validLength)
        if (!part.incomplete) return { items, writers, validLength, torn: true }
      }
    } finally {
      await fh.close()
    }
    return { items, writers, validLength, torn: pending.length > 0 }
  }

  /** The entry bytes of every whole frame, read from the file in order (for serving snapshots) */
  async * entries (): AsyncGenerator<Uint8Array> {
    await this.#queue
    let buf: Uint8Array
    try {
      buf = await readFile(this.path)
    } catch {
      return
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    let o = 0
    while (o + 4 <= buf.length) {
      const end = o + 4 + view.getUint32(o)
      if (end > buf.length) return
      let p = o + 4
      p += 1 + buf[p]!
      p += 1 + buf[p]!
      p += 4 + view.getUint32(p) + 64
      p += (buf[p]! & HAS_COUNTERSIGNATURE) !== 0 ? 65 : 1
      const eLen = view.getUint32(p)
      p += 4
      if (p + eLen !== end) return
      yield buf.subarray(p, end)
      o = end
    }
  }

  /** Replace the file's contents atomically */
  async rewrite (items: Iterable<CachedEntry>): Promise<void> {
    await this.#close()
    const tmp = `${this.path}.tmp`
    const fh = await open(tmp, 'w', 0o600)
    try {
      let batch: CachedEntry[] = []
      for (const item of items) {
        batch.push(item)
        if (batch.length >= 1024) { await fh.writev([encodeFrames(batch)]); batch = [] }
      }
      if (batch.length > 0) await fh.writev([encodeFrames(batch)])
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, this.path)
  }

  /** Append frames in call order */
  async append (items: CachedEntry[]): Promise<void> {
    if (items.length === 0) return
    const frames = [encodeFrames(items)]
    const task = this.#queue.then(async () => {
      this.#handle ??= await open(this.path, 'a', 0o600)
      await this.#handle.writev(frames)
    })
    this.#queue = task.catch(err => { log.error('appending to the record cache failed - %e', err) })
    return task
  }

  async #close (): Promise<void> {
    await this.#queue
    await this.#handle?.close()
    this.#handle = undefined
  }

  async close (): Promise<void> {
    await this.#close()
  }

  async remove (): Promise<void> {
    await this.#close()
    await rm(this.path, { force: true })
  }
}
