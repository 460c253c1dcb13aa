import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { ReleaseRecord, SignedRecord } from '@hubless/registry/records'
import type { Registry } from '@hubless/registry'
import { createCatalog } from '../src/index.ts'
import type { CatalogRecord, ForkReport, RecordSource } from '../src/index.ts'
import { key, release, sign, yank } from './records.ts'

const A = key(1)
const B = key(2)

// the registry is a record source as it is (checked by the type checker)
export const registryIsASource = (registry: Registry): RecordSource => registry

describe('views', () => {
  it('gives the newest release per reader channel and architecture, following the ladder', async () => {
    const catalog = await createCatalog()
    catalog.addAll([
      await release({ publisher: A, version: '1.0.0', channel: 'release', time: 1 }),
      await release({ publisher: A, version: '1.1.0', channel: 'release', time: 2 }),
      await release({ publisher: A, version: '2.0.0-beta.1', channel: 'beta', time: 3 }),
      await release({ publisher: A, version: '2.0.0-alpha.3', channel: 'alpha', time: 2 }),
      await release({ publisher: A, version: 'continuous', channel: 'continuous', time: 4 }),
      await release({ publisher: A, version: '1.0.5', channel: 'release', arch: 'aarch64', time: 5 })
    ])
    const latest = (channel: 'release' | 'beta' | 'alpha' | 'nightly' | 'continuous', arch = 'x86_64'): string | undefined =>
      catalog.latest('org.example.App', { channel, arch })?.version
    assert.equal(latest('release'), '1.1.0')
    assert.equal(latest('beta'), '2.0.0-beta.1', 'a beta reader sees the newest of release and beta')
    assert.equal(latest('alpha'), '2.0.0-beta.1', '2.0.0-beta.1 > 2.0.0-alpha.3')
    assert.equal(latest('nightly'), '2.0.0-beta.1')
    assert.equal(latest('continuous'), 'continuous', 'continuous sees everything')
    assert.equal(latest('beta', 'aarch64'), '1.0.5')
    assert.equal(catalog.latest('org.example.App', { channel: 'beta', arch: 'armhf' }), undefined)
    const view = catalog.app('org.example.App')!
    assert.deepEqual(view.history.map(r => r.version), ['continuous', '2.0.0-beta.1', '2.0.0-alpha.3', '1.1.0', '1.0.5', '1.0.0'])
    assert.equal(view.latest.filter(l => l.arch === 'x86_64').length, 5)
  })

  it('applies yanks by the release\'s own publisher only', async () => {
    const catalog = await createCatalog()
    const r1 = await release({ publisher: A, version: '1.0', time: 1 })
    const r2 = await release({ publisher: A, version: '1.1', time: 2 })
    catalog.addAll([r1, r2, await yank(B, r2)])
    assert.equal(catalog.latest('org.example.App')?.version, '1.1', 'a stranger\'s yank changes nothing')
    const changed = catalog.add(await yank(A, r2))
    assert.deepEqual(changed, ['org.example.App'])
    assert.equal(catalog.latest('org.example.App')?.version, '1.0')
    const yanked = catalog.app('org.example.App')!.history.find(r => r.id === r2.id)!
    assert.equal(yanked.state, 'yanked')
    assert.equal(yanked.reason, 'broken build')
  })

  it('applies a yank that arrives before its release', async () => {
    const catalog = await createCatalog()
    const r1 = await release({ publisher: A, version: '1.0', time: 1 })
    const r2 = await release({ publisher: A, version: '1.1', time: 2 })
    catalog.add(await yank(A, r2))
    catalog.add(r1)
    catalog.add(r2)
    assert.equal(catalog.latest('org.example.App')?.version, '1.0')
  })

  it('is rollback-proof: the newest release does not depend on arrival order', async () => {
    const versions = ['0.9', '1.0', '1.0.1', '1.1-rc1', '1.1', '2.0-beta', '20171129']
    const records: Array<SignedRecord<ReleaseRecord>> = []
    let previous: string | undefined
    for (const [i, version] of versions.entries()) {
      const r = await release({ publisher: A, version, time: 1000 + i, ...(previous != null ? { previous } : {}) })
      records.push(r)
      previous = r.id
    }
    // a replayed old release with a later claimed time, and a stranger's inflated version
    records.push(await release({ publisher: A, version: '0.8', time: 99_999 }))
    records.push(await release({ publisher: B, version: '99.0', time: 2000 }))
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(records, { minLength: records.length }), fc.boolean(), async (order, oneByOne) => {
      const catalog = await createCatalog()
      const seen: string[] = []
      if (oneByOne) {
        for (const r of order) {
          catalog.add(r)
          const newest = catalog.latest('org.example.App')?.version
          if (newest != null) seen.push(newest)
        }
      } else {
        catalog.addAll(order)
      }
      assert.equal(catalog.latest('org.example.App')?.version, '20171129')
      assert.equal(catalog.app('org.example.App')!.trust.publisher, A, 'the first claimant owns the app')
      // once a version was newest, nothing older replaced it later
      const ranks = seen.map(v => versions.indexOf(v)).filter(i => i >= 0)
      for (let i = 1; i < ranks.length; i++) assert.ok(ranks[i]! >= ranks[i - 1]!, `newest went back: ${seen.join(' -> ')}`)
    }), { numRuns: 40 })
  })

  it('detects and reports forks in a publisher\'s chain', async () => {
    const catalog = await createCatalog()
    const forks: ForkReport[] = []
    catalog.events.addEventListener('fork', (event) => { forks.push(event.detail) })
    const base = await release({ publisher: A, version: '1.0', time: 1 })
    const left = await release({ publisher: A, version: '1.1', time: 2, previous: base.id })
    const right = await release({ publisher: A, version: '1.1.1', time: 3, previous: base.id })
    const other = await release({ publisher: A, version: '1.0', time: 1, channel: 'beta', previous: base.id })
    catalog.addAll([base, left, other])
    assert.equal(catalog.forks().length, 0, 'different channels do not fork')
    catalog.add(right)
    assert.equal(forks.length, 1)
    assert.deepEqual(forks[0]!.releases, [left.id, right.id].sort())
    assert.equal(forks[0]!.previous, base.id)
    assert.equal(catalog.app('org.example.App')!.forks.length, 1)
    assert.deepEqual(catalog.forks(), forks)
  })

  it('breaks a version tie by time, then by the hash chain', async () => {
    const catalog = await createCatalog()
    const first = await release({ publisher: A, version: '2.0', time: 10 })
    const second = await release({ publisher: A, version: '2.0', time: 10, previous: first.id, summary: 'rebuilt' })
    catalog.addAll([second, first])
    assert.equal(catalog.latest('org.example.App')?.id, second.id)
  })

  it('announces changed apps, ignores duplicates and names bad records', async () => {
    const catalog = await createCatalog()
    const changes: string[][] = []
    catalog.events.addEventListener('changed', (event) => { changes.push(event.detail.appIds) })
    const r = await release({ publisher: A, appId: 'org.example.One' })
    catalog.add(r)
    assert.deepEqual(catalog.add(r), [], 'a duplicate changes nothing')
    assert.deepEqual(changes, [['org.example.One']])
    assert.throws(() => catalog.add({ id: '', record: r.record }), { name: 'InvalidRecordError' })
    const broken = { id: 'bafyreib', record: { ...r.record, channel: 'stable' } } as unknown as CatalogRecord
    assert.throws(() => catalog.add(broken), { name: 'InvalidRecordError' })
    assert.throws(() => catalog.add({ id: 'x', record: null } as unknown as CatalogRecord), { name: 'InvalidRecordError' })
    assert.equal(catalog.size, 1)
    await catalog.stop()
    assert.throws(() => catalog.search(), { name: 'CatalogStoppedError' })
  })

  it('reads a record source in bulk, then follows its live events', async () => {
    const { TypedEventEmitter } = await import('main-event')
    const events = new TypedEventEmitter<{ record: CustomEvent<CatalogRecord> }>()
    const initial = [await release({ publisher: A, appId: 'org.example.One' }), await release({ publisher: A, appId: 'org.example.Two' })]
    const progress: number[] = []
    const source = {
      async * records () { yield * initial },
      addEventListener: events.addEventListener.bind(events),
      removeEventListener: events.removeEventListener.bind(events)
    }
    const catalog = await createCatalog({ source }, {}, { onProgress: (event) => { progress.push(event.detail.records) }, signal: AbortSignal.timeout(5000) })
    assert.equal(catalog.size, 2)
    assert.deepEqual(progress, [2])
    const changed = new Promise<string[]>((resolve) => {
      catalog.events.addEventListener('changed', (event) => { resolve(event.detail.appIds) }, { once: true })
    })
    events.safeDispatchEvent('record', { detail: await release({ publisher: A, appId: 'org.example.Three' }) })
    events.safeDispatchEvent('record', { detail: { id: 'junk', record: {} } as unknown as CatalogRecord })
    assert.deepEqual(await changed, ['org.example.Three'])
    assert.equal(catalog.size, 3, 'a bad live record is dropped, the catalog stays up')
    await catalog.stop()
    events.safeDispatchEvent('record', { detail: await release({ publisher: A, appId: 'org.example.Four' }) })
    assert.equal(events.listenerCount('record'), 0, 'stop removes the listener')
  })

  it('stops loading when aborted', async () => {
    const controller = new AbortController()
    const one = await release({ publisher: A })
    const source = {
      async * records () {
        yield one
        controller.abort()
        yield await sign({ ...one.record, version: '2.0' })
      }
    }
    await assert.rejects(createCatalog({ source }, {}, { signal: controller.signal }), { name: 'AbortError' })
  })
})
