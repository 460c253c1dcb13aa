/**
 * Declarations for the parts of @orbitdb/core 4 that hubless uses. The package ships no types
 * and @orbitdb/core-types describes OrbitDB 3. Shapes read from @orbitdb/core 4.0.0 src/.
 */
declare module '@orbitdb/core' {
  import type { EventEmitter } from 'node:events'

  export interface IdentitySignatures {
    /** signature of `id` by `publicKey` */
    id: string
    /** signature of `publicKey + signatures.id` by the identity provider's key */
    publicKey: string
  }

  export interface Identity {
    id: string
    /** hex of the (secp256k1, compressed) key that signs this identity's entries */
    publicKey: string
    signatures: IdentitySignatures
    type: string
    /** base58btc CIDv1 of the dag-cbor identity block */
    hash: string
    bytes: Uint8Array
    sign?: (identity: Identity, data: string | Uint8Array) => Promise<string>
    verify?: (signature: string, publicKey: string, data: string | Uint8Array) => Promise<boolean>
  }

  export interface Identities {
    createIdentity (options?: { id?: string }): Promise<Identity>
    verifyIdentity (identity: Identity): Promise<boolean>
    getIdentity (hash: string): Promise<Identity | undefined>
    sign (identity: Identity, data: string | Uint8Array): Promise<string>
    verify (signature: string, publicKey: string, data: string | Uint8Array): Promise<boolean>
    keystore: KeyStoreInstance
  }

  export interface KeyStoreInstance {
    getKey (id: string): Promise<unknown>
    createKey (id: string): Promise<unknown>
    close (): Promise<void>
  }

  export interface Clock { id: string, time: number }

  export interface LogEntry<P = unknown> {
    id: string
    payload: P
    next: string[]
    refs: string[]
    clock: Clock
    v: number
    /** hex public key the entry claims to be signed by */
    key: string
    /** hash of the writer identity the entry names */
    identity: string
    sig: string
    /** absent while an entry is being appended locally */
    hash?: string
  }

  export interface AccessController {
    type: string
    address: string
    canAppend (entry: LogEntry): Promise<boolean>
    close?(): Promise<void>
  }

  export interface AccessControllerInit {
    orbitdb: { identity: Identity, ipfs: unknown }
    identities: Identities
    /** set when opening an existing database by address */
    address?: string
    /** the database name, when creating a manifest */
    name?: string
  }

  export type AccessControllerFactory = (init: AccessControllerInit) => Promise<AccessController>

  /** What `useAccessController` registers: called with no arguments it gives the factory */
  export interface AccessControllerType {
    (): AccessControllerFactory
    type: string
  }

  export interface IteratorOptions { gt?: string, gte?: string, lt?: string, lte?: string, amount?: number }

  export interface Log {
    id: string
    heads (): Promise<LogEntry[]>
    get (hash: string): Promise<LogEntry | undefined>
    has (hash: string): Promise<boolean>
    traverse (rootEntries?: LogEntry[], shouldStop?: (entry: LogEntry) => Promise<boolean> | boolean): AsyncGenerator<LogEntry>
    iterator (options?: IteratorOptions): AsyncGenerator<LogEntry>
    joinEntry (entry: LogEntry): Promise<boolean>
    storage: { get (hash: string): Promise<Uint8Array | undefined> }
  }

  export interface EventsOp { op: 'ADD', key: null, value: unknown }

  export interface EventsDatabase {
    address: string
    name: string
    type: string
    identity: Identity
    log: Log
    sync: { peers: Set<string>, start (): Promise<void>, stop (): Promise<void> }
    /** 'update' (entry), 'join' (peerId, heads), 'leave' (peerId), 'error' (err), 'close' */
    events: EventEmitter
    access: AccessController
    add (value: unknown): Promise<string>
    get (hash: string): Promise<unknown>
    iterator (options?: IteratorOptions): AsyncGenerator<{ hash: string, value: unknown }>
    close (): Promise<void>
    drop (): Promise<void>
  }

  export interface OpenOptions {
    type?: 'events'
    AccessController?: AccessControllerFactory
    referencesCount?: number
    sync?: boolean
    indexStorage?: Storage
    headsStorage?: Storage
  }

  export interface OrbitDB {
    id: string
    identity: Identity
    identities: Identities
    directory: string
    open (address: string, options?: OpenOptions): Promise<EventsDatabase>
    stop (): Promise<void>
  }

  export interface OrbitDBInit {
    ipfs: unknown
    id?: string
    identity?: Identity | { provider: unknown }
    identities?: Identities
    directory?: string
  }

  export function createOrbitDB (init: OrbitDBInit): Promise<OrbitDB>
  export function useAccessController (accessController: AccessControllerType): void
  export function isValidAddress (address: string): boolean

  export const Entry: {
    create (identity: Pick<Identity, 'publicKey' | 'hash'> & { sign?: unknown }, id: string, payload: unknown, encryptPayloadFn?: unknown, clock?: Clock | null, next?: string[], refs?: string[]): Promise<LogEntry>
    verify (identities: Pick<Identities, 'verify'>, entry: LogEntry): Promise<boolean>
    decode (bytes: Uint8Array): Promise<LogEntry & { hash: string }>
    encode (entry: LogEntry): Promise<{ hash: string, bytes: Uint8Array }>
    isEntry (value: unknown): boolean
  }

  export interface Storage<V = unknown> {
    put (key: string, value: V): Promise<void>
    get (key: string): Promise<V | undefined>
    del (key: string): Promise<void>
    iterator (options?: { amount?: number, reverse?: boolean }): AsyncGenerator<[string, V]>
    close (): Promise<void>
  }
  export function LevelStorage (init: { path: string, valueEncoding?: string }): Promise<Storage>
  export function LRUStorage (init?: { size?: number }): Promise<Storage>
  export function MemoryStorage (): Promise<Storage>
  export function ComposedStorage (a: Storage, b: Storage): Promise<Storage>

  /** OrbitDB's stock controller: `write` lists identity ids, or `'*'` for everyone */
  export function IPFSAccessController (init?: { write?: string[] }): AccessControllerFactory

  export function KeyStore (init?: { path?: string, storage?: Storage }): Promise<KeyStoreInstance>
  export function Identities (init: { keystore?: KeyStoreInstance, path?: string, ipfs?: unknown }): Promise<Identities>
}
