import { logger } from '@libp2p/logger'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { raceSignal } from './serial.ts'
import type { AbortOptions } from '@libp2p/interface'

const log = logger('hubless:registry:pins')

/** one block pinned in the background, at most (it may have to come from the network) */
const PIN_TIMEOUT = 30_000

/** What pinning needs of Helia's `pins` */
export interface PinStore {
  isPinned (cid: CID, options?: AbortOptions): Promise<boolean>
  add (cid: CID, options?: AbortOptions): AsyncIterable<unknown>
}

/** Pin one block (its DAG) unless it is pinned already */
export async function pinOnce (pins: PinStore, cid: CID, options?: AbortOptions): Promise<void> {
  if (await pins.isPinned(cid, options)) return
  for await (const _ of pins.add(cid, options)) { /* drain */ }
}

/** Blocks pinned in one batch, at most */
const PIN_BATCH = 1024
/**
 * blocks work holding garbage collection names before they are queued to be pinned: a
 * checkpoint's worth (an import's pins then keep pace with it; 65,536 held a 100,000-entry
 * catch-up's CIDs and read and wrote their pin records in bursts: peak RSS 656-690 MB, 581-593 with 4,096)
 */
const HELD_BLOCKS = 4_096

export interface RegistryPinsInit {
  pins: PinStore
  /**
   * @hubless/net's batch pin: pins the roots it can (held here, linking to nothing; with
   * `leaves`, every root as one block, unread) and returns the others; without it every block is
   * pinned on its own
   */
  pinMany?: (cids: CID[], options?: AbortOptions & { leaves?: boolean }) => Promise<CID[]>
  /** @hubless/net's garbage-collection hold; without it nothing is held */
  holdGc?: (options?: AbortOptions) => Promise<() => void>
  stopped (): boolean
}

/**
 * The registry's one home for pins. OrbitDB pins the entries it writes and joins itself (its
 * block storage pins on write); entries the registry stores in bulk (a snapshot, a batch append)
 * are pinned here after the fact, one after another in the background, with garbage collection
 * held from the first block stored until the last of them is pinned; writer identities an entry
 * names are pinned here too (so this peer can show them to the next), at every open again.
 */
export class RegistryPins {
  #queue: Promise<void> = Promise.resolve()
  /** `holdingGc` calls whose blocks are not queued yet */
  #holding = 0
  /** a pin failed or was cut short by a stop */
  #missed = false
  readonly #init: RegistryPinsInit

  constructor (init: RegistryPinsInit) {
    this.#init = init
  }

  /**
   * Pin blocks (CIDs, or base58btc CID strings: entry hashes, identity hashes), read as the queue
   * reaches them, behind what is queued. `stored`: this peer stored every one of them itself (a
   * log's entries), so each is pinned as one block without being read back.
   */
  inBackground (hashes: Iterable<string | CID> | AsyncIterable<string | CID>, options: { stored?: boolean } = {}): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      let batch: CID[] = []
      for await (const hash of hashes) {
        if (this.#init.stopped()) {
          this.#missed = true
          return
        }
        batch.push(typeof hash === 'string' ? CID.parse(hash, base58btc) : hash)
        if (batch.length >= PIN_BATCH) {
          await this.#pinAll(batch, options.stored === true)
          batch = []
        }
      }
      if (batch.length > 0 && !this.#init.stopped()) await this.#pinAll(batch, options.stored === true)
    }).catch(err => {
      this.#missed = true
      log('reading the blocks to pin failed - %e', err)
    })
    return this.#queue
  }

  /** Pins in a batch what can be, then the rest one by one */
  async #pinAll (cids: CID[], leaves: boolean): Promise<void> {
    let left = cids
    if (this.#init.pinMany != null) {
      try {
        left = await this.#init.pinMany(cids, { leaves, signal: AbortSignal.timeout(PIN_TIMEOUT) })
      } catch (err) {
        log('pinning %d blocks in a batch failed, pinning them one by one - %e', cids.length, err)
      }
    }
    for (const cid of left) {
      if (this.#init.stopped()) {
        this.#missed = true
        return
      }
      try {
        // a block that is neither here nor found in time is left to the next open (a stop waits for this queue)
        await pinOnce(this.#init.pins, cid, { signal: AbortSignal.timeout(PIN_TIMEOUT) })
      } catch (err) {
        this.#missed = true
        log('pinning %c failed - %e', cid, err)
      }
    }
  }

  /** Once idle: every block asked for since the registry opened was pinned, and nothing waits to be asked for */
  get complete (): boolean {
    return !this.#missed && this.#holding === 0
  }

  /**
   * Pin blocks now, each within `timeout` ms (a block not here and not found in time is logged
   * and left to the pins at the next open): the writer identities a checkpoint's entries name,
   * which must outlive a crash right after the entries are in the log
   */
  async now (hashes: string[], timeout = 10_000): Promise<void> {
    for (const hash of hashes) {
      if (this.#init.stopped()) return
      try {
        await pinOnce(this.#init.pins, CID.parse(hash, base58btc), { signal: AbortSignal.timeout(timeout) })
      } catch (err) {
        log('pinning %s failed - %e', hash, err)
      }
    }
  }

  /**
   * Run `work`, which stores blocks and names those to keep (`keep(blocks)`: blocks it stored
   * itself, pinned without being read back), with garbage collection held until they are pinned
   */
  async holdingGc<T> (work: (keep: (blocks: Array<string | CID>) => void) => Promise<T>, options?: AbortOptions): Promise<T> {
    this.#holding++
    let release: (() => void) | undefined
    let kept: Array<string | CID> = []
    /** the pins queued so far; the queue is serial, so the last one settles after the others */
    let queued: Promise<void> | undefined
    try {
      release = await this.#init.holdGc?.(options)
      return await work(hashes => {
        for (const h of hashes) kept.push(h)
        // a long import (a snapshot of a million entries) pins as it goes, rather than holding
        // every block until it ends
        if (kept.length >= HELD_BLOCKS) {
          queued = this.inBackground(kept, { stored: true })
          kept = []
        }
      })
    } finally {
      if (kept.length > 0) queued = this.inBackground(kept, { stored: true })
      if (queued == null) release?.()
      else void queued.finally(() => { release?.() })
      this.#holding--
    }
  }

  /** Resolves once every pin queued, including those queued while this waits, is done */
  async settled (options?: AbortOptions): Promise<void> {
    let queue: Promise<void> | undefined
    while (queue !== this.#queue) {
      queue = this.#queue
      await raceSignal(queue, options?.signal)
    }
  }

  async idle (): Promise<void> {
    await this.#queue
  }
}
