import type { AppFacts } from './app-view.ts'
import type { Facets } from './index.ts'
import { FacetRows } from './facet-rows.ts'

/**
 * Filters and facet counts in one pass. Each hit gets a bit per filter it fails; a hit that
 * fails none is a result and counts in every facet, one that fails exactly one filter counts
 * only in that filter's facet (disjunctive faceting: a facet shows what choosing another value
 * of it would give, with every other filter kept).
 */

export interface Filters {
  /** lowercased */
  categories?: Set<string>
  channel?: string
  arch?: string
  free?: boolean
  trustedOnly?: boolean
  /** identity key */
  publisher?: string
}

const CATEGORY = 1
const CHANNEL = 2
const ARCH = 4
const LICENSE = 8
const TRUST = 16
const PUBLISHER = 32

function failures (facts: AppFacts, f: Filters): number {
  let mask = 0
  if (f.categories != null && !facts.categoryKeys.some(c => f.categories!.has(c))) mask |= CATEGORY
  if (f.channel != null) {
    // with the app's arch chosen, the channel must be on that arch; otherwise only the arch filter fails
    const onArch = f.arch != null && facts.archs.has(f.arch)
    if (onArch ? !facts.pairs.has(`${f.channel}\n${f.arch}`) : !facts.channels.has(f.channel as never)) mask |= CHANNEL
  }
  if (f.arch != null && !facts.archs.has(f.arch)) mask |= ARCH
  if (f.free === true && facts.license !== 'free') mask |= LICENSE
  if (f.trustedOnly === true && facts.status !== 'trusted') mask |= TRUST
  if (f.publisher != null && facts.publisher !== f.publisher) mask |= PUBLISHER
  return mask
}

export function hasFilters (f: Filters): boolean {
  return f.categories != null || f.channel != null || f.arch != null || f.free === true || f.trustedOnly === true || f.publisher != null
}

const DIMENSIONS = ['category', 'channel', 'arch', 'license', 'trust', 'publisher'] as const
type Dimension = typeof DIMENSIONS[number]
const BIT: Record<Dimension, number> = { category: CATEGORY, channel: CHANNEL, arch: ARCH, license: LICENSE, trust: TRUST, publisher: PUBLISHER }

export interface Contribution {
  all: Int32Array
  byDimension: Int32Array[]
}

/**
 * Counts facets with interned value ids and typed arrays: an app's contribution to every facet
 * is computed once per version of its facts and kept on them (facts are replaced, never changed).
 */
export class FacetCounter {
  private readonly ids = new Map<string, number>()
  private readonly dimensionOf: number[] = []
  private readonly valueOf: string[] = []
  private readonly rows = new FacetRows()
  private passed = new Int32Array(0)

  private idOf (d: number, value: string): number {
    const key = `${d}\n${value}`
    let id = this.ids.get(key)
    if (id == null) {
      id = this.valueOf.length
      this.ids.set(key, id)
      this.dimensionOf.push(d)
      this.valueOf.push(value)
    }
    return id
  }

  /** intern an app's facet values; the catalog calls it for every computed app, so counting never has to */
  prepare (facts: AppFacts): void {
    this.contribution(facts)
  }

  /** record the facet values of the app indexed as document `doc` */
  setDocument (doc: number, facts: AppFacts): void {
    this.rows.set(doc, this.contribution(facts).all)
  }

  /** forget a document number the index no longer uses (its app was re-indexed under a new one) */
  clearDocument (doc: number): void {
    this.rows.clear(doc)
  }

  private contribution (facts: AppFacts): Contribution {
    let c = facts.facetCache as Contribution | undefined
    if (c != null) return c
    const values: Array<Iterable<string>> = [facts.categories, facts.channels, facts.archs, [facts.license], [facts.status], [facts.publisher]]
    const byDimension = values.map((list, d) => Int32Array.from([...new Set(list)].map(v => this.idOf(d, v))))
    const all = new Int32Array(byDimension.reduce((n, a) => n + a.length, 0))
    let i = 0
    for (const a of byDimension) { all.set(a, i); i += a.length }
    c = { all, byDimension }
    facts.facetCache = c
    return c
  }

  filterAndCount<T extends { doc?: number }> (items: T[], factsOf: (item: T) => AppFacts, f: Filters, withFacets: boolean): FilterOutcome<T> {
    const active = hasFilters(f)
    if (!withFacets && !active) return { passed: items }
    if (f.channel == null && f.arch == null) return this.filterByRows(items, factsOf, f, withFacets)
    const passed: T[] = []
    let counts = new Int32Array(this.valueOf.length)
    // with both a channel and an arch filter, channel and arch counts must respect the pairs
    const pairChannel = f.arch != null
    const pairArch = f.channel != null
    const slow: Array<{ facts: AppFacts, mask: number }> = []
    for (const item of items) {
      const facts = factsOf(item)
      const mask = active ? failures(facts, f) : 0
      if (mask === 0) passed.push(item)
      if (!withFacets || (mask & (mask - 1)) !== 0) continue
      let c = facts.facetCache as Contribution | undefined
      if (c == null) {
        // not prepared (the catalog prepares every app it computes): intern now, and grow the table
        c = this.contribution(facts)
        if (counts.length < this.valueOf.length) {
          const grown = new Int32Array(this.valueOf.length)
          grown.set(counts)
          counts = grown
        }
      }
      if (mask === 0 && !pairChannel && !pairArch) {
        const all = c.all
        for (let j = 0; j < all.length; j++) counts[all[j]!]!++
        continue
      }
      for (let d = 0; d < DIMENSIONS.length; d++) {
        if (mask !== 0 && mask !== BIT[DIMENSIONS[d]!]) continue
        if ((d === 1 && pairChannel) || (d === 2 && pairArch)) continue
        const ids = c.byDimension[d]!
        for (let j = 0; j < ids.length; j++) counts[ids[j]!]!++
      }
      if (pairChannel || pairArch) slow.push({ facts, mask })
    }
    if (!withFacets) return { passed }
    const facets = this.facetsOf(counts)
    for (const { facts, mask } of slow) {
      if (pairChannel && (mask === 0 || mask === CHANNEL)) {
        for (const c of facts.channels) {
          if (facts.pairs.has(`${c}\n${f.arch}`)) facets.channel[c] = (facets.channel[c] ?? 0) + 1
        }
      }
      if (pairArch && (mask === 0 || mask === ARCH)) {
        for (const a of facts.archs) {
          if (facts.pairs.has(`${f.channel}\n${a}`)) facets.arch[a] = (facets.arch[a] ?? 0) + 1
        }
      }
    }
    return { passed, facets }
  }

  /** the filter bit that value `id` satisfies under `f`, or 0 */
  private satisfies (id: number, f: Filters): number {
    const value = this.valueOf[id]!
    switch (this.dimensionOf[id]) {
      case 0: return f.categories?.has(value.toLowerCase()) === true ? CATEGORY : 0
      case 3: return f.free === true && value === 'free' ? LICENSE : 0
      case 4: return f.trustedOnly === true && value === 'trusted' ? TRUST : 0
      case 5: return f.publisher === value ? PUBLISHER : 0
      default: return 0
    }
  }

  /**
   * Filters on category, license, trust and publisher (no channel or arch, whose facets depend on
   * the channel and arch pairs), or none, read from the documents' rows: browsing 20k apps by
   * category went through every app's facts (20–30 ms) before.
   */
  private filterByRows<T extends { doc?: number }> (items: T[], factsOf: (item: T) => AppFacts, f: Filters, withFacets: boolean): FilterOutcome<T> {
    const docs = new Int32Array(items.length)
    for (let i = 0; i < items.length; i++) docs[i] = items[i]!.doc ?? -1
    const tally = this.tally(docs, f, withFacets, i => factsOf(items[i]!))!
    const passed = tally.passed == null ? items : Array.from(tally.passed, i => items[i]!)
    return tally.facets != null ? { passed, facets: tally.facets } : { passed }
  }

  /**
   * {@link filterAndCount} for hits kept as an array of document numbers, which needs no object
   * per hit; `factsOf(i)` gives the facts of the hit at position `i` should its document have no
   * row (or be -1). Undefined when the filters include a channel or an arch: use `filterAndCount`.
   * `passed` is overwritten by the next tally.
   */
  tally (docs: Int32Array, f: Filters, withFacets: boolean, factsOf: (i: number) => AppFacts): DocTally | undefined {
    if (f.channel != null || f.arch != null) return undefined
    let required = 0
    if (f.categories != null) required |= CATEGORY
    if (f.free === true) required |= LICENSE
    if (f.trustedOnly === true) required |= TRUST
    if (f.publisher != null) required |= PUBLISHER
    if (!withFacets && required === 0) return { count: docs.length }
    let t = this.tables(f)
    // with no filter every item passes: no list of positions. The list is a buffer kept for the
    // next query (as the scorer's are), valid until the next tally
    if (required !== 0 && this.passed.length < docs.length) this.passed = new Int32Array(Math.max(docs.length, this.passed.length * 2))
    const passed = required === 0 ? undefined : this.passed
    let count = 0
    const { starts, ends } = this.rows
    let values: Int32Array = this.rows.values
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i]!
      let from = doc >= 0 && doc < starts.length ? starts[doc]! : -1
      let to: number
      if (from >= 0) {
        values = this.rows.values
        to = ends[doc]!
      } else {
        const known = this.valueOf.length
        values = this.contribution(factsOf(i)).all
        from = 0
        to = values.length
        // the item brought values never seen before: grow the tables
        if (this.valueOf.length > known) t = this.tables(f, t)
      }
      const { satisfied, bits, counts } = t
      let mask = 0
      if (required !== 0) {
        let met = 0
        for (let j = from; j < to; j++) met |= satisfied[values[j]!]!
        mask = required & ~met
        if (mask === 0) passed![count++] = i
      }
      if (!withFacets || (mask & (mask - 1)) !== 0) continue
      if (mask === 0) {
        for (let j = from; j < to; j++) counts[values[j]!]!++
      } else {
        // fails one filter: counts only in that filter's facet
        for (let j = from; j < to; j++) if (bits[values[j]!] === mask) counts[values[j]!]!++
      }
    }
    const tally: DocTally = passed != null ? { passed: passed.subarray(0, count), count } : { count: docs.length }
    if (withFacets) tally.facets = this.facetsOf(t.counts)
    return tally
  }

  /** per value id: the filter bit it satisfies under `f`, its dimension's bit, and a zero count; grown from `old` */
  private tables (f: Filters, old?: ValueTables): ValueTables {
    const n = this.valueOf.length
    const t: ValueTables = { satisfied: new Int32Array(n), bits: new Int32Array(n), counts: new Int32Array(n) }
    const from = old?.counts.length ?? 0
    if (old != null) {
      t.satisfied.set(old.satisfied)
      t.bits.set(old.bits)
      t.counts.set(old.counts)
    }
    for (let id = from; id < n; id++) {
      t.satisfied[id] = this.satisfies(id, f)
      t.bits[id] = BIT[DIMENSIONS[this.dimensionOf[id]!]!]
    }
    return t
  }

  private facetsOf (counts: Int32Array): Facets {
    const facets: Facets = { category: {}, channel: {}, arch: {}, license: {}, trust: {}, publisher: {} }
    for (let id = 0; id < this.valueOf.length; id++) {
      const n = counts[id] ?? 0
      if (n > 0) facets[DIMENSIONS[this.dimensionOf[id]!]!][this.valueOf[id]!] = n
    }
    return facets
  }
}

interface ValueTables { satisfied: Int32Array, bits: Int32Array, counts: Int32Array }

/** what {@link FacetCounter.tally} found: `passed` lists the positions that passed (every one when absent) */
export interface DocTally {
  passed?: Int32Array
  count: number
  facets?: Facets
}

export interface FilterOutcome<T> {
  passed: T[]
  facets?: Facets
}
