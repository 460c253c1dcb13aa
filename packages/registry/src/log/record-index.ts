import { logger } from '@libp2p/logger'
import { IndexFormatError } from '../errors.ts'
import { heldEntries } from './held-entries.ts'
import { cachedEntryFields } from './entry-proof.ts'
import { legacyFrames, removeLegacyFile } from './legacy-record-file.ts'
import { decodeFrame, encodeFrame, frameHeader } from './record-frame.ts'
import { emptyMeta, INDEX_FORMAT, latestKey, newEpoch } from './record-store.ts'
import { setBounded } from './bounded-map.ts'
import { Serial } from './serial.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { CachedEntry } from './record-frame.ts'
import type { BatchOp, IndexMeta, LatestQuery, LoggedRecord, RecordPosition, RecordStore } from './record-store.ts'
import type { SignedRecord } from '../records/types.ts'
import type { Log, LogEntry } from '@orbitdb/core'

const log = logger('hubless:registry:index')

/** accepted entries waiting to be seen in the log, at most */
const MAX_PENDING = 200_000
/** entries written to LevelDB in one batch */
const WRITE_CHUNK = 1_000
/** records kept decoded in memory (the last asked for) */
const RECORD_CACHE = 4_096
/** hashes of the last entries indexed, kept in memory (a new entry's parents are usually among them) */
const RECENT_ENTRIES = 16_384
/** writer identities known to be written, kept in memory */
const KNOWN_WRITERS = 4_096

type IndexedLog = Pick<Log, 'has' | 'heads' | 'get' | 'storage'>

export interface RecordIndexInit {
  store: RecordStore
  /** the record cache file of older versions, read once into the index and removed */
  legacyFile: string
  stopped (): boolean
  /** a record entered the index */
  onRecord (record: SignedRecord): void
  /** replicated records were added: time to announce the heads */
  onReplicated (): void
}

export type Candidate = CachedEntry & { deps: string[] }

export type RecordQuery = { publisher: string } | { appId: string } | { kind: SignedRecord['record']['kind'] }

/**
 * Every record of the log, in the order it entered this peer's log, by id, entry hash,
 * publisher, app and kind, and each publisher's newest release per app, channel and arch: keys
 * in LevelDB (record-store.ts), with only bounded caches in memory. Entries enter only once
 * everything they point to has (so that the index stays closed under ancestry), through one
 * chain of writes (`serial`).
 */
export class RecordIndex {
  /** accepted by the access controller, not yet seen in the log */
  readonly #pending = new Map<string, { record: SignedRecord, clock: number, deps: string[] }>()
  readonly #records = new Map<string, SignedRecord>()
  readonly #recent = new Map<string, true>()
  readonly #writers = new Map<string, true>()
  #meta: IndexMeta = emptyMeta()
  /** the last sequence number whose record (if any) was handed to `onRecord` */
  #delivered = 0
  /** pins were checked up to here when the index was opened */
  #pinnedAtOpen = 0
  #flushQueued = false
  /** ms since epoch of the last record taken in */
  lastSync: number | undefined
  /** index writes, one after another */
  readonly serial = new Serial(err => { log.error('updating the record index failed - %e', err) })
  readonly #init: RecordIndexInit
  #log!: IndexedLog

  constructor (init: RecordIndexInit) {
    this.#init = init
  }

  /**
   * Open the index: read its counts, upgrade an older data dir (its record cache file), and take
   * in from the log what the index lacks (entries a crash left out), walking back from the log's
   * heads only as far as the index holds. Entries accepted meanwhile wait as pending.
   */
  async load (orbitLog: IndexedLog, access: Pick<HublessAccessController, 'check'>): Promise<void> {
    this.#log = orbitLog
    const { store, legacyFile } = this.#init
    const meta = await store.meta()
    if (meta != null && !(meta.format <= INDEX_FORMAT)) {
      throw new IndexFormatError(`the record index in this data dir has layout ${String(meta.format)}, written by a newer hubless; this version reads layouts up to ${INDEX_FORMAT}. Run the newer hubless, or use another --data-dir.`)
    }
    // before anything reads a frame: an older layout's are among the keys
    const moved = await store.moveFrames()
    if (moved > 0) log('moved %d frames into their own database', moved)
    if (meta == null) await this.#upgrade(legacyFile)
    else {
      // the next write says this version's layout: frames may be compact, and are in their own database
      this.#meta = { ...meta, format: INDEX_FORMAT, epoch: meta.epoch ?? newEpoch() }
      await removeLegacyFile(legacyFile)
    }
    this.#delivered = this.#meta.seq
    this.#pinnedAtOpen = this.#meta.pinnedThrough
    const heads = await orbitLog.heads()
    if (heads.length === 0 && this.#meta.entries > 0) {
      log('the log is empty but the record index holds %d entries: clearing it', this.#meta.entries)
      await store.clear()
      this.#meta = emptyMeta()
      this.#delivered = 0
      return
    }
    const present = await store.hasEntries(heads.map(h => h.hash!))
    const missing = heads.filter((_, i) => !present[i]).map(h => h.hash!)
    if (missing.length > 0) await this.#catchUp(missing, access)
  }

  /** Read an older version's record cache file into the index, then remove it */
  async #upgrade (path: string): Promise<void> {
    let upgraded = 0
    for await (const frames of legacyFrames(path)) {
      for (let i = 0; i < frames.length; i += WRITE_CHUNK) {
        const items = frames.slice(i, i + WRITE_CHUNK).map(f => decodeFrame(f))
        const known = await this.#init.store.hasEntries(items.map(f => f.entryHash))
        await this.#write(items.filter((_, j) => !known[j]))
        upgraded += items.length
      }
    }
    // an empty index is written too, so that the next open knows this data dir is upgraded
    await this.#init.store.write([this.#init.store.metaOp(this.#meta)])
    await removeLegacyFile(path)
    if (upgraded > 0) log('upgraded the record cache file: %d entries into the record index', upgraded)
  }

  /** Index the entries of the log that the index lacks, behind `heads` (in clock order, parents first) */
  async #catchUp (heads: string[], access: Pick<HublessAccessController, 'check'>): Promise<void> {
    const seen = new Set<string>()
    const found: Array<{ hash: string, clock: number }> = []
    let frontier = heads
    while (frontier.length > 0) {
      const unseen = [...new Set(frontier)].filter(h => !seen.has(h))
      for (const h of unseen) seen.add(h)
      const present = await this.#init.store.hasEntries(unseen)
      const next: string[] = []
      for (let i = 0; i < unseen.length; i++) {
        if (present[i] === true) continue
        const entry = await this.#log.get(unseen[i]!)
        if (entry == null) continue
        found.push({ hash: unseen[i]!, clock: entry.clock.time })
        next.push(...entry.next, ...entry.refs)
      }
      frontier = next
    }
    log('the record index lacks %d entries of the log: taking them in', found.length)
    found.sort((a, b) => a.clock - b.clock)
    for (let i = 0; i < found.length; i += WRITE_CHUNK) {
      const candidates: Candidate[] = []
      for (const { hash } of found.slice(i, i + WRITE_CHUNK)) {
        const entry = await this.#log.get(hash)
        const bytes = await this.#log.storage.get(hash)
        if (entry == null || bytes == null) continue
        candidates.push({ entryHash: hash, signed: await access.check(entry), entry: bytes, deps: [...entry.next, ...entry.refs] })
      }
      await this.#commitChunk(candidates)
    }
  }

  /** the access controller accepted a replicated entry, which OrbitDB is about to add to the log */
  accepted (hash: string, record: SignedRecord, entry: LogEntry): void {
    if (this.#pending.size < MAX_PENDING) this.#pending.set(hash, { record, clock: entry.clock.time, deps: [...entry.next, ...entry.refs] })
  }

  /** the entry is in the index (so its whole ancestry is) */
  async containsEntry (hash: string): Promise<boolean> {
    if (this.#recent.has(hash)) return true
    const [present] = await this.#init.store.hasEntries([hash])
    return present === true
  }

  /** for each hash, {@link containsEntry}, in one LevelDB read for those not indexed lately */
  async containsEntries (hashes: string[]): Promise<boolean[]> {
    return heldEntries(hashes, h => this.#recent.has(h), async ask => this.#init.store.hasEntries(ask))
  }

  get entries (): number {
    return this.#meta.entries
  }

  get size (): number {
    return this.#meta.records
  }

  async get (id: string): Promise<SignedRecord | undefined> {
    const cached = this.#records.get(id)
    if (cached != null) return cached
    const frame = await this.#init.store.frameOf(id)
    if (frame == null) return undefined
    // a copy: a LevelDB value may be a piece of a larger buffer, which the cache would keep
    const { signed } = decodeFrame(frame.slice())
    setBounded(this.#records, RECORD_CACHE, id, signed)
    return signed
  }

  /**
   * Where `records()` has reached: every record up to it is in the index and was handed to
   * `onRecord` (a listener attached before it was taken has seen or will read all later ones)
   */
  position (): RecordPosition {
    return { index: this.#meta.epoch ?? '', seq: this.#delivered }
  }

  /**
   * every record, in the order it entered the log (each once, at its first entry), read from
   * LevelDB as the caller goes; after `after` if it is a position of this index, else from the start
   */
  async * records (after?: RecordPosition): AsyncGenerator<SignedRecord> {
    for await (const [, frame] of this.#init.store.frames(this.#from(after), this.#meta.seq)) {
      const decoded = decodeFrame(frame)
      if (!decoded.duplicate) yield decoded.signed
    }
  }

  /** every entry after `after` with its position and record, those that repeat a record included */
  async * logged (after?: RecordPosition): AsyncGenerator<LoggedRecord> {
    const index = this.#meta.epoch ?? ''
    for await (const [seq, frame] of this.#init.store.frames(this.#from(after), this.#meta.seq)) {
      yield { position: { index, seq }, signed: decodeFrame(frame).signed }
    }
  }

  /** the sequence number a read after `after` starts past: 0 for a position of another index */
  #from (after: RecordPosition | undefined): number {
    return after != null && after.index === this.#meta.epoch && Number.isSafeInteger(after.seq) && after.seq >= 0 && after.seq <= this.#meta.seq ? after.seq : 0
  }

  /** the records of a publisher, of an app (releases and yanks) or of a kind, in the order they entered the log */
  async * find (query: RecordQuery): AsyncGenerator<SignedRecord> {
    const { store } = this.#init
    const frames = 'publisher' in query ? store.framesByPublisher(query.publisher) : 'appId' in query ? store.framesByApp(query.appId) : store.framesByKind(query.kind)
    for await (const frame of frames) yield decodeFrame(frame).signed
  }

  /** each publisher's newest release (by its time) of an app, per channel and arch, or on the channel and arch asked */
  async * latest (query: LatestQuery): AsyncGenerator<SignedRecord> {
    for await (const frame of this.#init.store.latestFrames(query)) yield decodeFrame(frame).signed
  }

  /** the bytes of every entry, in the order they entered the log (what a snapshot serves) */
  async * entryBytes (): AsyncGenerator<Uint8Array> {
    for await (const { entry } of this.entriesAfter(0)) yield entry
  }

  /**
   * The entries after sequence number `after` (0: all), in the order they entered the log, with
   * their sequence numbers: the index only grows at its end, so a range of sequence numbers,
   * once written, never changes (what a snapshot's pieces can be cut by)
   */
  async * entriesAfter (after: number): AsyncGenerator<{ seq: number, entryHash: string, entry: Uint8Array }> {
    for await (const [seq, frame] of this.#init.store.frames(after, this.#meta.seq)) {
      const { entryHash, entry } = frameHeader(frame)
      yield { seq, entryHash, entry }
    }
  }

  /** the sequence number of the last entry written */
  get lastSeq (): number {
    return this.#meta.seq
  }

  /** the entries indexed since pins were last checked to the end, and every writer identity entries name (to pin again at open) */
  async * blocks (): AsyncGenerator<string> {
    for await (const [, frame] of this.#init.store.frames(this.#pinnedAtOpen, this.#meta.seq)) yield frameHeader(frame).entryHash
    yield * this.#init.store.writers()
  }

  /** Every entry indexed so far is pinned: the next open need not check them again */
  async pinsChecked (): Promise<void> {
    await this.serial.run(async () => {
      this.#meta.pinnedThrough = this.#meta.seq
      await this.#init.store.write([this.#init.store.metaOp(this.#meta)])
    })
  }

  /** OrbitDB added entries to the log: take in the pending ones that arrived, one flush queued at a time */
  scheduleFlush (): void {
    if (this.#flushQueued) return
    this.#flushQueued = true
    void this.serial.run(async () => {
      this.#flushQueued = false
      await this.#flushPending()
    }).catch(() => {})
  }

  /** Replicated records that reached the log, in clock order */
  async #flushPending (): Promise<void> {
    const candidates: Array<Candidate & { clock: number }> = []
    for (const [hash, { record, clock, deps }] of [...this.#pending]) {
      if (this.#init.stopped()) return
      if (this.#recent.has(hash)) {
        this.#pending.delete(hash)
      } else if (await this.#log.has(hash)) {
        candidates.push({ entryHash: hash, signed: record, clock, deps })
      }
    }
    candidates.sort((a, b) => a.clock - b.clock)
    if ((await this.commit(candidates)).length > 0) this.#init.onReplicated()
  }

  /**
   * Write entries that are in the log to the index and announce their records. An entry goes only
   * once everything it points to is indexed, parents before children, so that the index stays
   * closed under ancestry even while a later join is half written; the rest wait as pending.
   * Call through `serial`.
   */
  async commit (candidates: Candidate[]): Promise<CachedEntry[]> {
    const added: CachedEntry[] = []
    for (let i = 0; i < candidates.length; i += WRITE_CHUNK) {
      for (const item of await this.#commitChunk(candidates.slice(i, i + WRITE_CHUNK))) added.push(item)
    }
    if (added.length === 0) return added
    this.lastSync = Date.now()
    for (const item of added) this.#init.onRecord(item.signed)
    this.#delivered = this.#meta.seq
    // anything that waited for these
    if (this.#pending.size > 0) this.scheduleFlush()
    return added
  }

  async #commitChunk (candidates: Candidate[]): Promise<CachedEntry[]> {
    // which of these entries, and of the entries they point to, the index holds: one read
    const own = new Set(candidates.map(c => c.entryHash))
    const ask = new Set<string>()
    for (const c of candidates) {
      if (!this.#recent.has(c.entryHash)) ask.add(c.entryHash)
      for (const d of c.deps) if (!own.has(d) && !this.#recent.has(d)) ask.add(d)
    }
    const asked = [...ask]
    const answers = await this.#init.store.hasEntries(asked)
    const indexed = new Set(asked.filter((_, i) => answers[i] === true))
    const held = (hash: string): boolean => this.#recent.has(hash) || indexed.has(hash)
    const added: CachedEntry[] = []
    const batch = new Set<string>()
    for (const c of candidates) {
      if (held(c.entryHash) || batch.has(c.entryHash)) {
        this.#pending.delete(c.entryHash)
        continue
      }
      if (!c.deps.every(d => held(d) || batch.has(d))) {
        const clock = this.#pending.get(c.entryHash)?.clock ?? 0
        this.#pending.set(c.entryHash, { record: c.signed, clock, deps: c.deps })
        continue
      }
      const entry = c.entry ?? await this.#log.storage.get(c.entryHash)
      if (entry == null) continue
      batch.add(c.entryHash)
      added.push({ entryHash: c.entryHash, signed: c.signed, entry })
    }
    await this.#write(added)
    for (const item of added) this.#pending.delete(item.entryHash)
    return added
  }

  /** Write entries (none of them indexed yet, parents first) in one LevelDB batch */
  async #write (items: CachedEntry[]): Promise<void> {
    if (items.length === 0) return
    const { store } = this.#init
    const ids = [...new Set(items.map(i => i.signed.id))]
    const idAnswers = await store.hasRecords(ids)
    const knownIds = new Set(ids.filter((_, i) => idAnswers[i] === true))
    const releases = items.flatMap(i => i.signed.record.kind === 'release' && !knownIds.has(i.signed.id) ? [latestKey(i.signed.record)] : [])
    const latest = await store.latest([...new Set(releases)])
    const meta = { ...this.#meta }
    const ops: BatchOp[] = []
    for (const item of items) {
      const duplicate = knownIds.has(item.signed.id)
      knownIds.add(item.signed.id)
      const seq = ++meta.seq
      meta.entries++
      if (!duplicate) meta.records++
      const frame = encodeFrame(item, duplicate)
      for (const op of store.entryOps({ seq, entryHash: item.entryHash, frame, ...(duplicate ? {} : { signed: item.signed }) }, latest)) ops.push(op)
      const identity = item.entry == null ? undefined : cachedEntryFields(item.entry, false).identity
      if (identity !== undefined && !this.#writers.has(identity)) {
        ops.push(store.writerOp(identity))
        setBounded(this.#writers, KNOWN_WRITERS, identity, true)
      }
    }
    ops.push(store.metaOp(meta))
    await store.write(ops)
    this.#meta = meta
    for (const item of items) setBounded(this.#recent, RECENT_ENTRIES, item.entryHash, true)
  }
}
