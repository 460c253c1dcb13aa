/**
 * @packageDocumentation
 *
 * The hubless network node: libp2p (TCP, WebSockets, noise, yamux, gossipsub, identify, ping,
 * opt-in mDNS, a bootstrap list that is empty by default) and Helia (bitswap, LevelDB
 * blockstore and datastore) under one data directory, with a content API (UnixFS add/cat, pins,
 * garbage collection, CAR export/import), a verified fetch that falls back to HTTP trustless
 * gateways, a trustless-gateway HTTP handler for serving what the node holds, and HTTP answers
 * with byte ranges (206, multipart/byteranges) for the files it holds.
 *
 * Nothing reaches outside the machine unless configured: the default listen address is
 * 127.0.0.1, there are no default bootstrap peers, routers or gateways, and mDNS is off.
 */

import { startNode } from './node.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { AbortOptions, Libp2p, PeerId, PeerInfo } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Helia } from '@helia/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TypedEventTarget } from 'main-event'
import type { CID } from 'multiformats/cid'
import type { ProgressEvent, ProgressOptions } from 'progress-events'
import type { RangedFile } from './file-response.ts'

export * from './errors.ts'
export { createGatewayHandler } from './gateway-handler.ts'
export type { GatewayHandler, GatewayHandlerInit } from './gateway-handler.ts'
export { fixedSizeChunker } from './chunker.ts'
export { type ContentDefinedLayoutInit, contentDefinedLayout, DAG_LAYOUT, DAG_LAYOUT_VERSION } from './dag-layout.ts'
export { dagAllowance } from './fetch.ts'
export { LEVEL_OPEN_FILES } from './data-dir.ts'
export { type ByteRange, ifRangeAllows, parseRange } from './byte-ranges.ts'
export { type FileResponseInit, openUnixfsFile, type RangedFile, sendRangedFile } from './file-response.ts'

/** The libp2p services every hubless node runs. OrbitDB reads `libp2p.services.pubsub`. */
export type NodeServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
}

/** The Helia instance of a node, with its libp2p typed. Give it to OrbitDB as `ipfs`. */
export interface NodeHelia extends Helia {
  libp2p: Libp2p<NodeServices>
}

export interface NodeInit {
  /**
   * Holds the node key (`peer.key`, mode 0600), the blockstore (small blocks in LevelDB under
   * `blocks/`, blocks of 64 KiB and more as files under `block-files/`) and the datastore (`datastore/`).
   */
  directory: string
  /** Multiaddrs to listen on. Default `['/ip4/127.0.0.1/tcp/0']`. Add `/ip4/…/tcp/…/ws` for WebSockets. */
  listen?: string[]
  /** Multiaddrs to announce instead of the listen addresses. */
  announce?: string[]
  /** libp2p bootstrap list: multiaddrs with /p2p/, dialled once at start (after 1 s). Default: none. */
  bootstrap?: string[]
  /** Peers to dial now and re-dial every `redialInterval` while not connected, until stop. Default: none. */
  peers?: string[]
  /** How often `peers` are re-dialled when not connected, in ms. Default 10 000. */
  redialInterval?: number
  /** Find peers on the local network by mDNS (multicast). Default false. */
  lan?: boolean
  /** How often mDNS queries, in ms. Default 10 000. */
  mdnsInterval?: number
  /** Connection limit. Default 100. */
  maxConnections?: number
  /** Per-dial timeout in ms. Default 10 000. */
  dialTimeout?: number
  /** Gossipsub heartbeat in ms. Default 1000. */
  pubsubHeartbeatInterval?: number
  /** HTTP trustless gateways `content.fetch` falls back to when no options are given. Default none. */
  gateways?: string[]
  /** How long `content.fetch` waits for peers to deliver a block before trying gateways, in ms. Default 5000. */
  providerTimeout?: number
}

export interface NodeEvents {
  'peer:connect': CustomEvent<PeerId>
  'peer:disconnect': CustomEvent<PeerId>
  'peer:discovery': CustomEvent<PeerInfo>
}

/** Turns a stream of file bytes into chunks, each of which becomes one UnixFS leaf. */
export type Chunker = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>

/** Bytes, a stream of bytes, or the path of a file to read. */
export type AddSource = Uint8Array | AsyncIterable<Uint8Array> | string

export interface ByteProgress {
  bytes: number
  /** Known when the size is known in advance (bytes, files, cat of a UnixFS file). */
  total?: number
}

export type ContentProgressEvents = ProgressEvent<'hubless:content:bytes', ByteProgress>

export interface AddOptions extends AbortOptions, ProgressOptions<ContentProgressEvents> {
  /** Default: fixed-size chunks of 1 MiB. */
  chunker?: Chunker
  /** Pin the result so that `gc()` keeps it. Default true. */
  pin?: boolean
  /**
   * The chunks of an iterable source are buffers of this add's own (never used by the caller
   * again): each is freed once written, not when the garbage collector gets to it. Always so for
   * a file path.
   */
  ownBuffers?: boolean
}

export interface CatOptions extends AbortOptions, ProgressOptions<ContentProgressEvents> {
  offset?: number
  length?: number
  /** Only read local blocks; a missing block throws ContentNotFoundError instead of asking peers. */
  offline?: boolean
}

export interface PinOptions extends AbortOptions, ProgressOptions<ProgressEvent<'hubless:pin:block', CID>> {}

export interface PinManyOptions extends AbortOptions {
  /**
   * The caller stored these blocks itself and wants none of what they may link to (a log's
   * entries, whose links nothing follows): each root is pinned as one block without being read
   * back, and none is returned
   */
  leaves?: boolean
}

export interface GcOptions extends AbortOptions, ProgressOptions<ProgressEvent<'hubless:gc:deleted', CID>> {}

export interface GcResult {
  /** Blocks removed. */
  removed: number
}

export interface ExportCarOptions extends AbortOptions {
  /**
   * Default true: export local blocks only, a missing one ends the stream with ContentNotFoundError.
   * With false, the DAG is first pinned (fetching missing blocks from peers).
   */
  offline?: boolean
}

export interface ImportCarOptions extends AbortOptions, ProgressOptions<ProgressEvent<'hubless:car:block', CID>> {}

/** Where a block came from: `'local'`, `'peers'` (bitswap) or the URL of the gateway. */
export type BlockSource = string

export interface FetchedBlock {
  cid: CID
  bytes: number
  source: BlockSource
}

export interface SourceFailure {
  cid: CID
  source: BlockSource
  error: Error
}

export type FetchProgressEvents =
  | ProgressEvent<'hubless:fetch:block', FetchedBlock>
  | ProgressEvent<'hubless:fetch:source-failed', SourceFailure>

export interface FetchOptions extends AbortOptions, ProgressOptions<FetchProgressEvents> {
  /** Trustless gateways to try, in order, when peers do not deliver. Default: `NodeInit.gateways`. */
  gateways?: string[]
  /** How long to wait for peers per block before going to the gateways, in ms. Default: `NodeInit.providerTimeout`. */
  providerTimeout?: number
  /** Per-request timeout for a gateway, in ms. Default 30 000. */
  gatewayTimeout?: number
  /** Pin the DAG once it is complete. Default false. */
  pin?: boolean
  /**
   * Stop with `ContentTooLargeError` once the DAG's blocks (local ones included, file bytes and
   * the nodes linking them) add up to more than this many bytes. Default: no limit.
   */
  maxBytes?: number
}

/** A local file that shares blocks with a file being fetched: the installed version of an app */
export interface FileSeed {
  path: string
  /**
   * The CID the file had when it was written (an installed release). While the blockstore holds
   * that DAG's nodes and the file has its size, they say where its leaves lie: the file is not
   * cut again, leaves it lacks are fetched at once, and each leaf copied from it is still hashed.
   */
  root?: CID | string
  /**
   * the chunker the fetched file was added with: only chunks cut at the same places can match
   * (not called when `root` says where the leaves lie)
   */
  chunker: Chunker
  /**
   * Where the chunker will cut this file (each chunk's end, ascending), when known before
   * reading it: leaves of a size no chunk has are then fetched while the seed is read.
   */
  cuts?: number[]
}

export type FetchFileProgressEvents =
  | FetchProgressEvents
  /** bytes of the seed read */
  | ProgressEvent<'hubless:fetch:seed', ByteProgress>
  /** bytes of the written file hashed (SHA-256), the last step */
  | ProgressEvent<'hubless:fetch:hash', ByteProgress>

export interface FetchFileOptions extends Omit<FetchOptions, 'pin' | 'onProgress'>, ProgressOptions<FetchFileProgressEvents> {
  /**
   * read first, for the leaves it holds; a promise is awaited while the DAG's nodes load (working
   * out where a large seed's chunks are cut takes as long as fetching them), and `undefined` means none
   */
  seed?: FileSeed | Promise<FileSeed | undefined>
}

export interface FetchResult {
  cid: CID
  blocks: number
  bytes: number
  /** Blocks received per source. */
  sources: Record<BlockSource, number>
  /** Every failure met on the way (skipped gateways, peers that timed out), in order. */
  errors: Error[]
}

export interface FetchFileResult extends FetchResult {
  /** bytes of the file written */
  size: number
  /** SHA-256 of the file written, hex */
  sha256: string
}

export interface Content {
  /** Adds a file as UnixFS (CIDv1, raw leaves). */
  add (source: AddSource, options?: AddOptions): Promise<CID>
  /**
   * Pins many roots, each over its DAG, in batches: those whose block is held here and links to
   * nothing (log entries); returns the others, for `pin` one by one. With `leaves`, every root is
   * pinned as one block, unread.
   */
  pinMany (cids: Array<CID | string>, options?: PinManyOptions): Promise<CID[]>
  /** Streams a UnixFS file (or raw block), from local blocks or peers. */
  cat (cid: CID | string, options?: CatOptions): AsyncIterable<Uint8Array>
  /**
   * A UnixFS file (or raw block) held here, for reading any byte range of it (HTTP `Range`
   * answers): local blocks only, its leaves read straight from the node's store.
   */
  openFile (cid: CID | string, options?: AbortOptions): Promise<RangedFile>
  /** `cat` collected into one buffer. */
  get (cid: CID | string, options?: CatOptions): Promise<Uint8Array>
  /** Whether the block itself is in the local blockstore. */
  has (cid: CID | string, options?: AbortOptions): Promise<boolean>
  /** Pins the whole DAG (fetching missing blocks from peers). Idempotent. */
  pin (cid: CID | string, options?: PinOptions): Promise<void>
  /** Idempotent. */
  unpin (cid: CID | string, options?: AbortOptions): Promise<void>
  isPinned (cid: CID | string, options?: AbortOptions): Promise<boolean>
  /** Deletes every block that no pin holds, once every hold taken before ({@link holdGc}) has ended. */
  gc (options?: GcOptions): Promise<GcResult>
  /**
   * Keeps garbage collection from starting until the returned function is called: for work that
   * stores blocks now and pins them later ({@link putBlocks}). Waits for a collection that runs.
   */
  holdGc (options?: AbortOptions): Promise<() => void>
  exportCar (cid: CID | string, options?: ExportCarOptions): AsyncIterable<Uint8Array>
  /** Verifies every block against its CID before storing it; returns the CAR's roots. */
  importCar (source: Uint8Array | AsyncIterable<Uint8Array>, options?: ImportCarOptions): Promise<CID[]>
  /**
   * Stores many blocks at once: each is checked against its CID (`BlockVerificationError`, and
   * nothing is stored), then all are written at once (the small ones in one LevelDB batch, the
   * large ones as files). Unlike `helia.blockstore.putMany`
   * it neither asks the store whether it holds each block nor tells bitswap peers about it, and
   * it pins nothing: for bulk imports that nobody is waiting for block by block (a registry
   * snapshot), which pin what they keep afterwards.
   */
  putBlocks (blocks: Iterable<{ cid: CID, bytes: Uint8Array }>, options?: AbortOptions): Promise<void>
  /** Fetches the whole DAG, verified block by block, from local store, peers, then gateways. */
  fetch (cid: CID | string, options?: FetchOptions): Promise<FetchResult>
  /**
   * Fetches the UnixFS file `cid` into the file `path` (created or truncated), every byte verified
   * against a CID: leaves found in `options.seed` or the blockstore are not fetched, gateways are
   * asked for byte ranges of the file (many leaves a request; block by block from a gateway that
   * serves no ranges). The DAG's nodes and the leaves that came over HTTP are kept in the
   * blockstore, unpinned, so that an interrupted fetch resumes; the seed's leaves are not stored.
   */
  fetchFile (cid: CID | string, path: string, options?: FetchFileOptions): Promise<FetchFileResult>
}

export interface HublessNode {
  readonly peerId: PeerId
  readonly directory: string
  readonly libp2p: Libp2p<NodeServices>
  readonly helia: NodeHelia
  readonly content: Content
  readonly events: TypedEventTarget<NodeEvents>
  /** Listen addresses with `/p2p/<peer id>`, as strings. */
  getMultiaddrs (): string[]
  /** Dials a peer by multiaddr (with or without `/p2p/`) and returns its peer id. */
  dial (ma: string | Multiaddr, options?: AbortOptions): Promise<PeerId>
  /** Stops libp2p and Helia and closes the databases. Idempotent. */
  stop (): Promise<void>
}

/** Opens the data directory and returns a started node. */
export async function createNode (init: NodeInit, options: AbortOptions = {}): Promise<HublessNode> {
  return startNode(init, options)
}
