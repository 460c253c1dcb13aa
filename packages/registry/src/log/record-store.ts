import type { SignedRecord } from '../records/types.ts'

/**
 * Where the record index lives: keys in a sublevel of the log's index LevelDB (the database
 * OrbitDB keeps the log's entry index in, index-storage.ts), so that reopening reads only the
 * keys a question needs. Sequence numbers count entries in the order they entered this peer's
 * log, as 12 hex digits so that keys sort in that order.
 *
 *   s!<seq>                               frame (record-frame.ts) of every entry
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
}

/**
 * The layout this version writes: 2 since frames may point into their entry for the record
 * (record-frame.ts). It reads 1 as well (it only adds to what 1 holds); a hubless that knows
 * only 1 would misread a compact frame, so it is told by the number, and one newer than this is refused.
 */
export const INDEX_FORMAT = 2
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
export function latestKey (record: { appId: string, channel: string, arch: string, publisher: string }): string {
  return `l!${record.appId}${SEP}${record.channel}${SEP}${record.arch}${SEP}${record.publisher}`
}

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

export class RecordStore {
  readonly #db: RecordDb

  constructor (db: RecordDb) {
    this.#db = db
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
  }

  async write (ops: BatchOp[]): Promise<void> {
    if (ops.length > 0) await this.#db.batch(ops)
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
    return seq == null ? undefined : this.#db.get(`s!${decoder.decode(seq)}`)
  }

  /** Frames in seq order, after `after` */
  async * frames (after = 0): AsyncGenerator<[number, Uint8Array]> {
    for await (const [key, value] of this.#db.iterator({ gt: `s!${seqKey(after)}`, lt: 's"' })) {
      yield [Number.parseInt(key.slice(2), 16), value]
    }
  }

  /** Writer identities some entry names */
  async * writers (): AsyncGenerator<string> {
    for await (const key of this.#db.keys(prefixRange('w!'))) yield key.slice(2)
  }

  /** Frames of the records under a secondary key prefix (`p!`, `a!`, `k!`), in seq order */
  async * #framesUnder (prefix: string): AsyncGenerator<Uint8Array> {
    let seqs: string[] = []
    const flush = async function * (db: RecordDb): AsyncGenerator<Uint8Array> {
      const frames = await db.getMany(seqs.map(s => `s!${s}`))
      seqs = []
      for (const f of frames) if (f != null) yield f
    }
    for await (const key of this.#db.keys(prefixRange(`${prefix}${SEP}`))) {
      seqs.push(key.slice(-SEQ_DIGITS))
      if (seqs.length >= 256) yield * flush(this.#db)
    }
    if (seqs.length > 0) yield * flush(this.#db)
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
    let prefix = 'l!'
    if (query.appId != null) {
      prefix += `${query.appId}${SEP}`
      if (query.channel != null) {
        prefix += `${query.channel}${SEP}`
        if (query.arch != null) prefix += `${query.arch}${SEP}`
      }
    }
    let seqs: string[] = []
    const flush = async function * (db: RecordDb): AsyncGenerator<Uint8Array> {
      const frames = await db.getMany(seqs.map(s => `s!${s}`))
      seqs = []
      for (const f of frames) if (f != null) yield f
    }
    for await (const [key, value] of this.#db.iterator(prefixRange(prefix))) {
      // what the prefix could not name (a channel or arch without what comes before it in the key): filtered here
      const [, channel, arch] = key.split(SEP)
      if ((query.channel != null && channel !== query.channel) || (query.arch != null && arch !== query.arch)) continue
      seqs.push(seqKey((JSON.parse(decoder.decode(value)) as Latest).s))
      if (seqs.length >= 256) yield * flush(this.#db)
    }
    if (seqs.length > 0) yield * flush(this.#db)
  }
}
