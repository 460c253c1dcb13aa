import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chooseDownload, createCatalog, createWitnessIndex } from '../src/index.ts'
import { key, release, sign } from './records.ts'
import type { WitnessRecord } from '@hubless/registry/records'

const APP = 'org.example.Tracked'
const CID_A = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const CID_B = 'bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function witness (mirror: number, overrides: Partial<WitnessRecord> = {}): WitnessRecord {
  return {
    v: 1,
    kind: 'witness',
    publisher: key(mirror),
    time: 1_700_000_000_000 + mirror,
    appId: APP,
    version: '2.0',
    channel: 'release',
    arch: 'x86_64',
    url: 'https://example.org/Tracked.AppImage',
    sha256: 'b'.repeat(64),
    size: 200,
    cid: CID_B,
    ...overrides
  }
}

async function setUp (trusted: number[]): Promise<{ catalog: Awaited<ReturnType<typeof createCatalog>>, witnesses: ReturnType<typeof createWitnessIndex>, importedId: string }> {
  const imported = await release({ publisher: key(1), appId: APP, version: 'unknown', imported: true })
  const catalog = await createCatalog({}, { roots: [] })
  catalog.add(imported)
  const witnesses = createWitnessIndex({ witnessKeys: trusted.map(key) })
  // the import's file, witnessed at 1.0
  witnesses.add(await sign(witness(10, { version: '1.0', release: imported.id, sha256: 'a'.repeat(64), size: 100, cid: CID_A, time: 1_600_000_000_000 })))
  // a newer version found upstream, named by no release record
  witnesses.add(await sign(witness(10)))
  return { catalog, witnesses, importedId: imported.id }
}

describe('chooseDownload', () => {
  it('makes a version tracked upstream by a trusted witness the download, verified by its witnessed bytes', async () => {
    const { catalog, witnesses, importedId } = await setUp([10])
    const newest = chooseDownload(catalog, witnesses, APP)!
    assert.equal(newest.tracked, true)
    assert.equal(newest.trusted, true)
    assert.equal(newest.release.version, '2.0')
    assert.deepEqual(newest.release.content, { cid: CID_B, sha256: 'b'.repeat(64), size: 200, urls: ['https://example.org/Tracked.AppImage'] })
    assert.deepEqual(newest.witnessedBy, [key(10)])
    assert.deepEqual(newest.release.witnessed, { by: [key(10)] })
    assert.equal(newest.release.publisher, key(1), 'the key that states the app, so an installed import and its update stay one signer')
    assert.equal(newest.trust.status, 'imported', 'the publisher is as untrusted as before; the witnesses vouch for the bytes')
    // APP@VERSION: the import's own file, by the version its witnesses read from it
    const older = chooseDownload(catalog, witnesses, APP, { version: '1.0' })!
    assert.equal(older.release.id, importedId)
    assert.equal(older.release.version, '1.0', 'the version its witnesses read from the file, where the import named none')
    assert.equal(older.tracked, false)
    assert.equal(older.release.content.cid, CID_A)
    assert.equal(chooseDownload(catalog, witnesses, APP, { version: '2.0' })!.release.content.cid, CID_B)
    assert.equal(chooseDownload(catalog, witnesses, APP, { version: '3.0' }), undefined)
    assert.equal(chooseDownload(catalog, witnesses, APP, { arch: 'aarch64' }), undefined)
    // another trusted mirror witnessing the same file later leaves the version's id as it was (an installed copy stays current)
    witnesses.setWitnessKeys([key(10), key(12)])
    witnesses.add(await sign(witness(12, { time: 1_900_000_000_000 })))
    const again = chooseDownload(catalog, witnesses, APP)!
    assert.equal(again.release.id, newest.release.id)
    assert.deepEqual(again.witnessedBy?.sort(), [key(10), key(12)].sort())
    await catalog.stop()
  })

  it('offers no tracked version without a trusted witness, or when trusted witnesses disagree', async () => {
    const { catalog, witnesses, importedId } = await setUp([])
    const plain = chooseDownload(catalog, witnesses, APP)!
    assert.equal(plain.release.id, importedId)
    assert.equal(plain.trusted, false)
    assert.equal(plain.release.content.cid, undefined)
    witnesses.setWitnessKeys([key(10), key(11)])
    witnesses.add(await sign(witness(11, { sha256: 'c'.repeat(64) })))
    const disputed = chooseDownload(catalog, witnesses, APP)!
    assert.equal(disputed.tracked, false, 'two trusted witnesses that disagree on 2.0 vouch for nothing')
    assert.equal(disputed.release.content.cid, CID_A)
    await catalog.stop()
  })

  it('ranks an author\'s own signed release above a newer tracked version', async () => {
    const { catalog, witnesses } = await setUp([10])
    const own = await release({ publisher: key(2), appId: APP, version: '1.5' })
    catalog.add(own)
    const chosen = chooseDownload(catalog, witnesses, APP)!
    assert.equal(chosen.release.id, own.id)
    assert.equal(chosen.tracked, false)
    assert.equal(chosen.witnessedBy, undefined)
    assert.equal(chosen.trusted, false, 'the author is not trusted by this reader')
    assert.throws(() => chooseDownload(catalog, witnesses, APP, { version: '' }), { name: 'InvalidQueryError' })
    await catalog.stop()
  })
})
