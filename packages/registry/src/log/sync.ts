import { logger } from '@libp2p/logger'
import { Entry } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays/concat'
import type { RecordIndex } from './record-index.ts'
import type { Serial } from './serial.ts'
import type { SnapshotPolicy } from './snapshot-policy.ts'
import type { RegistryNode } from '../index.ts'
import type { EventsDatabase, LogEntry } from '@orbitdb/core'

const log = logger('hubless:registry:log')

/** ms between periodic head announcements */
export const DEFAULT_ANNOUNCE_INTERVAL = 10_000
const ANNOUNCE_DEBOUNCE = 20
/** how long one round of a head's missing parents may take to arrive before its join fails (OrbitDB's own wait is 30 s per entry) */
const ANCESTOR_FETCH_TIMEOUT = 5_000
/** how long a head whose ancestry did not arrive is left alone */
const UNFETCHABLE_BACKOFF = 30_000
/** beyond this many ancestors, OrbitDB's own walk takes over (a snapshot usually came first) */
const MAX_ANCESTOR_PREFETCH = 4_096
/** heads fetched and joined in the background at once; more wait for their next announcement */
const MAX_BACKGROUND_JOINS = 64

export interface LogSyncInit {
  helia: RegistryNode['helia']
  db: EventsDatabase
  index: RecordIndex
  snapshots: SnapshotPolicy
  /** the chain local appends run in; a join outside OrbitDB's queue runs there too */
  appends: Serial
  /** OrbitDB's own join */
  joinEntry (entry: LogEntry): Promise<boolean>
  /** ms between announcements (0: only after taking in records) */
  announceInterval: number
  stopped (): boolean
}

/**
 * How this peer's log meets its neighbours' beyond what OrbitDB does: a head far ahead goes
 * through a snapshot first; a head whose parents are missing is fetched outside OrbitDB's only
 * queue and joined afterwards; our heads are re-announced after taking in records and every
 * `announceInterval`.
 */
export class LogSync {
  /** heads whose ancestry could not be fetched, and when to try again */
  readonly #unfetchable = new Map<string, number>()
  /** heads being fetched and joined outside OrbitDB's queue */
  readonly #joining = new Set<string>()
  #announceTimer: ReturnType<typeof setTimeout> | undefined
  #announceInterval: ReturnType<typeof setInterval> | undefined
  readonly #init: LogSyncInit

  constructor (init: LogSyncInit) {
    this.#init = init
  }

  /** Put our join in front of OrbitDB's (which replicated heads go through) and start announcing */
  start (): void {
    const { db, snapshots, joinEntry } = this.#init
    db.log.joinEntry = async (entry: LogEntry) => {
      // far-behind heads go through a snapshot first (see snapshot.ts)
      await snapshots.maybeSnapshot(entry)
      if (!(await this.#parentsHere(entry))) {
        // OrbitDB would fetch the missing parents inside the database's only queue (30 s each),
        // holding up every other record; fetch them outside it and join afterwards instead
        this.#joinLater(entry)
        return false
      }
      return joinEntry(entry)
    }
    const every = this.#init.announceInterval
    if (every > 0) {
      this.#announceInterval = setInterval(() => { this.announceSoon() }, every)
      this.#announceInterval.unref?.()
    }
  }

  /**
   * Exchange heads with the peers on the topic already. OrbitDB starts an exchange when it hears a
   * peer join the topic; a node connects to its peers before it opens the registry, so it heard
   * none of those already there, and only they could start one (if their queue was free, and
   * they heard us at all). Given to OrbitDB as the event it missed, so its own exchange runs.
   */
  meetSubscribers (): void {
    const pubsub = this.#init.helia.libp2p.services.pubsub
    const topic = this.#init.db.address
    for (const peerId of pubsub.getSubscribers(topic)) {
      pubsub.safeDispatchEvent('subscription-change', { detail: { peerId, subscriptions: [{ topic, subscribe: true }] } })
    }
  }

  stop (): void {
    clearTimeout(this.#announceTimer)
    clearInterval(this.#announceInterval)
  }

  async #inLog (hash: string): Promise<boolean> {
    return await this.#init.index.containsEntry(hash) || await this.#init.db.log.has(hash)
  }

  /** true when everything `entry` points to is in the log (or it is itself), so OrbitDB's join fetches nothing */
  async #parentsHere (entry: LogEntry): Promise<boolean> {
    if (entry.hash == null || await this.#init.index.containsEntry(entry.hash)) return true
    for (const hash of [...(entry.next ?? []), ...(entry.refs ?? [])]) {
      if (typeof hash !== 'string') return true
      if (!(await this.#inLog(hash))) return false
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
    if (hash == null || this.#joining.has(hash) || this.#init.stopped()) return
    if (this.#joining.size >= MAX_BACKGROUND_JOINS) return
    this.#joining.add(hash)
    void (async () => {
      try {
        if (await this.#fetchAncestors(entry, this.#init.snapshots.threshold) === 'deep') {
          // a long branch we lack, whatever its clock says (the far side of a partition, another
          // mirror's log): take it in bulk, then fetch whatever the snapshot did not hold
          await this.#init.snapshots.snapshotOnce(entry)
          await this.#fetchAncestors(entry)
        }
        if (this.#init.stopped()) return
        const joined = await this.#init.appends.run(async () => this.#init.stopped() ? false : this.#init.joinEntry(entry))
        if (joined) this.#init.index.scheduleFlush()
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
    if (this.#init.stopped() || head.hash == null || await this.#init.index.containsEntry(head.hash)) return 'done'
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
          if (!(await this.#inLog(hash))) missing.push(hash)
        }
        missingCount += missing.length
        if (missingCount > deepAfter) return 'deep'
        // the bound is per round of parents, so a long but live ancestry keeps going
        const signal = AbortSignal.timeout(ANCESTOR_FETCH_TIMEOUT)
        const fetched = await Promise.all(missing.map(async hash => {
          const chunks: Uint8Array[] = []
          for await (const chunk of this.#init.helia.blockstore.get(CID.parse(hash, base58btc), { signal })) chunks.push(chunk)
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

  /**
   * Re-announce our heads on the pubsub topic. OrbitDB publishes an entry only from the peer that
   * wrote it and exchanges heads only when a peer subscribes, so a record that arrives at a
   * relay before its next hop joined the gossip mesh would wait for the next write. Announcing
   * after taking in replicated records (and every `announceInterval`) carries records across
   * hops; peers that hold the heads already ignore them.
   */
  announceSoon (): void {
    if (this.#announceTimer != null || this.#init.stopped()) return
    this.#announceTimer = setTimeout(() => {
      this.#announceTimer = undefined
      void this.#announce().catch(err => { log('announcing heads failed - %e', err) })
    }, ANNOUNCE_DEBOUNCE)
    this.#announceTimer.unref?.()
  }

  async #announce (): Promise<void> {
    const { db, helia } = this.#init
    if (this.#init.stopped() || db.sync.peers.size === 0) return
    const pubsub = helia.libp2p.services.pubsub
    for (const head of await db.log.heads()) {
      const bytes = await db.log.storage.get(head.hash!)
      if (bytes != null && !this.#init.stopped()) {
        await pubsub.publish(db.address, bytes).catch((err: unknown) => { log('publish head failed - %e', err) })
      }
    }
  }
}
