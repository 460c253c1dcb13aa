/**
 * The catalog's read room: `CatalogImpl` answers every question (search, app views, the newest
 * release for a reader, releases by app or key, trust) from the indexes the ingest room
 * (`catalog-state.ts`) keeps, and feeds that room from its record source.
 */

import { logger } from '@libp2p/logger'
import type { Architecture, Channel } from '@hubless/registry/records'
import { CustomProgressEvent } from 'progress-events'
import { nameKey } from './app-view.ts'
import type { ReleaseEntry } from './app-view.ts'
import { CatalogState, checkRecord } from './catalog-state.ts'
import { CHANNEL_LADDER, isChannel } from './channels.ts'
import { AbortError, CatalogSourceError, CatalogStoppedError, InvalidQueryError } from './errors.ts'
import type { Filters } from './facets.ts'
import type { ForkReport } from './forks.ts'
import type {
  AppView, Catalog, CatalogComponents, CatalogEvents, CatalogInit, CatalogOptions, CatalogRecord, CatalogRelease, RecordSource, ReleaseFilter, ReleaseJudgement, ReleaseView,
  SearchHit, SearchQuery, SearchResults, TrustedKey
} from './index.ts'
import { serializeIndexPieces } from './saved-index.ts'
import type { IndexHit } from './search-index.ts'
import { checkSearchQuery } from './search-query.ts'
import type { CheckedSearchQuery } from './search-query.ts'
import { selectTop, topPositions } from './select.ts'
import { explainPath } from './trust.ts'
import { shown } from './shown.ts'
import type { TypedEventTarget } from 'main-event'

const log = logger('hubless:query:catalog')

const BATCH = 1000

interface Orders {
  generation: number
  /** hits with their index document numbers, for browsing without a query */
  nameItems: IndexHit[]
  updatedItems: IndexHit[]
  nameRank: Map<string, number>
  updatedRank: Map<string, number>
}

/**
 * The ranking key of an exact name or app id match: above any BM25 score (which stays in the
 * tens), so that it comes first, and ordered among such matches by its score. Both search paths
 * (objects, and typed arrays) rank with it.
 */
const exactFirst = (score: number): number => 1e9 + score

export class CatalogImpl implements Catalog {
  private readonly state: CatalogState
  private orders: Orders | undefined
  /** ranking keys of a relevance search with exact matches ({@link searchByDocs}) */
  private keys = new Float64Array(0)
  private readonly arch: Architecture | undefined
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
    this.arch = init.arch
    this.state = new CatalogState({ roots: init.roots, maxDepth: init.maxDepth, savedIndex: init.savedIndex, retain: init.retain, clock: components.clock ?? Date.now })
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

  private getOrders (): Orders {
    const { apps, index, generation } = this.state
    if (this.orders?.generation === generation) return this.orders
    const ids = [...apps.keys()]
    const facts = (id: string) => apps.get(id)!.facts
    const byName = (a: string, b: string): number => {
      const x = facts(a).nameKey
      const y = facts(b).nameKey
      return x < y ? -1 : x > y ? 1 : a < b ? -1 : 1
    }
    const name = [...ids].sort(byName)
    const updated = [...ids].sort((a, b) => facts(b).updated - facts(a).updated || byName(a, b))
    const item = (id: string): IndexHit => {
      const doc = index.docOf(id)
      return doc != null ? { id, score: 0, doc } : { id, score: 0 }
    }
    this.orders = {
      generation,
      nameItems: name.map(item),
      updatedItems: updated.map(item),
      nameRank: new Map(name.map((id, i) => [id, i])),
      updatedRank: new Map(updated.map((id, i) => [id, i]))
    }
    return this.orders
  }

  search (input: SearchQuery = {}): SearchResults {
    this.ensureOpen()
    const query = checkSearchQuery(input)
    const { query: text, sort, offset, limit } = query
    this.sync()
    const filters = this.filtersOf(query)
    if (text !== '' && sort === 'relevance') {
      const results = this.searchByDocs(query, filters)
      if (results != null) return results
    }
    const { apps, index, exact } = this.state

    let items: IndexHit[]
    // what orders the hits: for relevance, exact name or app id matches first, then the score
    let rank: ((item: IndexHit) => number) | undefined
    if (text === '') {
      const orders = this.getOrders()
      items = sort === 'updated' ? orders.updatedItems : orders.nameItems
    } else {
      items = index.search(text)
      // every document is an app's unless a saved index held strays
      if (index.size !== apps.size) items = items.filter(hit => apps.has(hit.id))
      if (sort === 'relevance') {
        // an exact name or app id match comes first, whatever BM25 says, even when the index dropped it
        const exactIds = exact.get(nameKey(text))
        if (exactIds != null && exactIds.size > 0) {
          const found = new Set(items.map(hit => hit.id))
          for (const id of exactIds) if (!found.has(id)) items.push({ id, score: 0 })
          rank = item => exactIds.has(item.id) ? exactFirst(item.score) : item.score
        } else {
          rank = item => item.score
        }
      } else {
        const orders = this.getOrders()
        const ranks = sort === 'updated' ? orders.updatedRank : orders.nameRank
        rank = item => -ranks.get(item.id)!
      }
    }
    const outcome = this.state.facetCounter.filterAndCount(items, item => apps.get(item.id)!.facts, filters, query.facets !== false)
    const ordered = rank != null ? selectTop(outcome.passed, offset + limit, rank) : outcome.passed
    const hits = ordered.slice(offset, offset + limit).map(item => this.hit(item.id, item.score, query))
    const results: SearchResults = { hits, total: outcome.passed.length, offset, limit }
    if (outcome.facets != null) results.facets = outcome.facets
    return results
  }

  private filtersOf (query: CheckedSearchQuery): Filters {
    const filters: Filters = {}
    if (query.category != null) filters.categories = new Set(query.category.map(c => c.toLowerCase()))
    if (query.channel != null) filters.channel = query.channel
    if (query.arch != null) filters.arch = query.arch
    if (query.free === true) filters.free = true
    if (query.trustedOnly === true) filters.trustedOnly = true
    if (query.publisher != null) filters.publisher = this.state.identities.identityOf(query.publisher)
    return filters
  }

  /**
   * A search by relevance with its hits kept as typed arrays (document numbers and scores) from
   * the scorer through the filters, facets and the page's selection: a broad query at 100k apps
   * has tens of thousands of hits, and an object per hit (with a map lookup by app id for its
   * facts) cost more than scoring them. Objects are made for the returned page only. The same
   * results as the general path below; undefined where it does not apply (channel or arch
   * filters, an index that holds strays or does not number its documents).
   */
  private searchByDocs (query: CheckedSearchQuery, filters: Filters): SearchResults | undefined {
    const { apps, index, exact } = this.state
    const { offset, limit } = query
    if (filters.channel != null || filters.arch != null || index.size !== apps.size) return undefined
    const scored = index.searchDocs(query.query)
    if (scored == null) return undefined
    let { docs, scores } = scored
    // what orders the hits: exact name or app id matches first, whatever BM25 says, even when the index dropped them
    let keys = scores
    const exactIds = exact.get(nameKey(query.query))
    if (exactIds != null && exactIds.size > 0) {
      const positions: number[] = []
      const dropped: number[] = []
      for (const id of exactIds) {
        const doc = index.docOf(id)
        if (doc == null) return undefined
        const at = docs.indexOf(doc)
        if (at >= 0) positions.push(at)
        else dropped.push(doc)
      }
      if (dropped.length > 0) {
        const grown = new Int32Array(docs.length + dropped.length)
        grown.set(docs)
        grown.set(dropped, docs.length)
        for (let i = 0; i < dropped.length; i++) positions.push(docs.length + i)
        const grownScores = new Float64Array(grown.length)
        grownScores.set(scores)
        docs = grown
        scores = grownScores
      }
      // a buffer kept for the next query, as the scorer's are
      if (this.keys.length < scores.length) this.keys = new Float64Array(Math.max(scores.length, this.keys.length * 2))
      keys = this.keys.subarray(0, scores.length)
      keys.set(scores)
      for (const at of positions) keys[at] = exactFirst(scores[at]!)
    }
    const idAt = (i: number): string => index.idOf(docs[i]!)!
    const tally = this.state.facetCounter.tally(docs, filters, query.facets !== false, i => apps.get(idAt(i))!.facts)
    if (tally == null) return undefined
    const page = topPositions(keys, offset + limit, tally.passed).slice(offset, offset + limit)
    const results: SearchResults = { hits: page.map(i => this.hit(idAt(i), scores[i]!, query)), total: tally.count, offset, limit }
    if (tally.facets != null) results.facets = tally.facets
    return results
  }

  /** the release a reader of `channel` (default: the most stable rung that has one) gets on `arch` */
  private pick (app: AppView, channel: Channel | undefined, arch: Architecture | undefined, strictArch: boolean): ReleaseView | undefined {
    const wanted = arch ?? this.arch
    const rungs = channel != null ? [channel] : CHANNEL_LADDER
    for (const rung of rungs) {
      const onRung = app.latest.filter(l => l.channel === rung)
      let candidates = wanted != null ? onRung.filter(l => l.arch === wanted) : onRung
      if (candidates.length === 0 && !strictArch) candidates = onRung
      let best: ReleaseView | undefined
      for (const c of candidates) {
        if (best == null || c.release.time > best.time) best = c.release
      }
      if (best != null) return best
    }
    return undefined
  }

  private hit (appId: string, score: number, query: SearchQuery): SearchHit {
    const { view, facts } = this.state.apps.get(appId)!
    const release = this.pick(view, query.channel, query.arch, query.arch != null)
    const hit: SearchHit = {
      appId,
      name: view.name,
      publisher: facts.publisher,
      trust: view.trust,
      categories: facts.categories,
      license: facts.license,
      updated: facts.updated,
      score
    }
    if (view.metadata.summary != null) hit.summary = view.metadata.summary
    if (release != null) {
      hit.version = release.version
      hit.channel = release.channel
      hit.arch = release.arch
      hit.releaseId = release.id
    }
    return hit
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
    return this.pick(view, options.channel ?? 'release', options.arch, options.arch != null)
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
