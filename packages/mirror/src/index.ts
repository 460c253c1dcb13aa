/**
 * @packageDocumentation
 *
 * The mirror's side of hubless: what a mirror operator runs on top of a node, a registry and a
 * catalog. It owns the HTTP server and every public route (the JSON API, `/feed.json` in
 * AppImageHub's schema, the storefront and its static files, plain and ranged downloads, the
 * stable `latest.AppImage` URLs and their zsync control files, the trustless gateway, `/healthz`,
 * `/readyz`, `/metrics`), the pinner that keeps release content alive by policy, and the importer
 * of AppImageHub's catalog as a library function.
 *
 * @example
 * ```ts
 * const mirror = await createMirror({ node, registry, catalog }, { http: { host: '127.0.0.1', port: 0 }, pin: 'all' })
 * await mirror.start()
 * console.log(`storefront at ${mirror.url}/`)
 * await mirror.stop()
 * ```
 */
import { openMirror } from './mirror.ts'
import type { Archiver, ArchiveEvent, ArchiverInit } from './archive/archiver.ts'
import type { HttpServerInit } from './http-server.ts'
import type { AppImageHubImport, ImportRename, ImportSkip } from './import/appimagehub.ts'
import type { LimiterInit } from './limiter.ts'
import type { PinEvent, Pinner, PinPolicy } from './pinner.ts'
import type { HublessNode } from '@hubless/net'
import type { Catalog, WitnessIndex } from '@hubless/query'
import type { Channel, PublisherKey, Registry } from '@hubless/registry'
import type { TypedEventTarget } from 'main-event'

/** What a mirror works with, opened by its caller (the CLI's daemon) */
export interface MirrorComponents {
  node: HublessNode
  registry: Registry
  catalog: Catalog
  /** the mirror's own key: signs the heads it announces and the witness records of what it archives (none: neither) */
  key?: PublisherKey
  /** the witness log (`createWitnessLog` of @hubless/registry): what mirrors saw origins serve */
  witnesses?: Registry
  /** the media log (`createMediaLog` of @hubless/registry): with it, an archiving mirror archives apps' icons and screenshots too */
  media?: Registry
  /** the witness log indexed, with the keys this mirror trusts as witnesses: adds `witnesses` to app pages */
  witnessIndex?: Pick<WitnessIndex, 'forRelease' | 'conflicts'> & Partial<Pick<WitnessIndex, 'tracked'>>
}

/** An AppImageHub catalog imported on the first start */
export interface MirrorSeed {
  file: string
  /** the importer key (never a trust root: restated data must not look trusted) */
  key: PublisherKey
  /** a file that records the import happened, so a restart does not repeat it */
  marker: string
}

export interface MirrorInit {
  /** where the public HTTP side listens */
  http: { host: string, port: number }
  /** connection limit and timeouts of the HTTP server (HTTP_DEFAULTS) */
  httpLimits?: HttpServerInit
  /** the mirror's public URL, for absolute links in /feed.json; default its HTTP address */
  publicUrl?: string
  /** which release content to keep */
  pin: PinPolicy
  /** only releases on these channels; default all */
  channels?: Channel[]
  /** stop pinning new content past this many bytes */
  maxBytes?: number
  /** where the pinner keeps what it holds between runs, so a start reads only the records since the last clean stop (`PinnerInit.stateFile`) */
  pinnerState?: string
  /** HTTP trustless gateways content fetches fall back to */
  gateways?: string[]
  seed?: MirrorSeed
  /** ms between signed heads announcements (freshness for readers); default 30 000 */
  headsInterval?: number
  /** bounds on the expensive answers (feed builds, searches, pages of releases), shared by all of them; the record feed streams under its own bound */
  expensive?: LimiterInit
  /** called when the feed or an API answer is built rather than served from the cache */
  onBuild?: (what: string) => void
  /**
   * with `pin: 'all'`, fetch, verify, pin and witness the files imported URL-only releases only
   * link to (`all`; needs `key` and `witnesses`), or not (`none`, the default)
   */
  archive?: 'all' | 'none'
  /** the archiver's bounds and schedule */
  archiving?: Omit<ArchiverInit, 'directory' | 'maxBytes' | 'usedBytes' | 'onEvent'>
  /** where the archiver keeps its origin book and partial downloads; default none (no archiving) */
  archiveDirectory?: string
}

/** What a first-run import did */
export type SeedEvent =
  | { phase: 'start', file: string }
  | { phase: 'done', file: string, importer: string, appended: number, unchanged: number, skipped: number }

/** What the operator's log tells, each one JSON-able */
export interface MirrorEvents {
  /** content pinned, missing, skipped or unpinned by the pinner */
  pin: CustomEvent<PinEvent>
  seed: CustomEvent<SeedEvent>
  /** the mirror runs without signed heads announcements (no key) */
  'heads:off': CustomEvent<{ reason: string }>
  /** a file witnessed, an origin checked, a fetch failed, a release skipped */
  archive: CustomEvent<ArchiveEvent>
  /** archiving was asked for but cannot run (no key, no witness log) */
  'archive:off': CustomEvent<{ reason: string }>
}

export interface Mirror {
  /** the public HTTP side, `http://host:port` */
  readonly url: string
  readonly events: TypedEventTarget<MirrorEvents>
  /** the pinner, once started */
  readonly pinner: Pinner
  /** the archiver, once started with `archive: 'all'` */
  readonly archiver?: Archiver
  /** seeds the catalog (first run), starts the pinner and the heads announcer; `/readyz` answers 200 after it */
  start (options?: { signal?: AbortSignal }): Promise<void>
  stop (): Promise<void>
}

/** Opens the mirror's HTTP side at once; `start` brings the rest up */
export async function createMirror (components: MirrorComponents, init: MirrorInit): Promise<Mirror> {
  return openMirror(components, init)
}

export interface ImportComponents {
  registry: Pick<Registry, 'publishMany'>
  catalog: Pick<Catalog, 'releases'>
}

export interface ImportAppImageHubInit {
  /** the catalog file (AppImageHub's `feed.json` or the project's `data/appimagehub-apps.json`) */
  file: string
  key: PublisherKey
}

export interface ImportOptions {
  signal?: AbortSignal
  onProgress?: (progress: { phase: string, done: number, total: number, unit: 'items' }) => void
}

export interface ImportOutput {
  /** did:key of the importing key (not one of your roots: endorse it to trust the import) */
  importer: string
  total: number
  /** records appended now */
  appended: number
  /** entries whose record is already in the registry */
  unchanged: number
  skipped: ImportSkip[]
  renamed: ImportRename[]
  defaults: AppImageHubImport['defaults']
}

export { addAppImageContent, type AddAppImageOptions, type AppImageChunking, appImageChunking } from './appimage-content.ts'
export { type ArchivedOrigin, type ArchiveEvent, type Archiver, type ArchiverComponents, type ArchiverInit, type ArchiverStatus, DEFAULT_MAX_FILE_BYTES, DEFAULT_RECHECK_INTERVAL, DEFAULT_SCAN_INTERVAL, startArchiver } from './archive/archiver.ts'
export { imageApp, imageVersion } from './image-text.ts'
export type { ApiAppDetail, ApiAppList, ApiAppPage, ApiAppSummary, ApiError, ApiFacetCount, ApiOriginState, ApiRelease, ApiTrackedVersion, ApiTrust, ApiWitness, ApiWitnessConflict, ApiWitnessSummary, TrustStatus } from './api-types.ts'
export * from './errors.ts'
export { buildAppImageHubFeed, type AppImageHubFeed, type AppImageHubFeedItem } from './feed.ts'
export { drained, HTTP_DEFAULTS, readJsonBody, sendJson, startHttpServer, type HttpServer, type HttpServerInit, type Route } from './http-server.ts'
export { APPIMAGEHUB_SOURCE, mapAppImageHubCatalog, type AppImageHubEntry, type AppImageHubImport, type ImportRename, type ImportSkip } from './import/appimagehub.ts'
export { importAppImageHub } from './import/import-catalog.ts'
export type { LimiterInit } from './limiter.ts'
export { createGatewayRoute, createHealthRoute } from './node-routes.ts'
export { anonymousBytes } from './process-memory.ts'
export type { MissingContent, PinEvent, Pinner, PinnerStatus, PinPolicy } from './pinner.ts'
