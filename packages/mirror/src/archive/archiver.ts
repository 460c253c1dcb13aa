import { createHash } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { openAppImage, readAppImageMetadata } from '@hubless/appimage'
import { buildWitnessRecord } from '@hubless/registry'
import { logger } from '@libp2p/logger'
import { addAppImageContent } from '../appimage-content.ts'
import { imageVersion } from '../image-text.ts'
import { NotAnAppImageError, OriginError } from '../errors.ts'
import { createOriginFetcher } from './origin-fetch.ts'
import { createMediaArchiver } from './media.ts'
import { openOriginBook } from './origins.ts'
import { createTracker, DEFAULT_TRACK_INTERVAL } from './tracker.ts'
import type { HublessNode } from '@hubless/net'
import type { MediaArchiver, MediaCopy } from './media.ts'
import type { FetchedFile, OriginFetchInit } from './origin-fetch.ts'
import type { ArchivedCopy, OriginRecord, OriginState } from './origins.ts'
import type { TrackedApp, TrackerInit, TrackEvent, TrackTarget } from './tracker.ts'
import type { PublisherKey, Registry, ReleaseRecord, SignedRecord } from '@hubless/registry'

const log = logger('hubless:mirror:archive')

/** 4 GiB: larger than nearly every AppImage; an endless origin is cut here */
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 ** 3
/** look for releases to archive every 6 hours */
export const DEFAULT_SCAN_INTERVAL = 6 * 3600_000
/** ask each archived origin again once a day */
export const DEFAULT_RECHECK_INTERVAL = 24 * 3600_000
/** a failed origin is tried again after an hour (or its Retry-After) */
export const DEFAULT_RETRY_INTERVAL = 3600_000

/** What the archiver works with: the node (content), the registry (imported releases), the witness log and the mirror's key */
export interface ArchiverComponents {
  node: HublessNode
  registry: Registry
  witnesses: Registry
  key: PublisherKey
  /** the media log: with it, the icons and screenshots of archived apps are archived too (media.ts) */
  media?: Registry
}

export interface ArchiverInit {
  /** where the origin book and partial downloads are kept (DATA_DIR/archive) */
  directory: string
  /** the mirror's whole budget (`--max-bytes`), shared with the pinner */
  maxBytes?: number
  /** bytes the pinner holds already */
  usedBytes?: () => number
  /** the most one file may be; default {@link DEFAULT_MAX_FILE_BYTES} */
  maxFileBytes?: number
  scanInterval?: number
  recheckInterval?: number
  retryInterval?: number
  /** files archived at once; default 4 (each host gets at most 2 requests at once anyway) */
  concurrency?: number
  fetch?: OriginFetchInit
  /** mirror keys whose media records this mirror believes, for images their origins do not give it (media.ts) */
  trustedMediaKeys?: () => Promise<string[]>
  /** look for new releases of archived apps upstream (tracker.ts), or not (`false`); default on, each app once a day */
  tracking?: TrackerInit | false
  onEvent?: (event: ArchiveEvent) => void
}

export type ArchiveEvent =
  | { type: 'witnessed', appId: string, version: string, url: string, cid: string, sha256: string, size: number, witness: string, tracked?: boolean }
  | { type: 'checked', appId: string, url: string, state: OriginState }
  | { type: 'failed', appId: string, url: string, error: string }
  | { type: 'skipped', appId: string, reason: string }
  | TrackEvent

export interface ArchivedOrigin {
  url: string
  appId: string
  release: string
  state: OriginState
  since: string
  lastChecked: string
  /** the file as this mirror archived it, still served from here (`/ipfs/{cid}`) whatever the origin does */
  archived?: { cid: string, sha256: string, size: number, version: string, availableHere: boolean }
  lastError?: string
}

export interface ArchiverStatus {
  /** files archived (and witnessed) by this mirror */
  archived: number
  archivedBytes: number
  /** origins by state */
  origins: Record<OriginState, number>
  /** every origin checked, newest change first */
  checked: ArchivedOrigin[]
  /** archived apps followed upstream for new releases, newest change first */
  tracked: TrackedApp[]
  /** icons and screenshots archived, and those that failed */
  media?: ReturnType<MediaArchiver['status']>
}

export interface Archiver {
  status (): Promise<ArchiverStatus>
  /** the checks of one app's origin URLs, newest change first */
  originsOf (appId: string): Promise<ArchivedOrigin[]>
  /** the copy of an icon or screenshot URL this mirror archived */
  mediaCopy (url: string): MediaCopy | undefined
  /** how many images are archived */
  mediaCount (): number
  /** one pass now (the timer runs them too); resolves when it is done */
  runOnce (): Promise<void>
  stop (): Promise<void>
}

type ImportedRelease = SignedRecord<ReleaseRecord>

/** What a witness says a file is of */
export interface WitnessTarget {
  appId: string
  channel: ReleaseRecord['channel']
  arch: ReleaseRecord['arch']
  /** the URL fetched */
  url: string
  /** the version when the file declares none */
  version: string
  /** the release record the file is of, given the version it declares (none: a tracked version no record names yet) */
  release?: (version: string) => string | undefined
}

/**
 * Archives imported, URL-only releases (what AppImageHub only links to): fetches each file from
 * its URLs (bounded, see origin-fetch.ts), checks it is an AppImage and reads it, adds it with the
 * squashfs-aware chunker, pins it, and appends a witness record signed with the mirror's key.
 * Newest releases first, within the mirror's `--max-bytes`. Every origin check is kept
 * (origins.ts), so the mirror can say which origins are alive, gone or changed, and since when.
 */
export async function startArchiver (components: ArchiverComponents, init: ArchiverInit): Promise<Archiver> {
  const services = components
  const { key, registry, witnesses } = components
  const dir = init.directory
  await mkdir(join(dir, 'partial'), { recursive: true })
  const book = await openOriginBook(join(dir, 'origins.json'))
  const fetcher = createOriginFetcher(init.fetch)
  const controller = new AbortController()
  const maxFileBytes = init.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const recheckInterval = init.recheckInterval ?? DEFAULT_RECHECK_INTERVAL
  const retryInterval = init.retryInterval ?? DEFAULT_RETRY_INTERVAL
  const concurrency = init.concurrency ?? 4
  let running: Promise<void> | undefined
  /** the imported releases of the last pass, by id (what tracking reads the channel, architecture and homepage from) */
  let imported = new Map<string, ImportedRelease>()
  const tracker = init.tracking === false
    ? undefined
    : await createTracker({ fetcher, witness: witnessFile }, init.tracking ?? {}, {
      directory: dir,
      maxBytes: () => Math.min(maxFileBytes, budgetLeft()),
      onEvent: event => init.onEvent?.(event)
    })

  const media = components.media == null
    ? undefined
    : await createMediaArchiver({ node: components.node, media: components.media, key, fetcher }, { directory: dir, budgetLeft: () => budgetLeft(), retryInterval, trustedKeys: init.trustedMediaKeys })
  const archivedBytes = (): number => book.all().reduce((sum, o) => sum + (o.archived?.size ?? 0) + (o.latest?.size ?? 0), 0) + (tracker?.bytes() ?? 0) + (media?.bytes() ?? 0)
  const budgetLeft = (): number => init.maxBytes == null ? Number.POSITIVE_INFINITY : init.maxBytes - (init.usedBytes?.() ?? 0) - archivedBytes()

  function due (origin: OriginRecord | undefined, now: number): boolean {
    if (origin == null) return true
    if (origin.retryAt != null && origin.retryAt > now) return false
    const wait = origin.archived != null ? recheckInterval : retryInterval
    return now - origin.lastChecked >= wait
  }

  async function candidates (): Promise<ImportedRelease[]> {
    const out: ImportedRelease[] = []
    for await (const signed of registry.records({ signal: controller.signal })) {
      const r = signed.record
      if (r.kind !== 'release' || r.imported == null || r.content.cid != null || r.content.urls.length === 0) continue
      out.push(signed as ImportedRelease)
    }
    imported = new Map(out.map(s => [s.id, s]))
    // newest first
    return out.sort((a, b) => b.record.time - a.record.time)
  }

  async function archiveRelease (signed: ImportedRelease): Promise<void> {
    const r = signed.record
    const now = Date.now()
    const archivedUrls = r.content.urls.filter(u => book.get(u)?.archived != null)
    // an archived release: ask the origins it came from again, when due; otherwise try each URL until one yields the file
    const urls = archivedUrls.length > 0 ? archivedUrls : r.content.urls
    for (const url of urls) {
      const origin = book.get(url)
      if (!due(origin, now)) {
        if (archivedUrls.length === 0) continue
        return
      }
      const left = budgetLeft()
      if (left <= 0) {
        init.onEvent?.({ type: 'skipped', appId: r.appId, reason: `over --max-bytes ${init.maxBytes}` })
        return
      }
      if (await archiveUrl(signed, url, Math.min(maxFileBytes, left))) return
    }
  }

  /**
   * Reads a fetched file as an AppImage, adds and pins it, and signs a witness of it: the one path
   * of every file this mirror witnesses (archived from an origin or found by tracking upstream)
   */
  async function witnessFile (file: string, fetched: FetchedFile, target: WitnessTarget, signal: AbortSignal): Promise<ArchivedCopy> {
    let version = target.version
    let updateInformation: string | undefined
    try {
      const image = await openAppImage(file, { signal })
      try {
        const metadata = await readAppImageMetadata(image, { signal })
        version = imageVersion(metadata.draft) ?? target.version
        updateInformation = metadata.draft.updateInformation
      } finally {
        await image.close()
      }
    } catch (err) {
      signal.throwIfAborted()
      await rm(file, { force: true })
      throw new NotAnAppImageError(`${target.url} served ${fetched.size} bytes that are not a type 2 AppImage (${(err as Error).name}: ${(err as Error).message})`)
    }
    const cid = (await addAppImageContent(services, file, { signal, pin: true })).toString()
    const update = updateInformation != null && updateInformation.length <= 1024 && !/\p{Cc}/u.test(updateInformation) ? updateInformation : undefined
    const release = target.release?.(version)
    const witness = await witnesses.publish(buildWitnessRecord({
      appId: target.appId,
      version,
      channel: target.channel,
      arch: target.arch,
      url: target.url,
      sha256: fetched.sha256,
      size: fetched.size,
      cid,
      release,
      updateInformation: update
    }, { publisher: key.did }), key, { signal })
    await rm(file, { force: true })
    const copy: ArchivedCopy = { sha256: fetched.sha256, sha1: fetched.sha1, size: fetched.size, cid, version, witness: witness.id, time: Date.now() }
    if (update != null) copy.updateInformation = update
    init.onEvent?.({ type: 'witnessed', appId: target.appId, version, url: target.url, cid, sha256: copy.sha256, size: copy.size, witness: witness.id, ...(release == null ? { tracked: true } : {}) })
    return copy
  }

  /** true when the URL gave (or still gives) the file */
  async function archiveUrl (signed: ImportedRelease, url: string, maxBytes: number): Promise<boolean> {
    const r = signed.record
    const base = { url, appId: r.appId, release: signed.id }
    const before = book.get(url)
    const part = join(dir, 'partial', `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.part`)
    const signal = controller.signal
    try {
      const fetched = await fetcher.fetchToFile(url, part, { signal, maxBytes, etag: before?.etag, lastModified: before?.lastModified })
      const known = before?.latest ?? before?.archived
      const same = fetched.notModified || (known != null && fetched.sha256 === known.sha256)
      if (same) {
        await rm(part, { force: true })
        book.check(base, { time: Date.now(), state: 'alive', sha256: known?.sha256 }, { etag: fetched.etag, lastModified: fetched.lastModified })
        init.onEvent?.({ type: 'checked', appId: r.appId, url, state: 'alive' })
        return true
      }
      const archivedVersion = known?.version
      // a file under the version this URL served before is the same release (other bytes: a conflict);
      // another version is the URL's newest release (a "latest" URL), witnessed as a tracked version
      const copy = await witnessFile(part, fetched, {
        appId: r.appId,
        channel: r.channel,
        arch: r.arch,
        url,
        version: r.version,
        release: version => archivedVersion == null || version === archivedVersion ? signed.id : undefined
      }, signal)
      const newVersion = archivedVersion != null && copy.version !== archivedVersion
      // the first copy stays what this URL is compared with for conflicts; a changed file is witnessed and kept too
      const changed = before?.archived != null && !newVersion
      book.check(base, { time: copy.time, state: changed ? 'changed' : 'alive', sha256: fetched.sha256 }, {
        archived: before?.archived ?? copy,
        latest: before?.archived == null ? undefined : copy,
        etag: fetched.etag,
        lastModified: fetched.lastModified
      })
      return true
    } catch (err) {
      if (signal.aborted) throw err
      const error = err instanceof Error ? err : new Error(String(err))
      const gone = err instanceof OriginError && err.gone
      const retryAt = err instanceof OriginError ? err.retryAt : undefined
      book.check(base, { time: Date.now(), state: gone ? 'gone' : 'failing', error: `${error.name}: ${error.message}` }, { retryAt })
      init.onEvent?.({ type: 'failed', appId: r.appId, url, error: `${error.name}: ${error.message}` })
      log('archiving %s from %s failed: %s %s', r.appId, url, error.name, error.message)
      return false
    } finally {
      await book.save().catch(err => { log.error('could not save the origin checks: %e', err) })
    }
  }

  async function pass (): Promise<void> {
    const list = await candidates()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < list.length && !controller.signal.aborted) {
        const signed = list[next++]!
        await archiveRelease(signed).catch(err => {
          if (!controller.signal.aborted) log.error('archiving %s failed: %e', signed.record.appId, err)
        })
        // the app's images, whatever became of its file (an image failing never fails the app)
        await media?.archive(signed.record.appId, signed.record.app, controller.signal).catch(err => {
          if (!controller.signal.aborted) log.error('archiving the images of %s failed: %e', signed.record.appId, err)
        })
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    await tracker?.pass(trackTargets(), controller.signal)
  }

  /** one target per archived app: its newest archived copy, with the release it was archived for */
  function trackTargets (): TrackTarget[] {
    const byApp = new Map<string, TrackTarget>()
    for (const o of book.all()) {
      const signed = imported.get(o.release)
      if (o.archived == null || signed == null) continue
      const before = byApp.get(o.appId)
      if (before != null && before.archived.time >= o.archived.time) continue
      const r = signed.record
      byApp.set(o.appId, { appId: o.appId, release: o.release, channel: r.channel, arch: r.arch, url: o.url, archived: o.archived, homepage: r.app?.homepage })
    }
    return [...byApp.values()]
  }

  function runOnce (): Promise<void> {
    running ??= pass().finally(() => { running = undefined })
    return running
  }

  // a pass at least as often as the origins are due
  const trackInterval = init.tracking === false ? Number.POSITIVE_INFINITY : init.tracking?.interval ?? DEFAULT_TRACK_INTERVAL
  const timer = setInterval(() => { void runOnce() }, init.scanInterval ?? Math.min(DEFAULT_SCAN_INTERVAL, recheckInterval, trackInterval))
  timer.unref()
  void runOnce()

  async function describe (o: OriginRecord): Promise<ArchivedOrigin> {
    const item: ArchivedOrigin = {
      url: o.url,
      appId: o.appId,
      release: o.release,
      state: o.state,
      since: new Date(o.since).toISOString(),
      lastChecked: new Date(o.lastChecked).toISOString()
    }
    if (o.archived != null) {
      const availableHere = await services.node.content.isPinned(o.archived.cid).catch(() => false)
      item.archived = { cid: o.archived.cid, sha256: o.archived.sha256, size: o.archived.size, version: o.archived.version, availableHere }
    }
    const last = o.checks.at(-1)
    if (last?.error != null) item.lastError = last.error
    return item
  }

  return {
    runOnce,
    mediaCopy: url => media?.copyOf(url),
    mediaCount: () => media?.status().archived ?? 0,
    async status () {
      const origins: Record<OriginState, number> = { alive: 0, gone: 0, changed: 0, failing: 0 }
      const checked: ArchivedOrigin[] = []
      for (const o of book.all().sort((a, b) => b.since - a.since)) {
        origins[o.state]++
        checked.push(await describe(o))
      }
      return { archived: book.all().filter(o => o.archived != null).length, archivedBytes: archivedBytes(), origins, checked, tracked: tracker?.status() ?? [], ...(media == null ? {} : { media: media.status() }) }
    },
    async originsOf (appId) {
      return await Promise.all(book.all().filter(o => o.appId === appId).sort((a, b) => b.since - a.since).map(describe))
    },
    async stop () {
      clearInterval(timer)
      controller.abort()
      await running?.catch(() => {})
      await book.save().catch(() => {})
      await tracker?.save()
      await media?.save().catch(() => {})
    }
  }
}
