import { createHash } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dagAllowance } from '@hubless/net'
import { buildMediaRecord } from '@hubless/registry'
import { logger } from '@libp2p/logger'
import { NotAnImageError, OriginError } from '../errors.ts'
import { imageType } from '../image-type.ts'
import { PAGE_START } from './origin-fetch.ts'
import type { OriginFetcher } from './origin-fetch.ts'
import type { HublessNode } from '@hubless/net'
import type { AppMetadata, MediaRecord, MediaType, PublisherKey, Registry, SignedRecord } from '@hubless/registry'

const log = logger('hubless:mirror:archive:media')

/** 4 MiB: more than any icon or screenshot AppImageHub links to; an endless or huge answer is cut here */
export const DEFAULT_MAX_IMAGE_BYTES = 4 * 1024 * 1024

/** An image this mirror archived: served from here as `/ipfs/{cid}` */
export interface MediaCopy {
  appId: string
  cid: string
  sha256: string
  size: number
  type: MediaType
  /** the media record's id */
  record: string
  time: number
  /** the mirror key whose media record this copy was fetched by (by CID from peers), when the origin failed this mirror */
  adoptedFrom?: string
}

interface MediaFailure {
  appId: string
  error: string
  time: number
  retryAt?: number
}

export interface MediaArchiverComponents {
  node: Pick<HublessNode, 'content'>
  /** the media log (`createMediaLog` of @hubless/registry): this mirror's records go there, other mirrors' come from there */
  media: Pick<Registry, 'publish'> & Partial<Pick<Registry, 'records' | 'addEventListener'>>
  key: PublisherKey
  fetcher: OriginFetcher
}

export interface MediaArchiverInit {
  /** DATA_DIR/archive: `media.json` and partial downloads */
  directory: string
  /** the most one image may be; default {@link DEFAULT_MAX_IMAGE_BYTES} */
  maxImageBytes?: number
  /** bytes the mirror's budget has left */
  budgetLeft: () => number
  /** a failed image is tried again after this many ms; default an hour */
  retryInterval?: number
  /**
   * mirror keys whose media records this mirror believes (the keys it trusts as witnesses): an
   * image its origin does not give this mirror is fetched by the CID such a record names, from
   * peers, and kept when its bytes match the record's size, SHA-256 and type
   */
  trustedKeys?: () => Promise<string[]>
  onEvent?: (event: { type: 'image', appId: string, url: string, cid?: string, error?: string }) => void
}

export interface MediaArchiver {
  /** fetch, check, add, pin and witness the app's icon and screenshots named by http(s) URL that are not archived yet; never throws for one image */
  archive (appId: string, app: AppMetadata | undefined, signal: AbortSignal): Promise<void>
  /** the copy archived of the image at `url` */
  copyOf (url: string): MediaCopy | undefined
  /** bytes of every image archived */
  bytes (): number
  /** images archived, and failures by URL */
  status (): { archived: number, bytes: number, failed: Array<{ url: string, appId: string, error: string }> }
  save (): Promise<void>
}

/** Media records of the log by URL, kept current by its `record` events */
async function knownRecords (media: MediaArchiverComponents['media']): Promise<Map<string, Array<{ id: string, record: MediaRecord }>>> {
  const byUrl = new Map<string, Array<{ id: string, record: MediaRecord }>>()
  const seen = new Set<string>()
  const take = (signed: SignedRecord): void => {
    if (signed.record.kind !== 'media' || seen.has(signed.id)) return
    seen.add(signed.id)
    const list = byUrl.get(signed.record.url) ?? []
    list.push({ id: signed.id, record: signed.record })
    byUrl.set(signed.record.url, list)
  }
  media.addEventListener?.('record', event => { take(event.detail) })
  if (media.records != null) {
    for await (const signed of media.records()) take(signed)
  }
  return byUrl
}

/** The http(s) URLs of an app's icon and screenshots (a CID is content the registry names already) */
function imageUrls (app: AppMetadata | undefined): string[] {
  return [app?.icon, ...(app?.screenshots ?? [])].filter((u): u is string => u != null && /^https?:\/\//.test(u))
}

/**
 * Archives the images an app links to, the way the archiver archives its file: the same bounded
 * origin fetch (timeouts, redirects, at most 2 requests per host, Retry-After), a size cap for
 * images, a check of the bytes' type by their magic bytes (a web page or anything else is
 * `NotAnImageError`), added and pinned within the mirror's budget, and a media record signed with
 * the mirror's key appended to the media log. A failure is kept per URL and tried again later; it
 * never fails the app's archiving.
 */
export async function createMediaArchiver (components: MediaArchiverComponents, init: MediaArchiverInit): Promise<MediaArchiver> {
  const file = join(init.directory, 'media.json')
  const copies = new Map<string, MediaCopy>()
  const failures = new Map<string, MediaFailure>()
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { copies?: Record<string, MediaCopy>, failures?: Record<string, MediaFailure> }
    for (const [url, copy] of Object.entries(saved.copies ?? {})) copies.set(url, copy)
    for (const [url, failure] of Object.entries(saved.failures ?? {})) failures.set(url, failure)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.error('could not read %s, starting afresh: %e', file, err)
  }
  const maxImageBytes = init.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES
  const retryInterval = init.retryInterval ?? 3600_000
  const bytes = (): number => [...copies.values()].reduce((sum, c) => sum + c.size, 0)
  const known = await knownRecords(components.media)

  async function archiveOne (appId: string, url: string, signal: AbortSignal): Promise<void> {
    const part = join(init.directory, 'partial', `media-${createHash('sha256').update(url).digest('hex').slice(0, 32)}.part`)
    try {
      const left = init.budgetLeft()
      if (left <= 0) return
      const fetched = await components.fetcher.fetchToFile(url, part, { signal, maxBytes: Math.min(maxImageBytes, left), pageStart: PAGE_START })
      const body = await readFile(part)
      const type = imageType(body)
      if (type == null) throw new NotAnImageError(`${url} served ${fetched.size} bytes that are not a PNG, JPEG, GIF, WebP or SVG image`)
      const cid = (await components.node.content.add(body, { signal, pin: true })).toString()
      const record = await components.media.publish(buildMediaRecord({ appId, url, type, sha256: fetched.sha256, size: fetched.size, cid }, { publisher: components.key.did }), components.key, { signal })
      copies.set(url, { appId, cid, sha256: fetched.sha256, size: fetched.size, type, record: record.id, time: Date.now() })
      failures.delete(url)
      init.onEvent?.({ type: 'image', appId, url, cid })
    } catch (err) {
      if (signal.aborted) throw err
      const error = err instanceof Error ? err : new Error(String(err))
      const retryAt = err instanceof OriginError ? err.retryAt : undefined
      failures.set(url, { appId, error: `${error.name}: ${error.message}`, time: Date.now(), ...(retryAt == null ? {} : { retryAt }) })
      init.onEvent?.({ type: 'image', appId, url, error: `${error.name}: ${error.message}` })
      log('archiving image %s of %s failed: %s %s', url, appId, error.name, error.message)
    } finally {
      await rm(part, { force: true })
    }
  }

  /** the image at `url` as a mirror this one trusts archived it, fetched by CID and checked */
  async function adopt (url: string, signal: AbortSignal): Promise<void> {
    const records = known.get(url) ?? []
    if (records.length === 0 || init.trustedKeys == null) return
    const keys = new Set(await init.trustedKeys())
    const trusted = records.filter(s => keys.has(s.record.publisher) && s.record.publisher !== components.key.did).sort((a, b) => b.record.time - a.record.time)
    for (const { id, record } of trusted) {
      if (record.size > Math.min(maxImageBytes, init.budgetLeft())) continue
      try {
        await components.node.content.fetch(record.cid, { signal, maxBytes: dagAllowance(record.size) })
        const body = await components.node.content.get(record.cid, { signal, offline: true })
        const sha256 = createHash('sha256').update(body).digest('hex')
        if (body.byteLength !== record.size || sha256 !== record.sha256 || imageType(body) !== record.type) {
          throw new NotAnImageError(`${record.cid} is not the ${record.type} of ${record.size} bytes and SHA-256 ${record.sha256} that ${record.publisher}'s media record names`)
        }
        await components.node.content.pin(record.cid, { signal })
        const failed = failures.get(url)
        copies.set(url, { appId: record.appId, cid: record.cid, sha256, size: record.size, type: record.type, record: id, time: Date.now(), adoptedFrom: record.publisher })
        failures.delete(url)
        init.onEvent?.({ type: 'image', appId: record.appId, url, cid: record.cid })
        log('took %s from %s\'s media record (the origin said %s)', url, record.publisher, failed?.error)
        return
      } catch (err) {
        if (signal.aborted) throw err
        log('could not take %s by CID %s from %s\'s media record: %e', url, record.cid, record.publisher, err)
      }
    }
  }

  const archiver: MediaArchiver = {
    async archive (appId, app, signal) {
      const now = Date.now()
      for (const url of imageUrls(app)) {
        if (copies.has(url)) continue
        const failed = failures.get(url)
        if (failed != null && now < Math.max(failed.retryAt ?? 0, failed.time + retryInterval)) continue
        await archiveOne(appId, url, signal)
        if (!copies.has(url)) await adopt(url, signal)
      }
      await archiver.save().catch(err => { log.error('could not save %s: %e', file, err) })
    },
    copyOf: url => copies.get(url),
    bytes,
    status: () => ({
      archived: copies.size,
      bytes: bytes(),
      failed: [...failures].map(([url, f]) => ({ url, appId: f.appId, error: f.error }))
    }),
    async save () {
      const tmp = `${file}.tmp`
      await writeFile(tmp, JSON.stringify({ copies: Object.fromEntries(copies), failures: Object.fromEntries(failures) }))
      await rename(tmp, file)
    }
  }
  return archiver
}
