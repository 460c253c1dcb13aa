import { InvalidSignatureError } from '../errors.ts'
import { verifyOnThread } from '../codecs/signature-batch.ts'
import { encodeSignedRecord, prepareRecord, verifyRecord } from '../records/signed.ts'
import { chainEntries } from './batch-append.ts'
import { entryProofOf } from './entry-proof.ts'
import { raceSignal, Serial } from './serial.ts'
import { identityForKey } from './writer-identity.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { IndexStorage } from './index-storage.ts'
import type { RegistryPins } from './pins.ts'
import type { RecordIndex } from './record-index.ts'
import type { PublishManyOptions, RegistryNode } from '../index.ts'
import type { PublisherKey } from '../records/ed25519.ts'
import type { SignOptions } from '../records/signed.ts'
import type { SignedRecord, UnsignedRecord } from '../records/types.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { EventsDatabase, Identity, LogEntry, Storage } from '@orbitdb/core'
import type { CID } from 'multiformats/cid'

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

export interface AppenderInit {
  helia: RegistryNode['helia']
  db: EventsDatabase
  access: HublessAccessController
  index: RecordIndex
  pins: RegistryPins
  logIndex: IndexStorage
  indexStorage: Storage
  /** heads a batch being joined covers (see batch-append.ts) */
  coveredHeads: Set<string>
  /** the object OrbitDB writes with: its fields are a publisher's during that publisher's append */
  writer: Identity
  putBlocks (blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<void>
  /** OrbitDB's own join */
  joinEntry (entry: LogEntry): Promise<boolean>
  announceSoon (): void
  stopped (): boolean
  /** throws when the registry was stopped or `options.signal` aborted */
  check (options?: AbortOptions): void
}

/** What this peer writes to the log: records signed elsewhere, records it writes as their publisher, and batches of those */
export class Appender {
  /** appends, and joins outside OrbitDB's queue, one at a time (an OrbitDB append replaces the heads) */
  readonly chain = new Serial()
  readonly #nodeWriter: Identity
  readonly #publisherIdentities = new Map<string, Promise<Identity>>()
  readonly #init: AppenderInit

  constructor (init: AppenderInit) {
    this.#init = init
    this.#nodeWriter = { ...init.writer }
  }

  /** the hash of this peer's own writer identity */
  get identity (): string {
    return this.#nodeWriter.hash
  }

  async append (signed: SignedRecord, options?: AbortOptions): Promise<SignedRecord> {
    const verified = await verifyRecord(signed, options)
    const known = await this.#init.index.get(verified.id)
    if (known != null) return known
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
    this.#init.check(options)
    const { db, index } = this.#init
    const add = this.chain.run(async () => {
      Object.assign(this.#init.writer, writer ?? this.#nodeWriter)
      try {
        return await db.add(encodeSignedRecord(verified))
      } finally {
        Object.assign(this.#init.writer, this.#nodeWriter)
      }
    })
    const hash = await raceSignal(add, options?.signal)
    const entry = await db.log.get(hash)
    if (entry == null) return verified
    const stored = verified.signature == null ? { ...verified, entry: entryProofOf(entry) } : verified
    await index.serial.run(async () => index.commit([{ entryHash: hash, signed: stored, deps: [...entry.next, ...entry.refs] }]))
    return stored
  }

  /**
   * Publish as the record's publisher: the OrbitDB entry is written with `key`, and its signature
   * is the record's (the record carries no second one, see {@link EntryProof}), so every peer
   * checks one signature per record.
   */
  async publish (record: UnsignedRecord, key: PublisherKey, options?: AbortOptions & SignOptions): Promise<SignedRecord> {
    const prepared = await prepareRecord(record, key, options)
    const known = await this.#init.index.get(prepared.id)
    if (known != null) return known
    return this.#append(prepared, await this.#publisherIdentity(key, options), options)
  }

  async #publisherIdentity (key: PublisherKey, options?: AbortOptions): Promise<Identity> {
    let writer = this.#publisherIdentities.get(key.did)
    if (writer == null) {
      writer = identityForKey(this.#init.helia, key, options)
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
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE))
    const writer = await this.#publisherIdentity(key, options)
    // no garbage collection from the first block stored until the last one is pinned; the pins
    // come after the last batch, not beside the batches, whose CPU they would take
    return this.#init.pins.holdingGc(async keep => {
      const out: SignedRecord[] = []
      for (let i = 0; i < records.length; i += batchSize) {
        this.#init.check(options)
        const prepared = await Promise.all(records.slice(i, i + batchSize).map(async r => prepareRecord(r, key, options)))
        out.push(...await raceSignal(this.chain.run(async () => this.#appendChain(prepared, writer, keep)), options.signal))
        options.onProgress?.({ done: out.length, total: records.length })
      }
      return out
    }, options)
  }

  /** One batch of {@link publishMany}, in the append chain; the entries it stores go to `keep` */
  async #appendChain (prepared: SignedRecord[], writer: Identity, keep: (blocks: CID[]) => void): Promise<SignedRecord[]> {
    const { access, index } = this.#init
    const ids = new Set<string>()
    const held = await this.#held(prepared, index)
    const fresh = prepared.filter(p => !held.has(p.id) && !ids.has(p.id) && ids.add(p.id))
    if (fresh.length === 0 || this.#init.stopped()) return prepared.map(p => held.get(p.id) ?? p)
    const chain = await chainEntries(fresh, { log: this.#init.db.log, writer, referencesCount: REFERENCES_COUNT })
    // every check a peer makes, here too: nothing is written that a peer would refuse
    const signed = await Promise.all(chain.map(async c => access.check(c.entry, { verify: verifyOnThread, signedEntryBytes: c.signedBytes })))
    const hashes = chain.map(c => c.entry.hash)
    await this.#init.putBlocks(chain)
    await this.#init.logIndex.putMany(hashes.slice(0, -1), true)
    for (const h of chain[0]!.entry.next) this.#init.coveredHeads.add(h)
    try {
      await this.#init.joinEntry(chain.at(-1)!.entry)
    } catch (err) {
      for (const h of hashes) await this.#init.indexStorage.del(h)
      throw err
    } finally {
      this.#init.coveredHeads.clear()
    }
    keep(chain.map(c => c.cid))
    await index.serial.run(async () => index.commit(chain.map((c, i) => ({ entryHash: c.entry.hash, signed: signed[i]!, entry: c.bytes, deps: [...c.entry.next, ...c.entry.refs] }))))
    this.#init.announceSoon()
    const byId = new Map(fresh.map((p, i) => [p.id, signed[i]!]))
    return prepared.map(p => held.get(p.id) ?? byId.get(p.id) ?? p)
  }

  /** the records of `prepared` that the log holds already, as it holds them */
  async #held (prepared: SignedRecord[], index: RecordIndex): Promise<Map<string, SignedRecord>> {
    const held = new Map<string, SignedRecord>()
    for (const p of prepared) {
      const known = await index.get(p.id)
      if (known != null) held.set(p.id, known)
    }
    return held
  }
}
