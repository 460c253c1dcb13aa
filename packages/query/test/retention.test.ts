import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCatalog } from '../src/index.ts'
import type { AppView, CatalogRecord, RecordSourceOptions, SourcePosition } from '../src/index.ts'
import { endorse, key, release, revoke, yank } from './records.ts'
import type { Channel } from '@hubless/registry/records'

const ROOT = key(100)
const A = key(1)
const B = key(2)
const T = 1_700_000_000_000

/** a seeded shuffle, so a failure names an order that can be replayed */
function shuffled<T> (items: T[], seed: number): T[] {
  const out = [...items]
  let s = seed
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

function newest (view: AppView | undefined): string[] {
  return (view?.latest ?? []).map(l => `${l.channel}/${l.arch}=${l.release.version}`)
}

async function nightlies (publisher: string, count: number, channel: Channel = 'nightly', from = 0): Promise<CatalogRecord[]> {
  const out: CatalogRecord[] = []
  for (let i = from; i < from + count; i++) out.push(await release({ publisher, version: `1.${i}.0`, channel, time: T + i * 1000 }))
  return out
}

describe('a catalog with retain', () => {
  it('keeps the newest releases per channel and arch and each key\'s first, in any arrival order, with the same views', async () => {
    const records: CatalogRecord[] = [
      await endorse(ROOT, A),
      ...await nightlies(A, 30, 'nightly'),
      ...await nightlies(A, 12, 'beta', 100),
      ...await nightlies(A, 5, 'release', 200),
      await release({ publisher: A, version: '1.9.0', arch: 'aarch64', time: T + 5 }),
      await release({ publisher: A, version: '1.10.0', arch: 'aarch64', time: T + 6 }),
      // a squatter's releases, later than A's first
      ...await nightlies(B, 6, 'release', 50)
    ]
    const full = await createCatalog({}, { roots: [ROOT] })
    full.addAll(records)
    for (const seed of [1, 2, 3, 4]) {
      const bounded = await createCatalog({}, { roots: [ROOT], retain: 2 })
      for (const record of shuffled(records, seed)) bounded.add(record)
      const app = bounded.app('org.example.App')!
      assert.deepEqual(newest(app), newest(full.app('org.example.App')), `seed ${seed}`)
      assert.deepEqual(app.trust, full.app('org.example.App')!.trust)
      assert.deepEqual(app.claimants.map(c => c.newest.id), full.app('org.example.App')!.claimants.map(c => c.newest.id))
      assert.deepEqual(app.history.map(r => r.version), ['1.204.0', '1.203.0', '1.111.0', '1.110.0', '1.29.0', '1.28.0', '1.10.0', '1.9.0', '1.0.0'], `seed ${seed}`)
      assert.equal(app.historyPartial, true)
      // the squatter keeps its first release and its newest two on its slot
      assert.equal(bounded.releases({ appId: 'org.example.App', publisher: B }).length, 3)
    }
    assert.equal(full.app('org.example.App')!.historyPartial, undefined, 'a catalog without retain drops nothing')
  })

  it('does not count yanked releases, and judges the releases it dropped', async () => {
    const list = await nightlies(A, 6)
    const bounded = await createCatalog({}, { roots: [ROOT], retain: 2 })
    bounded.addAll([await endorse(ROOT, A), await yank(A, list[5] as never), ...list])
    // 1.5.0 is yanked and does not count: 1.4.0 and 1.3.0 stay usable
    assert.deepEqual(bounded.app('org.example.App')!.history.map(r => `${r.version}:${r.state}`), ['1.5.0:yanked', '1.4.0:ok', '1.3.0:ok', '1.0.0:ok'])
    bounded.add(await yank(A, list[4] as never))
    assert.equal(bounded.latest('org.example.App', { channel: 'nightly' })?.version, '1.3.0')

    // judged as the view would show them, held or not
    assert.deepEqual(bounded.judge(list[1]!), { view: { ...bounded.judge(list[1]!)!.view, state: 'ok' }, owner: true })
    assert.equal(bounded.judge(list[4]!)!.view.state, 'yanked')
    const squat = await release({ publisher: B, version: '9.0.0', time: T + 99_000 })
    assert.equal(bounded.judge(squat)!.owner, false)
    assert.equal(bounded.judge(await release({ publisher: A, appId: 'org.example.Other' })), undefined)
    const trustRecord = await endorse(ROOT, B)
    assert.throws(() => bounded.judge(trustRecord), { name: 'InvalidQueryError' })
  })

  it('judges a dropped release signed after its key was revoked', async () => {
    const list = await nightlies(A, 8)
    const bounded = await createCatalog({}, { retain: 1 })
    bounded.addAll([...list, await revoke(A, T + 2_500)])
    assert.equal(bounded.judge(list[3]!)!.view.state, 'revoked')
    assert.equal(bounded.judge(list[2]!)!.view.state, 'ok')
  })

  it('rejects a retain that is not a whole number of 1 or more', async () => {
    for (const retain of [0, -1, 1.5, Number.NaN, '2']) {
      await assert.rejects(createCatalog({}, { retain: retain as number }), { name: 'InvalidTrustPolicyError' })
    }
  })

  it('keeps after a restart from its saved index what it would have kept running on', async () => {
    const before = [
      await endorse(ROOT, A), ...await nightlies(A, 8), ...await nightlies(A, 4, 'beta', 50),
      ...await nightlies(B, 3, 'nightly', 60), await release({ publisher: A, version: '1.9.0', arch: 'aarch64', time: T + 5 })
    ]
    const yanked = before[8]!
    const after = [await yank(A, yanked as never), ...await nightlies(A, 3, 'nightly', 8), ...await nightlies(A, 2, 'beta', 54), ...await nightlies(B, 2, 'nightly', 63)]
    const running = await createCatalog({}, { roots: [ROOT], retain: 2 })
    running.addAll(before)
    const restarted = await createCatalog({}, { roots: [ROOT], retain: 2, savedIndex: running.save() })
    for (const catalog of [running, restarted]) for (const record of after) catalog.add(record)
    const held = (catalog: typeof running): string[] => [A, B].flatMap(publisher => catalog.releases({ appId: 'org.example.App', publisher }).map(r => r.record.version)).sort()
    assert.deepEqual(held(restarted), held(running))
    assert.equal(held(running).length, 9, 'each key\'s first and the newest two of each slot')
    assert.deepEqual(restarted.app('org.example.App'), running.app('org.example.App'))
  })

  it('saves what it holds and where its source was, and reads only what came after on the next start', async () => {
    const records = [await endorse(ROOT, A), ...await nightlies(A, 20)]
    const source = positionedSource(records)
    const first = await createCatalog({ source }, { roots: [ROOT], retain: 2 })
    assert.equal(first.unsaved, true)
    const saved = first.save()
    assert.equal(first.unsaved, false, 'saved')
    assert.equal(JSON.parse(saved.slice(0, saved.indexOf('\n'))).records, 4, 'the endorsement, the first and the newest two')
    await first.stop()

    // three more records; the next start reads those three only
    records.push(...await nightlies(A, 3, 'nightly', 20))
    const second = await createCatalog({ source }, { roots: [ROOT], retain: 2, savedIndex: saved })
    assert.deepEqual(source.reads.at(-1), { after: 21, yielded: 3 })
    assert.equal(second.latest('org.example.App', { channel: 'nightly' })?.version, '1.22.0')
    // the same from a catalog made from the file alone, which takes its source later (a restart)
    const later = await createCatalog({}, { roots: [ROOT], retain: 2, savedIndex: saved })
    assert.equal(later.latest('org.example.App', { channel: 'nightly' })?.version, '1.19.0')
    assert.equal(later.unsaved, false, 'loaded from the file: nothing to write back')
    await later.follow(source)
    assert.equal(later.unsaved, true, 'the three records past the file')
    assert.deepEqual(source.reads.at(-1), { after: 21, yielded: 3 })
    assert.deepEqual(later.app('org.example.App'), second.app('org.example.App'))
    await assert.rejects(later.follow(source), { name: 'CatalogSourceError' })
    await later.stop()

    // records that arrive as events while running are saved as covered
    const live = await release({ publisher: A, version: '1.23.0', channel: 'nightly', time: T + 23_000 })
    records.push(live)
    source.emit(live)
    const third = await createCatalog({ source }, { roots: [ROOT], retain: 2, savedIndex: second.save() })
    assert.deepEqual(source.reads.at(-1), { after: 25, yielded: 0 })
    assert.equal(third.unsaved, false, 'the source held nothing past the file')
    assert.equal(third.latest('org.example.App', { channel: 'nightly' })?.version, '1.23.0')

    // a catalog that keeps more than the file did reads the whole source again
    const all = await createCatalog({ source }, { roots: [ROOT], savedIndex: third.save() })
    assert.deepEqual(source.reads.at(-1), { after: undefined, yielded: records.length })
    assert.equal(all.app('org.example.App')!.history.length, 24)
    // and a file of a catalog that kept everything resumes in a bounded one, which is worth saving
    const bounded = await createCatalog({ source }, { roots: [ROOT], retain: 2, savedIndex: all.save() })
    assert.deepEqual(source.reads.at(-1), { after: 25, yielded: 0 })
    assert.equal(bounded.unsaved, true, 'it keeps less than the file')
    assert.equal((await createCatalog({}, { roots: [ROOT], retain: 2, savedIndex: bounded.save() })).unsaved, false)
  })
})

/** a RecordSource over a growing array: its position is the number of records, as a registry's sequence */
function positionedSource (records: CatalogRecord[]) {
  const listeners = new Set<(event: CustomEvent<CatalogRecord>) => void>()
  const reads: Array<{ after: number | undefined, yielded: number }> = []
  return {
    reads,
    position: (): SourcePosition => ({ index: 'test', seq: records.length }),
    async * records (options?: RecordSourceOptions) {
      const after = options?.after?.index === 'test' ? options.after.seq : undefined
      const read = { after, yielded: 0 }
      reads.push(read)
      for (const record of records.slice(after ?? 0)) {
        read.yielded++
        yield record
      }
    },
    addEventListener: (_type: 'record', listener: (event: CustomEvent<CatalogRecord>) => void) => { listeners.add(listener) },
    removeEventListener: (_type: 'record', listener: (event: CustomEvent<CatalogRecord>) => void) => { listeners.delete(listener) },
    emit: (record: CatalogRecord) => { for (const l of listeners) l(new CustomEvent('record', { detail: record })) }
  }
}
