/**
 * The catalog's search: a query's hits found, ranked, filtered, counted by facet and paged from
 * the indexes the catalog's state keeps; and the release of an app a reader gets.
 */

import { nameKey } from './app-view.ts'
import { CHANNEL_LADDER } from './channels.ts'
import { selectTop, topPositions } from './select.ts'
import type { CatalogState } from './catalog-state.ts'
import type { Filters } from './facets.ts'
import type { AppView, ReleaseView, SearchHit, SearchQuery, SearchResults } from './index.ts'
import type { IndexHit } from './search-index.ts'
import type { CheckedSearchQuery } from './search-query.ts'
import type { Architecture, Channel } from '@hubless/registry/records'

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

export class CatalogSearch {
  private readonly state: CatalogState
  private readonly arch: Architecture | undefined
  private orders: Orders | undefined
  /** ranking keys of a relevance search with exact matches ({@link searchByDocs}) */
  private keys = new Float64Array(0)

  /** `arch`: the reader's architecture, where a query names none */
  constructor (state: CatalogState, arch: Architecture | undefined) {
    this.state = state
    this.arch = arch
  }

  /** a checked query's page of hits, with its total and facets */
  search (query: CheckedSearchQuery): SearchResults {
    const { query: text, sort, offset, limit } = query
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
  pick (app: AppView, channel: Channel | undefined, arch: Architecture | undefined, strictArch: boolean): ReleaseView | undefined {
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
}
