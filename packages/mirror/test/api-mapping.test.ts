import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCatalog } from '@hubless/query'
import { apiAppDetail } from '../src/api-mapping.ts'
import { key, release } from '../../query/test/records.ts'

describe('the API\'s app page', () => {
  it('lists a version republished by the same key once, by its newest record', async () => {
    const publisher = key(1)
    const first = await release({ publisher, appId: 'org.example.Again', version: '1.0.0', time: 1_000 })
    const again = await release({ publisher, appId: 'org.example.Again', version: '1.0.0', time: 2_000 })
    const next = await release({ publisher, appId: 'org.example.Again', version: '1.1.0', time: 3_000, previous: again.id })
    const catalog = await createCatalog({}, { roots: [publisher] })
    catalog.addAll([first, again, next].map(r => ({ id: r.id, record: r.record })))
    const view = catalog.app('org.example.Again')
    assert.ok(view != null)
    assert.equal(view.history.length, 3, 'the catalog keeps every record')
    const detail = apiAppDetail(view)
    assert.deepEqual(detail.history.map(r => r.version), ['1.1.0', '1.0.0'])
    assert.equal(detail.history[1]?.id, again.id, 'the newer of the two records of 1.0.0')
    assert.deepEqual(Object.keys(detail.latest), ['release/x86_64'], 'one row per release in the newest ones too')
    catalog.stop()
  })
})
