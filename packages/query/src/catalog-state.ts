/**
 * The catalog's ingest room: it takes records in (checked, deduplicated) and keeps the indexes
 * every question is answered from: releases by id, by app and by signing key, yanks, identities,
 * the trust graph, fork reports, the computed app views, the search index and facet counts.
 * `flush` brings the views up to date with what came in; the read room (`catalog.ts`) only reads.
 */

import { logger } from '@libp2p/logger'
import { isDidKey, validateRecord } from '@hubless/registry/records'
import type { ReleaseRecord, YankRecord } from '@hubless/registry/records'
import { TypedEventEmitter } from 'main-event'
import { computeApp, releaseView } from './app-view.ts'
import type { AppContext, ComputedApp, ReleaseEntry } from './app-view.ts'
import { InvalidRecordError, InvalidSavedIndexError, InvalidTrustPolicyError, InvalidTrustRootError } from './errors.ts'
import { FacetCounter } from './facets.ts'
import { ForkDetector } from './forks.ts'
import { Identities } from './identities.ts'
import type { CatalogEvents, CatalogRecord, ReleaseView, SourcePosition } from './index.ts'
import { parseSavedIndex } from './saved-index.ts'
import { SearchIndex, documentFor } from './search-index.ts'
import { TrustGraph } from './trust.ts'
import { Retention } from './retention.ts'
import { parseVersion } from './version.ts'
import { shown } from './shown.ts'

const log = logger('hubless:query:catalog')

const DEFAULT_MAX_DEPTH = 2

export function checkRoots (roots: unknown): string[] {
  if (!Array.isArray(roots)) throw new InvalidTrustRootError('roots must be an array of did:key strings')
  for (const root of roots) {
    if (!isDidKey(root)) {
      throw new InvalidTrustRootError(`trust root ${JSON.stringify(shown(root))} is not a did:key (did:key:z6Mk…); give a publisher key`)
    }
  }
  return [...new Set(roots as string[])]
}

export function checkRecord (input: unknown): CatalogRecord {
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

export interface CatalogStateInit {
  roots?: string[]
  maxDepth?: number
  savedIndex?: string | Uint8Array
  /** releases kept per app, key, channel and arch (see Retention); default all */
  retain?: number
  clock: () => number
}

function addTo<K, V> (index: Map<K, Map<string, V>>, key: K, id: string, value: V): void {
  let entries = index.get(key)
  if (entries == null) {
    entries = new Map()
    index.set(key, entries)
  }
  entries.set(id, value)
}

export class CatalogState {
  readonly events = new TypedEventEmitter<CatalogEvents>()
  readonly records = new Map<string, CatalogRecord>()
  readonly releases = new Map<string, ReleaseEntry>()
  /** app id → its releases, every signer's, in the order they came in */
  readonly releasesByApp = new Map<string, Map<string, ReleaseEntry>>()
  /** signing key → its releases, every app's, in the order they came in */
  readonly releasesByPublisher = new Map<string, Map<string, ReleaseEntry>>()
  readonly yanks = new Map<string, Array<{ id: string, record: YankRecord }>>()
  readonly identities = new Identities()
  readonly trust: TrustGraph
  readonly forkDetector = new ForkDetector()
  readonly apps = new Map<string, ComputedApp>()
  readonly indexed: Map<string, string>
  /** normalised name and app id → app ids, for exact matches the index may rank low or drop */
  readonly exact = new Map<string, Set<string>>()
  readonly index: SearchIndex
  readonly facetCounter = new FacetCounter()
  readonly maxDepth: number
  readonly retention: Retention | undefined
  /** how far into its source the records held reach (from the saved index, then the source's own) */
  position: SourcePosition | undefined
  /** bumped whenever the apps, their facts or their documents change (orders built before are stale) */
  generation = 0
  /** it holds what its saved index does not (a record taken in, a later position, another retention) */
  unsaved = false
  private readonly dirty = new Set<string>()
  /** apps some of whose releases the retention dropped */
  readonly dropped = new Set<string>()
  private allDirty = false
  private readonly depthMemo = new Map<string, number>()
  private readonly clock: () => number
  private readonly ctx: AppContext

  constructor (init: CatalogStateInit) {
    this.clock = init.clock
    const maxDepth = init.maxDepth ?? DEFAULT_MAX_DEPTH
    if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 16) {
      throw new InvalidTrustPolicyError(`maxDepth must be an integer from 0 to 16 (endorsement steps from a root), not ${shown(maxDepth)}`)
    }
    this.maxDepth = maxDepth
    if (init.retain != null && (!Number.isSafeInteger(init.retain) || init.retain < 1)) {
      throw new InvalidTrustPolicyError(`retain must be a whole number of releases, 1 or more, not ${shown(init.retain)}`)
    }
    this.retention = init.retain != null ? new Retention(init.retain, appId => this.releasesByApp.get(appId)?.values() ?? []) : undefined
    this.trust = new TrustGraph(this.identities, { roots: checkRoots(init.roots ?? []), maxDepth })
    this.ctx = {
      identities: this.identities,
      trust: this.trust,
      yanksOf: id => this.yanks.get(id),
      chainDepth: id => this.chainDepth(id),
      forksOf: appId => this.forkDetector.forksOf(appId),
      partial: appId => this.dropped.has(appId)
    }
    if (init.savedIndex != null) {
      const loaded = parseSavedIndex(init.savedIndex)
      this.index = loaded.search
      this.indexed = loaded.indexed
      // a file that dropped releases this catalog would keep cannot be resumed from: read the source again
      if (loaded.retain == null || (this.retention != null && loaded.retain >= this.retention.perSlot)) {
        this.position = loaded.position
        for (const appId of loaded.partial) this.dropped.add(appId)
      }
      // a file this retention wrote: nothing to trim until an app gets a new release, nothing to save
      const sameRetention = loaded.retain === this.retention?.perSlot
      const kept = this.retention != null && sameRetention
      try {
        // the file is the reader's own, written from verified records: a structural check is enough
        for (const record of loaded.records) this.ingest(savedRecord(record), kept)
        this.flush(false)
        this.unsaved = !sameRetention
      } catch (err) {
        throw new InvalidSavedIndexError(`the saved index holds a damaged record (${(err as Error).message}); delete it and rebuild`, { cause: err })
      }
    } else {
      this.index = new SearchIndex()
      this.indexed = new Map()
    }
  }

  /** ms since epoch, by the catalog's clock */
  now (): number {
    return this.clock()
  }

  /** take a record into the state; true when it was new. `kept`: a release the retention kept before (a saved index's) */
  ingest (input: CatalogRecord, kept = false): boolean {
    const { id, record } = input
    if (this.records.has(id)) return false
    this.records.set(id, { id, record })
    this.unsaved = true
    switch (record.kind) {
      case 'release': {
        const entry: ReleaseEntry = { id, record, time: record.time, parsed: parseVersion(record.version) }
        this.releases.set(id, entry)
        addTo(this.releasesByApp, record.appId, id, entry)
        addTo(this.releasesByPublisher, record.publisher, id, entry)
        this.depthMemo.clear()
        this.dirty.add(record.appId)
        const fork = this.forkDetector.add(id, record)
        if (fork != null) {
          log('fork in the chain of %s for %s: %s', fork.publisher, fork.appId, fork.releases.join(', '))
          this.events.safeDispatchEvent('fork', { detail: fork })
        }
        if (kept) this.retention?.kept(record.appId)
        else for (const old of this.retention?.admit(entry, release => this.yanks.has(release)) ?? []) this.drop(old)
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

  /**
   * forget a release the retention no longer keeps. Its yanks stay (there are few, and `judge`
   * reads them for releases no longer held)
   */
  private drop (entry: ReleaseEntry): void {
    const { id, record } = entry
    this.records.delete(id)
    this.releases.delete(id)
    this.releasesByApp.get(record.appId)?.delete(id)
    this.releasesByPublisher.get(record.publisher)?.delete(id)
    this.forkDetector.remove(id, record)
    this.depthMemo.clear()
    this.dirty.add(record.appId)
    this.dropped.add(record.appId)
  }

  /**
   * How the app's view shows (or, for a release a bounded catalog no longer holds, would show) a
   * release, and whether the app's owner published it; undefined when no view of the app exists
   */
  judge (id: string, record: ReleaseRecord): { view: ReleaseView, owner: boolean } | undefined {
    const app = this.apps.get(record.appId)
    if (app == null) return undefined
    const identity = this.identities.identityOf(record.publisher)
    const entry = this.releases.get(id) ?? { id, record, time: record.time, parsed: parseVersion(record.version) }
    return { view: releaseView(entry, this.ctx, identity), owner: identity === app.facts.publisher }
  }

  /** the views must be recomputed against a new trust policy */
  setRoots (roots: string[]): void {
    this.trust.setPolicy({ roots: checkRoots(roots), maxDepth: this.maxDepth })
    this.allDirty = true
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
  flush (emit: boolean): string[] {
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
        this.generation++
      }
      const doc = this.index.docOf(appId)
      if (doc != null) this.facetCounter.setDocument(doc, computed.facts)
      else this.facetCounter.prepare(computed.facts)
    }
    if (changed.length > 0) {
      this.generation++
      if (emit) this.events.safeDispatchEvent('changed', { detail: { appIds: changed } })
    }
    return changed
  }

  private addExact (key: string, appId: string): void {
    const set = this.exact.get(key)
    if (set == null) this.exact.set(key, new Set([appId]))
    else set.add(appId)
  }
}
