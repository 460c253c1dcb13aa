import { logger } from '@libp2p/logger'
import { Serial } from './serial.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { CachedEntry, RecordCache } from './record-cache.ts'
import type { SignedRecord } from '../records/types.ts'
import type { Log, LogEntry } from '@orbitdb/core'

const log = logger('hubless:registry:log')

/** accepted entries waiting to be seen in the log, at most */
const MAX_PENDING = 200_000

type IndexedLog = Pick<Log, 'has' | 'heads' | 'iterator' | 'storage'>

export interface RecordIndexInit {
  cache: RecordCache
  stopped (): boolean
  /** a record entered the index */
  onRecord (record: SignedRecord): void
  /** replicated records were added: time to announce the heads */
  onReplicated (): void
}

export type Candidate = CachedEntry & { deps: string[] }

/**
 * Every record of the log, in the order it entered this peer's log, by id and by entry hash,
 * kept in memory and in the record cache file (record-cache.ts). Entries enter only once
 * everything they point to has (so that the file stays closed under ancestry), through one
 * chain of writes (`serial`).
 */
export class RecordIndex {
  /** accepted by the access controller, not yet seen in the log */
  readonly #pending = new Map<string, { record: SignedRecord, clock: number, deps: string[] }>()
  readonly #items: CachedEntry[] = []
  readonly #byId = new Map<string, CachedEntry>()
  readonly #byHash = new Set<string>()
  /** writer identities the log's entries name, as the record cache read them */
  #writers = new Set<string>()
  #flushQueued = false
  /** ms since epoch of the last record taken in */
  lastSync: number | undefined
  /** cache writes, one after another */
  readonly serial = new Serial(err => { log.error('updating the record cache failed - %e', err) })
  readonly #init: RecordIndexInit
  #log!: IndexedLog

  constructor (init: RecordIndexInit) {
    this.#init = init
  }

  /**
   * Read the record cache; rebuild it from the log unless it holds every head of the log (see
   * record-cache.ts). Entries accepted before (while OrbitDB opened the log) wait as pending.
   */
  async load (orbitLog: IndexedLog, access: Pick<HublessAccessController, 'check'>): Promise<void> {
    this.#log = orbitLog
    const { cache } = this.#init
    const loaded = await cache.load()
    let items = loaded.items
    this.#writers = loaded.writers
    const hashes = new Set(items.map(i => i.entryHash))
    const heads = await orbitLog.heads()
    if (loaded.torn || heads.some(h => !hashes.has(h.hash!)) || (heads.length === 0 && items.length > 0)) {
      log('record cache (%d records, torn: %s) is behind the log: rebuilding', items.length, loaded.torn)
      const rebuilt: Array<CachedEntry & { clock: number }> = []
      for await (const entry of orbitLog.iterator()) {
        const bytes = await orbitLog.storage.get(entry.hash!)
        if (bytes == null) continue
        rebuilt.push({ entryHash: entry.hash!, signed: await access.check(entry), entry: bytes, clock: entry.clock.time })
        this.#writers.add(entry.identity)
      }
      rebuilt.sort((a, b) => a.clock - b.clock)
      await cache.rewrite(rebuilt)
      items = rebuilt.map(({ entryHash, signed }) => ({ entryHash, signed }))
    }
    for (const item of items) this.#add(item)
  }

  #add (item: CachedEntry): boolean {
    if (this.#byHash.has(item.entryHash)) return false
    this.#byHash.add(item.entryHash)
    // the same record appended twice is two entries but one record
    if (this.#byId.has(item.signed.id)) return true
    // entry bytes live in the cache file, not in memory
    const kept = { entryHash: item.entryHash, signed: item.signed }
    this.#items.push(kept)
    this.#byId.set(item.signed.id, kept)
    return true
  }

  /** the access controller accepted a replicated entry, which OrbitDB is about to add to the log */
  accepted (hash: string, record: SignedRecord, entry: LogEntry): void {
    if (this.#pending.size < MAX_PENDING) this.#pending.set(hash, { record, clock: entry.clock.time, deps: [...entry.next, ...entry.refs] })
  }

  hasEntry (hash: string): boolean {
    return this.#byHash.has(hash)
  }

  get entries (): number {
    return this.#byHash.size
  }

  get size (): number {
    return this.#byId.size
  }

  get (id: string): SignedRecord | undefined {
    return this.#byId.get(id)?.signed
  }

  /** a copy: records arriving while the caller iterates are not included */
  records (): SignedRecord[] {
    return this.#items.map(i => i.signed)
  }

  /** every entry hash, and the writer identities they name (to pin again at open) */
  blocks (): string[] {
    return [...this.#byHash, ...this.#writers]
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
      if (this.#byHash.has(hash)) {
        this.#pending.delete(hash)
      } else if (await this.#log.has(hash)) {
        candidates.push({ entryHash: hash, signed: record, clock, deps })
      }
    }
    candidates.sort((a, b) => a.clock - b.clock)
    if ((await this.commit(candidates)).length > 0) this.#init.onReplicated()
  }

  /**
   * Write entries that are in the log to the cache and announce their records. An entry goes only
   * once everything it points to is cached, parents before children, so that the cache file stays
   * closed under ancestry even while a later join is half written; the rest wait as pending.
   * Call through `serial`.
   */
  async commit (candidates: Candidate[]): Promise<CachedEntry[]> {
    const added: CachedEntry[] = []
    const batch = new Set<string>()
    for (const c of candidates) {
      if (this.#byHash.has(c.entryHash) || batch.has(c.entryHash)) {
        this.#pending.delete(c.entryHash)
        continue
      }
      if (!c.deps.every(d => this.#byHash.has(d) || batch.has(d))) {
        const clock = this.#pending.get(c.entryHash)?.clock ?? 0
        this.#pending.set(c.entryHash, { record: c.signed, clock, deps: c.deps })
        continue
      }
      const entry = c.entry ?? await this.#log.storage.get(c.entryHash)
      if (entry == null) continue
      batch.add(c.entryHash)
      added.push({ entryHash: c.entryHash, signed: c.signed, entry })
    }
    if (added.length === 0) return added
    // the entries are in the log already: the records are announced while the cache file is
    // written (a cache that ends up behind the log is rebuilt from it on open)
    const cached = this.#init.cache.append(added)
    for (const item of added) {
      this.#pending.delete(item.entryHash)
      this.#add(item)
    }
    this.lastSync = Date.now()
    for (const item of added) this.#init.onRecord(item.signed)
    // anything that waited for these
    if (this.#pending.size > 0) this.scheduleFlush()
    await cached
    return added
  }
}
