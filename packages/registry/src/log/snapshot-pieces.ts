import { logger } from '@libp2p/logger'
import { encodePiece, MAX_PIECE_ENTRIES, pieceCid, SNAPSHOT_FORMAT, TARGET_PIECE_BYTES } from './snapshot-wire.ts'
import type { PieceRef, SnapshotManifest } from './snapshot-wire.ts'
import type { AbortOptions } from '@libp2p/interface'

const log = logger('hubless:registry:snapshot')

/** partial pieces handed out that are still served after the index grows */
const MAX_TAILS = 8
/** entries cut between two turns of the event loop */
const YIELD_EVERY = 4_096

interface Piece extends PieceRef {
  /** its entries: sequence numbers `after + 1` to `last` of the record index */
  after: number
  last: number
}

/** What the pieces are cut from: the record index's entries by sequence number (record-index.ts) */
export interface SnapshotPiecesSource {
  /** entries after sequence number `after`, in order; sequence numbers are dense and a range never changes once written */
  entriesAfter (after: number): AsyncIterable<{ seq: number, entry: Uint8Array }>
  /** the sequence number of the last entry written */
  readonly lastSeq: number
}

export interface SnapshotPiecesInit {
  index: SnapshotPiecesSource
  logId: string
  /** the log's heads, and whether the record index holds an entry, to name the heads a manifest covers */
  heads (): Promise<string[]>
  indexed (hash: string): Promise<boolean>
}

/**
 * The serving side of snapshot format 2 (snapshot-wire.ts): the record index's entries cut, in
 * sequence order, into pieces of up to MAX_PIECE_ENTRIES entries (or TARGET_PIECE_BYTES), each
 * named by the CID of its bytes. The index only grows at its end and a range of sequence numbers
 * never changes once written, so whole pieces are cut and hashed once, as the index grows, and
 * only their CIDs and sequence ranges stay in memory (a piece is read back from the index when
 * asked for). The last, partial piece is cut again for every manifest.
 */
export class SnapshotPieces {
  readonly #init: SnapshotPiecesInit
  readonly #pieces: Piece[] = []
  readonly #byCid = new Map<string, Piece>()
  /** the last few partial pieces handed out: an asker may still be fetching one after the index grew */
  readonly #tails = new Map<string, Piece>()
  /** the last sequence number cut into whole pieces */
  #cutThrough = 0
  #entries = 0
  #cutting: Promise<Piece | undefined> | undefined

  constructor (init: SnapshotPiecesInit) {
    this.#init = init
  }

  /** A manifest of the whole index as it is now */
  async manifest (options?: AbortOptions): Promise<SnapshotManifest> {
    // the heads first: the entries read afterwards hold them if the index had them
    const all = await this.#init.heads()
    const indexed = await Promise.all(all.map(async h => this.#init.indexed(h)))
    const heads = all.filter((_, i) => indexed[i])
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
  async piece (cid: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    const piece = this.#byCid.get(cid) ?? this.#tails.get(cid)
    if (piece == null) return undefined
    const entries: Uint8Array[] = []
    for await (const { seq, entry } of this.#init.index.entriesAfter(piece.after)) {
      if (seq > piece.last) break
      options?.signal?.throwIfAborted()
      entries.push(entry)
    }
    const bytes = encodePiece(entries)
    // a range of the index never changes; a piece that no longer matches (an index cleared) is not served
    return pieceCid(bytes).toString() === cid ? bytes : undefined
  }

  /** cut whole pieces from what the index gained; one cut at a time */
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
    // the index as it is now: entries written while this cuts wait for the next manifest
    const through = this.#init.index.lastSeq
    if (through <= this.#cutThrough) return undefined
    let current: Uint8Array[] = []
    let size = 0
    let after = this.#cutThrough
    let last = after
    const close = (): Piece => {
      const bytes = encodePiece(current)
      const piece = { cid: pieceCid(bytes), entries: current.length, bytes: bytes.length, after, last }
      current = []
      size = 0
      after = last
      return piece
    }
    let read = 0
    for await (const { seq, entry } of this.#init.index.entriesAfter(this.#cutThrough)) {
      if (seq > through) break
      options?.signal?.throwIfAborted()
      current.push(entry)
      size += 4 + entry.length
      last = seq
      if (current.length >= MAX_PIECE_ENTRIES || size >= TARGET_PIECE_BYTES) {
        const piece = close()
        this.#pieces.push(piece)
        this.#byCid.set(piece.cid.toString(), piece)
        this.#cutThrough = piece.last
        this.#entries += piece.entries
        if (this.#pieces.length % 256 === 0) log('%d snapshot pieces cut, %d entries', this.#pieces.length, this.#entries)
      }
      // a turn of the event loop now and then: serving goes on while a large index is cut
      if (++read % YIELD_EVERY === 0) await new Promise(resolve => setImmediate(resolve))
    }
    return current.length === 0 ? undefined : close()
  }
}
