/**
 * The catalog's read room: `CatalogImpl` answers every question (search through
 * `catalog-search.ts`, app views, the newest release for a reader, releases by app or key, trust)
 * from the indexes the ingest room (`catalog-state.ts`) keeps, and feeds that room from its record source.
 */

import { logger } from '@libp2p/logger'
import type { Architecture, Channel } from '@hubless/registry/records'
import { CustomProgressEvent } from 'progress-events'
import type { ReleaseEntry } from './app-view.ts'
import { CatalogSearch } from './catalog-search.ts'
import { CatalogState, checkRecord } from './catalog-state.ts'
import { CHANNEL_LADDER, isChannel } from './channels.ts'
import { AbortError, CatalogSourceError, CatalogStoppedError, InvalidQueryError } from './errors.ts'
import type { ForkReport } from './forks.ts'
import type {
  AppView, Catalog, CatalogComponents, CatalogEvents, CatalogInit, CatalogOptions, CatalogRecord, CatalogRelease, RecordSource, ReleaseFilter, ReleaseJudgement, ReleaseView,
  SearchQuery, SearchResults, TrustedKey
} from './index.ts'
import { serializeIndexPieces } from './saved-index.ts'
import { checkSearchQuery } from './search-query.ts'
import { explainPath } from './trust.ts'
import { shown } from './shown.ts'
import type { TypedEventTarget } from 'main-event'

const log = logger('hubless:query:catalog')

const BATCH = 1000

export class CatalogImpl implements Catalog {
  private readonly state: CatalogState
  private readonly searcher: CatalogSearch
  private source: CatalogComponents['source']
  private stopped = false
  private readonly onRecord = (event: CustomEvent<CatalogRecord>): void => {
    try {
      this.add(event.detail)
    } catch (err) {
      // a bad record from a peer is logged and dropped; it must not take the catalog down
      log.error('dropped a live record: %s', (err as Error).message)
    }
  }

  constructor (components: CatalogComponents, init: CatalogInit) {
    this.source = components.source
    this.state = new CatalogState({ roots: init.roots, maxDepth: init.maxDepth, savedIndex: init.savedIndex, retain: init.retain, clock: components.clock ?? Date.now })
    this.searcher = new CatalogSearch(this.state, init.arch)
  }

  get events (): TypedEventTarget<CatalogEvents> {
    return this.state.events
  }

  async follow (source: RecordSource, options: CatalogOptions = {}): Promise<void> {
    this.ensureOpen()
    if (this.source != null) throw new CatalogSourceError('the catalog follows a source already; create another catalog for another source')
    this.source = source
    try {
      await this.start(options)
    } catch (err) {
      this.source = undefined
      throw err
    }
  }

  async start (options: CatalogOptions): Promise<void> {
    const source = this.source
    if (source == null) return
    // listen first, so nothing published while the bulk read runs is missed (duplicates are skipped)
    source.addEventListener?.('record', this.onRecord)
    // taken after listening: what comes after it arrives as events, or in the read below
    const position = source.addEventListener != null ? source.position?.() : undefined
    const after = this.state.position
    let count = 0
    try {
      for await (const record of source.records({ signal: options.signal, ...(after != null ? { after } : {}) })) {
        if (options.signal?.aborted === true) throw new AbortError('loading the catalog was aborted')
        try {
          this.state.ingest(checkRecord(record))
        } catch (err) {
          log.error('skipped a record from the source: %s', (err as Error).message)
        }
        if (++count % BATCH === 0) {
          options.onProgress?.(new CustomProgressEvent('catalog:load', { records: count }))
        }
      }
    } catch (err) {
      source.removeEventListener?.('record', this.onRecord)
      throw err
    }
    options.onProgress?.(new CustomProgressEvent('catalog:load', { records: count }))
    // a position the saved index does not hold yet is worth saving, even with no record past it
    if (position?.index !== this.state.position?.index || position?.seq !== this.state.position?.seq) this.state.unsaved = true
    this.state.position = position
    this.state.flush(true)
  }

  get unsaved (): boolean {
    return this.state.unsaved
  }

  get size (): number {
    this.sync()
    return this.state.apps.size
  }

  private ensureOpen (): void {
    if (this.stopped) throw new CatalogStoppedError('the catalog is stopped; create a new one')
  }

  /** bring views up to date before answering (pending records, expired endorsements) */
  private sync (): void {
    this.state.flush(true)
  }

  add (record: CatalogRecord): string[] {
    this.ensureOpen()
    this.state.ingest(checkRecord(record))
    return this.state.flush(true)
  }

  addAll (records: Iterable<CatalogRecord>): string[] {
    this.ensureOpen()
    const checked: CatalogRecord[] = []
    for (const record of records) checked.push(checkRecord(record))
    for (const record of checked) this.state.ingest(record)
    return this.state.flush(true)
  }

  search (input: SearchQuery = {}): SearchResults {
    this.ensureOpen()
    const query = checkSearchQuery(input)
    this.sync()
    return this.searcher.search(query)
  }

  app (appId: string): AppView | undefined {
    this.ensureOpen()
    this.sync()
    return this.state.apps.get(appId)?.view
  }

  latest (appId: string, options: { channel?: Channel, arch?: Architecture } = {}): ReleaseView | undefined {
    this.ensureOpen()
    if (options.channel != null && !isChannel(options.channel)) throw new InvalidQueryError(`channel must be one of ${CHANNEL_LADDER.join(', ')}, not ${shown(options.channel)}`, { parameter: 'channel' })
    const view = this.app(appId)
    if (view == null) return undefined
    return this.searcher.pick(view, options.channel ?? 'release', options.arch, options.arch != null)
  }

  judge (release: CatalogRecord): ReleaseJudgement | undefined {
    this.ensureOpen()
    // a light check: what the registry hands out was validated when it entered the log
    const { id, record } = release ?? {}
    if (typeof id !== 'string' || record?.kind !== 'release' || typeof record.appId !== 'string' || typeof record.publisher !== 'string' ||
      typeof record.version !== 'string' || typeof record.time !== 'number') {
      throw new InvalidQueryError(`judge takes a release record with its id, not ${shown(record?.kind ?? release)}`, { parameter: 'release' })
    }
    this.sync()
    return this.state.judge(id, record)
  }

  releases (filter: ReleaseFilter): CatalogRelease[] {
    this.ensureOpen()
    const { appId, publisher, channel, arch, version } = filter ?? {}
    for (const [name, value] of Object.entries({ appId, publisher, channel, arch, version })) {
      if (value != null && typeof value !== 'string') throw new InvalidQueryError(`${name} must be a string, not ${shown(value)}`, { parameter: name })
    }
    if (appId == null && publisher == null) throw new InvalidQueryError('name an appId or a publisher: releases are looked up by either, never by a scan', { parameter: 'appId' })
    const byApp = appId != null ? this.state.releasesByApp.get(appId) : undefined
    const byKey = publisher != null ? this.state.releasesByPublisher.get(publisher) : undefined
    if ((appId != null && byApp == null) || (publisher != null && byKey == null)) return []
    // the smaller of the two indexes, filtered by the rest
    const entries: Map<string, ReleaseEntry> = byApp == null || (byKey != null && byKey.size < byApp.size) ? byKey! : byApp
    const found: CatalogRelease[] = []
    for (const { id, record } of entries.values()) {
      if ((appId != null && record.appId !== appId) || (publisher != null && record.publisher !== publisher)) continue
      if ((channel != null && record.channel !== channel) || (arch != null && record.arch !== arch) || (version != null && record.version !== version)) continue
      found.push({ id, record })
    }
    return found
  }

  forks (): ForkReport[] {
    this.ensureOpen()
    return this.state.forkDetector.all()
  }

  roots (): string[] {
    return [...this.state.trust.policy.roots]
  }

  setRoots (roots: string[]): void {
    this.ensureOpen()
    this.state.setRoots(roots)
    this.state.flush(true)
  }

  trusted (): TrustedKey[] {
    this.ensureOpen()
    this.sync()
    const { trust } = this.state
    trust.refresh(this.state.now())
    return [...trust.trustedIdentities()].map(([key, path]) => ({
      key,
      depth: path.depth,
      path: path.steps.map(step => step.key),
      explanation: explainPath(path)
    }))
  }

  save (): string {
    return [...this.savePieces()].join('')
  }

  savePieces (): Iterable<string> {
    this.ensureOpen()
    this.sync()
    const { records, indexed, index, retention, dropped } = this.state
    // a position is set at start only for a source it listens to: every record up to the source's position now came in
    const position = this.state.position != null ? this.source?.position?.() : undefined
    this.state.unsaved = false
    return serializeIndexPieces(records.values(), { indexed, search: index, position, retain: retention?.perSlot, partial: dropped })
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.source?.removeEventListener?.('record', this.onRecord)
  }
}
