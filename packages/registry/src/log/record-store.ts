import { hexOf } from '@hubless/net/multibase'
import type { SignedRecord } from '../records/types.ts'

/**
 * Where the record index lives: keys in a sublevel of the log's index LevelDB (the database
 * OrbitDB keeps the log's entry index in, index-storage.ts), so that reopening reads only the
 * keys a question needs, and the frames in a LevelDB of their own. Sequence numbers count
 * entries in the order they entered this peer's log, as 12 hex digits so that keys sort in that
 * order.
 *
 * Frames are most of the bytes, and their keys only grow: alone in a database, LevelDB moves
 * their tables down its levels without rewriting them. Beside the index's keys (entry hashes,
 * record ids: all over the key space) every compaction rewrote them with the keys; writing a
 * million entries, that index database's compactions wrote 13.1 GB for 0.8 GB of tables.
 * The frames are written first and the keys (with the meta) after, so a crash between the two
 * leaves frames past the last sequence number, which nothing reads and the next writes replace.
 *
 * In the frames' database:
 *   s!<seq>                               frame (record-frame.ts) of every entry
 * In the index's sublevel:
 *   h!<entry hash>                        seq: the entry is in the index
 *   i!<record id>                         seq of the first entry that carries the record
 *   p!<publisher>\0<seq>                  a record by this publisher
 *   a!<appId>\0<seq>                      a release or yank of this app
 *   k!<kind>\0<seq>                       a record of a kind other than release (trust, yanks)
 *   l!<appId>\0<channel>\0<arch>\0<publisher>   {t, s}: the publisher's newest release there (by time, then seq)
 *   w!<writer identity hash>              an identity some entry names (pinned again at open)
 *   m!                                     meta: counts, the last seq, how far pins were checked
 */

export type BatchOp = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

export interface RangeOptions { gt?: string, gte?: string, lt?: string, lte?: string, limit?: number, reverse?: boolean }

/** What the record index needs of a LevelDB (a `level` sublevel with string keys and Uint8Array values) */
export interface RecordDb {
  get (key: string): Promise<Uint8Array | undefined>
  getMany (keys: string[]): Promise<Array<Uint8Array | undefined>>
  batch (ops: BatchOp[]): Promise<void>
  iterator (options: RangeOptions): AsyncIterable<[string, Uint8Array]>
  keys (options: RangeOptions): AsyncIterable<string>
  clear (): Promise<void>
}

export interface IndexMeta {
  /** layout version */
  format: number
  /** the last sequence number given */
  seq: number
  /** distinct records */
  records: number
  /** entries */
  entries: number
  /** every entry up to this seq was checked to be pinned */
  pinnedThrough: number
  /**
   * Random, new whenever the index starts empty: a position (`RecordPosition`) names it, so that
   * one taken from another index, or from this one before it was cleared, is never resumed from
   */
  epoch?: string
}

/**
 * The layout this version writes: 2 since frames live in their own database and may point into
 * their entry for the record (record-frame.ts). It reads 1 as well (its frames, among the keys,
 * are moved at the first open); a hubless that knows only 1 would misread 2, so it is told by
 * the number, and one newer than this is refused.
 */
export const INDEX_FORMAT = 2
/** frames moved from the keys to their own database (layout 1 kept them among the keys) in one batch */
const MOVE_CHUNK = 1_000
const SEQ_DIGITS = 12
const SEP = '\u0000'
const EMPTY = new Uint8Array(0)
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function seqKey (seq: number): string {
  return seq.toString(16).padStart(SEQ_DIGITS, '0')
}

/** the range of keys that start with `prefix` */
function prefixRange (prefix: string): RangeOptions {
  return { gte: prefix, lt: `${prefix}\uffff` }
}

export interface Latest { t: number, s: number }

/** the key of a publisher's newest release of an app on a channel and architecture */
/** A place in the order records entered the log: `Registry.position()`, for `records({ after })` */
export interface RecordPosition {
  /** the record index it belongs to (new whenever the index starts empty) */
  index: string
  /** the last sequence number read */
  seq: number
}

/** An entry of the log as `entries()` reads it: where it is, and the record it carries */
export interface LoggedRecord {
  position: RecordPosition
  signed: SignedRecord
}

/** a new index's epoch: random, so positions of an index rebuilt from nothing never match */
export function newEpoch (): string {
  return hexOf(crypto.getRandomValues(new Uint8Array(8)))
}

export function emptyMeta (): IndexMeta {
  return { format: INDEX_FORMAT, seq: 0, records: 0, entries: 0, pinnedThrough: 0, epoch: newEpoch() }
}

export function latestKey (record: { appId: string, channel: string, arch: string, publisher: string }): string {
  return `l!${record.appId}${SEP}${record.channel}${SEP}${record.arch}${SEP}${record.publisher}`
}

/** A publisher's newest release of an app on a channel and arch, as the index files it */
export interface LatestSlot {
  publisher: string
  /** the release's time */
  time: number
  frame: Uint8Array
}

interface SlotAt { publisher: string, time: number, seq: string }

/** One entry to write: its frame, and its record (absent when an earlier entry carries the same record) */
export interface StoredEntry {
  seq: number
  entryHash: string
  frame: Uint8Array
  /** the record, when this is its first entry */
  signed?: SignedRecord
}

/** without `appId`, every app's (the live releases of the whole log, read as one range) */
export interface LatestQuery { appId?: string, channel?: string, arch?: string }

const isFrame = (op: BatchOp): boolean => op.key.startsWith('s!')

export class RecordStore {
  readonly #db: RecordDb
  readonly #frames: RecordDb

  /** `db` holds the index's keys, `frames` the frames */
  constructor (db: RecordDb, frames: RecordDb) {
    this.#db = db
    this.#frames = frames
  }

  async meta (): Promise<IndexMeta | undefined> {
    const value = await this.#db.get('m!')
    return value == null ? undefined : JSON.parse(decoder.decode(value)) as IndexMeta
  }

  metaOp (meta: IndexMeta): BatchOp {
    return { type: 'put', key: 'm!', value: encoder.encode(JSON.stringify(meta)) }
  }

  /** remove every key of the index */
  async clear (): Promise<void> {
    await this.#db.clear()
    await this.#frames.clear()
  }

  /** Frames first, then the keys that point at them (see above) */
  async write (ops: BatchOp[]): Promise<void> {
    const frames = ops.filter(isFrame)
    if (frames.length > 0) await this.#frames.batch(frames)
    const keys = frames.length > 0 ? ops.filter(op => !isFrame(op)) : ops
    if (keys.length > 0) await this.#db.batch(keys)
  }

  /**
   * Move the frames a data dir of layout 1 keeps among the keys into their own database, a
   * batch at a time (copied, then removed: a move cut short is taken up again at the next open);
   * returns how many were moved
   */
  async moveFrames (): Promise<number> {
    let moved = 0
    while (true) {
      const batch: Array<[string, Uint8Array]> = []
      for await (const pair of this.#db.iterator({ gte: 's!', lt: 's"', limit: MOVE_CHUNK })) batch.push(pair)
      if (batch.length === 0) return moved
      await this.#frames.batch(batch.map(([key, value]) => ({ type: 'put', key, value })))
      await this.#db.batch(batch.map(([key]) => ({ type: 'del', key })))
      moved += batch.length
    }
  }

  /** The keys an entry adds; `latest` holds the newest releases known so far (read with {@link latest}), and is updated */
  entryOps (item: StoredEntry, latest: Map<string, Latest | undefined>): BatchOp[] {
    const seq = seqKey(item.seq)
    const seqBytes = encoder.encode(seq)
    const ops: BatchOp[] = [
      { type: 'put', key: `s!${seq}`, value: item.frame },
      { type: 'put', key: `h!${item.entryHash}`, value: seqBytes }
    ]
    const signed = item.signed
    if (signed == null) return ops
    const r = signed.record
    ops.push({ type: 'put', key: `i!${signed.id}`, value: seqBytes }, { type: 'put', key: `p!${r.publisher}${SEP}${seq}`, value: EMPTY })
    if (r.kind !== 'release') ops.push({ type: 'put', key: `k!${r.kind}${SEP}${seq}`, value: EMPTY })
    if (r.kind === 'release' || r.kind === 'yank') ops.push({ type: 'put', key: `a!${r.appId}${SEP}${seq}`, value: EMPTY })
    if (r.kind === 'release') {
      const key = latestKey(r)
      const known = latest.get(key)
      if (known == null || known.t < r.time || (known.t === r.time && known.s < item.seq)) {
        const next = { t: r.time, s: item.seq }
        latest.set(key, next)
        ops.push({ type: 'put', key, value: encoder.encode(JSON.stringify(next)) })
      }
    }
    return ops
  }

  writerOp (identity: string): BatchOp {
    return { type: 'put', key: `w!${identity}`, value: EMPTY }
  }

  /** The newest releases known under these `l!` keys */
  async latest (keys: string[]): Promise<Map<string, Latest | undefined>> {
    const values = keys.length === 0 ? [] : await this.#db.getMany(keys)
    return new Map(keys.map((k, i) => [k, values[i] == null ? undefined : JSON.parse(decoder.decode(values[i])) as Latest]))
  }

  /** For each hash: the entry is in the index */
  async hasEntries (hashes: string[]): Promise<boolean[]> {
    if (hashes.length === 0) return []
    return (await this.#db.getMany(hashes.map(h => `h!${h}`))).map(v => v != null)
  }

  /** For each id: the record is in the index */
  async hasRecords (ids: string[]): Promise<boolean[]> {
    if (ids.length === 0) return []
    return (await this.#db.getMany(ids.map(id => `i!${id}`))).map(v => v != null)
  }

  /** The frame of the record's first entry */
  async frameOf (id: string): Promise<Uint8Array | undefined> {
    const seq = await this.#db.get(`i!${id}`)
    return seq == null ? undefined : this.#frames.get(`s!${decoder.decode(seq)}`)
  }

  /** Frames in seq order, after `after` and up to `through` (the last written: any past it are a crash's leftovers) */
  async * frames (after: number, through: number): AsyncGenerator<[number, Uint8Array]> {
    if (through <= after) return
    for await (const [key, value] of this.#frames.iterator({ gt: `s!${seqKey(after)}`, lte: `s!${seqKey(through)}` })) {
      yield [Number.parseInt(key.slice(2), 16), value]
    }
  }

  /** Writer identities some entry names */
  async * writers (): AsyncGenerator<string> {
    for await (const key of this.#db.keys(prefixRange('w!'))) yield key.slice(2)
  }

  /** The frames under these sequence numbers (as keys), in their order; those not there are left out */
  async * #framesAt (seqs: string[]): AsyncGenerator<Uint8Array> {
    const found = await this.#frames.getMany(seqs.map(s => `s!${s}`))
    for (const f of found) if (f != null) yield f
  }

  /** Frames of the records under a secondary key prefix (`p!`, `a!`, `k!`), in seq order */
  async * #framesUnder (prefix: string): AsyncGenerator<Uint8Array> {
    let seqs: string[] = []
    for await (const key of this.#db.keys(prefixRange(`${prefix}${SEP}`))) {
      seqs.push(key.slice(-SEQ_DIGITS))
      if (seqs.length >= 256) {
        yield * this.#framesAt(seqs)
        seqs = []
      }
    }
    if (seqs.length > 0) yield * this.#framesAt(seqs)
  }

  framesByPublisher (publisher: string): AsyncGenerator<Uint8Array> {
    return this.#framesUnder(`p!${publisher}`)
  }

  framesByApp (appId: string): AsyncGenerator<Uint8Array> {
    return this.#framesUnder(`a!${appId}`)
  }

  framesByKind (kind: string): AsyncGenerator<Uint8Array> {
    return this.#framesUnder(`k!${kind}`)
  }

  /** Frames of each publisher's newest release of an app (on a channel, an architecture) */
  async * latestFrames (query: LatestQuery): AsyncGenerator<Uint8Array> {
    for await (const { frame } of this.latestSlots(query)) yield frame
  }

  /**
   * Each publisher's newest release of an app (on a channel, an architecture), with the key and
   * time the index files it under: what the live set needs to know of it without decoding it
   */
  async * latestSlots (query: LatestQuery): AsyncGenerator<LatestSlot> {
    let prefix = 'l!'
    if (query.appId != null) {
      prefix += `${query.appId}${SEP}`
      if (query.channel != null) {
        prefix += `${query.channel}${SEP}`
        if (query.arch != null) prefix += `${query.arch}${SEP}`
      }
    }
    let batch: SlotAt[] = []
    for await (const [key, value] of this.#db.iterator(prefixRange(prefix))) {
      // what the prefix could not name (a channel or arch without what comes before it in the key): filtered here
      const [, channel, arch, publisher] = key.split(SEP)
      if ((query.channel != null && channel !== query.channel) || (query.arch != null && arch !== query.arch)) continue
      const latest = JSON.parse(decoder.decode(value)) as Latest
      batch.push({ publisher: publisher!, time: latest.t, seq: seqKey(latest.s) })
      if (batch.length >= 256) {
        yield * this.#slotsAt(batch)
        batch = []
      }
    }
    if (batch.length > 0) yield * this.#slotsAt(batch)
  }

  async * #slotsAt (batch: SlotAt[]): AsyncGenerator<LatestSlot> {
    const found = await this.#frames.getMany(batch.map(b => `s!${b.seq}`))
    for (const [i, frame] of found.entries()) {
      if (frame != null) yield { publisher: batch[i]!.publisher, time: batch[i]!.time, frame }
    }
  }
}
