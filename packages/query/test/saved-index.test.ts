import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCatalog } from '../src/index.ts'
import type { CatalogRecord } from '../src/index.ts'
import { endorse, key, release } from './records.ts'

const ROOT = key(100)
const A = key(1)
const B = key(2)

describe('saved index', () => {
  it('round-trips views and the search index, then keeps updating', async () => {
    const records = [
      await endorse(ROOT, A),
      await release({ publisher: A, appId: 'org.example.Editor', name: 'Editor', summary: 'Edits text' }),
      await release({ publisher: B, appId: 'org.example.Player', name: 'Player', summary: 'Plays music' })
    ]
    const first = await createCatalog({}, { roots: [ROOT] })
    first.addAll(records)
    const saved = first.save()

    const second = await createCatalog({}, { roots: [ROOT], savedIndex: saved })
    assert.equal(second.size, 2)
    assert.deepEqual(second.search({ query: 'music' }).hits.map(h => h.appId), ['org.example.Player'])
    assert.deepEqual(second.app('org.example.Editor'), first.app('org.example.Editor'))
    second.add(await release({ publisher: B, appId: 'org.example.Player', name: 'Player', summary: 'Plays podcasts', version: '2.0', time: 1_800_000_000_000 }))
    assert.deepEqual(second.search({ query: 'podcasts' }).hits.map(h => h.appId), ['org.example.Player'])
    assert.deepEqual(second.search({ query: 'music' }).hits.map(h => h.appId), [], 'the replaced document is gone')

    // bytes work too, and records the source repeats are skipped
    let yielded = 0
    const third = await createCatalog({
      source: { async * records () { for (const r of records) { yielded++; yield r } } }
    }, { roots: [ROOT], savedIndex: new TextEncoder().encode(second.save()) })
    assert.equal(yielded, 3)
    assert.equal(third.latest('org.example.Player')?.version, '2.0')
  })

  it('comes in pieces, taken when asked for, that make the same file', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    const records: CatalogRecord[] = [await endorse(ROOT, A)]
    for (let i = 0; i < 2100; i++) records.push(await release({ publisher: A, appId: `org.example.App${i}`, name: `App ${i}` }))
    catalog.addAll(records)
    const whole = catalog.save()
    const pieces = catalog.savePieces()
    // what arrives after it was asked for is not in it
    catalog.add(await release({ publisher: B, appId: 'org.example.Later', name: 'Later' }))
    const taken = [...pieces]
    assert.equal(taken.length, 5, 'the header, three pieces of records, and the search index')
    assert.equal(taken.join(''), whole)
    const reloaded = await createCatalog({}, { roots: [ROOT], savedIndex: taken.join('') })
    assert.equal(reloaded.size, 2100)
  })

  it('re-evaluates trust on load, since the roots may have changed', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([await endorse(ROOT, A), await release({ publisher: A })])
    const reloaded = await createCatalog({}, { roots: [], savedIndex: catalog.save() })
    assert.equal(reloaded.app('org.example.App')!.trust.status, 'unverified')
  })

  it('names a damaged or foreign file', async () => {
    const catalog = await createCatalog()
    catalog.add(await release({ publisher: A }) as CatalogRecord)
    const saved = catalog.save()
    const [header, recs] = saved.split('\n')
    for (const bad of ['', 'hello', '{"format":"other","version":1}\n[]\n{}', saved.replace('"version":1', '"version":9'),
      `${header}\n[]\n{}`, `${header}\n${recs}\n{"broken": tru`, saved.replace('"kind":"release"', '"kind":7'),
      saved.replace(/"appId":"[^"]+",/, '')]) {
      await assert.rejects(createCatalog({}, { savedIndex: bad }), { name: 'InvalidSavedIndexError' }, `accepted ${bad.slice(0, 40)}`)
    }
  })
})
