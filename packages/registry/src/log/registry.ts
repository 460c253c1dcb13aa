import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { ComposedStorage, createOrbitDB, Entry, Identities, KeyStore, LevelStorage, LRUStorage, MemoryStorage, useAccessController } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays/concat'
import { InvalidSignatureError, RegistryStoppedError } from '../errors.ts'
import { encodeSignedRecord, prepareRecord, verifyRecord } from '../records/signed.ts'
import type { PublisherKey } from '../records/ed25519.ts'
import type { SignOptions } from '../records/signed.ts'
import type { SignedRecord, UnsignedRecord } from '../records/types.ts'
import { ACCESS_CONTROLLER_TYPE, hublessAccessController } from './access-controller.ts'
import type { HublessAccessController } from './access-controller.ts'
import { checkRegistryName, DATABASE_TYPE, DEFAULT_REGISTRY_NAME, registryAddress } from './address.ts'
import { openIndexStorage } from './index-storage.ts'
import type { IndexStorage } from './index-storage.ts'
import { entryProofOf } from './entry-proof.ts'
import { chainEntries, headsStorage } from './batch-append.ts'
import { verifyOnThread } from '../codecs/signature-batch.ts'
import { RecordCache } from './record-cache.ts'
import type { CachedEntry } from './record-cache.ts'
import { fetchSnapshot, importSnapshot, serveSnapshot, snapshotProtocol } from './snapshot.ts'
import { identityForKey, loadWriterIdentity } from './writer-identity.ts'
import type { PublishManyOptions, Registry, RegistryComponents, RegistryEvents, RegistryInit, RegistryStatus } from '../index.ts'
import type { AbortOptions, Libp2p, Stream } from '@libp2p/interface'
import type { AccessControllerType, EventsDatabase, Identity, LogEntry, OrbitDB, Storage } from '@orbitdb/core'

const log = logger('hubless:registry:log')

/** ms between periodic head announcements */
export const DEFAULT_ANNOUNCE_INTERVAL = 10_000
/** a head this many Lamport ticks ahead of ours is fetched as a snapshot rather than entry by entry */
export const DEFAULT_SNAPSHOT_THRESHOLD = 64
const ANNOUNCE_DEBOUNCE = 20
/** how long one round of a head's missing parents may take to arrive before its join fails (OrbitDB's own wait is 30 s per entry) */
const ANCESTOR_FETCH_TIMEOUT = 5_000
/** how long a head whose ancestry did not arrive is left alone */
const UNFETCHABLE_BACKOFF = 30_000
/** beyond this many ancestors, OrbitDB's own walk takes over (a snapshot usually came first) */
const MAX_ANCESTOR_PREFETCH = 4_096
/** heads fetched and joined in the background at once; more wait for their next announcement */
const MAX_BACKGROUND_JOINS = 64
const SNAPSHOT_TIMEOUT = 120_000
/**
 * Past entries each new entry names besides its parents (OrbitDB's `refs`; its default is 16).
 * They only let a walk fetch several ancestors per round trip; with 16, they were about half of
 * every entry's bytes, which every peer catching up transfers, hashes, decodes and stores. A gap
 * of up to DEFAULT_SNAPSHOT_THRESHOLD entries is still fetched in about a dozen rounds with 4;
 * longer ones go through a snapshot. Entries from other writers may carry any number.
 */
export const REFERENCES_COUNT = 4
/** records a `publishMany` batch signs, writes and joins at once */
export const DEFAULT_BATCH_SIZE = 1_000

let registered = false

/** Make `/hubless/…` manifests openable by address too (by tools that open the database by its address) */
function registerAccessControllerType (): void {
  if (registered) return
  const type: AccessControllerType = Object.assign(() => hublessAccessController({ accepted () {}, rejected () {} }), { type: ACCESS_CONTROLLER_TYPE })
  useAccessController(type)
  registered = true
}

async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return promise
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort!)
  }
}

/** OrbitDB's path join (utils/path-join.js), to find the index directory it uses */
function orbitPathJoin (...paths: string[]): string {
  return paths.join('/').replace(/((?<=\/)\/+)|(^\.\/)|((?<=\/)\.\/)/g, '') || '.'
}

class OrbitRegistry extends TypedEventEmitter<RegistryEvents> implements Registry {
  readonly name: string
  address = ''
  #orbitdb!: OrbitDB
  #db!: EventsDatabase
  #access!: HublessAccessController
  #index!: IndexStorage
  /** what OrbitDB reads: an LRU in front of #index (an entry taken out must leave both) */
  #indexStorage!: Storage
  #libp2p!: Libp2p
  #helia!: RegistryComponents['node']['helia']
  #content: RegistryComponents['node']['content']
  #cache!: RecordCache
  #protocol = ''
  #stopped = false
  /** accepted by the access controller, not yet seen in the log */
  readonly #pending = new Map<string, { record: SignedRecord, clock: number, deps: string[] }>()
  #flushing: Promise<void> = Promise.resolve()
  /** every record in the log, in the order it entered this peer's log */
  readonly #items: CachedEntry[] = []
  readonly #byId = new Map<string, CachedEntry>()
  readonly #byHash = new Set<string>()
  #lastSync: number | undefined
  #rejected = 0
  #announceTimer: ReturnType<typeof setTimeout> | undefined
  #announceInterval: ReturnType<typeof setInterval> | undefined
  #snapshotThreshold = DEFAULT_SNAPSHOT_THRESHOLD
  #snapshotting: Promise<void> | undefined
  readonly #snapshotFailed = new Map<string, number>()
  #joinEntry!: (entry: LogEntry) => Promise<boolean>
  #pinQueue: Promise<void> = Promise.resolve()
  /** heads whose ancestry could not be fetched, and when to try again */
  readonly #unfetchable = new Map<string, number>()
  /** heads being fetched and joined outside OrbitDB's queue */
  readonly #joining = new Set<string>()
  /** the object OrbitDB writes with; its fields are swapped for a publisher's during that publisher's append */
  #writer!: Identity
  #nodeWriter!: Identity
  readonly #publisherIdentities = new Map<string, Promise<Identity>>()
  #appending: Promise<unknown> = Promise.resolve()
  /** heads a batch being joined covers (see batch-append.ts) */
  readonly #coveredHeads = new Set<string>()

  constructor (name: string) {
    super()
    this.name = name
  }

  async open (components: RegistryComponents, init: RegistryInit): Promise<void> {
    registerAccessControllerType()
    const directory = init.directory ?? join(components.node.directory ?? '.', 'registry')
    this.#helia = components.node.helia
    this.#content = components.node.content
    this.#libp2p = components.node.helia.libp2p
    this.#snapshotThreshold = init.snapshotThreshold ?? DEFAULT_SNAPSHOT_THRESHOLD
    const address = await registryAddress(this.name)
    const identity = await loadWriterIdentity(components.node.helia, directory)
    this.#writer = identity
    this.#nodeWriter = { ...identity }
    // our writer key lives in writer.key; OrbitDB's own key store would only cost a LevelDB
    const identities = await Identities({ keystore: await KeyStore({ storage: await MemoryStorage() }), ipfs: components.node.helia })
    this.#orbitdb = await createOrbitDB({ ipfs: components.node.helia, identity, identities, directory })
    try {
      // the same index OrbitDB would create, held here so that its size can be read
      this.#index = await openIndexStorage(orbitPathJoin(orbitPathJoin(directory, `./${address}/`), '/log/_index/'))
      this.#indexStorage = await ComposedStorage(await LRUStorage({ size: 1000 }), this.#index)
      // OrbitDB's own heads storage, behind a filter that a batch append needs (see batch-append.ts)
      const headsPath = orbitPathJoin(orbitPathJoin(directory, `./${address}/`), '/log/_heads/')
      const heads = headsStorage(await ComposedStorage(await LRUStorage({ size: 1000 }), await LevelStorage({ path: headsPath })), this.#coveredHeads)
      this.#db = await this.#orbitdb.open(this.name, {
        type: DATABASE_TYPE,
        referencesCount: REFERENCES_COUNT,
        indexStorage: this.#indexStorage,
        headsStorage: heads,
        AccessController: hublessAccessController({
          accepted: (hash, record, entry) => {
            if (this.#pending.size < 200_000) this.#pending.set(hash, { record, clock: entry.clock.time, deps: [...entry.next, ...entry.refs] })
          },
          rejected: (hash, error) => { this.#onRejected(hash, error) }
        }, ac => { this.#access = ac })
      })
    } catch (err) {
      await this.#orbitdb.stop().catch(() => {})
      throw err
    }
    this.address = this.#db.address
    this.#cache = new RecordCache(join(directory, `${address.split('/').pop()}.records`))
    await this.#loadCache()

    // far-behind heads go through a snapshot first (see snapshot.ts)
    this.#joinEntry = this.#db.log.joinEntry.bind(this.#db.log)
    this.#db.log.joinEntry = async (entry: LogEntry) => {
      await this.#maybeSnapshot(entry)
      if (!(await this.#parentsHere(entry))) {
        // OrbitDB would fetch the missing parents inside the database's only queue (30 s each),
        // holding up every other record; fetch them outside it and join afterwards instead
        this.#joinLater(entry)
        return false
      }
      return this.#joinEntry(entry)
    }
    this.#protocol = snapshotProtocol(this.address)
    await this.#libp2p.handle(this.#protocol, (stream: Stream) => {
      serveSnapshot(stream, this.#cache.entries(), { signal: AbortSignal.timeout(SNAPSHOT_TIMEOUT) })
        .catch(err => { log('serving a snapshot failed - %e', err); stream.abort(err as Error) })
    }, { runOnLimitedConnection: false })

    this.#db.events.on('update', this.#onUpdate)
    this.#db.events.on('join', this.#onJoin)
    this.#db.events.on('leave', this.#onLeave)
    this.#db.events.on('error', this.#onError)
    const every = init.announceInterval ?? DEFAULT_ANNOUNCE_INTERVAL
    if (every > 0) {
      this.#announceInterval = setInterval(() => { this.#announceSoon() }, every)
      this.#announceInterval.unref?.()
    }
    // entries a snapshot brought, and the writer identities entries name, are pinned after the
    // fact; a stop may have cut that short, and an unpinned block would be lost to the next
    // garbage collection (an identity block: peers asking this one could no longer check the
    // entries that name it): check them all again, behind
    this.#pinInBackground([...this.#byHash, ...this.#writers])
    log('opened %s at %s with %d records', this.name, this.address, this.#items.length)
  }

  /** Read the record cache; rebuild it from the log unless it holds every head of the log (see record-cache.ts) */
  async #loadCache (): Promise<void> {
    const loaded = await this.#cache.load()
    let items = loaded.items
    this.#writers = loaded.writers
    const hashes = new Set(items.map(i => i.entryHash))
    const heads = await this.#db.log.heads()
    if (loaded.torn || heads.some(h => !hashes.has(h.hash!)) || (heads.length === 0 && items.length > 0)) {
      log('record cache (%d records, torn: %s) is behind the log: rebuilding', items.length, loaded.torn)
      const rebuilt: Array<CachedEntry & { clock: number }> = []
      for await (const entry of this.#db.log.iterator()) {
        const bytes = await this.#db.log.storage.get(entry.hash!)
        if (bytes == null) continue
        rebuilt.push({ entryHash: entry.hash!, signed: await this.#access.check(entry), entry: bytes, clock: entry.clock.time })
        this.#writers.add(entry.identity)
      }
      rebuilt.sort((a, b) => a.clock - b.clock)
      await this.#cache.rewrite(rebuilt)
      items = rebuilt.map(({ entryHash, signed }) => ({ entryHash, signed }))
    }
    for (const item of items) this.#add(item)
  }

  /** writer identities the log's entries name, as the record cache read them (see #loadCache) */
  #writers = new Set<string>()

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

  /**
   * Never silent: an entry that older peers accepted and this one refuses (a rule tightened
   * since) stops replication of what follows it in this peer's log, and an operator must be able
   * to see that (`DEBUG=hubless:*:error`, the `rejected` event, `status().rejected`).
   */
  #onRejected (hash: string | undefined, error: Error): void {
    // a writer identity not fetched yet is asked again later, not refused
    if (!('transient' in error)) this.#rejected++
    log.error('refused entry %s: %s - %s', hash ?? '(new)', error.name, error.message)
    this.safeDispatch('rejected', { entry: hash, error })
  }

  safeDispatch<K extends keyof RegistryEvents> (type: K, detail: RegistryEvents[K] extends CustomEvent<infer D> ? D : never): void {
    try {
      this.dispatchEvent(new CustomEvent(type, { detail }))
    } catch (err) {
      log.error('listener for %s threw - %e', type, err)
    }
  }

  #flushQueued = false
  readonly #onUpdate = (): void => {
    // one flush queued at a time is enough: it looks at everything pending when it runs
    if (this.#flushQueued) return
    this.#flushQueued = true
    void this.#serial(async () => {
      this.#flushQueued = false
      await this.#flushPending()
    }).catch(() => {})
  }

  readonly #onJoin = (peerId: unknown): void => {
    this.#lastSync = Date.now()
    const peer = String(peerId)
    this.safeDispatch('peer', { peer, joined: true })
    this.safeDispatch('synced', { peer })
  }

  readonly #onLeave = (peerId: unknown): void => {
    this.safeDispatch('peer', { peer: String(peerId), joined: false })
  }

  readonly #onError = (err: unknown): void => {
    log('sync error - %e', err)
  }

  async #maxClock (): Promise<number> {
    let max = 0
    for (const head of await this.#db.log.heads()) max = Math.max(max, head.clock.time)
    return max
  }

  /** true when everything `entry` points to is in the log (or it is itself), so OrbitDB's join fetches nothing */
  async #parentsHere (entry: LogEntry): Promise<boolean> {
    if (entry.hash == null || this.#byHash.has(entry.hash)) return true
    for (const hash of [...(entry.next ?? []), ...(entry.refs ?? [])]) {
      if (typeof hash !== 'string') return true
      if (!this.#byHash.has(hash) && !(await this.#db.log.has(hash))) return false
    }
    return true
  }

  /**
   * Fetch a head's missing ancestry in the background (a snapshot when it is long), then join it.
   * The join runs in the append chain, because OrbitDB's log must not join while it appends
   * (an append replaces the heads), and the log's own join queue orders it with replicated joins.
   */
  #joinLater (entry: LogEntry): void {
    const hash = entry.hash
    if (hash == null || this.#joining.has(hash) || this.#stopped) return
    if (this.#joining.size >= MAX_BACKGROUND_JOINS) return
    this.#joining.add(hash)
    void (async () => {
      try {
        if (await this.#fetchAncestors(entry, this.#snapshotThreshold) === 'deep') {
          // a long branch we lack, whatever its clock says (the far side of a partition, another
          // mirror's log): take it in bulk, then fetch whatever the snapshot did not hold
          await this.#snapshotOnce(entry)
          await this.#fetchAncestors(entry)
        }
        if (this.#stopped) return
        const join = this.#appending.then(async () => this.#stopped ? false : this.#joinEntry(entry))
        this.#appending = join.catch(() => {})
        if (await join) this.#onUpdate()
      } catch (err) {
        log('joining %s later failed - %e', hash, err)
      } finally {
        this.#joining.delete(hash)
      }
    })()
  }

  /**
   * Fetch the entries a head points to before OrbitDB's join does, with a short timeout. OrbitDB
   * waits up to 30 s for each missing parent while holding the database's only queue, so one
   * entry with parents nobody holds would stall every later record (local appends included).
   * A head whose ancestry cannot be fetched in time fails fast and is not retried for a while;
   * it is a transient verdict (the next announcement after the back-off tries again), never a
   * rejection, so it splits nothing.
   */
  async #fetchAncestors (head: LogEntry, deepAfter = Number.POSITIVE_INFINITY): Promise<'done' | 'deep'> {
    if (this.#stopped || head.hash == null || this.#byHash.has(head.hash)) return 'done'
    const retryAt = this.#unfetchable.get(head.hash)
    if (retryAt != null && retryAt > Date.now()) throw new Error(`the ancestry of ${head.hash} could not be fetched recently; retrying later`)
    const seen = new Set<string>()
    let frontier = [...(head.next ?? []), ...(head.refs ?? [])]
    let missingCount = 0
    try {
      while (frontier.length > 0 && seen.size < MAX_ANCESTOR_PREFETCH) {
        const missing: string[] = []
        for (const hash of frontier) {
          if (typeof hash !== 'string' || seen.has(hash)) continue
          seen.add(hash)
          if (!this.#byHash.has(hash) && !(await this.#db.log.has(hash))) missing.push(hash)
        }
        missingCount += missing.length
        if (missingCount > deepAfter) return 'deep'
        // the bound is per round of parents, so a long but live ancestry keeps going
        const signal = AbortSignal.timeout(ANCESTOR_FETCH_TIMEOUT)
        const fetched = await Promise.all(missing.map(async hash => {
          const chunks: Uint8Array[] = []
          for await (const chunk of this.#helia.blockstore.get(CID.parse(hash, base58btc), { signal })) chunks.push(chunk)
          return Entry.decode(concat(chunks))
        }))
        frontier = fetched.flatMap(e => [...(e.next ?? []), ...(e.refs ?? [])])
      }
      this.#unfetchable.delete(head.hash)
      return 'done'
    } catch (err) {
      if (this.#unfetchable.size > 10_000) this.#unfetchable.clear()
      this.#unfetchable.set(head.hash, Date.now() + UNFETCHABLE_BACKOFF)
      log('could not fetch the ancestry of %s - %e', head.hash, err)
      throw err
    }
  }

  /** Before OrbitDB walks a far-ahead head entry by entry, take a neighbour's snapshot in bulk */
  async #maybeSnapshot (entry: LogEntry): Promise<void> {
    if (this.#stopped || entry.hash == null || this.#byHash.has(entry.hash)) return
    if (typeof entry.clock?.time !== 'number' || entry.clock.time - await this.#maxClock() < this.#snapshotThreshold) return
    await this.#snapshotOnce(entry)
  }

  async #snapshotOnce (entry: LogEntry): Promise<void> {
    this.#snapshotting ??= this.#snapshot(entry).finally(() => { this.#snapshotting = undefined })
    await this.#snapshotting
  }

  async #snapshot (target: LogEntry): Promise<void> {
    const peers = this.#libp2p.getConnections().map(c => c.remotePeer)
      .filter((p, i, all) => all.findIndex(q => q.equals(p)) === i)
      .filter(p => this.#db.sync.peers.has(p.toString()) && (this.#snapshotFailed.get(p.toString()) ?? 0) < Date.now())
    for (const peer of peers) {
      if (this.#stopped) return
      // no garbage collection from the first block stored until the last one kept is pinned
      const releaseGc = await this.#content?.holdGc?.()
      let pinned: Promise<void> = Promise.resolve()
      try {
        const started = Date.now()
        // checked while it arrives; written once all of it has arrived and been checked
        const signal = AbortSignal.timeout(SNAPSHOT_TIMEOUT)
        const entries = fetchSnapshot(this.#libp2p, peer, this.#protocol, { signal })
        const empty = this.#byHash.size === 0 && (await this.#db.log.heads()).length === 0
        const result = await importSnapshot(entries, {
          logId: this.address,
          empty,
          access: this.#access,
          has: async hash => this.#byHash.has(hash) || await this.#db.log.has(hash),
          putBlocks: async blocks => { await this.#putBlocks(blocks) },
          // what OrbitDB's join writes for each entry it takes in, in one batch
          index: async hashes => { await this.#index.putMany(hashes, true) },
          unindex: async hashes => {
            for (const h of hashes) await this.#indexStorage.del(h)
          },
          joinEntry: this.#joinEntry,
          onRejected: (hash, error) => { this.#onRejected(hash, error) }
        })
        const added = await this.#serial(async () => this.#commit(result.imported))
        pinned = this.#pinInBackground(added.map(i => i.entryHash))
        log('snapshot from %p: %d new records (%d rejected) in %d ms', peer, added.length, result.rejected, Date.now() - started)
        if (target.hash != null && this.#byHash.has(target.hash)) return
      } catch (err) {
        // do not ask this peer again for a minute; OrbitDB's own join carries on
        this.#snapshotFailed.set(peer.toString(), Date.now() + 60_000)
        log('snapshot from %p failed - %e', peer, err)
      } finally {
        void pinned.finally(() => { releaseGc?.() })
      }
    }
  }

  async pinsSettled (options?: AbortOptions): Promise<void> {
    this.#check(options)
    // entries that arrive while this waits join the queue, and are waited for too
    let queue: Promise<void> | undefined
    while (queue !== this.#pinQueue) {
      queue = this.#pinQueue
      await raceSignal(queue, options?.signal)
    }
  }

  /** OrbitDB pins the entries it joins, so that garbage collection spares them; snapshot entries are pinned after the fact */
  #pinInBackground (hashes: string[]): Promise<void> {
    this.#pinQueue = this.#pinQueue.then(async () => {
      for (const hash of hashes) {
        if (this.#stopped) return
        const cid = CID.parse(hash, base58btc)
        try {
          if (!(await this.#helia.pins.isPinned(cid))) {
            for await (const _ of this.#helia.pins.add(cid)) { /* drain */ }
          }
        } catch (err) {
          log('pinning %s failed - %e', hash, err)
        }
      }
    })
    return this.#pinQueue
  }

  /**
   * Re-announce our heads on the pubsub topic. OrbitDB publishes an entry only from the peer that
   * wrote it and exchanges heads only when a peer subscribes, so a record that arrives at a
   * relay before its next hop joined the gossip mesh would wait for the next write. Announcing
   * after taking in replicated records (and every `announceInterval`) carries records across
   * hops; peers that hold the heads already ignore them.
   */
  #announceSoon (): void {
    if (this.#announceTimer != null || this.#stopped) return
    this.#announceTimer = setTimeout(() => {
      this.#announceTimer = undefined
      void this.#announce().catch(err => { log('announcing heads failed - %e', err) })
    }, ANNOUNCE_DEBOUNCE)
    this.#announceTimer.unref?.()
  }

  async #announce (): Promise<void> {
    if (this.#stopped || this.#db.sync.peers.size === 0) return
    const pubsub = this.#helia.libp2p.services.pubsub
    for (const head of await this.#db.log.heads()) {
      const bytes = await this.#db.log.storage.get(head.hash!)
      if (bytes != null && !this.#stopped) {
        await pubsub.publish(this.address, bytes).catch((err: unknown) => { log('publish head failed - %e', err) })
      }
    }
  }

  /** Run cache writes one after another */
  async #serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#flushing.then(fn)
    this.#flushing = run.then(() => {}, err => { log.error('updating the record cache failed - %e', err) })
    return run
  }

  /**
   * Write entries that are in the log to the cache and announce their records. An entry goes only
   * once everything it points to is cached, parents before children, so that the cache file stays
   * closed under ancestry even while a later join is half written; the rest wait in `#pending`.
   * Call through `#serial`.
   */
  async #commit (candidates: Array<CachedEntry & { deps: string[] }>): Promise<CachedEntry[]> {
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
      const entry = c.entry ?? await this.#db.log.storage.get(c.entryHash)
      if (entry == null) continue
      batch.add(c.entryHash)
      added.push({ entryHash: c.entryHash, signed: c.signed, entry })
    }
    if (added.length === 0) return added
    // the entries are in the log already: the records are announced while the cache file is
    // written (a cache that ends up behind the log is rebuilt from it on open)
    const cached = this.#cache.append(added)
    for (const item of added) {
      this.#pending.delete(item.entryHash)
      this.#add(item)
    }
    this.#lastSync = Date.now()
    for (const item of added) this.safeDispatch('record', item.signed)
    // anything that waited for these
    if (this.#pending.size > 0) this.#onUpdate()
    await cached
    return added
  }

  /** Replicated records that reached the log, in clock order */
  async #flushPending (): Promise<void> {
    const candidates: Array<CachedEntry & { clock: number, deps: string[] }> = []
    for (const [hash, { record, clock, deps }] of [...this.#pending]) {
      if (this.#stopped) return
      if (this.#byHash.has(hash)) {
        this.#pending.delete(hash)
      } else if (await this.#db.log.has(hash)) {
        candidates.push({ entryHash: hash, signed: record, clock, deps })
      }
    }
    candidates.sort((a, b) => a.clock - b.clock)
    if ((await this.#commit(candidates)).length > 0) this.#announceSoon()
  }

  #check (options?: AbortOptions): void {
    if (this.#stopped) throw new RegistryStoppedError('the registry was stopped; open it again')
    options?.signal?.throwIfAborted()
  }

  async append (signed: SignedRecord, options?: AbortOptions): Promise<SignedRecord> {
    this.#check(options)
    const verified = await verifyRecord(signed, options)
    const known = this.#byId.get(verified.id)
    if (known != null) return known.signed
    if (verified.signature == null) {
      // its proof is an entry of another log (or of this one, which would hold it): in a new entry
      // by this node it would have no signature at all
      throw new InvalidSignatureError(`record ${verified.id} is signed by its entry in ${verified.entry?.id ?? 'a log'}; only a record with its own signature can be appended by another writer`)
    }
    return this.#append(verified, undefined, options)
  }

  /**
   * Append as `writer` (a publisher's identity) or as this node. Appends run one at a time, so
   * that the writer fields OrbitDB reads while it creates the entry belong to one identity.
   */
  async #append (verified: SignedRecord, writer: Identity | undefined, options?: AbortOptions): Promise<SignedRecord> {
    this.#check(options)
    const add = this.#appending.then(async () => {
      Object.assign(this.#writer, writer ?? this.#nodeWriter)
      try {
        return await this.#db.add(encodeSignedRecord(verified))
      } finally {
        Object.assign(this.#writer, this.#nodeWriter)
      }
    })
    this.#appending = add.catch(() => {})
    const hash = await raceSignal(add, options?.signal)
    const entry = await this.#db.log.get(hash)
    if (entry == null) return verified
    const stored = verified.signature == null ? { ...verified, entry: entryProofOf(entry) } : verified
    await this.#serial(async () => this.#commit([{ entryHash: hash, signed: stored, deps: [...entry.next, ...entry.refs] }]))
    return stored
  }

  /**
   * Publish as the record's publisher: the OrbitDB entry is written with `key`, and its signature
   * is the record's (the record carries no second one, see {@link EntryProof}), so every peer
   * checks one signature per record.
   */
  async publish (record: UnsignedRecord, key: PublisherKey, options?: AbortOptions & SignOptions): Promise<SignedRecord> {
    this.#check(options)
    const prepared = await prepareRecord(record, key, options)
    const known = this.#byId.get(prepared.id)
    if (known != null) return known.signed
    return this.#append(prepared, await this.#publisherIdentity(key, options), options)
  }

  async #publisherIdentity (key: PublisherKey, options?: AbortOptions): Promise<Identity> {
    let writer = this.#publisherIdentities.get(key.did)
    if (writer == null) {
      writer = identityForKey(this.#helia, key, options)
      writer.catch(() => { this.#publisherIdentities.delete(key.did) })
      this.#publisherIdentities.set(key.did, writer)
    }
    return writer
  }

  /**
   * `publish` for many records: signed and appended in batches, each batch one chain of entries
   * written as the publisher (see batch-append.ts), its blocks and index in one write each, one
   * join and one announcement. Resolves with the records in the order given.
   */
  async publishMany (records: UnsignedRecord[], key: PublisherKey, options: PublishManyOptions = {}): Promise<SignedRecord[]> {
    this.#check(options)
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE))
    const writer = await this.#publisherIdentity(key, options)
    const out: SignedRecord[] = []
    const written: string[] = []
    // no garbage collection from the first block stored until the last one is pinned; the pins
    // come after the last batch, not beside the batches, whose CPU they would take
    const releaseGc = await this.#content?.holdGc?.(options)
    try {
      for (let i = 0; i < records.length; i += batchSize) {
        this.#check(options)
        const prepared = await Promise.all(records.slice(i, i + batchSize).map(async r => prepareRecord(r, key, options)))
        const run = this.#appending.then(async () => this.#appendChain(prepared, writer, written))
        this.#appending = run.catch(() => {})
        out.push(...await raceSignal(run, options.signal))
        options.onProgress?.({ done: out.length, total: records.length })
      }
    } finally {
      void this.#pinInBackground(written).finally(() => { releaseGc?.() })
    }
    return out
  }

  /** One batch of {@link publishMany}, in the append chain; the hashes of the entries it adds go to `written` */
  async #appendChain (prepared: SignedRecord[], writer: Identity, written: string[]): Promise<SignedRecord[]> {
    const ids = new Set<string>()
    const fresh = prepared.filter(p => !this.#byId.has(p.id) && !ids.has(p.id) && ids.add(p.id))
    if (fresh.length === 0 || this.#stopped) return prepared.map(p => this.#byId.get(p.id)?.signed ?? p)
    const chain = await chainEntries(fresh, { log: this.#db.log, writer, referencesCount: REFERENCES_COUNT })
    // every check a peer makes, here too: nothing is written that a peer would refuse
    const signed = await Promise.all(chain.map(async c => this.#access.check(c.entry, { verify: verifyOnThread, signedEntryBytes: c.signedBytes })))
    const hashes = chain.map(c => c.entry.hash)
    await this.#putBlocks(chain)
    await this.#index.putMany(hashes.slice(0, -1), true)
    for (const h of chain[0]!.entry.next) this.#coveredHeads.add(h)
    try {
      await this.#joinEntry(chain.at(-1)!.entry)
    } catch (err) {
      for (const h of hashes) await this.#indexStorage.del(h)
      throw err
    } finally {
      this.#coveredHeads.clear()
    }
    written.push(...hashes)
    await this.#serial(async () => this.#commit(chain.map((c, i) => ({ entryHash: c.entry.hash, signed: signed[i]!, entry: c.bytes, deps: [...c.entry.next, ...c.entry.refs] }))))
    this.#announceSoon()
    const byId = new Map(fresh.map((p, i) => [p.id, signed[i]!]))
    return prepared.map(p => this.#byId.get(p.id)?.signed ?? byId.get(p.id) ?? p)
  }

  async #putBlocks (blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<void> {
    if (this.#content != null) {
      // one LevelDB batch, without Helia's has + bitswap announcement per block
      await this.#content.putBlocks(blocks)
      return
    }
    for await (const _ of this.#helia.blockstore.putMany(blocks)) { /* drain */ }
  }

  async * records (options?: AbortOptions): AsyncGenerator<SignedRecord> {
    this.#check(options)
    // a copy: records arriving while the caller iterates are not included
    for (const item of this.#items.slice()) {
      options?.signal?.throwIfAborted()
      yield item.signed
    }
  }

  async get (id: string, options?: AbortOptions): Promise<SignedRecord | undefined> {
    this.#check(options)
    return this.#byId.get(id)?.signed
  }

  async has (id: string, options?: AbortOptions): Promise<boolean> {
    this.#check(options)
    return this.#byId.has(id)
  }

  async status (options?: AbortOptions): Promise<RegistryStatus> {
    this.#check(options)
    const heads = await this.#db.log.heads()
    const status: RegistryStatus = {
      name: this.name,
      address: this.address,
      records: this.#byId.size,
      heads: heads.map(h => h.hash!),
      peers: [...this.#db.sync.peers],
      identity: this.#nodeWriter.hash,
      rejected: this.#rejected
    }
    if (this.#lastSync != null) status.lastSync = this.#lastSync
    return status
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearTimeout(this.#announceTimer)
    clearInterval(this.#announceInterval)
    this.#db.events.off('update', this.#onUpdate)
    this.#db.events.off('join', this.#onJoin)
    this.#db.events.off('leave', this.#onLeave)
    this.#db.events.off('error', this.#onError)
    await this.#libp2p.unhandle(this.#protocol).catch(() => {})
    await this.#snapshotting?.catch(() => {})
    await this.#appending
    await this.#flushing
    await this.#pinQueue
    await this.#orbitdb.stop()
    await this.#cache.close()
    log('stopped %s', this.name)
  }
}

export async function openRegistry (components: RegistryComponents, init: RegistryInit, options?: AbortOptions): Promise<Registry> {
  const name = init.name ?? DEFAULT_REGISTRY_NAME
  checkRegistryName(name)
  options?.signal?.throwIfAborted()
  const registry = new OrbitRegistry(name)
  await registry.open(components, init)
  if (options?.signal?.aborted === true) {
    await registry.stop()
    options.signal.throwIfAborted()
  }
  return registry
}
