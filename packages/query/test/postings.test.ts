import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import MiniSearch from 'minisearch'
import { INDEX_OPTIONS, SearchIndex } from '../src/search-index.ts'
import type { IndexHit, SearchDocument } from '../src/search-index.ts'

// the flattened posting lists (src/postings.ts) are reused between searches: these tests change
// the index between searches and hold each answer against an index that never searched before

const WORDS = ['video', 'editor', 'videos', 'edit', 'audio', 'player', 'play', 'pdf', 'viewer', 'screen',
  'recorder', 'record', 'network', 'utility', 'simple', 'desktop', 'client', 'torrent', 'paint', 'painter']
const QUERIES = ['video editor', 'client desktop', 'pdf', 'edit', 'playr', 'network utility', 'paint screen', 'desk', 'torrent client']

const text = fc.array(fc.constantFrom(...WORDS), { maxLength: 8 }).map(words => words.join(' '))
const fieldsArb = fc.record({ name: text, keywords: text, summary: text, appId: text, description: text })

function build (docs: SearchDocument[]): SearchIndex {
  const index = new SearchIndex()
  for (const doc of docs) index.put(doc)
  return index
}

/** the same hits with bit-identical scores (the flattened lists sum in MiniSearch's order), in the same order */
function assertSame (actual: IndexHit[], expected: IndexHit[], label: string): void {
  const byId = (hits: IndexHit[]) => hits.map(h => [h.id, h.score] as const).sort((a, b) => a[0] < b[0] ? -1 : 1)
  assert.deepEqual(byId(actual), byId(expected), `${label}: the hits of an index that never searched before`)
}

/** the same hits, scores equal but for rounding (MiniSearch sums in another order, a fresh index numbers documents otherwise) */
function assertClose (actual: IndexHit[], expected: IndexHit[], label: string): void {
  const want = new Map(expected.map(h => [h.id, h.score]))
  assert.deepEqual(actual.map(h => h.id).sort(), [...want.keys()].sort(), `${label}: the same documents`)
  for (const h of actual) assert.ok(Math.abs(h.score - want.get(h.id)!) <= 1e-9 * h.score, `${label}: ${h.id} scored ${h.score}, expected ${want.get(h.id)}`)
}

const docsOf = (current: Map<string, SearchDocument>): SearchDocument[] => [...current.values()]

describe('flattened postings', () => {
  it('are dropped when a put adds or replaces a document between searches', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('search' as const), q: fc.constantFrom(...QUERIES) }),
      fc.record({ kind: fc.constant('put' as const), n: fc.nat(30), fields: fieldsArb })
    )
    fc.assert(fc.property(fc.array(fieldsArb, { minLength: 1, maxLength: 25 }), fc.array(op, { minLength: 1, maxLength: 20 }), (initial, ops) => {
      const current = new Map(initial.map((f, i) => [`app${i}`, { id: `app${i}`, ...f }]))
      const mini = new MiniSearch<SearchDocument>(INDEX_OPTIONS)
      const index = new SearchIndex(mini)
      for (const doc of current.values()) index.put(doc)
      for (const o of ops) {
        if (o.kind === 'put') {
          const doc = { id: `app${o.n}`, ...o.fields }
          index.put(doc)
          current.set(doc.id, doc)
          continue
        }
        assertClose(index.search(o.q), index.scoreWithMiniSearch(o.q), `${o.q} (against MiniSearch's own search)`)
        assertClose(index.search(o.q), build(docsOf(current)).search(o.q), `${o.q} (against a fresh index)`)
        assertSame(index.search(o.q), new SearchIndex(mini).search(o.q), o.q)
      }
    }), { numRuns: 150 })
  })

  it('cannot go stale across MiniSearch\'s background vacuum', async () => {
    const mini = new MiniSearch<SearchDocument>(INDEX_OPTIONS)
    const index = new SearchIndex(mini)
    const docs = fc.sample(fieldsArb, { numRuns: 300, seed: 16 }).map((f, i) => ({ id: `app${i}`, ...f }))
    for (const doc of docs) index.put(doc)
    const cold = (): SearchIndex => new SearchIndex(mini)
    for (const q of QUERIES) index.search(q) // fill the cache
    // replacing a fifth of the documents passes the auto-vacuum's thresholds (20 and 10% dirty)
    const donors = fc.sample(fieldsArb, { numRuns: 60, seed: 17 })
    for (const [i, f] of donors.entries()) {
      index.put({ id: `app${i * 5}`, ...f })
      if (i % 10 === 0) for (const q of QUERIES) index.search(q) // fill it between replacements too
    }
    assert.ok(mini.isVacuuming, 'the replacements started a vacuum')
    for (const q of QUERIES) assertSame(index.search(q), cold().search(q), `${q} during the vacuum`)
    const deadline = Date.now() + 10_000
    let rounds = 0
    while (mini.isVacuuming && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 2))
      // lists flattened before this batch of the vacuum are reused after it
      for (const q of QUERIES) assertSame(index.search(q), cold().search(q), `${q} between batches of the vacuum`)
      rounds++
    }
    assert.ok(!mini.isVacuuming, 'the vacuum finished within 10 s')
    assert.ok(rounds > 0, 'searched while the vacuum ran')
    for (const q of QUERIES) {
      assertSame(index.search(q), cold().search(q), `${q} after the vacuum`)
      assertClose(index.search(q), index.scoreWithMiniSearch(q), `${q} after the vacuum (against MiniSearch's own search)`)
    }
  })
})
