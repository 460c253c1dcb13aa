import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SearchIndex } from '../src/search-index.ts'
import type { IndexHit, SearchDocument } from '../src/search-index.ts'

// a small vocabulary, so that words repeat across documents, prefixes expand and typos land
const WORDS = ['video', 'editor', 'videos', 'edit', 'audio', 'player', 'play', 'pdf', 'viewer', 'view', 'screen',
  'recorder', 'record', 'network', 'networking', 'utility', 'simple', 'desktop', 'client', 'torrent', 'paint', 'painter']

const text = fc.array(fc.constantFrom(...WORDS), { maxLength: 8 }).map(words => words.join(' '))
const documentArb = (id: number): fc.Arbitrary<SearchDocument> =>
  fc.record({ name: text, keywords: text, summary: text, appId: text, description: text }).map(d => ({ id: `app${id}`, ...d }))
const documents = fc.integer({ min: 1, max: 40 }).chain(n => fc.tuple(...Array.from({ length: n }, (_, i) => documentArb(i))))
// known words, their prefixes, typos of them (a changed or dropped letter) and words no document has
const queryWord = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.constantFrom(...WORDS).map(w => w.slice(0, Math.max(1, w.length - 2))),
  fc.tuple(fc.constantFrom(...WORDS), fc.nat()).map(([w, i]) => w.slice(0, i % w.length) + 'x' + w.slice(i % w.length + 1)),
  fc.tuple(fc.constantFrom(...WORDS), fc.nat()).map(([w, i]) => w.slice(0, i % w.length) + w.slice(i % w.length + 1)),
  fc.constantFrom('zebra', 'qq', 'a', 'the')
)
const query = fc.array(queryWord, { minLength: 1, maxLength: 4 }).map(words => words.join(' '))

function build (docs: SearchDocument[]): SearchIndex {
  const index = new SearchIndex()
  for (const doc of docs) index.put(doc)
  return index
}

function assertSameHits (actual: IndexHit[], expected: IndexHit[], label: string): void {
  const want = new Map(expected.map(h => [h.id, h.score]))
  assert.deepEqual(actual.map(h => h.id).sort(), [...want.keys()].sort(), `${label}: the same documents`)
  for (const hit of actual) {
    const score = want.get(hit.id)!
    assert.ok(Math.abs(hit.score - score) <= 1e-9 * Math.abs(score), `${label}: ${hit.id} scored ${hit.score}, expected ${score}`)
  }
}

describe('BM25 scorer', () => {
  it('scores every query exactly as MiniSearch\'s own search does', () => {
    fc.assert(fc.property(documents, fc.array(query, { minLength: 1, maxLength: 5 }), (docs, queries) => {
      const index = build(docs)
      for (const q of queries) assertSameHits(index.search(q), index.scoreWithMiniSearch(q), q)
    }), { numRuns: 150 })
  })

  it('after replacing documents, scores as an index built from the current documents', () => {
    fc.assert(fc.property(documents, fc.array(fc.nat(), { minLength: 1, maxLength: 10 }), query, (docs, picks, q) => {
      const index = build(docs)
      const current = [...docs]
      for (const [n, pick] of picks.entries()) {
        const i = pick % current.length
        // the replacement takes another document's texts: postings move between words
        const donor = docs[(pick + n + 1) % docs.length]!
        current[i] = { ...donor, id: current[i]!.id }
        index.put(current[i])
      }
      const hits = index.search(q)
      for (const hit of hits) assert.ok(hit.score > 0, `${hit.id} has a positive score (stale postings must not count)`)
      assertSameHits(hits, build(current).search(q), q)
    }), { numRuns: 150 })
  })
})
