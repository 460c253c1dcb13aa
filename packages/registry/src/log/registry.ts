import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { createOrbitDB, useAccessController } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import { RegistryStoppedError } from '../errors.ts'
import { encodeSignedRecord, parseSignedRecord, signRecord, verifyRecord } from '../records/signed.ts'
import type { PublisherKey } from '../records/ed25519.ts'
import type { SignOptions } from '../records/signed.ts'
import type { SignedRecord, UnsignedRecord } from '../records/types.ts'
import { ACCESS_CONTROLLER_TYPE, hublessAccessController } from './access-controller.ts'
import { checkRegistryName, DATABASE_TYPE, DEFAULT_REGISTRY_NAME } from './address.ts'
import type { Registry, RegistryComponents, RegistryEvents, RegistryInit, RegistryStatus } from '../index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { AccessControllerType, EventsDatabase, LogEntry, OrbitDB } from '@orbitdb/core'

const log = logger('hubless:registry:log')

let registered = false

/** ms between periodic head announcements */
export const DEFAULT_ANNOUNCE_INTERVAL = 10_000
const ANNOUNCE_DEBOUNCE = 20

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

function wireOf (entry: LogEntry): Uint8Array {
  return (entry.payload as { value: Uint8Array }).value
}

class OrbitRegistry extends TypedEventEmitter<RegistryEvents> implements Registry {
  readonly name: string
  address = ''
  #orbitdb!: OrbitDB
  #db!: EventsDatabase
  #stopped = false
  /** accepted by the access controller, not yet seen in the log */
  readonly #pending = new Map<string, SignedRecord>()
  /** record id -> entry hash; built on first use */
  #index: Map<string, string> | undefined
  #indexing: Promise<Map<string, string>> | undefined
  #lastSync: number | undefined
  #pubsub: { publish (topic: string, data: Uint8Array): Promise<unknown> } | undefined
  #announceTimer: ReturnType<typeof setTimeout> | undefined
  #announceInterval: ReturnType<typeof setInterval> | undefined

  constructor (name: string) {
    super()
    this.name = name
  }

  async open (components: RegistryComponents, init: RegistryInit): Promise<void> {
    registerAccessControllerType()
    const directory = init.directory ?? join(components.node.directory ?? '.', 'registry')
    this.#orbitdb = await createOrbitDB({ ipfs: components.node.helia, id: 'hubless-writer', directory })
    try {
      this.#db = await this.#orbitdb.open(this.name, {
        type: DATABASE_TYPE,
        AccessController: hublessAccessController({
          accepted: (hash, record) => {
            if (this.#pending.size < 200_000) this.#pending.set(hash, record)
          },
          rejected: (hash, error) => {
            this.safeDispatch('rejected', { entry: hash, error })
          }
        })
      })
    } catch (err) {
      await this.#orbitdb.stop().catch(() => {})
      throw err
    }
    this.address = this.#db.address
    this.#db.events.on('update', this.#onUpdate)
    this.#db.events.on('join', this.#onJoin)
    this.#db.events.on('leave', this.#onLeave)
    this.#db.events.on('error', this.#onError)
    this.#pubsub = components.node.helia.libp2p.services.pubsub
    const every = init.announceInterval ?? DEFAULT_ANNOUNCE_INTERVAL
    if (every > 0) {
      this.#announceInterval = setInterval(() => { this.#announceSoon() }, every)
      this.#announceInterval.unref?.()
    }
    log('opened %s at %s', this.name, this.address)
  }

  safeDispatch<K extends keyof RegistryEvents> (type: K, detail: RegistryEvents[K] extends CustomEvent<infer D> ? D : never): void {
    try {
      this.dispatchEvent(new CustomEvent(type, { detail }))
    } catch (err) {
      log.error('listener for %s threw - %e', type, err)
    }
  }

  readonly #onUpdate = (): void => {
    void this.#flushPending().catch(err => { log.error('flushing replicated records failed - %e', err) })
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
    if (this.#stopped || this.#pubsub == null || this.#db.sync.peers.size === 0) return
    for (const head of await this.#db.log.heads()) {
      const bytes = await this.#db.log.storage.get(head.hash!)
      if (bytes != null && !this.#stopped) {
        await this.#pubsub.publish(this.address, bytes).catch((err: unknown) => { log('publish head failed - %e', err) })
      }
    }
  }

  async #flushPending (): Promise<void> {
    let replicated = false
    for (const [hash, record] of [...this.#pending]) {
      if (this.#stopped) return
      if (await this.#db.log.has(hash)) {
        replicated = true
        this.#pending.delete(hash)
        if (this.#index?.has(record.id) === true) continue
        this.#index?.set(record.id, hash)
        this.#lastSync = Date.now()
        this.safeDispatch('record', record)
      }
    }
    if (replicated) this.#announceSoon()
  }

  #check (options?: AbortOptions): void {
    if (this.#stopped) throw new RegistryStoppedError('the registry was stopped; open it again')
    options?.signal?.throwIfAborted()
  }

  async #ensureIndex (options?: AbortOptions): Promise<Map<string, string>> {
    if (this.#index != null) return this.#index
    this.#indexing ??= (async () => {
      const index = new Map<string, string>()
      for await (const entry of this.#db.log.iterator()) {
        const record = await parseSignedRecord(wireOf(entry))
        index.set(record.id, entry.hash!)
      }
      this.#index = index
      return index
    })()
    return raceSignal(this.#indexing, options?.signal)
  }

  async append (signed: SignedRecord, options?: AbortOptions): Promise<SignedRecord> {
    this.#check(options)
    const verified = await verifyRecord(signed)
    const index = await this.#ensureIndex(options)
    if (index.has(verified.id)) return verified
    this.#check(options)
    const hash = await raceSignal(this.#db.add(encodeSignedRecord(verified)), options?.signal)
    if (!index.has(verified.id)) {
      index.set(verified.id, hash)
      this.safeDispatch('record', verified)
    }
    return verified
  }

  async publish (record: UnsignedRecord, key: PublisherKey, options?: AbortOptions & SignOptions): Promise<SignedRecord> {
    return this.append(await signRecord(record, key, options), options)
  }

  async * records (options?: AbortOptions): AsyncGenerator<SignedRecord> {
    this.#check(options)
    for await (const entry of this.#db.log.iterator()) {
      options?.signal?.throwIfAborted()
      // entries reachable from the heads passed the access controller when they joined the log
      yield await parseSignedRecord(wireOf(entry))
    }
  }

  async get (id: string, options?: AbortOptions): Promise<SignedRecord | undefined> {
    this.#check(options)
    const hash = (await this.#ensureIndex(options)).get(id)
    if (hash == null) return undefined
    const entry = await this.#db.log.get(hash)
    return entry == null ? undefined : parseSignedRecord(wireOf(entry))
  }

  async has (id: string, options?: AbortOptions): Promise<boolean> {
    this.#check(options)
    return (await this.#ensureIndex(options)).has(id)
  }

  async status (options?: AbortOptions): Promise<RegistryStatus> {
    this.#check(options)
    const index = await this.#ensureIndex(options)
    const heads = await this.#db.log.heads()
    const status: RegistryStatus = {
      name: this.name,
      address: this.address,
      records: index.size,
      heads: heads.map(h => h.hash!),
      peers: [...this.#db.sync.peers],
      identity: this.#db.identity.hash
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
    await this.#orbitdb.stop()
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
