import type { AppFacts } from './app-view.ts'
import type { Facets } from './index.ts'

/**
 * Filters and facet counts in one pass. Each hit gets a bit per filter it fails; a hit that
 * fails none is a result and counts in every facet, one that fails exactly one filter counts
 * only in that filter's facet (disjunctive faceting: a facet shows what choosing another value
 * of it would give, with every other filter kept).
 */

export interface Filters {
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
  if (f.categories != null && !facts.categories.some(c => f.categories!.has(c))) mask |= CATEGORY
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

function bump (counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

export interface FilterOutcome<T> {
  passed: T[]
  facets?: Facets
}

export function filterAndCount<T> (items: T[], factsOf: (item: T) => AppFacts, f: Filters, withFacets: boolean): FilterOutcome<T> {
  const active = hasFilters(f)
  if (!withFacets && !active) return { passed: items }
  const passed: T[] = []
  const counts = {
    category: new Map<string, number>(),
    channel: new Map<string, number>(),
    arch: new Map<string, number>(),
    license: new Map<string, number>(),
    trust: new Map<string, number>(),
    publisher: new Map<string, number>()
  }
  for (const item of items) {
    const facts = factsOf(item)
    const mask = active ? failures(facts, f) : 0
    if (mask === 0) passed.push(item)
    if (!withFacets || (mask & (mask - 1)) !== 0) continue
    if (mask === 0 || mask === CATEGORY) for (const c of facts.categories) bump(counts.category, c)
    if (mask === 0 || mask === CHANNEL) {
      for (const c of facts.channels) {
        if (f.arch == null || facts.pairs.has(`${c}\n${f.arch}`)) bump(counts.channel, c)
      }
    }
    if (mask === 0 || mask === ARCH) {
      for (const a of facts.archs) {
        if (f.channel == null || facts.pairs.has(`${f.channel}\n${a}`)) bump(counts.arch, a)
      }
    }
    if (mask === 0 || mask === LICENSE) bump(counts.license, facts.license)
    if (mask === 0 || mask === TRUST) bump(counts.trust, facts.status)
    if (mask === 0 || mask === PUBLISHER) bump(counts.publisher, facts.publisher)
  }
  if (!withFacets) return { passed }
  return {
    passed,
    facets: {
      category: Object.fromEntries(counts.category),
      channel: Object.fromEntries(counts.channel),
      arch: Object.fromEntries(counts.arch),
      license: Object.fromEntries(counts.license),
      trust: Object.fromEntries(counts.trust),
      publisher: Object.fromEntries(counts.publisher)
    }
  }
}
