import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { createOrbitDB, Identities, KeyStore, MemoryStorage, useAccessController } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import { RegistryStoppedError } from '../errors.ts'
import { assertKindInLog, hublessAccessController, logSpec, MEDIA_LOG, RECORDS_LOG, WITNESS_LOG } from './access-controller.ts'
import type { HublessAccessController, LogSpec } from './access-controller.ts'
import { checkRegistryName, DATABASE_TYPE, DEFAULT_REGISTRY_NAME, registryAddress } from './address.ts'
import { Appender, REFERENCES_COUNT } from './appender.ts'
import { blockWriter, openLogStorage } from './index-storage.ts'
import { DEFAULT_LIVE_SET_THRESHOLD, LiveRecords, liveSetFrames, MAX_LIVE_SET_SERVES } from './live-set.ts'
import { decodeFrame } from './record-frame.ts'
import { RegistryPins } from './pins.ts'
import { RecordIndex } from './record-index.ts'
import type { RecordQuery } from './record-index.ts'
import { RecordStore } from './record-store.ts'
import type { LatestQuery, LoggedRecord, RecordPosition } from './record-store.ts'
import { DEFAULT_SNAPSHOT_THRESHOLD, SnapshotPolicy } from './snapshot-policy.ts'
import { DEFAULT_ANNOUNCE_INTERVAL, LogSync } from './sync.ts'
import { loadWriterIdentity } from './writer-identity.ts'
import type { PublishManyOptions, RecordsOptions, Registry, RegistryComponents, RegistryEvents, RegistryInit, RegistryStatus } from '../index.ts'
import type { PublisherKey } from '../records/ed25519.ts'
import type { SignOptions } from '../records/signed.ts'
import type { SignedRecord, UnsignedRecord } from '../records/types.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { AccessControllerType, EventsDatabase, OrbitDB } from '@orbitdb/core'

const log = logger('hubless:registry:log')

let registered = false

/** Make `/hubless/…` manifests openable by address too (by tools that open the database by its address) */
function registerAccessControllerType (): void {
  if (registered) return
  for (const spec of [RECORDS_LOG, WITNESS_LOG, MEDIA_LOG]) {
    const type: AccessControllerType = Object.assign(() => hublessAccessController({ accepted () {}, rejected () {} }, undefined, spec), { type: spec.type })
    useAccessController(type)
  }
  registered = true
}

/** What a registry is made of, once open */
interface Parts {
  orbitdb: OrbitDB
  db: EventsDatabase
  index: RecordIndex
  pins: RegistryPins
  snapshots: SnapshotPolicy
  sync: LogSync
  appender: Appender
  store: RecordStore
}

/**
 * The registry: a façade over its parts. The log is OrbitDB's; `RecordIndex` holds its records
 * (record-index.ts), `LogSync` meets the neighbours' logs (sync.ts), `SnapshotPolicy` decides
 * when to take a neighbour's log in bulk (snapshot-policy.ts), `Appender` writes (appender.ts),
 * and `RegistryPins` keeps what must survive garbage collection (pins.ts).
 */
class OrbitRegistry extends TypedEventEmitter<RegistryEvents> implements Registry {
  readonly name: string
  address = ''
  #parts!: Parts
  #stopped = false
  #rejected = 0
  #lastSync: number | undefined
  /** records of a neighbour's live set that the log does not hold yet */
  readonly #live = new LiveRecords()

  /** which log this is: the registry's records, or the witness log */
  readonly #spec: LogSpec

  constructor (name: string, spec: LogSpec) {
    super()
    this.name = name
    this.#spec = spec
  }

  async open (components: RegistryComponents, init: RegistryInit): Promise<void> {
    registerAccessControllerType()
    const node = components.node
    const directory = init.directory ?? join(node.directory ?? '.', 'registry')
    const stopped = (): boolean => this.#stopped
    const address = await registryAddress(this.name, this.#spec.log)
    const writer = await loadWriterIdentity(node.helia, directory)
    // our writer key lives in writer.key; OrbitDB's own key store would only cost a LevelDB
    const identities = await Identities({ keystore: await KeyStore({ storage: await MemoryStorage() }), ipfs: node.helia })
    const orbitdb = await createOrbitDB({ ipfs: node.helia, identity: writer, identities, directory })
    const coveredHeads = new Set<string>()
    // a SnapshotPolicy and LogSync announce through each other; `sync` is set before either runs
    let sync: LogSync | undefined
    let index!: RecordIndex
    let access!: HublessAccessController
    let db: EventsDatabase
    let storage: Awaited<ReturnType<typeof openLogStorage>>
    let store: RecordStore
    try {
      storage = await openLogStorage(directory, address, coveredHeads)
      store = new RecordStore(storage.index.records, storage.index.frames)
      index = new RecordIndex({
        store,
        // where versions before the index moved into LevelDB kept it
        legacyFile: join(directory, `${address.split('/').pop()}.records`),
        stopped,
        onRecord: record => {
          this.#live.entered(record.id)
          this.#dispatch('record', record)
        },
        onReplicated: () => { sync?.announceSoon() }
      })
      db = await orbitdb.open(this.name, {
        type: DATABASE_TYPE,
        referencesCount: REFERENCES_COUNT,
        // no heads taken in before our join is in front of OrbitDB's (below): a far-ahead head
        // exchanged during the open would be walked entry by entry instead of going through a snapshot
        sync: false,
        indexStorage: storage.indexStorage,
        headsStorage: storage.headsStorage,
        AccessController: hublessAccessController({
          accepted: (hash, record, entry) => { index.accepted(hash, record, entry) },
          rejected: (hash, error) => { this.#onRejected(hash, error) }
        }, ac => { access = ac }, this.#spec)
      })
    } catch (err) {
      await orbitdb.stop().catch(() => {})
      throw err
    }
    this.address = db.address
    const pins = new RegistryPins({ pins: node.helia.pins, holdGc: node.content?.holdGc?.bind(node.content), pinMany: node.content?.pinMany?.bind(node.content), stopped })
    try {
      await index.load(db.log, access)
    } catch (err) {
      await orbitdb.stop().catch(() => {})
      throw err
    }
    const joinEntry = db.log.joinEntry.bind(db.log)
    const putBlocks = blockWriter(node)
    const onRejected = (hash: string, error: Error): void => { this.#onRejected(hash, error) }
    const snapshots = new SnapshotPolicy({
      libp2p: node.helia.libp2p, db, access, index, logIndex: storage.index, indexStorage: storage.indexStorage,
      pins, putBlocks, joinEntry, onRejected, threshold: init.snapshotThreshold ?? DEFAULT_SNAPSHOT_THRESHOLD, stopped,
      // nothing supersedes a witness or a media record: only the registry log has a live set
      ...(this.#spec.log === 'records'
        ? {
            liveSet: {
              store,
              threshold: init.liveSetThreshold ?? DEFAULT_LIVE_SET_THRESHOLD,
              maxServes: init.liveSetServes ?? MAX_LIVE_SET_SERVES,
              onRecords: records => { for (const record of this.#live.add(records)) this.#dispatch('record', record) },
              onDone: result => { this.#dispatch('live', result) }
            }
          }
        : {})
    })
    const appender = new Appender({
      helia: node.helia, db, access, index, pins, logIndex: storage.index, indexStorage: storage.indexStorage, coveredHeads,
      writer, putBlocks, joinEntry, announceSoon: () => { sync?.announceSoon() }, stopped, check: options => { this.#check(options) }
    })
    sync = new LogSync({
      helia: node.helia, db, index, snapshots, appends: appender.chain, joinEntry,
      announceInterval: init.announceInterval ?? DEFAULT_ANNOUNCE_INTERVAL, stopped
    })
    this.#parts = { orbitdb, db, index, pins, snapshots, sync, appender, store }
    sync.start()
    await snapshots.start()

    db.events.on('update', this.#onUpdate)
    db.events.on('join', this.#onJoin)
    db.events.on('leave', this.#onLeave)
    db.events.on('error', this.#onError)
    await db.sync.start()
    sync.meetSubscribers()
    // entries a snapshot or a batch brought, and the writer identities entries name, are pinned
    // after the fact; a stop may have cut that short, and an unpinned block would be lost to the
    // next garbage collection (an identity block: peers asking this one could no longer check the
    // entries that name it): check them all again, behind
    void pins.inBackground(index.blocks())
    log('opened %s at %s with %d records', this.name, this.address, index.size)
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
    this.#dispatch('rejected', { entry: hash, error })
  }

  #dispatch<K extends keyof RegistryEvents> (type: K, detail: RegistryEvents[K] extends CustomEvent<infer D> ? D : never): void {
    try {
      this.dispatchEvent(new CustomEvent(type, { detail }))
    } catch (err) {
      log.error('listener for %s threw - %e', type, err)
    }
  }

  readonly #onUpdate = (): void => { this.#parts.index.scheduleFlush() }

  readonly #onJoin = (peerId: unknown): void => {
    this.#lastSync = Date.now()
    const peer = String(peerId)
    this.#dispatch('peer', { peer, joined: true })
    this.#dispatch('synced', { peer })
  }

  readonly #onLeave = (peerId: unknown): void => {
    this.#dispatch('peer', { peer: String(peerId), joined: false })
  }

  readonly #onError = (err: unknown): void => {
    log('sync error - %e', err)
  }

  #check (options?: AbortOptions): void {
    if (this.#stopped) throw new RegistryStoppedError('the registry was stopped; open it again')
    options?.signal?.throwIfAborted()
  }

  async append (signed: SignedRecord, options?: AbortOptions): Promise<SignedRecord> {
    this.#check(options)
    assertKindInLog(this.#spec, signed.record)
    return this.#parts.appender.append(signed, options)
  }

  async publish (record: UnsignedRecord, key: PublisherKey, options?: AbortOptions & SignOptions): Promise<SignedRecord> {
    this.#check(options)
    assertKindInLog(this.#spec, record)
    return this.#parts.appender.publish(record, key, options)
  }

  async publishMany (records: UnsignedRecord[], key: PublisherKey, options?: PublishManyOptions): Promise<SignedRecord[]> {
    this.#check(options)
    for (const record of records) assertKindInLog(this.#spec, record)
    return this.#parts.appender.publishMany(records, key, options)
  }

  async * records (options?: RecordsOptions): AsyncGenerator<SignedRecord> {
    this.#check(options)
    for await (const record of this.#parts.index.records(options?.after)) {
      options?.signal?.throwIfAborted()
      yield record
    }
  }

  async * entries (options?: RecordsOptions): AsyncGenerator<LoggedRecord> {
    this.#check(options)
    for await (const entry of this.#parts.index.logged(options?.after)) {
      options?.signal?.throwIfAborted()
      yield entry
    }
  }

  position (): RecordPosition {
    return this.#parts.index.position()
  }

  async * find (query: RecordQuery, options?: AbortOptions): AsyncGenerator<SignedRecord> {
    this.#check(options)
    for await (const record of this.#parts.index.find(query)) {
      options?.signal?.throwIfAborted()
      yield record
    }
    // a neighbour's live set, until its records enter the log: after the log's, having no place in its order yet
    yield * this.#live.matching(query)
  }

  async * latest (query: LatestQuery, options?: AbortOptions): AsyncGenerator<SignedRecord> {
    this.#check(options)
    for await (const record of this.#parts.index.latest(query)) {
      options?.signal?.throwIfAborted()
      yield record
    }
  }

  async * liveSet (options?: AbortOptions): AsyncGenerator<SignedRecord> {
    this.#check(options)
    if (this.#spec.log !== 'records') return
    for await (const frame of liveSetFrames(this.#parts.store)) {
      options?.signal?.throwIfAborted()
      yield decodeFrame(frame).signed
    }
  }

  async get (id: string, options?: AbortOptions): Promise<SignedRecord | undefined> {
    this.#check(options)
    return await this.#parts.index.get(id) ?? this.#live.get(id)
  }

  async has (id: string, options?: AbortOptions): Promise<boolean> {
    this.#check(options)
    return await this.get(id, options) != null
  }

  async status (options?: AbortOptions): Promise<RegistryStatus> {
    this.#check(options)
    const { db, index, appender } = this.#parts
    const heads = await db.log.heads()
    const status: RegistryStatus = {
      name: this.name,
      address: this.address,
      records: index.size,
      heads: heads.map(h => h.hash!),
      peers: [...db.sync.peers],
      identity: appender.identity,
      rejected: this.#rejected
    }
    if (this.#live.size > 0) status.live = this.#live.size
    const lastSync = Math.max(this.#lastSync ?? 0, index.lastSync ?? 0)
    if (lastSync > 0) status.lastSync = lastSync
    return status
  }

  async pinsSettled (options?: AbortOptions): Promise<void> {
    this.#check(options)
    // entries that arrive while this waits join the queue, and are waited for too
    await this.#parts.pins.settled(options)
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    const { orbitdb, db, index, pins, snapshots, sync, appender } = this.#parts
    sync.stop()
    db.events.off('update', this.#onUpdate)
    db.events.off('join', this.#onJoin)
    db.events.off('leave', this.#onLeave)
    db.events.off('error', this.#onError)
    await snapshots.stop()
    await appender.chain.idle()
    await index.serial.idle()
    await pins.idle()
    // the next open checks pins from here on, unless some were missed
    if (pins.complete) await index.pinsChecked().catch(err => { log.error('recording the pins failed - %e', err) })
    await orbitdb.stop()
    log('stopped %s', this.name)
  }
}

export async function openRegistry (components: RegistryComponents, init: RegistryInit, options?: AbortOptions): Promise<Registry> {
  const name = init.name ?? DEFAULT_REGISTRY_NAME
  checkRegistryName(name)
  options?.signal?.throwIfAborted()
  const registry = new OrbitRegistry(name, logSpec(init.log))
  await registry.open(components, init)
  if (options?.signal?.aborted === true) {
    await registry.stop()
    options.signal.throwIfAborted()
  }
  return registry
}
