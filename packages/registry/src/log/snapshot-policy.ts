import { logger } from '@libp2p/logger'
import { PeerBusyError, SnapshotTimeoutError } from '../errors.ts'
import { fetchSnapshot, importSnapshot, serveSnapshot, snapshotProtocol } from './snapshot.ts'
import { fetchLiveSet, liveSetEntries, liveSetProtocol } from './live-set.ts'
import { fetchManifest, fetchPieces, serveRequest } from './snapshot-exchange.ts'
import { SnapshotPieces } from './snapshot-pieces.ts'
import { importPieces } from './snapshot-stream.ts'
import { snapshotProtocolV2 } from './snapshot-wire.ts'
import type { SnapshotManifest } from './snapshot-wire.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { IndexStorage } from './index-storage.ts'
import type { RegistryPins } from './pins.ts'
import type { RecordIndex } from './record-index.ts'
import type { LiveSetStore } from './live-set.ts'
import type { SignedRecord } from '../records/types.ts'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { EventsDatabase, LogEntry, Storage } from '@orbitdb/core'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:registry:log')

/** a head this many Lamport ticks ahead of ours is fetched as a snapshot rather than entry by entry */
export const DEFAULT_SNAPSHOT_THRESHOLD = 64
const SNAPSHOT_TIMEOUT = 120_000
/** a format-2 request being served is given up after this long */
const SERVE_TIMEOUT = 60_000
/** how long a peer whose snapshot failed is not asked again */
const FAILED_PEER_BACKOFF = 60_000

export interface SnapshotPolicyInit {
  libp2p: Libp2p
  db: EventsDatabase
  access: HublessAccessController
  index: RecordIndex
  logIndex: IndexStorage
  indexStorage: Storage
  pins: RegistryPins
  putBlocks (blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<void>
  /** OrbitDB's own join, not the registry's wrapper */
  joinEntry (entry: LogEntry): Promise<boolean>
  onRejected (hash: string, error: Error): void
  threshold: number
  /**
   * the live set (live-set.ts): served from `store`, and asked for before a snapshot of a head
   * at least `threshold` ticks ahead, its records handed to `onRecords` as they check out.
   * Absent for the witness and media logs, whose records nothing supersedes
   */
  liveSet?: {
    store: LiveSetStore
    threshold: number
    /** live sets served at once */
    maxServes: number
    onRecords (records: SignedRecord[]): void
    onDone (result: { peer: string, records: number, rejected: number }): void
  }
  stopped (): boolean
}

/**
 * When to take a neighbour's whole log in bulk instead of entry by entry, from whom, and serving
 * ours: a head far ahead of ours, or a long branch we lack, goes through one snapshot at a time;
 * a peer that failed is skipped for a minute. A snapshot is asked for in format 2 (a manifest of
 * pieces, snapshot-wire.ts, imported piece by piece: snapshot-stream.ts) and, from a peer that
 * does not speak it, in format 1 (one stream, snapshot.ts); both are served.
 */
export class SnapshotPolicy {
  readonly protocol: string
  readonly protocolV2: string
  readonly liveProtocol: string
  #liveServes = 0
  readonly #pieces: SnapshotPieces
  readonly #stop = new AbortController()
  readonly threshold: number
  #snapshotting: Promise<void> | undefined
  readonly #failed = new Map<string, number>()
  readonly #init: SnapshotPolicyInit

  constructor (init: SnapshotPolicyInit) {
    this.#init = init
    this.threshold = init.threshold
    this.protocol = snapshotProtocol(init.db.address)
    this.protocolV2 = snapshotProtocolV2(init.db.address)
    this.liveProtocol = liveSetProtocol(init.db.address)
    this.#pieces = new SnapshotPieces({
      index: init.index,
      logId: init.db.address,
      heads: async () => (await init.db.log.heads()).map(h => h.hash!),
      indexed: async hash => init.index.containsEntry(hash)
    })
  }

  /** serve our log as a snapshot to peers that ask */
  async start (): Promise<void> {
    await this.#init.libp2p.handle(this.protocol, (stream: Stream) => {
      serveSnapshot(stream, this.#init.index.entryBytes(), { signal: AbortSignal.timeout(SNAPSHOT_TIMEOUT) })
        .catch(err => { log('serving a snapshot failed - %e', err); stream.abort(err as Error) })
    }, { runOnLimitedConnection: false })
    await this.#init.libp2p.handle(this.protocolV2, (stream: Stream) => {
      const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(SERVE_TIMEOUT)])
      serveRequest(stream, this.#pieces, { signal })
        .catch(err => { log('serving a snapshot request failed - %e', err); stream.abort(err as Error) })
    }, { runOnLimitedConnection: false })
    const live = this.#init.liveSet
    if (live != null) {
      await this.#init.libp2p.handle(this.liveProtocol, (stream: Stream) => {
        if (this.#liveServes >= live.maxServes) {
          stream.abort(new PeerBusyError(`serving ${this.#liveServes} live sets already (at most ${live.maxServes})`))
          return
        }
        this.#liveServes++
        const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(SERVE_TIMEOUT)])
        serveSnapshot(stream, liveSetEntries(live.store), { signal })
          .catch(err => { log('serving the live set failed - %e', err); stream.abort(err as Error) })
          .finally(() => { this.#liveServes-- })
      }, { runOnLimitedConnection: false })
    }
  }

  async stop (): Promise<void> {
    this.#stop.abort()
    await this.#init.libp2p.unhandle(this.protocol).catch(() => {})
    await this.#init.libp2p.unhandle(this.protocolV2).catch(() => {})
    if (this.#init.liveSet != null) await this.#init.libp2p.unhandle(this.liveProtocol).catch(() => {})
    await this.#snapshotting?.catch(() => {})
  }

  async #maxClock (): Promise<number> {
    let max = 0
    for (const head of await this.#init.db.log.heads()) max = Math.max(max, head.clock.time)
    return max
  }

  /** Before OrbitDB walks a far-ahead head entry by entry, take a neighbour's snapshot in bulk */
  async maybeSnapshot (entry: LogEntry): Promise<void> {
    if (this.#init.stopped() || entry.hash == null || await this.#init.index.containsEntry(entry.hash)) return
    if (typeof entry.clock?.time !== 'number' || entry.clock.time - await this.#maxClock() < this.threshold) return
    await this.snapshotOnce(entry)
  }

  /** one snapshot at a time: a second asker waits for the one running */
  async snapshotOnce (entry: LogEntry): Promise<void> {
    this.#snapshotting ??= this.#snapshot(entry).finally(() => { this.#snapshotting = undefined })
    await this.#snapshotting
  }

  async #snapshot (target: LogEntry): Promise<void> {
    const { libp2p, db, index, pins } = this.#init
    const peers = libp2p.getConnections().map(c => c.remotePeer)
      .filter((p, i, all) => all.findIndex(q => q.equals(p)) === i)
      .filter(p => db.sync.peers.has(p.toString()) && (this.#failed.get(p.toString()) ?? 0) < Date.now())
    const live = this.#init.liveSet
    if (live != null && typeof target.clock?.time === 'number' && target.clock.time - await this.#maxClock() >= live.threshold) {
      for (const peer of peers) {
        if (this.#init.stopped() || await this.#takeLiveSet(peer, live)) break
      }
    }
    for (const peer of peers) {
      if (this.#init.stopped()) return
      try {
        const manifest = await this.#manifest(peer)
        if (manifest != null) {
          if (await this.#importPieces(peer, manifest, target)) return
          continue
        }
        // no garbage collection from the first block stored until the last one kept is pinned
        const done = await pins.holdingGc(async keep => {
          const started = Date.now()
          // checked while it arrives; written once all of it has arrived and been checked
          // a deadline of our own (a timeout signal only a composite refers to may be collected before it fires), and a stop
          const deadline = new AbortController()
          const timer = setTimeout(() => { deadline.abort(new SnapshotTimeoutError(`a snapshot of format 1 took longer than ${SNAPSHOT_TIMEOUT} ms`)) }, SNAPSHOT_TIMEOUT)
          const signal = AbortSignal.any([this.#stop.signal, deadline.signal])
          const entries = fetchSnapshot(libp2p, peer, this.protocol, { signal })
          const empty = index.entries === 0 && (await db.log.heads()).length === 0
          let result: Awaited<ReturnType<typeof importSnapshot>>
          try {
            result = await importSnapshot(entries, {
              logId: db.address,
              empty,
              access: this.#init.access,
              has: async hash => await index.containsEntry(hash) || await db.log.has(hash),
              putBlocks: this.#init.putBlocks,
              // what OrbitDB's join writes for each entry it takes in, in one batch
              index: async hashes => { await this.#init.logIndex.putMany(hashes, true) },
              unindex: async hashes => {
                for (const h of hashes) await this.#init.indexStorage.del(h)
              },
              joinEntry: this.#init.joinEntry,
              onRejected: (hash, error) => { this.#init.onRejected(hash, error) }
            }, { signal })
          } finally {
            clearTimeout(timer)
          }
          const added = await index.serial.run(async () => index.commit(result.imported))
          keep(added.map(i => i.entryHash))
          log('snapshot from %p: %d new records (%d rejected) in %d ms', peer, added.length, result.rejected, Date.now() - started)
          return target.hash != null && await index.containsEntry(target.hash)
        })
        if (done) return
      } catch (err) {
        // do not ask this peer again for a minute; OrbitDB's own join carries on
        this.#failed.set(peer.toString(), Date.now() + FAILED_PEER_BACKOFF)
        log('snapshot from %p failed - %e', peer, err)
      }
    }
  }

  /**
   * A peer's live set, its records handed on as they check out; false when the peer has none to
   * give (an older peer, a refusal, a failure), and the snapshot then comes alone
   */
  async #takeLiveSet (peer: PeerId, live: NonNullable<SnapshotPolicyInit['liveSet']>): Promise<boolean> {
    const { libp2p, db, index } = this.#init
    const started = Date.now()
    let records = 0
    let rejected = 0
    // a deadline of our own (a timeout signal only a composite refers to may be collected before it fires)
    const deadline = new AbortController()
    const timer = setTimeout(() => { deadline.abort(new SnapshotTimeoutError(`the live set took longer than ${SNAPSHOT_TIMEOUT} ms`)) }, SNAPSHOT_TIMEOUT)
    try {
      for await (const piece of fetchLiveSet(libp2p, peer, this.liveProtocol, {
        logId: db.address,
        access: this.#init.access,
        held: async hashes => index.containsEntries(hashes),
        onRejected: (hash, error) => { this.#init.onRejected(hash, error) }
      }, { signal: AbortSignal.any([this.#stop.signal, deadline.signal]) })) {
        records += piece.records.length
        rejected += piece.rejected
        if (piece.records.length > 0) live.onRecords(piece.records)
      }
    } catch (err) {
      log('the live set of %p: %d records before it failed - %e', peer, records, err)
      if (records === 0) return false
    } finally {
      clearTimeout(timer)
    }
    log('live set from %p: %d records (%d rejected) in %d ms', peer, records, rejected, Date.now() - started)
    live.onDone({ peer: peer.toString(), records, rejected })
    return true
  }

  /**
   * The peer's format-2 manifest, or undefined to ask it in format 1: a peer that does not speak
   * format 2 (an older one), whose manifest is of a later format, or whose manifest could not be
   * had at all (format 1 is checked as a whole before anything is written, so trying it costs
   * nothing but time)
   */
  async #manifest (peer: PeerId): Promise<SnapshotManifest | undefined> {
    try {
      return await fetchManifest(this.#init.libp2p, peer, this.protocolV2, this.#init.db.address, { signal: this.#stop.signal })
    } catch (err) {
      log('%p offers no snapshot of format 2 (%s): asking for format 1 - %e', peer, (err as Error).name, err)
      return undefined
    }
  }

  /** Import a format-2 snapshot piece by piece; true once `target` is in the log */
  async #importPieces (peer: PeerId, manifest: SnapshotManifest, target: LogEntry): Promise<boolean> {
    const { libp2p, db, index, pins } = this.#init
    const empty = index.entries === 0 && (await db.log.heads()).length === 0
    const signal = this.#stop.signal
    return pins.holdingGc(async keep => {
      const started = Date.now()
      const result = await importPieces(fetchPieces(libp2p, peer, this.protocolV2, manifest, { signal }), {
        logId: db.address,
        access: this.#init.access,
        // a log that was empty holds only what the record index holds (no read of OrbitDB's index per entry)
        held: async hashes => {
          const answers = await index.containsEntries(hashes)
          if (!empty) for (let i = 0; i < hashes.length; i++) answers[i] ||= await db.log.has(hashes[i]!)
          return answers
        },
        putBlocks: this.#init.putBlocks,
        index: async hashes => { await this.#init.logIndex.putMany(hashes, true) },
        joinEntry: this.#init.joinEntry,
        keepIdentities: async hashes => { await pins.now(hashes) },
        commit: async entries => {
          const added = await index.serial.run(async () => index.commit(entries))
          const cids = new Map(entries.map(e => [e.entryHash, e.cid]))
          keep(added.map(i => cids.get(i.entryHash) ?? i.entryHash))
        },
        onRejected: (hash, error) => { this.#init.onRejected(hash, error) }
      }, { signal, heads: manifest.heads })
      log('snapshot (format 2, %d pieces) from %p: %d new records (%d rejected) in %d ms', manifest.pieces.length, peer, result.imported, result.rejected, Date.now() - started)
      return target.hash != null && await index.containsEntry(target.hash)
    })
  }
}
