import { open } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import { encodePiece, MAX_PIECE_ENTRIES, pieceCid, SNAPSHOT_FORMAT, TARGET_PIECE_BYTES } from './snapshot-wire.ts'
import type { PieceRef, SnapshotManifest } from './snapshot-wire.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { FileHandle } from 'node:fs/promises'

const log = logger('hubless:registry:snapshot')

/** the record cache is read in pieces of this size */
const READ_BYTES = 1024 * 1024
const MAX_TAILS = 8

interface Piece extends PieceRef {
  /** byte range of its frames in the record cache file */
  start: number
  end: number
}

export interface SnapshotPiecesInit {
  /** the record cache file (record-cache.ts): every entry of the log, parents first, append-only */
  path: string
  logId: string
  /** the log's heads, and whether the record cache holds an entry, to name the heads a manifest covers */
  heads (): Promise<string[]>
  cached (hash: string): boolean
}

/**
 * The serving side of snapshot format 2 (snapshot-wire.ts): the record cache file cut into
 * pieces of up to MAX_PIECE_ENTRIES entries (or TARGET_PIECE_BYTES), each named by the CID of its
 * bytes. The file only grows, so whole pieces never change: they are cut once, as the file grows,
 * and only their CIDs and byte ranges stay in memory (a piece is read back from the file when
 * asked for). The last, partial piece is cut again for every manifest.
 *
 * The frame walk repeats `RecordCache.entries()`'s layout (record-cache.ts is being moved to
 * LevelDB elsewhere; this reads the file through `entryRanges` only, so the move touches one function).
 */
export class SnapshotPieces {
  readonly #init: SnapshotPiecesInit
  readonly #pieces: Piece[] = []
  readonly #byCid = new Map<string, Piece>()
  /** bytes of the file cut into whole pieces */
  #scanned = 0
  #entries = 0
  #cutting: Promise<Piece | undefined> | undefined

  constructor (init: SnapshotPiecesInit) {
    this.#init = init
  }

  /** A manifest of the whole file as it is now */
  async manifest (options?: AbortOptions): Promise<SnapshotManifest> {
    // the heads first: the file read afterwards holds them if the cache had them
    const heads = (await this.#init.heads()).filter(h => this.#init.cached(h))
    const tail = await this.#cut(options)
    const pieces: PieceRef[] = this.#pieces.map(({ cid, entries, bytes }) => ({ cid, entries, bytes }))
    let entries = this.#entries
    if (tail != null) {
      pieces.push({ cid: tail.cid, entries: tail.entries, bytes: tail.bytes })
      entries += tail.entries
    }
    return { v: SNAPSHOT_FORMAT, log: this.#init.logId, entries, heads, pieces }
  }

  /** The bytes of a piece a manifest named, or undefined when it names none of ours */
  async piece (cid: string): Promise<Uint8Array | undefined> {
    const piece = this.#byCid.get(cid) ?? this.#tails.get(cid)
    if (piece == null) return undefined
    const entries: Uint8Array[] = []
    for await (const part of entryRanges(this.#init.path, piece.start, piece.end)) entries.push(...part.entries)
    const bytes = encodePiece(entries)
    // the file under a piece never changes; a piece that no longer matches is not served
    return pieceCid(bytes).toString() === cid ? bytes : undefined
  }

  /** the last few partial pieces handed out: an asker may still be fetching one after the file grew */
  readonly #tails = new Map<string, Piece>()

  /** cut whole pieces from what the file gained; one cut at a time */
  async #cut (options?: AbortOptions): Promise<Piece | undefined> {
    while (this.#cutting != null) await this.#cutting.catch(() => {})
    this.#cutting = this.#cutFrom(options)
    try {
      const tail = await this.#cutting
      if (tail != null) {
        this.#tails.set(tail.cid.toString(), tail)
        if (this.#tails.size > MAX_TAILS) this.#tails.delete(this.#tails.keys().next().value!)
      }
      return tail
    } finally {
      this.#cutting = undefined
    }
  }

  async #cutFrom (options?: AbortOptions): Promise<Piece | undefined> {
    let current: Uint8Array[] = []
    let size = 0
    let start = this.#scanned
    let lastEnd = start
    const close = (end: number): Piece => {
      const bytes = encodePiece(current)
      const piece = { cid: pieceCid(bytes), entries: current.length, bytes: bytes.length, start, end }
      current = []
      size = 0
      start = end
      return piece
    }
    for await (const part of entryRanges(this.#init.path, this.#scanned, Number.POSITIVE_INFINITY)) {
      options?.signal?.throwIfAborted()
      for (let i = 0; i < part.entries.length; i++) {
        const e = part.entries[i]!
        current.push(e)
        size += 4 + e.length
        lastEnd = part.ends[i]!
        if (current.length >= MAX_PIECE_ENTRIES || size >= TARGET_PIECE_BYTES) {
          const piece = close(lastEnd)
          this.#pieces.push(piece)
          this.#byCid.set(piece.cid.toString(), piece)
          this.#scanned = piece.end
          this.#entries += piece.entries
        }
      }
      // a turn of the event loop between reads: serving goes on while a large file is cut
      await new Promise(resolve => setImmediate(resolve))
    }
    if (this.#pieces.length > 0 && this.#pieces.length % 256 === 0) log('%d snapshot pieces cut, %d entries', this.#pieces.length, this.#entries)
    return current.length === 0 ? undefined : close(lastEnd)
  }
}

/** Every entry of the record cache, read a piece of the file at a time (format 1 serves these) */
export async function * cacheEntries (path: string): AsyncGenerator<Uint8Array> {
  for await (const part of entryRanges(path, 0, Number.POSITIVE_INFINITY)) yield * part.entries
}

/**
 * The entry bytes of the record cache's whole frames from byte `start` to `end` (or the end of
 * the file, or the first torn frame), with where each frame ends. Frame layout: record-cache.ts.
 */
export async function * entryRanges (path: string, start: number, end: number): AsyncGenerator<{ entries: Uint8Array[], ends: number[] }> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch {
    return
  }
  try {
    let position = start
    let pending = new Uint8Array(0)
    while (position < end) {
      const want = Math.min(READ_BYTES, end - position)
      const chunk = new Uint8Array(pending.length + want)
      chunk.set(pending)
      const { bytesRead } = await fh.read(chunk, pending.length, want, position)
      if (bytesRead === 0) return
      position += bytesRead
      const buf = chunk.subarray(0, pending.length + bytesRead)
      const base = position - buf.length
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      const entries: Uint8Array[] = []
      const ends: number[] = []
      let o = 0
      while (o + 4 <= buf.length) {
        const frameEnd = o + 4 + view.getUint32(o)
        if (frameEnd > buf.length) break
        let p = o + 4
        p += 1 + buf[p]!
        p += 1 + buf[p]!
        p += 4 + view.getUint32(p) + 64
        p += (buf[p]! & 1) !== 0 ? 65 : 1
        const eLen = view.getUint32(p)
        p += 4
        // a torn frame: nothing after it is read
        if (p + eLen !== frameEnd) { if (entries.length > 0) yield { entries, ends }; return }
        entries.push(buf.subarray(p, frameEnd))
        ends.push(base + frameEnd)
        o = frameEnd
      }
      pending = buf.slice(o)
      if (entries.length > 0) yield { entries, ends }
    }
  } finally {
    await fh.close()
  }
}
