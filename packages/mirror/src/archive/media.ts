import { createHash } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildMediaRecord } from '@hubless/registry'
import { logger } from '@libp2p/logger'
import { NotAnImageError, OriginError } from '../errors.ts'
import { imageType } from '../image-type.ts'
import { PAGE_START } from './origin-fetch.ts'
import type { OriginFetcher } from './origin-fetch.ts'
import type { HublessNode } from '@hubless/net'
import type { AppMetadata, MediaType, PublisherKey, Registry } from '@hubless/registry'

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
}

interface MediaFailure {
  appId: string
  error: string
  time: number
  retryAt?: number
}

export interface MediaArchiverComponents {
  node: Pick<HublessNode, 'content'>
  /** the media log (`createMediaLog` of @hubless/registry) */
  media: Pick<Registry, 'publish'>
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

  const archiver: MediaArchiver = {
    async archive (appId, app, signal) {
      const now = Date.now()
      for (const url of imageUrls(app)) {
        if (copies.has(url)) continue
        const failed = failures.get(url)
        if (failed != null && now < Math.max(failed.retryAt ?? 0, failed.time + retryInterval)) continue
        await archiveOne(appId, url, signal)
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
