import { logger } from '@libp2p/logger'
import { isDidKey, validateRecord } from '@hubless/registry/records'
import type { Architecture, Channel, YankRecord } from '@hubless/registry/records'
import { TypedEventEmitter } from 'main-event'
import { CustomProgressEvent } from 'progress-events'
import { computeApp, nameKey } from './app-view.ts'
import type { AppContext, ComputedApp, ReleaseEntry } from './app-view.ts'
import { CHANNEL_LADDER, isChannel } from './channels.ts'
import {
  AbortError, CatalogStoppedError, InvalidQueryError, InvalidRecordError, InvalidSavedIndexError, InvalidTrustPolicyError, InvalidTrustRootError
} from './errors.ts'
import { FacetCounter } from './facets.ts'
import type { Filters } from './facets.ts'
import { ForkDetector } from './forks.ts'
import type { ForkReport } from './forks.ts'
import { Identities } from './identities.ts'
import type {
  AppView, Catalog, CatalogComponents, CatalogEvents, CatalogInit, CatalogOptions, CatalogRecord, ReleaseView,
  SearchHit, SearchQuery, SearchResults, SortOrder, TrustedKey
} from './index.ts'
import { parseSavedIndex, serializeIndex } from './saved-index.ts'
import { SearchIndex, documentFor } from './search-index.ts'
import type { IndexHit } from './search-index.ts'
import { selectTop } from './select.ts'
import { TrustGraph, explainPath } from './trust.ts'
import { parseVersion } from './version.ts'
import { shown } from './shown.ts'

const log = logger('hubless:query:catalog')

const DEFAULT_MAX_DEPTH = 2
const DEFAULT_LIMIT = 20
const MAX_LIMIT = 1000
const MAX_QUERY_LENGTH = 512
const BATCH = 1000

interface Orders {
  name: string[]
  updated: string[]
  /** the same, as hits with their index document numbers, for browsing without a query */
  nameItems: IndexHit[]
  updatedItems: IndexHit[]
  nameRank: Map<string, number>
  updatedRank: Map<string, number>
}

function checkRoots (roots: unknown): string[] {
  if (!Array.isArray(roots)) throw new InvalidTrustRootError('roots must be an array of did:key strings')
  for (const root of roots) {
    if (!isDidKey(root)) {
      throw new InvalidTrustRootError(`trust root ${JSON.stringify(shown(root))} is not a did:key (did:key:z6Mk…); give a publisher key`)
    }
  }
  return [...new Set(roots as string[])]
}

function checkRecord (input: unknown): CatalogRecord {
  const candidate = input as Partial<CatalogRecord> | null
  if (candidate == null || typeof candidate !== 'object' || typeof candidate.id !== 'string' || candidate.id === '') {
    throw new InvalidRecordError('a catalog record needs a string id and a record; pass what the registry yields')
  }
  try {
    validateRecord(candidate.record)
  } catch (err) {
    throw new InvalidRecordError(`record ${candidate.id.slice(0, 80)} is malformed: ${(err as Error).message}`, { cause: err })
  }
  return { id: candidate.id, record: candidate.record! }
}

function savedRecord (input: unknown): CatalogRecord {
  const r = input as Partial<CatalogRecord> | null
  const record = r?.record as unknown as Record<string, unknown> | undefined
  if (typeof r?.id !== 'string' || record == null || typeof record !== 'object' || typeof record.kind !== 'string' || typeof record.publisher !== 'string' || typeof record.time !== 'number') {
    throw new InvalidSavedIndexError('a record lacks its id, kind, publisher or time')
  }
  if (record.kind === 'release' && (typeof record.appId !== 'string' || typeof record.version !== 'string' || record.app == null || record.content == null)) {
    throw new InvalidSavedIndexError(`release ${r.id.slice(0, 80)} lacks its app id, version, app or content`)
  }
  return r as CatalogRecord
}

export class CatalogImpl implements Catalog {
  readonly events = new TypedEventEmitter<CatalogEvents>()
  private readonly records = new Map<string, CatalogRecord>()
  private readonly releases = new Map<string, ReleaseEntry>()
  private readonly releasesByApp = new Map<string, Map<string, ReleaseEntry>>()
  private readonly yanks = new Map<string, Array<{ id: string, record: YankRecord }>>()
  private readonly identities = new Identities()
  private readonly trust: TrustGraph
  private readonly forkDetector = new ForkDetector()
  private readonly apps = new Map<string, ComputedApp>()
  private readonly indexed: Map<string, string>
  /** normalised name and app id → app ids, for exact matches the index may rank low or drop */
  private readonly exact = new Map<string, Set<string>>()
  private readonly index: SearchIndex
  private readonly dirty = new Set<string>()
  private readonly facetCounter = new FacetCounter()
  private allDirty = false
  private readonly depthMemo = new Map<string, number>()
  private orders: Orders | undefined
  private readonly clock: () => number
  private readonly arch: Architecture | undefined
  private readonly maxDepth: number
  private readonly source: CatalogComponents['source']
  private readonly ctx: AppContext
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
    this.clock = components.clock ?? Date.now
    this.source = components.source
    this.arch = init.arch
    const maxDepth = init.maxDepth ?? DEFAULT_MAX_DEPTH
    if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 16) {
      throw new InvalidTrustPolicyError(`maxDepth must be an integer from 0 to 16 (endorsement steps from a root), not ${shown(maxDepth)}`)
    }
    this.maxDepth = maxDepth
    this.trust = new TrustGraph(this.identities, { roots: checkRoots(init.roots ?? []), maxDepth })
    this.ctx = {
      identities: this.identities,
      trust: this.trust,
      yanksOf: id => this.yanks.get(id),
      chainDepth: id => this.chainDepth(id),
      forksOf: appId => this.forkDetector.forksOf(appId)
    }
    if (init.savedIndex != null) {
      const loaded = parseSavedIndex(init.savedIndex)
      this.index = loaded.search
      this.indexed = loaded.indexed
      try {
        // the file is the reader's own, written from verified records: a structural check is enough
        for (const record of loaded.records) this.ingest(savedRecord(record))
        this.flush(false)
      } catch (err) {
        throw new InvalidSavedIndexError(`the saved index holds a damaged record (${(err as Error).message}); delete it and rebuild`, { cause: err })
      }
    } else {
      this.index = new SearchIndex()
      this.indexed = new Map()
    }
  }

  async start (options: CatalogOptions): Promise<void> {
    const source = this.source
    if (source == null) return
    // listen first, so nothing published while the bulk read runs is missed (duplicates are skipped)
    source.addEventListener?.('record', this.onRecord)
    let count = 0
    try {
      for await (const record of source.records({ signal: options.signal })) {
        if (options.signal?.aborted === true) throw new AbortError('loading the catalog was aborted')
        try {
          this.ingest(checkRecord(record))
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
    this.flush(true)
  }

  get size (): number {
    this.sync()
    return this.apps.size
  }

  private ensureOpen (): void {
    if (this.stopped) throw new CatalogStoppedError('the catalog is stopped; create a new one')
  }

  /** take a record into the state; true when it was new */
  private ingest (input: CatalogRecord): boolean {
    const { id, record } = input
    if (this.records.has(id)) return false
    this.records.set(id, { id, record })
    switch (record.kind) {
      case 'release': {
        const entry: ReleaseEntry = { id, record, parsed: parseVersion(record.version) }
        this.releases.set(id, entry)
        let app = this.releasesByApp.get(record.appId)
        if (app == null) {
          app = new Map()
          this.releasesByApp.set(record.appId, app)
        }
        app.set(id, entry)
        this.depthMemo.clear()
        this.dirty.add(record.appId)
        const fork = this.forkDetector.add(id, record)
        if (fork != null) {
          log('fork in the chain of %s for %s: %s', fork.publisher, fork.appId, fork.releases.join(', '))
          this.events.safeDispatchEvent('fork', { detail: fork })
        }
        break
      }
      case 'yank': {
        const list = this.yanks.get(record.release) ?? []
        list.push({ id, record })
        // the first valid yank gives the reason: make "first" independent of arrival order
        list.sort((a, b) => a.record.time - b.record.time || (a.id < b.id ? -1 : 1))
        this.yanks.set(record.release, list)
        const target = this.releases.get(record.release)?.record.appId
        this.dirty.add(target ?? record.appId)
        break
      }
      case 'endorse':
        this.trust.addEndorsement(id, record)
        this.allDirty = true
        break
      case 'unendorse':
        this.trust.addUnendorsement(id, record)
        this.allDirty = true
        break
      case 'rotate-key':
        this.identities.addRotation(id, record)
        this.trust.invalidate()
        this.allDirty = true
        break
      case 'revoke-key':
        this.identities.addRevocation(record)
        this.trust.invalidate()
        this.allDirty = true
        break
    }
    return true
  }

  private chainDepth (id: string): number {
    const memo = this.depthMemo.get(id)
    if (memo != null) return memo
    const walk: string[] = []
    const seen = new Set<string>()
    let current: string | undefined = id
    let base = 0
    while (current != null) {
      const known = this.depthMemo.get(current)
      if (known != null) {
        base = known + 1
        break
      }
      if (seen.has(current)) break
      seen.add(current)
      walk.push(current)
      const previous: string | undefined = this.releases.get(current)?.record.previous
      current = previous != null && this.releases.has(previous) ? previous : undefined
    }
    for (let i = walk.length - 1; i >= 0; i--) {
      this.depthMemo.set(walk[i]!, base + (walk.length - 1 - i))
    }
    return this.depthMemo.get(id) ?? 0
  }

  /** recompute what changed; returns and (when `emit`) announces the app ids whose view changed */
  private flush (emit: boolean): string[] {
    if (this.trust.refresh(this.clock())) this.allDirty = true
    if (!this.allDirty && this.dirty.size === 0) return []
    const targets = this.allDirty ? [...this.releasesByApp.keys()] : [...this.dirty]
    this.dirty.clear()
    this.allDirty = false
    const changed: string[] = []
    for (const appId of targets) {
      const entries = this.releasesByApp.get(appId)
      if (entries == null) continue
      const computed = computeApp(appId, entries.values(), this.ctx)
      if (computed == null) continue
      const previous = this.apps.get(appId)
      if (previous != null) this.exact.get(previous.facts.nameKey)?.delete(appId)
      this.addExact(computed.facts.nameKey, appId)
      this.addExact(appId.toLowerCase(), appId)
      this.apps.set(appId, computed)
      if (previous?.fingerprint !== computed.fingerprint) changed.push(appId)
      if (this.indexed.get(appId) !== computed.facts.metadataRelease || !this.index.has(appId)) {
        const replaced = this.index.docOf(appId)
        if (replaced != null) this.facetCounter.clearDocument(replaced)
        this.index.put(documentFor(appId, computed.view.metadata))
        this.indexed.set(appId, computed.facts.metadataRelease)
        // the orders' items carry document numbers
        this.orders = undefined
      }
      const doc = this.index.docOf(appId)
      if (doc != null) this.facetCounter.setDocument(doc, computed.facts)
      else this.facetCounter.prepare(computed.facts)
    }
    if (changed.length > 0) {
      this.orders = undefined
      if (emit) this.events.safeDispatchEvent('changed', { detail: { appIds: changed } })
    }
    return changed
  }

  private addExact (key: string, appId: string): void {
    const set = this.exact.get(key)
    if (set == null) this.exact.set(key, new Set([appId]))
    else set.add(appId)
  }

  /** bring views up to date before answering (pending records, expired endorsements) */
  private sync (): void {
    this.flush(true)
  }

  add (record: CatalogRecord): string[] {
    this.ensureOpen()
    this.ingest(checkRecord(record))
    return this.flush(true)
  }

  addAll (records: Iterable<CatalogRecord>): string[] {
    this.ensureOpen()
    const checked: CatalogRecord[] = []
    for (const record of records) checked.push(checkRecord(record))
    for (const record of checked) this.ingest(record)
    return this.flush(true)
  }

  private getOrders (): Orders {
    if (this.orders != null) return this.orders
    const ids = [...this.apps.keys()]
    const facts = (id: string) => this.apps.get(id)!.facts
    const byName = (a: string, b: string): number => {
      const x = facts(a).nameKey
      const y = facts(b).nameKey
      return x < y ? -1 : x > y ? 1 : a < b ? -1 : 1
    }
    const name = [...ids].sort(byName)
    const updated = [...ids].sort((a, b) => facts(b).updated - facts(a).updated || byName(a, b))
    const item = (id: string): IndexHit => {
      const doc = this.index.docOf(id)
      return doc != null ? { id, score: 0, doc } : { id, score: 0 }
    }
    this.orders = {
      name,
      updated,
      nameItems: name.map(item),
      updatedItems: updated.map(item),
      nameRank: new Map(name.map((id, i) => [id, i])),
      updatedRank: new Map(updated.map((id, i) => [id, i]))
    }
    return this.orders
  }

  search (query: SearchQuery = {}): SearchResults {
    this.ensureOpen()
    const text = typeof query.query === 'string' ? query.query.trim() : ''
    if (query.query != null && typeof query.query !== 'string') throw new InvalidQueryError('query must be a string')
    if (text.length > MAX_QUERY_LENGTH) throw new InvalidQueryError(`the query is ${text.length} characters long; the limit is ${MAX_QUERY_LENGTH}`)
    const limit = query.limit ?? DEFAULT_LIMIT
    const offset = query.offset ?? 0
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}, not ${shown(limit)}`)
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidQueryError(`offset must be a non-negative integer, not ${shown(offset)}`)
    if (query.channel != null && !isChannel(query.channel)) throw new InvalidQueryError(`channel must be one of ${CHANNEL_LADDER.join(', ')}, not ${shown(query.channel)}`)
    const sort: SortOrder = query.sort ?? (text === '' ? 'name' : 'relevance')
    if (sort !== 'relevance' && sort !== 'updated' && sort !== 'name') throw new InvalidQueryError(`sort must be relevance, updated or name, not ${shown(sort)}`)
    this.sync()

    let items: IndexHit[]
    // what orders the hits: for relevance, exact name or app id matches first, then the score
    let rank: ((item: IndexHit) => number) | undefined
    if (text === '') {
      const orders = this.getOrders()
      items = sort === 'updated' ? orders.updatedItems : orders.nameItems
    } else {
      items = this.index.search(text)
      // every document is an app's unless a saved index held strays
      if (this.index.size !== this.apps.size) items = items.filter(hit => this.apps.has(hit.id))
      if (sort === 'relevance') {
        // an exact name or app id match comes first, whatever BM25 says, even when the index dropped it
        const exactIds = this.exact.get(nameKey(text))
        if (exactIds != null && exactIds.size > 0) {
          const found = new Set(items.map(hit => hit.id))
          for (const id of exactIds) if (!found.has(id)) items.push({ id, score: 0 })
          rank = item => exactIds.has(item.id) ? 1e9 + item.score : item.score
        } else {
          rank = item => item.score
        }
      } else {
        const orders = this.getOrders()
        const ranks = sort === 'updated' ? orders.updatedRank : orders.nameRank
        rank = item => -ranks.get(item.id)!
      }
    }
    const filters: Filters = {}
    if (query.category != null) {
      const categories: unknown[] = Array.isArray(query.category) ? query.category : [query.category]
      if (!categories.every(c => typeof c === 'string')) throw new InvalidQueryError('category must be a string or a list of strings')
      filters.categories = new Set((categories as string[]).map(c => c.toLowerCase()))
    }
    if (query.channel != null) filters.channel = query.channel
    if (query.arch != null) filters.arch = query.arch
    if (query.free === true) filters.free = true
    if (query.trustedOnly === true) filters.trustedOnly = true
    if (query.publisher != null) filters.publisher = this.identities.identityOf(query.publisher)
    const outcome = this.facetCounter.filterAndCount(items, item => this.apps.get(item.id)!.facts, filters, query.facets !== false)
    const ordered = rank != null ? selectTop(outcome.passed, offset + limit, rank) : outcome.passed
    const hits = ordered.slice(offset, offset + limit).map(item => this.hit(item.id, item.score, query))
    const results: SearchResults = { hits, total: outcome.passed.length, offset, limit }
    if (outcome.facets != null) results.facets = outcome.facets
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
    const { view, facts } = this.apps.get(appId)!
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
    return this.apps.get(appId)?.view
  }

  latest (appId: string, options: { channel?: Channel, arch?: Architecture } = {}): ReleaseView | undefined {
    this.ensureOpen()
    if (options.channel != null && !isChannel(options.channel)) throw new InvalidQueryError(`channel must be one of ${CHANNEL_LADDER.join(', ')}, not ${shown(options.channel)}`)
    const view = this.app(appId)
    if (view == null) return undefined
    return this.pick(view, options.channel ?? 'release', options.arch, options.arch != null)
  }

  forks (): ForkReport[] {
    this.ensureOpen()
    return this.forkDetector.all()
  }

  roots (): string[] {
    return [...this.trust.policy.roots]
  }

  setRoots (roots: string[]): void {
    this.ensureOpen()
    this.trust.setPolicy({ roots: checkRoots(roots), maxDepth: this.maxDepth })
    this.allDirty = true
    this.flush(true)
  }

  trusted (): TrustedKey[] {
    this.ensureOpen()
    this.sync()
    this.trust.refresh(this.clock())
    return [...this.trust.trustedIdentities()].map(([key, path]) => ({
      key,
      depth: path.depth,
      path: path.steps.map(step => step.key),
      explanation: explainPath(path)
    }))
  }

  save (): string {
    this.ensureOpen()
    this.sync()
    return serializeIndex(this.records.values(), this.indexed, this.index)
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.source?.removeEventListener?.('record', this.onRecord)
  }
}

