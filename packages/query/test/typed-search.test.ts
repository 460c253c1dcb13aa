import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createCatalog } from '../src/index.ts'
import type { Catalog, SearchQuery } from '../src/index.ts'
import { FacetRows } from '../src/facet-rows.ts'
import { topPositions } from '../src/select.ts'
import { endorse, key, release } from './records.ts'

// a relevance search keeps its hits as typed arrays up to the page (CatalogImpl.searchByDocs);
// the general path, with an object per hit, is the reference it must match exactly

const ROOT = key(100)
const WORDS = ['video', 'editor', 'audio', 'player', 'pdf', 'viewer', 'screen', 'recorder', 'network', 'client', 'desktop', 'paint']
const CATEGORIES = ['AudioVideo', 'Graphics', 'Office', 'Network', 'Utility']
const LICENSES = ['GPL-3.0', 'MIT', 'LicenseRef-proprietary']

const phrase = (n: number) => fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: n }).map(w => w.join(' '))
const appArb = fc.record({
  // a name of stop words only is not in the index: an exact match the scorer never returns
  name: fc.oneof(phrase(3), fc.constantFrom('The', 'My Editor', 'Video Video Video')),
  summary: phrase(6),
  categories: fc.subarray(CATEGORIES, { maxLength: 2 }),
  license: fc.constantFrom(...LICENSES),
  publisher: fc.integer({ min: 1, max: 4 })
})
const queryArb = (names: string[]): fc.Arbitrary<SearchQuery> => fc.record({
  query: fc.oneof(phrase(3), fc.constantFrom(...names), fc.constantFrom('vidoe edtor', 'video', 'org.example.app1')),
  category: fc.option(fc.constantFrom(...CATEGORIES), { nil: undefined }),
  free: fc.option(fc.constant(true), { nil: undefined }),
  trustedOnly: fc.option(fc.constant(true), { nil: undefined }),
  publisher: fc.option(fc.constantFrom(key(1), key(3)), { nil: undefined }),
  facets: fc.boolean(),
  offset: fc.constantFrom(0, 3, 10),
  limit: fc.constantFrom(1, 5, 20)
}, { requiredKeys: ['query'] })

/** the same catalog's search with the typed path turned off */
function generalSearch (catalog: Catalog, query: SearchQuery): ReturnType<Catalog['search']> {
  const impl = catalog as unknown as { searchByDocs: unknown }
  const typed = impl.searchByDocs
  impl.searchByDocs = () => undefined
  try {
    return catalog.search(query)
  } finally {
    impl.searchByDocs = typed
  }
}

describe('typed search path', () => {
  it('gives the general path\'s page, total and facets for any query and filters', async () => {
    await fc.assert(fc.asyncProperty(fc.array(appArb, { minLength: 1, maxLength: 40 }), fc.nat(), async (apps, seed) => {
      const catalog = await createCatalog({}, { roots: [ROOT] })
      catalog.addAll([await endorse(ROOT, key(1)), ...await Promise.all(apps.map(async (a, i) => await release({
        publisher: key(a.publisher), appId: `org.example.app${i}`, name: a.name, summary: a.summary, categories: a.categories, license: a.license, time: 1_700_000_000_000 + i
      })))])
      for (const query of fc.sample(queryArb(apps.map(a => a.name)), { numRuns: 15, seed })) {
        assert.deepEqual(catalog.search(query), generalSearch(catalog, query), JSON.stringify(query))
      }
      // replaced apps: the index's document numbers change, their facet rows move
      catalog.addAll(await Promise.all(apps.slice(0, 5).map(async (a, i) => await release({
        publisher: key(a.publisher), appId: `org.example.app${i}`, name: `${a.name} client`, summary: a.summary, categories: a.categories.slice(1), license: a.license, time: 1_800_000_000_000 + i, version: '2.0.0'
      }))))
      for (const query of fc.sample(queryArb(apps.map(a => a.name)), { numRuns: 15, seed: seed + 1 })) {
        assert.deepEqual(catalog.search(query), generalSearch(catalog, query), `after replacements: ${JSON.stringify(query)}`)
      }
    }), { numRuns: 25 })
  })

  it('puts an exact name first over a higher score, and one the index dropped', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await release({ publisher: key(1), appId: 'org.example.loud', name: 'Video Video Video', summary: 'video video' }),
      await release({ publisher: key(1), appId: 'org.example.plain', name: 'Video', summary: 'an editor' }),
      await release({ publisher: key(1), appId: 'org.example.the', name: 'The', summary: 'video' })
    ])
    for (const query of [{ query: 'video' }, { query: 'the' }, { query: 'video', offset: 1, limit: 1 }]) {
      const results = catalog.search(query)
      assert.deepEqual(results, generalSearch(catalog, query), JSON.stringify(query))
      assert.equal(results.hits[0]?.name, query.query === 'the' ? 'The' : query.offset === 1 ? 'Video Video Video' : 'Video', JSON.stringify(query))
    }
  })
})

describe('topPositions', () => {
  it('gives the first k positions of a stable descending sort, among the given ones', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 }), fc.integer({ min: 0, max: 60 }), fc.boolean(), (values, k, subset) => {
      const keys = Float64Array.from(values)
      const among = subset ? Int32Array.from(values.flatMap((v, i) => v % 2 === 0 ? [i] : [])) : undefined
      const positions = among != null ? [...among] : values.map((_, i) => i)
      const sorted = positions.sort((a, b) => values[b]! - values[a]! || a - b)
      assert.deepEqual(topPositions(keys, k, among), sorted.slice(0, k))
    }), { numRuns: 500 })
  })
})

describe('FacetRows', () => {
  it('holds each document\'s last row through overwrites, clears and compactions', () => {
    const op = fc.record({ doc: fc.nat(60), row: fc.option(fc.array(fc.nat(1000), { maxLength: 9 }), { nil: undefined }) })
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const rows = new FacetRows()
      const model = new Map<number, number[]>()
      for (const { doc, row } of ops) {
        if (row == null) {
          rows.clear(doc)
          model.delete(doc)
        } else {
          rows.set(doc, Int32Array.from(row))
          model.set(doc, row)
        }
      }
      for (let doc = 0; doc <= 60; doc++) {
        const start = doc < rows.starts.length ? rows.starts[doc]! : -1
        const got = start < 0 ? undefined : [...rows.values.subarray(start, rows.ends[doc]!)]
        assert.deepEqual(got, model.get(doc), `document ${doc}`)
      }
    }), { numRuns: 300 })
  })
})
