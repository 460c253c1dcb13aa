/**
 * @packageDocumentation
 *
 * @hubless/query: the catalog an app store embeds. It is fed the registry's verified records
 * (in bulk at start, then live) and answers what apps exist, which version is newest on a reader's
 * channel and architecture, who published it and whether to trust it, with full-text search,
 * filters and facets. It runs in Node and in browsers (no Node built-ins).
 *
 * @example
 * ```ts
 * const catalog = await createCatalog({ source: registry }, { roots: ['did:key:z6Mk…'] })
 * const { hits } = catalog.search({ query: 'video editor', channel: 'beta', trustedOnly: true })
 * const app = catalog.app(hits[0].appId) // versions, history, trust path, forks
 * ```
 */

import type {
  AppMetadata, Architecture, Channel, HeadsAnnouncement, ReleaseContent, ReleaseRecord, SignedRecord
} from '@hubless/registry/records'
import type { RecordPosition } from '@hubless/registry'
import type { TypedEventTarget } from 'main-event'
import type { ProgressEvent } from 'progress-events'
import { CatalogImpl } from './catalog.ts'
import { createFreshness } from './freshness.ts'
import { HttpRecordSource } from './http-source.ts'
import type { ForkReport } from './forks.ts'
import type { LicenseClass } from './licenses.ts'

export type { ForkReport } from './forks.ts'
export type { LicenseClass } from './licenses.ts'
export type { ParsedRelease, ParsedVersion, OrderedRelease, VersionKind } from './version.ts'
export { compareReleases, compareVersions, newestFirst, parseVersion } from './version.ts'
export { CHANNEL_LADDER, channelVisible, visibleChannels } from './channels.ts'
export { classifyLicense } from './licenses.ts'
export {
  AbortError, CatalogSourceError, CatalogStoppedError, HttpSourceError, InvalidQueryError, InvalidRecordError, InvalidSavedIndexError,
  InvalidTrustPolicyError, InvalidTrustRootError
} from './errors.ts'
export { EPOCH_HEADER, POSITION_HEADER } from './http-source.ts'
export { createWitnessIndex } from './witnesses.ts'
export { chooseDownload } from './downloads.ts'
export type { Download, DownloadCatalog, DownloadQuery, DownloadWitnesses } from './downloads.ts'
export type { TrackedVersion, WitnessConflict, WitnessIndex, WitnessIndexInit, WitnessSummary, WitnessView } from './witnesses.ts'
export { SEARCH_LIMITS, checkSearchQuery, parseSearchQuery } from './search-query.ts'
export type { CheckedSearchQuery, ParseSearchQueryOptions, SearchParams } from './search-query.ts'

export interface AbortOptions {
  signal?: AbortSignal
}

export interface ReleaseJudgement {
  /** its state (`ok`, `yanked`, `revoked`) and reason, as the app's history would show it */
  view: ReleaseView
  /** the app's owner (the publisher its view follows, any key of it) signed it */
  owner: boolean
}

/** What the catalog keeps of a signed record: the registry verified the signature already */
export type CatalogRecord = Pick<SignedRecord, 'id' | 'record'>

/**
 * Where records come from: `records()` in bulk, and (optionally) live `record` events. Every
 * record must already be verified. `@hubless/registry`'s `Registry` is a RecordSource as it is.
 */
/** A place in a source's order of records (`Registry.position()`), saved with the index to resume from */
export type SourcePosition = RecordPosition

export interface RecordSourceOptions extends AbortOptions {
  /** only the records after this position (a source that does not know it starts from the beginning) */
  after?: SourcePosition
}

export interface RecordSource {
  records (options?: RecordSourceOptions): AsyncIterable<CatalogRecord>
  /**
   * How far `records()` has come; every record up to it was dispatched as a `record` event. With
   * it, a saved index holds a position and the next start reads only the records after it
   */
  position? (): SourcePosition
  addEventListener? (type: 'record', listener: (event: CustomEvent<CatalogRecord>) => void): void
  removeEventListener? (type: 'record', listener: (event: CustomEvent<CatalogRecord>) => void): void
}

export interface CatalogComponents {
  /** verified records; without one, feed the catalog with `add` */
  source?: RecordSource
  /** ms since epoch, for endorsement expiry; default Date.now */
  clock?: () => number
}

export interface CatalogInit {
  /** did:keys the reader trusts (its own roots) */
  roots?: string[]
  /** how many endorsement steps from a root still count; default 2 */
  maxDepth?: number
  /** architecture to show versions for when a query names none (e.g. x86_64); default: any */
  arch?: Architecture
  /** a string or bytes from {@link Catalog.save}; records in the source that it holds are skipped */
  savedIndex?: string | Uint8Array
  /**
   * Keep only the newest `retain` releases per app, signing key, channel and arch (yanked ones not
   * counted) and each key's first of each app, so that memory grows with the apps, not with every
   * nightly (README, "Bounded catalogs"). Default: every release
   */
  retain?: number
}

export interface CatalogOptions extends AbortOptions {
  onProgress?: (event: ProgressEvent<'catalog:load', { records: number }>) => void
}

/**
 * - `trusted`: a key the reader's roots reach (path says how) publishes the app
 * - `unverified`: nobody trusted publishes it; this key claimed it first
 * - `imported`: as unverified, but restated from another catalog by a key nobody trusted endorses
 * - `conflicting`: another key owns the app id; this one publishes it too (squatting made visible)
 */
export type TrustStatus = 'trusted' | 'unverified' | 'imported' | 'conflicting'

export interface TrustVerdict {
  status: TrustStatus
  /** the publisher's current key (after rotations) */
  publisher: string
  /** did:keys from a root to the publisher, when a root reaches it */
  path: string[]
  /** e.g. "trusted via root did:key:A -> did:key:B" */
  explanation: string
}

/** `revoked`: signed with a key after its revocation or rotation point; `yanked`: withdrawn by its publisher */
export type ReleaseState = 'ok' | 'yanked' | 'revoked'

export interface ReleaseView {
  id: string
  appId: string
  version: string
  channel: Channel
  arch: Architecture
  /** publication time claimed by the publisher, ms */
  time: number
  /** the signing key */
  publisher: string
  content: ReleaseContent
  app: AppMetadata
  previous?: string
  imported?: { source: string, sourceId: string }
  state: ReleaseState
  /** why the state is not ok */
  reason?: string
  /**
   * set when `content` holds what mirrors witnessed rather than what the record says: an
   * imported release or a tracked version the reader's trusted witnesses (`by`) vouch for
   * (see {@link chooseDownload})
   */
  witnessed?: { by: string[] }
}

/** The newest release a reader of `channel` gets on `arch` */
export interface LatestRelease {
  channel: Channel
  arch: Architecture
  release: ReleaseView
}

export interface Claimant {
  trust: TrustVerdict
  /** the claimant's newest release of the app */
  newest: ReleaseView
  releases: number
}

export interface AppView {
  appId: string
  name: string
  metadata: AppMetadata
  license: LicenseClass
  trust: TrustVerdict
  /** newest release per reader channel and architecture, following the channel ladder */
  latest: LatestRelease[]
  /** the owner's releases, newest first, yanked and revoked ones included and marked */
  history: ReleaseView[]
  /** set when a catalog with `retain` dropped releases of the app: `history` holds the ones it kept */
  historyPartial?: true
  /** other keys publishing this app id, each `conflicting` */
  claimants: Claimant[]
  forks: ForkReport[]
  /** time of the owner's newest release */
  updated: number
}

export type SortOrder = 'relevance' | 'updated' | 'name'

export interface SearchQuery {
  /** words; empty or absent browses the whole catalog */
  query?: string
  /** any of these categories (case does not matter) */
  category?: string | string[]
  /** reader channel: versions come from its ladder, and apps without a release on it are left out */
  channel?: Channel
  arch?: Architecture
  /** only apps whose license is free (SPDX, OSI or FSF) */
  free?: boolean
  trustedOnly?: boolean
  /** publisher did:key (any key of the identity) */
  publisher?: string
  /** default: relevance with a query, name without */
  sort?: SortOrder
  /** hits skipped, at most `SEARCH_LIMITS.offset` */
  offset?: number
  /** default 20, at most `SEARCH_LIMITS.pageSize` (1000) */
  limit?: number
  /** compute facet counts (default true) */
  facets?: boolean
}

export interface SearchHit {
  appId: string
  name: string
  summary?: string
  /** newest version for the query's channel and architecture, absent when all were withdrawn */
  version?: string
  channel?: Channel
  arch?: Architecture
  releaseId?: string
  publisher: string
  trust: TrustVerdict
  categories: string[]
  license: LicenseClass
  updated: number
  /** relevance score, 0 when browsing */
  score: number
}

/**
 * Counts per value of each filter, over the hits that pass every *other* filter, so a UI can
 * show what choosing another value would give.
 */
export interface Facets {
  category: Record<string, number>
  channel: Record<string, number>
  arch: Record<string, number>
  license: Record<string, number>
  trust: Record<string, number>
  publisher: Record<string, number>
}

export interface SearchResults {
  hits: SearchHit[]
  /** hits before pagination */
  total: number
  offset: number
  limit: number
  facets?: Facets
}

/**
 * Which releases {@link Catalog.releases} returns. `appId` or `publisher` (or both) must be
 * named: those are the indexes; the other fields filter what they hold.
 */
export interface ReleaseFilter {
  appId?: string
  /** the signing key itself, not the other keys of its identity */
  publisher?: string
  channel?: Channel
  arch?: Architecture
  version?: string
}

/** A release record as the catalog holds it */
export type CatalogRelease = CatalogRecord & { record: ReleaseRecord }

export interface TrustedKey {
  /** the identity's current key */
  key: string
  depth: number
  path: string[]
  explanation: string
}

export interface CatalogEvents {
  /** apps whose view changed (new release, yank, ownership or trust change) */
  changed: CustomEvent<{ appIds: string[] }>
  fork: CustomEvent<ForkReport>
}

export interface Catalog {
  readonly events: TypedEventTarget<CatalogEvents>
  /** number of apps */
  readonly size: number
  /**
   * Whether it holds what its saved index (the one it was created from, or last `save()`d) does
   * not: a record taken in, a source position moved on, a retention other than the file's. A
   * restart that brought nothing new need not write its index again
   */
  readonly unsaved: boolean
  /** add one verified record (duplicates are ignored); returns the app ids whose view changed */
  add (record: CatalogRecord): string[]
  /** add many at once, recomputing once at the end */
  addAll (records: Iterable<CatalogRecord>): string[]
  search (query?: SearchQuery): SearchResults
  app (appId: string): AppView | undefined
  /** the newest usable release for a reader (default channel release, any arch) */
  latest (appId: string, options?: { channel?: Channel, arch?: Architecture }): ReleaseView | undefined
  /**
   * Every release the catalog took in that matches `filter`, whatever its trust, owner, yank or
   * revocation (what a publisher asks about its own releases: the previous one, the one to
   * yank), in the order the catalog took them in. Looked up in the app's or the key's index:
   * the cost is the releases of that app or key, never the whole catalog.
   */
  releases (filter: ReleaseFilter): CatalogRelease[]
  /**
   * How the app's view shows a release, or would show it: a catalog with `retain` judges the
   * releases it dropped too (read back from the registry). Undefined when the app has no view
   */
  judge (release: CatalogRecord): ReleaseJudgement | undefined
  forks (): ForkReport[]
  roots (): string[]
  /** replace the reader's roots (did:keys); views are re-evaluated */
  setRoots (roots: string[]): void
  /** every key the roots reach for all apps, with its path */
  trusted (): TrustedKey[]
  /** the saved index: records, views' inputs and the search index, for a fast next start */
  save (): string
  /**
   * The same text in pieces of ~400 KB, to write one after another: a million-record registry's
   * index (29 MB) took ~100 MB of memory as one string. Taken when called; joined, it is `save()`
   */
  savePieces (): Iterable<string>
  /**
   * Take a source to a catalog made without one: read what it holds past the saved index's
   * position (all of it without one) and follow its `record` events until `stop()`, as
   * `createCatalog` does with `components.source`. A catalog loads its saved index in the time
   * its source takes to open (a mirror's restart). Throws `CatalogSourceError` if it has a source.
   */
  follow (source: RecordSource, options?: CatalogOptions): Promise<void>
  stop (): Promise<void>
}

/**
 * Create a catalog: load `init.savedIndex` if given, then read every record of
 * `components.source` and follow its live `record` events until `stop()`.
 */
export async function createCatalog (components: CatalogComponents = {}, init: CatalogInit = {}, options: CatalogOptions = {}): Promise<Catalog> {
  const catalog = new CatalogImpl(components, init)
  await catalog.start(options)
  return catalog
}

export interface FreshnessInit {
  /** did:keys of the mirrors whose signed heads the reader believes */
  mirrors: string[]
  /** a view with no trusted mirror's heads newer than this many ms is stale */
  maxAge: number
  /** only heads for this registry address count (default: any) */
  registry?: string
  /** announcements dated more than this many ms ahead of the reader's clock are refused; default 5 min */
  maxSkew?: number
}

export interface FreshnessComponents {
  /** ms since epoch; default Date.now */
  clock?: () => number
}

export interface FreshnessStatus {
  /** true when no trusted mirror vouched for the registry within `maxAge` */
  stale: boolean
  maxAge: number
  /** ms since the freshest trusted announcement was signed */
  age?: number
  newest?: { mirror: string, time: number, records: number, heads: string[] }
  explanation: string
}

/** Tells a reader whether its view is fresh, from the signed heads announcements of its trusted mirrors */
export interface FreshnessTracker {
  /** verify one announcement (wire bytes, see `encodeSignedHeads`) and take it into account; named errors for bad, foreign or untrusted ones */
  observe (wire: Uint8Array, options?: AbortOptions): Promise<HeadsAnnouncement>
  status (): FreshnessStatus
}

/** Create a freshness tracker (the defence against indefinite freeze); feed it what mirrors announce on `headsTopic(address)` */
export function createFreshnessTracker (components: FreshnessComponents, init: FreshnessInit): FreshnessTracker {
  return createFreshness(components, init)
}

export interface HttpSourceInit {
  /** a mirror's base URL, e.g. `https://mirror.example.org` (its feed is `/api/v1/records`) */
  url: string
  /** ms between polls for new records after the first read; 0: never. Default 30 000 */
  pollInterval?: number
  /** the fetch to use; default `globalThis.fetch` */
  fetch?: typeof globalThis.fetch
  /**
   * read the mirror's live set first (`/api/v1/records/live`: every trust record and yank, each
   * publisher's newest release per slot), so that a catalog shows today's apps before the
   * history arrives. A mirror without one (an older mirror) is read as before. Default true
   */
  live?: boolean
  /**
   * read the whole feed after the live set (every superseded release). With false, only the live
   * set and, from its position on, what the mirror takes in later: a catalog of today's apps
   * without the history's download (a million records are ~1 GB of JSON). Default true
   */
  history?: boolean
}

export interface HttpSourceEvents {
  /** a new, verified record found by a poll */
  record: CustomEvent<CatalogRecord>
  /** a line of the feed (or, with `live`, of the live set) that is not a valid signed record (dropped; the feed goes on) */
  rejected: CustomEvent<{ position: number, error: Error, live?: true }>
  /** a poll failed (the next one is tried as scheduled) */
  error: CustomEvent<Error>
}

/** A {@link RecordSource} that reads and verifies a mirror's record feed over HTTP(S) */
export interface HttpSource extends TypedEventTarget<HttpSourceEvents> {
  records (options?: AbortOptions): AsyncIterable<CatalogRecord>
  /** read the records the mirror took in since the last read, now; resolves with how many were read */
  poll (options?: AbortOptions): Promise<number>
  /** stop polling and abort reads in flight */
  stop (): void
}

/**
 * Records from a hubless mirror over HTTP(S), each signature verified here (the mirror is not
 * trusted to have done it): the catalog's source where peer-to-peer is blocked, a browser
 * included. It reads the whole feed when the catalog starts, then polls for what is new.
 *
 * @example
 * ```ts
 * const source = createHttpSource({ url: 'https://mirror.example.org' })
 * const catalog = await createCatalog({ source }, { roots: ['did:key:z6Mk…'] })
 * ```
 */
export function createHttpSource (init: HttpSourceInit): HttpSource {
  return new HttpRecordSource(init)
}
