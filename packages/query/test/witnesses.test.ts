import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCatalog, createWitnessIndex } from '../src/index.ts'
import { key, release, sign } from './records.ts'
import type { WitnessRecord } from '@hubless/registry/records'

const CID_A = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const CID_B = 'bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function witness (mirror: number, releaseId: string, overrides: Partial<WitnessRecord> = {}): WitnessRecord {
  return {
    v: 1,
    kind: 'witness',
    publisher: key(mirror),
    time: 1_700_000_000_000 + mirror,
    appId: 'org.example.Imported',
    version: '1.0',
    channel: 'release',
    arch: 'x86_64',
    url: 'https://example.org/Imported.AppImage',
    sha256: 'a'.repeat(64),
    size: 100,
    cid: CID_A,
    release: releaseId,
    ...overrides
  }
}

describe('witnesses', () => {
  it('counts the mirrors that witnessed a release, and what trusted ones vouch for', async () => {
    const imported = await release({ publisher: key(1), appId: 'org.example.Imported', imported: true })
    const index = createWitnessIndex({ witnessKeys: [key(11)] })
    assert.equal(index.add(imported), false, 'a release is not a witness')
    assert.equal(index.forRelease(imported.id), undefined)
    index.add(await sign(witness(10, imported.id)))
    index.add(await sign(witness(11, imported.id)))
    index.add(await sign(witness(11, imported.id, { time: 1_800_000_000_000 })))
    const summary = index.forRelease(imported.id)!
    assert.equal(summary.mirrors, 2)
    assert.equal(summary.trustedMirrors, 1)
    assert.equal(summary.agree, true)
    assert.deepEqual(summary.conflicts, [])
    assert.deepEqual(summary.vouched, { cid: CID_A, sha256: 'a'.repeat(64), size: 100, version: '1.0', by: [key(11)] })
    index.setWitnessKeys([])
    assert.equal(index.forRelease(imported.id)!.vouched, undefined, 'nothing vouched without a trusted witness')
  })

  it('decides agreement by SHA-256 and size: mirrors whose chunkers give the same bytes other CIDs agree', async () => {
    const imported = await release({ publisher: key(1), appId: 'org.example.Imported', imported: true })
    const index = createWitnessIndex({ witnessKeys: [key(10), key(11)] })
    index.add(await sign(witness(10, imported.id)))
    // a mirror on another hubless version (another chunker) addresses the same bytes by another CID
    index.add(await sign(witness(11, imported.id, { cid: CID_B })))
    const summary = index.forRelease(imported.id)!
    assert.equal(summary.agree, true, 'the same SHA-256 and size agree whatever the CIDs')
    assert.deepEqual(summary.conflicts, [])
    assert.deepEqual(summary.vouched, { cid: CID_B, sha256: 'a'.repeat(64), size: 100, version: '1.0', by: [key(11), key(10)] }, 'the newest trusted witness\'s CID')
  })

  it('shows two witnesses that disagree on the bytes of one URL and version as a conflict', async () => {
    const imported = await release({ publisher: key(1), appId: 'org.example.Imported', imported: true })
    const index = createWitnessIndex({ witnessKeys: [key(10), key(11)] })
    index.add(await sign(witness(10, imported.id)))
    index.add(await sign(witness(11, imported.id, { sha256: 'b'.repeat(64), cid: CID_B })))
    // another version at the same URL is no conflict
    index.add(await sign(witness(12, imported.id, { version: '2.0', sha256: 'c'.repeat(64) })))
    const summary = index.forRelease(imported.id)!
    assert.equal(summary.agree, false)
    assert.equal(summary.conflicts.length, 1)
    assert.deepEqual(summary.conflicts[0]!.sha256, ['a'.repeat(64), 'b'.repeat(64)])
    assert.equal(summary.vouched, undefined, 'trusted witnesses that disagree vouch for nothing')
    assert.equal(index.conflicts('org.example.Imported').length, 1)
  })

  it('ranks an author\'s own release above an earlier, witnessed import of the same app', async () => {
    const imported = await release({ publisher: key(1), appId: 'org.example.Imported', imported: true, time: 1_600_000_000_000 })
    const own = await release({ publisher: key(2), appId: 'org.example.Imported', version: '0.9', time: 1_700_000_000_000 })
    const catalog = await createCatalog({}, { roots: [] })
    catalog.add(imported)
    assert.equal(catalog.latest('org.example.Imported')?.id, imported.id)
    catalog.add(own)
    assert.equal(catalog.latest('org.example.Imported')?.id, own.id, 'the author owns the app, though the import came first')
    assert.equal(catalog.app('org.example.Imported')?.claimants[0]?.newest.id, imported.id)
    await catalog.stop()
  })

  it('refuses malformed witnesses and bad keys with named errors', async () => {
    const index = createWitnessIndex()
    assert.throws(() => index.add({ id: 'x', record: { ...witness(1, 'nope'), sha256: 'no' } as WitnessRecord }), { name: 'InvalidRecordError' })
    assert.throws(() => index.setWitnessKeys(['did:key:nope']), { name: 'InvalidTrustRootError' })
  })
})
