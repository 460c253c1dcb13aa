import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createCatalog } from '../src/index.ts'
import type { CatalogRecord } from '../src/index.ts'
import { endorse, key, release, revoke, rotate, unendorse, yank } from './records.ts'

const ROOT = key(100)
const A = key(1)
const B = key(2)
const C = key(3)
const D = key(4)
const APPS = ['org.example.One', 'org.example.Two']

/** every kind of record, with links between them, in one set */
async function records (): Promise<CatalogRecord[]> {
  const out: CatalogRecord[] = [
    await endorse(ROOT, A, { time: 10 }),
    await endorse(A, B, { time: 20, appIds: ['org.example.Two'] }),
    await endorse(ROOT, C, { time: 30, until: 5_000 }),
    await unendorse(ROOT, C, 40),
    await rotate(B, D, 300),
    await revoke(A, 400, 450)
  ]
  for (const [n, publisher] of [A, B, C, D].entries()) {
    for (const appId of APPS) {
      let previous: string | undefined
      for (const [i, version] of ['1.0', '1.1-beta', '2.0'].entries()) {
        const r = await release({ publisher, appId, version, time: 100 * (i + 1) + n, channel: i === 1 ? 'beta' : 'release', ...(previous != null ? { previous } : {}) })
        previous = r.id
        out.push(r)
        if (i === 2 && n === 0) out.push(await yank(publisher, r, 500))
      }
    }
  }
  return out
}

describe('order independence', () => {
  it('gives the same views whatever order the records arrive in', async () => {
    const all = await records()
    const reference = await createCatalog({ clock: () => 1_000 }, { roots: [ROOT] })
    reference.addAll(all)
    const expected = APPS.map(appId => reference.app(appId))
    const expectedSearch = reference.search({ query: 'One Two' })
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length }), fc.boolean(), async (order, oneByOne) => {
      const catalog = await createCatalog({ clock: () => 1_000 }, { roots: [ROOT] })
      if (oneByOne) for (const r of order) catalog.add(r)
      else catalog.addAll(order)
      assert.deepEqual(APPS.map(appId => catalog.app(appId)), expected)
      assert.deepEqual(catalog.search({ query: 'One Two' }), expectedSearch)
    }), { numRuns: 30 })
    // and the reference itself says what the records mean
    const two = reference.app('org.example.Two')!
    assert.equal(two.trust.status, 'trusted')
    assert.equal(two.trust.publisher, A, 'A is closer to the root than B')
    assert.deepEqual(two.claimants.map(c => c.trust.status), ['conflicting', 'conflicting'], 'B and D are one publisher after the rotation; C is the other')
  })
})
