import { dagAllowance } from '@hubless/net'
import { logger } from '@libp2p/logger'
import { savePinnerState, takePinnerState } from './pinner-state.ts'
import type { MirrorComponents } from './index.ts'
import type { PinnedItem } from './pinner-state.ts'
import type { Channel, ReleaseRecord, SignedRecord } from '@hubless/registry'

const log = logger('hubless:mirror:pinner')

export type PinPolicy = 'all' | 'trusted' | 'none'

export interface PinnerInit {
  services: MirrorComponents
  policy: PinPolicy
  /** only releases on these channels; default all */
  channels?: Channel[]
  /** stop pinning new content past this many bytes of releases (sizes from the records) */
  maxBytes?: number
  /** gateways to fall back to when no peer has the content */
  gateways?: string[]
  /** how many DAGs to fetch at once */
  concurrency?: number
  onEvent?: (event: PinEvent) => void
  /**
   * Where the pinner keeps what it holds between runs (pinner-state.ts). With `policy: 'all'` and
   * no `maxBytes`, a start after a clean stop reads only the records since, not every record: no
   * release passed over before can be wanted now. Other settings read every record at each start
   * (a trust change or freed bytes may want releases passed over). `none` reads none.
   */
  stateFile?: string
}

export type PinEvent =
  | { type: 'pinned', cid: string, appId: string, version: string, bytes: number, sources: Record<string, number> }
  | { type: 'missing', cid: string, appId: string, version: string, error: string }
  | { type: 'skipped', cid: string, appId: string, version: string, reason: string }
  | { type: 'unpinned', cid: string, appId: string, version: string }

export interface MissingContent {
  cid: string
  /** the release record that names it */
  record: string
  appId: string
  version: string
  error: string
  /** ms since epoch of the last attempt */
  lastTried: number
  attempts: number
}

export interface PinnerStatus {
  policy: PinPolicy
  pinned: number
  pinnedBytes: number
  queued: number
  /** content no peer or gateway could deliver: the "disappeared" case */
  missing: MissingContent[]
  skipped: number
}

export interface Pinner {
  status (): PinnerStatus
  /** re-evaluates every release (after a trust change) */
  rescan (): Promise<void>
  stop (): Promise<void>
}

interface Wanted {
  record: string
  /** every release record that names this content (a sweep keeps it while one of them is wanted) */
  records: Set<string>
  cid: string
  appId: string
  version: string
  size: number
  /** the icon and screenshots, pinned with the release */
  assets: string[]
}

/** what a release whose record names no size may take, at most */
const UNSIZED_CAP = 8 * 1024 ** 3
/** an icon or a screenshot */
const ASSET_CAP = 16 * 1024 ** 2

const RETRY_MIN = 30_000
const RETRY_MAX = 30 * 60_000

/**
 * Keeps the content of releases alive by a policy: pins (fetching from peers, then gateways)
 * what the policy wants, unpins what it no longer wants (yanked, revoked, out of policy), and
 * garbage-collects. Content nobody can deliver is retried with backoff and reported, never
 * silently dropped.
 */
export async function startPinner (init: PinnerInit): Promise<Pinner> {
  const { services } = init
  const registry = services.registry
  const catalog = services.catalog
  const channels = init.channels != null && init.channels.length > 0 ? new Set(init.channels) : undefined
  const concurrency = init.concurrency ?? 2
  const controller = new AbortController()
  const pinned = new Map<string, Wanted>()
  const missing = new Map<string, MissingContent>()
  const queue: Wanted[] = []
  /** queued or being pinned, by CID */
  const queuedCids = new Map<string, Wanted>()
  let skipped = 0
  let active = 0
  let retryTimer: NodeJS.Timeout | undefined
  let pinnedBytes = 0
  // every record up to the registry's position has been considered (the first pass is done)
  let considered = false
  const settings = JSON.stringify({ policy: init.policy, channels: channels == null ? null : [...channels].sort() })
  const stateFile = init.policy === 'all' && init.maxBytes == null ? init.stateFile : undefined

  function wanted (signed: SignedRecord<ReleaseRecord>): Wanted | undefined {
    const r = signed.record
    if (init.policy === 'none' || r.content.cid == null) return undefined
    if (channels != null && !channels.has(r.channel)) return undefined
    // judged whether or not the catalog still holds it (a mirror's catalog keeps the newest only)
    const judged = catalog.judge(signed)
    if (judged != null && judged.view.state !== 'ok') return undefined
    // only the owner's releases are the app's; other claimants are never trusted
    if (init.policy === 'trusted' && (judged?.owner !== true || catalog.app(r.appId)?.trust.status !== 'trusted')) return undefined
    const assets = [r.app.icon, ...(r.app.screenshots ?? [])].filter((a): a is string => a != null && !a.includes(':'))
    return { record: signed.id, records: new Set([signed.id]), cid: r.content.cid, appId: r.appId, version: r.version, size: r.content.size ?? 0, assets }
  }

  function enqueue (item: Wanted): void {
    const held = pinned.get(item.cid) ?? queuedCids.get(item.cid)
    if (held != null) {
      held.records.add(item.record)
      return
    }
    if (init.maxBytes != null && pinnedBytes + item.size > init.maxBytes) {
      skipped++
      init.onEvent?.({ type: 'skipped', cid: item.cid, appId: item.appId, version: item.version, reason: `over --max-bytes ${init.maxBytes}` })
      return
    }
    queuedCids.set(item.cid, item)
    queue.push(item)
    pump()
  }

  function pump (): void {
    while (active < concurrency && queue.length > 0 && !controller.signal.aborted) {
      const item = queue.shift()!
      active++
      void pin(item).finally(() => {
        active--
        queuedCids.delete(item.cid)
        pump()
      })
    }
  }

  async function pin (item: Wanted): Promise<void> {
    try {
      // a record without a size gets the rest of the budget (or 8 GiB), never an unbounded fetch
      const budget = init.maxBytes == null ? UNSIZED_CAP : Math.max(0, init.maxBytes - pinnedBytes)
      const maxBytes = dagAllowance(item.size > 0 ? item.size : Math.min(budget, UNSIZED_CAP))
      const result = await services.node.content.fetch(item.cid, { signal: controller.signal, gateways: init.gateways, pin: true, maxBytes })
      for (const asset of item.assets) {
        await services.node.content.fetch(asset, { signal: controller.signal, gateways: init.gateways, pin: true, maxBytes: ASSET_CAP }).catch(err => {
          log('asset %s of %s not fetched: %e', asset, item.appId, err)
        })
      }
      pinned.set(item.cid, item)
      pinnedBytes += item.size > 0 ? item.size : result.bytes
      missing.delete(item.cid)
      init.onEvent?.({ type: 'pinned', cid: item.cid, appId: item.appId, version: item.version, bytes: result.bytes, sources: result.sources })
    } catch (err) {
      if (controller.signal.aborted) return
      const previous = missing.get(item.cid)
      const entry: MissingContent = { record: item.record, cid: item.cid, appId: item.appId, version: item.version, error: (err as Error).message, lastTried: Date.now(), attempts: (previous?.attempts ?? 0) + 1 }
      missing.set(item.cid, entry)
      init.onEvent?.({ type: 'missing', cid: item.cid, appId: item.appId, version: item.version, error: entry.error })
    }
  }

  /** Retries missing content with exponential backoff per CID */
  function scheduleRetries (): void {
    retryTimer = setTimeout(() => {
      const now = Date.now()
      for (const m of missing.values()) {
        const wait = Math.min(RETRY_MAX, RETRY_MIN * 2 ** (m.attempts - 1))
        if (now - m.lastTried >= wait) {
          void registry.get(m.record).then(signed => {
            const w = signed?.record.kind === 'release' ? wanted(signed as SignedRecord<ReleaseRecord>) : undefined
            if (w != null) enqueue(w)
            else missing.delete(m.cid)
          }, err => { log('retry of %s failed: %e', m.cid, err) })
        }
      }
      if (!controller.signal.aborted) scheduleRetries()
    }, 10_000)
    retryTimer.unref()
  }

  function consider (signed: SignedRecord): void {
    if (signed.record.kind !== 'release') {
      // a yank, revocation or trust change can make pinned content unwanted
      scheduleSweep()
      return
    }
    const w = wanted(signed as SignedRecord<ReleaseRecord>)
    if (w != null) enqueue(w)
  }

  let sweepTimer: NodeJS.Timeout | undefined
  let sweeping: Promise<void> | undefined
  function scheduleSweep (): void {
    // nothing pinned, nothing to unpin: a registry's endorsements must not cost a pass each
    if (sweepTimer != null || controller.signal.aborted || pinned.size === 0) return
    sweepTimer = setTimeout(() => {
      sweepTimer = undefined
      void sweep()
    }, 2_000)
    sweepTimer.unref()
  }

  /**
   * Unpins what the policy no longer wants, then collects the garbage. It reads the records that
   * named what is pinned, not the whole registry: one pass at a time, the next one queued behind
   */
  async function sweep (): Promise<void> {
    const running = sweeping
    if (running != null) {
      scheduleSweep()
      return
    }
    sweeping = sweepPinned().finally(() => { sweeping = undefined })
    await sweeping
  }

  async function stillWanted (item: Wanted): Promise<boolean> {
    for (const id of item.records) {
      const signed = await registry.get(id, { signal: controller.signal })
      if (signed?.record.kind === 'release' && wanted(signed as SignedRecord<ReleaseRecord>)?.cid === item.cid) return true
    }
    return false
  }

  async function sweepPinned (): Promise<void> {
    let removed = 0
    for (const [cid, item] of [...pinned]) {
      if (!await stillWanted(item)) {
        await services.node.content.unpin(cid, { signal: controller.signal })
        for (const asset of item.assets) await services.node.content.unpin(asset).catch(() => {})
        pinned.delete(cid)
        pinnedBytes -= item.size
        removed++
        init.onEvent?.({ type: 'unpinned', cid, appId: item.appId, version: item.version })
      }
    }
    if (removed > 0) {
      // the registry's entries must all be pinned first, or the collection takes them too
      await registry.pinsSettled({ signal: controller.signal })
      await services.node.content.gc({ signal: controller.signal })
    }
  }

  const onRecord = (event: CustomEvent<SignedRecord>): void => { consider(event.detail) }
  registry.addEventListener('record', onRecord)

  async function rescan (): Promise<void> {
    for await (const signed of registry.records({ signal: controller.signal })) {
      consider(signed)
    }
    await sweep()
  }

  /** what was held at the last clean stop, then the records since; every record without it */
  async function firstPass (): Promise<void> {
    const state = stateFile == null ? undefined : await takePinnerState(stateFile, settings)
    // a position of another index (rebuilt, still filling) says nothing of what it holds now
    if (state == null || state.position.index !== registry.position().index) {
      await rescan()
      considered = true
      return
    }
    for (const item of state.pinned) pinned.set(item.cid, { ...item, records: new Set(item.records) })
    pinnedBytes = state.pinnedBytes
    for (const id of state.waiting) {
      const signed = await registry.get(id, { signal: controller.signal })
      if (signed != null) consider(signed)
    }
    log('resumed with %d pinned and %d waiting, reading the records after %d', pinned.size, state.waiting.length, state.position.seq)
    for await (const signed of registry.records({ after: state.position, signal: controller.signal })) consider(signed)
    considered = true
    await sweep()
  }

  // nothing is wanted under `none`: no record needs reading
  if (init.policy !== 'none') void firstPass().catch(err => { if (!controller.signal.aborted) log.error('initial scan failed: %e', err) })
  scheduleRetries()

  return {
    status () {
      return { policy: init.policy, pinned: pinned.size, pinnedBytes, queued: queue.length + active, missing: [...missing.values()], skipped }
    },
    rescan,
    async stop () {
      // what waits is read before the abort, which empties the queue as each fetch gives up
      const waiting = [...new Set([...queuedCids.values(), ...missing.values()].map(item => item.record))]
      const position = registry.position()
      controller.abort()
      registry.removeEventListener('record', onRecord)
      clearTimeout(retryTimer)
      clearTimeout(sweepTimer)
      await sweeping?.catch(() => {})
      if (stateFile == null || !considered) return
      const items: PinnedItem[] = [...pinned.values()].map(item => ({ ...item, records: [...item.records] }))
      await savePinnerState(stateFile, { settings, position, pinnedBytes, pinned: items, waiting }).catch(err => {
        log.error('could not save what is pinned to %s: %e', stateFile, err)
      })
    }
  }
}
