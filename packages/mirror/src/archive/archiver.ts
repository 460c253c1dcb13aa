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
import { openOriginBook } from './origins.ts'
import type { HublessNode } from '@hubless/net'
import type { OriginFetchInit } from './origin-fetch.ts'
import type { OriginRecord, OriginState } from './origins.ts'
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
  onEvent?: (event: ArchiveEvent) => void
}

export type ArchiveEvent =
  | { type: 'witnessed', appId: string, version: string, url: string, cid: string, sha256: string, size: number, witness: string }
  | { type: 'checked', appId: string, url: string, state: OriginState }
  | { type: 'failed', appId: string, url: string, error: string }
  | { type: 'skipped', appId: string, reason: string }

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
}

export interface Archiver {
  status (): Promise<ArchiverStatus>
  /** one pass now (the timer runs them too); resolves when it is done */
  runOnce (): Promise<void>
  stop (): Promise<void>
}

type ImportedRelease = SignedRecord<ReleaseRecord>

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

  const archivedBytes = (): number => book.all().reduce((sum, o) => sum + (o.archived?.size ?? 0), 0)

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
      const left = init.maxBytes == null ? Number.POSITIVE_INFINITY : init.maxBytes - (init.usedBytes?.() ?? 0) - archivedBytes()
      if (left <= 0) {
        init.onEvent?.({ type: 'skipped', appId: r.appId, reason: `over --max-bytes ${init.maxBytes}` })
        return
      }
      if (await archiveUrl(signed, url, Math.min(maxFileBytes, left))) return
    }
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
      const same = fetched.notModified || (before?.archived != null && fetched.sha256 === before.archived.sha256)
      if (same) {
        await rm(part, { force: true })
        book.check(base, { time: Date.now(), state: 'alive', sha256: before?.archived?.sha256 })
        init.onEvent?.({ type: 'checked', appId: r.appId, url, state: 'alive' })
        return true
      }
      let version = r.version
      let updateInformation: string | undefined
      try {
        const image = await openAppImage(part, { signal })
        try {
          const metadata = await readAppImageMetadata(image, { signal })
          version = imageVersion(metadata.draft) ?? r.version
          updateInformation = metadata.draft.updateInformation
        } finally {
          await image.close()
        }
      } catch (err) {
        signal.throwIfAborted()
        throw new NotAnAppImageError(`${url} served ${fetched.size} bytes that are not a type 2 AppImage (${(err as Error).name}: ${(err as Error).message})`)
      }
      const cid = await addAppImageContent(services, part, { signal, pin: true })
      const witness = await witnesses.publish(buildWitnessRecord({
        appId: r.appId,
        version,
        channel: r.channel,
        arch: r.arch,
        url,
        sha256: fetched.sha256,
        size: fetched.size,
        cid: cid.toString(),
        release: signed.id,
        updateInformation: updateInformation != null && updateInformation.length <= 1024 && !/\p{Cc}/u.test(updateInformation) ? updateInformation : undefined
      }, { publisher: key.did }), key, { signal })
      await rm(part, { force: true })
      const time = Date.now()
      const copy = { sha256: fetched.sha256, size: fetched.size, cid: cid.toString(), version, witness: witness.id, time }
      // the first copy stays the one this URL is compared with; a changed file is witnessed and kept too
      const changed = before?.archived != null
      book.check(base, { time, state: changed ? 'changed' : 'alive', sha256: fetched.sha256 }, {
        archived: before?.archived ?? copy,
        etag: fetched.etag,
        lastModified: fetched.lastModified
      })
      init.onEvent?.({ type: 'witnessed', appId: r.appId, version, url, cid: copy.cid, sha256: copy.sha256, size: copy.size, witness: witness.id })
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
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }

  function runOnce (): Promise<void> {
    running ??= pass().finally(() => { running = undefined })
    return running
  }

  // a pass at least as often as the origins are due
  const timer = setInterval(() => { void runOnce() }, init.scanInterval ?? Math.min(DEFAULT_SCAN_INTERVAL, recheckInterval))
  timer.unref()
  void runOnce()

  return {
    runOnce,
    async status () {
      const origins: Record<OriginState, number> = { alive: 0, gone: 0, changed: 0, failing: 0 }
      const checked: ArchivedOrigin[] = []
      for (const o of book.all().sort((a, b) => b.since - a.since)) {
        origins[o.state]++
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
        checked.push(item)
      }
      return { archived: book.all().filter(o => o.archived != null).length, archivedBytes: archivedBytes(), origins, checked }
    },
    async stop () {
      clearInterval(timer)
      controller.abort()
      await running?.catch(() => {})
      await book.save().catch(() => {})
    }
  }
}
