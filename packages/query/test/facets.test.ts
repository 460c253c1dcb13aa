import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createCatalog } from '../src/index.ts'
import type { Facets, SearchHit, SearchQuery } from '../src/index.ts'
import { endorse, key, release } from './records.ts'

const ROOT = key(100)
const PUBLISHERS = [key(1), key(2), key(3)]
const CATEGORIES = ['AudioVideo', 'Graphics', 'Office', 'Video']
const LICENSES = ['GPL-3.0-only', 'MIT', 'LicenseRef-proprietary']
const WORDS = ['video', 'editor', 'paint', 'viewer']

const appArb = fc.record({
  publisher: fc.nat({ max: PUBLISHERS.length - 1 }),
  categories: fc.subarray(CATEGORIES),
  license: fc.constantFrom(...LICENSES),
  words: fc.subarray(WORDS, { minLength: 1 }),
  channel: fc.constantFrom('release' as const, 'beta' as const),
  arch: fc.constantFrom('x86_64', 'aarch64')
})

interface Row { category: string[], channel: string[], arch: string[], license: string[], trust: string[], publisher: string[] }
type Dimension = keyof Row
const DIMENSIONS: Dimension[] = ['category', 'channel', 'arch', 'license', 'trust', 'publisher']

/** what each hit holds in each facet, read off the hit and its app view, not off the catalog's tables */
function rowOf (hit: SearchHit, channels: string[], archs: string[]): Row {
  return {
    category: hit.categories,
    channel: channels,
    arch: archs,
    license: [hit.license],
    trust: [hit.trust.status],
    publisher: [hit.publisher]
  }
}

/** the definition: a hit counts in a facet when it passes every filter but (maybe) that facet's own */
function reference (rows: Row[], query: SearchQuery): { total: number, facets: Facets } {
  const passes = (row: Row, d: Dimension): boolean => {
    switch (d) {
      case 'category': return query.category == null || row.category.some(c => (query.category as string[]).map(x => x.toLowerCase()).includes(c.toLowerCase()))
      case 'license': return query.free !== true || row.license[0] === 'free'
      case 'trust': return query.trustedOnly !== true || row.trust[0] === 'trusted'
      case 'publisher': return query.publisher == null || row.publisher[0] === query.publisher
      default: return true
    }
  }
  const facets: Facets = { category: {}, channel: {}, arch: {}, license: {}, trust: {}, publisher: {} }
  let total = 0
  for (const row of rows) {
    const failed = DIMENSIONS.filter(d => !passes(row, d))
    if (failed.length === 0) total++
    for (const d of DIMENSIONS) {
      if (failed.length > 1 || (failed.length === 1 && failed[0] !== d)) continue
      for (const v of new Set(row[d])) facets[d][v] = (facets[d][v] ?? 0) + 1
    }
  }
  return { total, facets }
}

describe('filters and facets', () => {
  it('count every hit that passes the other filters, for text searches and browsing', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(appArb, { minLength: 1, maxLength: 25 }),
      fc.array(fc.nat({ max: 24 }), { maxLength: 6 }),
      fc.record({
        query: fc.constantFrom('', ...WORDS, 'video paint'),
        category: fc.option(fc.subarray(CATEGORIES.map(c => c.toLowerCase()), { minLength: 1 }), { nil: undefined }),
        free: fc.option(fc.boolean(), { nil: undefined }),
        trustedOnly: fc.option(fc.boolean(), { nil: undefined }),
        publisher: fc.option(fc.constantFrom(...PUBLISHERS), { nil: undefined })
      }),
      async (apps, replaced, filters) => {
        const catalog = await createCatalog({}, { roots: [ROOT] })
        catalog.add(await endorse(ROOT, PUBLISHERS[0]!))
        const publish = async (i: number, version: string, time: number): Promise<void> => {
          const app = apps[i]!
          catalog.add(await release({
            publisher: PUBLISHERS[app.publisher]!, appId: `org.example.App${i}`, name: `App${i}`, summary: app.words.join(' '),
            categories: app.categories, license: app.license, channel: app.channel, arch: app.arch, version, time
          }))
        }
        for (let i = 0; i < apps.length; i++) await publish(i, '1.0', 1_000 + i)
        // new releases re-index some apps under new document numbers
        for (const [n, r] of replaced.entries()) {
          const i = r % apps.length
          apps[i] = { ...apps[i]!, categories: apps[(i + n + 1) % apps.length]!.categories }
          await publish(i, `2.${n}`, 2_000 + n)
        }
        const query: SearchQuery = { limit: 1000 }
        if (filters.query !== '') query.query = filters.query
        if (filters.category != null) query.category = filters.category
        if (filters.free != null) query.free = filters.free
        if (filters.trustedOnly != null) query.trustedOnly = filters.trustedOnly
        if (filters.publisher != null) query.publisher = filters.publisher
        // every hit of the query without filters, with what it holds
        const unfiltered = catalog.search({ ...(query.query != null ? { query: query.query } : {}), limit: 1000 })
        const rows = unfiltered.hits.map(hit => {
          const view = catalog.app(hit.appId)!
          return rowOf(hit, view.latest.map(l => l.channel), view.latest.map(l => l.arch))
        })
        const want = reference(rows, query)
        const got = catalog.search(query)
        assert.equal(got.total, want.total)
        assert.deepEqual(got.facets, want.facets)
        await catalog.stop()
      }
    ), { numRuns: 60 })
  })
})
