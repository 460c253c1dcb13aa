/**
 * @packageDocumentation
 *
 * @hubless/registry: signed release records on a replicated OrbitDB 4 log.
 *
 * - Records (`@hubless/registry/records`, browser-safe, re-exported here): canonical dag-cbor,
 *   ids, did:key Ed25519 signatures, schema validation, the wire envelope and the JSON form.
 * - Keys: the publisher key file in the data dir (mode 0600, optional passphrase).
 * - The log: one OrbitDB `events` database per registry name at an address that depends on the
 *   name alone, open to every writer and guarded by an access controller that accepts exactly
 *   the valid signed records whose writer identity is bound to the entry's signing key.
 * - Holds (`holds(init)(components)`): the `/hubless/holds/1.0.0` protocol a publisher asks
 *   "do you keep these records and pins?" before it calls a release safe elsewhere.
 */

import { openRegistry } from './log/registry.ts'
import type { RecordQuery } from './log/record-index.ts'
import type { LatestQuery, LoggedRecord, RecordPosition } from './log/record-store.ts'
import type { PublisherKey } from './records/ed25519.ts'
import type { SignOptions } from './records/signed.ts'
import type { SignedRecord, UnsignedRecord } from './records/types.ts'
import type { HublessNode } from '@hubless/net'
import type { AbortOptions } from '@libp2p/interface'
import type { TypedEventTarget } from 'main-event'

export * from './records/index.ts'
export {
  ForgedIdentityError, IndexFormatError, InvalidHoldsMessageError, InvalidRegistryNameError, KeyExistsError, KeyFileError, KeyNotFoundError, RegistryStoppedError,
  PeerBusyError, SnapshotRefusedError, SnapshotTimeoutError, WrongPassphraseError
} from './errors.ts'
export { HOLDS_PROTOCOL, askHolds, holds, holdsAll, parseHoldsQuery } from './holds.ts'
export type { HoldsAnswer, HoldsComponents, HoldsInit, HoldsQuery, HoldsService } from './holds.ts'
export { createKeyStore, deserializeKey, serializeKey } from './keys/index.ts'
export type { KeyExportOptions, KeyImportOptions, KeyReadOptions, KeyStore, KeyStoreInit, KeyWriteOptions } from './keys/index.ts'
export { ACCESS_CONTROLLER_ADDRESS, ACCESS_CONTROLLER_TYPE, MEDIA_ACCESS_CONTROLLER_ADDRESS, MEDIA_ACCESS_CONTROLLER_TYPE, WITNESS_ACCESS_CONTROLLER_ADDRESS, WITNESS_ACCESS_CONTROLLER_TYPE } from './log/access-controller.ts'
export type { LogKind } from './log/access-controller.ts'
export { DEFAULT_REGISTRY_NAME, registryAddress } from './log/address.ts'
export { DEFAULT_HEADS_INTERVAL, createHeadsAnnouncer, watchHeads } from './log/heads-announcer.ts'
export type { HeadsAnnouncer, HeadsAnnouncerInit } from './log/heads-announcer.ts'
export type { RecordQuery } from './log/record-index.ts'
export type { LatestQuery, LoggedRecord, RecordPosition } from './log/record-store.ts'

/** What the registry needs of a node: Helia (OrbitDB's `ipfs`, with `libp2p.services.pubsub`) */
export interface RegistryNode {
  helia: HublessNode['helia']
  /** the node's data dir; the registry keeps its OrbitDB state in `<directory>/registry` unless told otherwise */
  directory?: string
  /** a @hubless/net node's bulk block writes, batch pins and garbage-collection hold, for snapshots; without them blocks go through Helia's `putMany` and `pins.add` */
  content?: Pick<HublessNode['content'], 'putBlocks'> & Partial<Pick<HublessNode['content'], 'holdGc' | 'pinMany'>>
}

export interface RegistryComponents {
  node: RegistryNode
}

export interface RegistryInit {
  /** the registry's name; its OrbitDB address depends on it alone. Default `hubless` */
  name?: string
  /** where OrbitDB keeps heads, index and writer keys. Default `<node.directory>/registry` */
  directory?: string
  /** ms between announcements of our heads to the registry's gossip topic (0 = only after taking in new records). Default 10 000 */
  announceInterval?: number
  /** a head this many Lamport ticks ahead of ours, or with more than this many entries we lack behind it, is fetched as a snapshot from a neighbour instead of entry by entry. Default 64 */
  snapshotThreshold?: number
  /**
   * a head this many Lamport ticks ahead of ours first brings a neighbour's live set: every trust
   * record and yank and each publisher's newest release per app, channel and arch, each checked
   * on its own and shown (`record` events, `get`) before the history a snapshot brings after it.
   * Default 4 096; `Infinity` never asks. Only the registry log has one
   */
  liveSetThreshold?: number
  /**
   * live sets served at once; the next asker is refused (`PeerBusyError`) and takes the
   * snapshot alone. Default 4; 0 refuses every asker (the history is still served)
   */
  liveSetServes?: number
  /**
   * `records` (default): the registry log of releases and trust. `witnesses`: the mirrors' witness
   * log, a second OrbitDB database (its own access controller type and address, so its own
   * address, gossip topic and protocols) that admits witness records only. Peers that do not know
   * it never open it, so its entries cannot stop their registry log. See {@link createWitnessLog}.
   */
  log?: 'records' | 'witnesses' | 'media'
}

export interface RegistryStatus {
  name: string
  /** `/orbitdb/zdpu…` */
  address: string
  /** records in the local log */
  records: number
  /** hashes of the log's current heads */
  heads: string[]
  /** peers replicating this registry with us now */
  peers: string[]
  /** hash of this peer's OrbitDB writer identity (entries it appends name it) */
  identity: string
  /** ms since epoch of the last head exchange or replicated record */
  lastSync?: number
  /** entries refused since the registry was opened (each `rejected` event but those for a writer identity not fetched yet) */
  rejected: number
  /** records taken from a neighbour's live set that the log does not hold yet (absent when none): `get` finds them, `records()` not yet */
  live?: number
}

export interface RegistryEvents {
  /**
   * a record entered the local log, by local append or by replication, or came in a neighbour's
   * live set ahead of its history (it is dispatched again when it enters the log)
   */
  record: CustomEvent<SignedRecord>
  /** a neighbour's live set was taken in: its records were dispatched as `record` events; the log's history follows */
  live: CustomEvent<{ peer: string, records: number, rejected: number }>
  /** heads were exchanged with a peer */
  synced: CustomEvent<{ peer: string }>
  /** a peer joined or left replication of this registry */
  peer: CustomEvent<{ peer: string, joined: boolean }>
  /** an entry was refused by the access controller; `error` is a named error (InvalidSignatureError, ForgedIdentityError, …) */
  rejected: CustomEvent<{ entry: string | undefined, error: Error }>
}

export interface RecordsOptions extends AbortOptions {
  /** read only the records that entered the log after this position of `position()` */
  after?: RecordPosition
}

export interface PublishManyOptions extends AbortOptions {
  /** records signed, written and joined at once. Default 1 000 */
  batchSize?: number
  /** after each batch: records appended so far, of `total` */
  onProgress?: (progress: { done: number, total: number }) => void
}

export interface Registry extends TypedEventTarget<RegistryEvents> {
  readonly name: string
  /** the OrbitDB address, `/orbitdb/zdpu…`, equal to `await registryAddress(name)` */
  readonly address: string
  /** verify a record with its own signature and append it to the log as this peer (a no-op if the log holds it); resolves once it is stored locally */
  append (signed: SignedRecord, options?: AbortOptions): Promise<SignedRecord>
  /** append as the record's publisher: the OrbitDB entry is written and signed with `key`, and that signature is the record's (it carries `entry` as its proof, no signature of its own): one check per record on every peer */
  publish (record: UnsignedRecord, key: PublisherKey, options?: AbortOptions & SignOptions): Promise<SignedRecord>
  /**
   * `publish` for many records (an import): signed and appended in batches of `batchSize`, each
   * batch one chain of entries written with `key`, stored in one write and joined and announced
   * once. Resolves with the signed records in the order given (a record the log holds already is
   * returned as it is there)
   */
  publishMany (records: UnsignedRecord[], key: PublisherKey, options?: PublishManyOptions): Promise<SignedRecord[]>
  /**
   * every record of the local log, in the order it entered this peer's log; each was verified when
   * it did. With `after` (a `position()` of this registry's index), only those that entered since
   */
  records (options?: RecordsOptions): AsyncIterable<SignedRecord>
  /**
   * How far `records()` has come: every record up to it was dispatched as a `record` event, so a
   * reader that listens, takes the position, then reads `records({ after })` from a position it
   * saved misses none. A position from another index (or this one before it was rebuilt) is ignored
   */
  position (): RecordPosition
  /**
   * Every entry of the local log after `after`, with its position and the record it carries, in
   * the order they entered: `records()` without skipping an entry that carries a record an earlier
   * one did, so that positions count entries one by one (what a feed's `?after=N` resumes from)
   */
  entries (options?: RecordsOptions): AsyncIterable<LoggedRecord>
  /**
   * The records of one publisher (`{ publisher }`), of one app (`{ appId }`: its releases and
   * yanks) or of one kind (`{ kind }`, any but `release`: the trust records and yanks), in the
   * order they entered this peer's log: a range of the record index, not a scan of the log. Records
   * of a neighbour's live set that the log does not hold yet come after them
   */
  find (query: RecordQuery, options?: AbortOptions): AsyncIterable<SignedRecord>
  /**
   * Each publisher's newest release by the time it claims (the later entry on a tie) of `appId`
   * (without one, of every app), per channel and architecture, or on the `channel` and `arch`
   * asked: a range of the index. It is not the catalog's answer: @hubless/query orders releases
   * by version first and falls back past yanked and revoked ones, which this does not hold
   */
  latest (query: LatestQuery, options?: AbortOptions): AsyncIterable<SignedRecord>
  /**
   * This peer's live set: every trust record and yank, each publisher's newest release per app,
   * channel and arch, and for a slot whose newest is yanked or signed after its key's revocation or
   * rotation, the newest that is not: what a peer
   * far behind is given first (over libp2p, or a mirror's `/api/v1/records/live`). Ranges of the
   * record index; nothing for the witness and media logs
   */
  liveSet (options?: AbortOptions): AsyncIterable<SignedRecord>
  get (id: string, options?: AbortOptions): Promise<SignedRecord | undefined>
  has (id: string, options?: AbortOptions): Promise<boolean>
  status (options?: AbortOptions): Promise<RegistryStatus>
  /**
   * Resolves once every entry of the log is pinned. Entries a snapshot brings in are pinned in
   * the background (and checked again at every open); call this before a garbage collection of
   * the node's blocks, which would delete an unpinned entry.
   */
  pinsSettled (options?: AbortOptions): Promise<void>
  /** close the database (not the node) */
  stop (): Promise<void>
}

/** Open (or create) the registry's OrbitDB log on a started node and replicate it with every peer that has it open */
export async function createRegistry (components: RegistryComponents, init: RegistryInit = {}, options?: AbortOptions): Promise<Registry> {
  return openRegistry(components, init, options)
}

/**
 * Open (or create) the witness log of the registry called `init.name`: where mirrors append
 * signed witness records (`buildWitnessRecord`) and readers that know it replicate them. It is a
 * `Registry` in every other way (publish, records, events, status, stop).
 */
export async function createWitnessLog (components: RegistryComponents, init: Omit<RegistryInit, 'log'> = {}, options?: AbortOptions): Promise<Registry> {
  return openRegistry(components, { ...init, log: 'witnesses' }, options)
}

/**
 * Open (or create) the media log of the registry called `init.name`: where mirrors append signed
 * media records (`buildMediaRecord`: what image an icon or screenshot URL served, archived by
 * CID) and other mirrors replicate them. A log of its own, like the witness log, so that no peer
 * that does not know media records ever sees one.
 */
export async function createMediaLog (components: RegistryComponents, init: Omit<RegistryInit, 'log'> = {}, options?: AbortOptions): Promise<Registry> {
  return openRegistry(components, { ...init, log: 'media' }, options)
}
