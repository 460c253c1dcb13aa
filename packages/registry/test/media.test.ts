/// <reference path="../src/orbitdb.d.ts" />
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  MEDIA_ACCESS_CONTROLLER_ADDRESS, WITNESS_ACCESS_CONTROLLER_ADDRESS, buildMediaRecord, buildWitnessRecord, createMediaLog, createPublisherKey,
  createWitnessLog, encodeSignedRecord, registryAddress, signRecord, validateRecord, verifyRecord
} from '../src/index.ts'
import type { MediaDraft, Registry } from '../src/index.ts'
import { CONTENT_CID, errorName } from './fixtures.ts'
import { connect, Peers, waitForRecords } from './peers.ts'

function draft (overrides: Partial<MediaDraft> = {}): MediaDraft {
  return { appId: 'org.example.Pictured', url: 'https://example.org/icon.png', type: 'image/png', sha256: 'c'.repeat(64), size: 4321, cid: CONTENT_CID, ...overrides }
}

describe('media records', () => {
  it('build, sign and verify like every record, and validate with named errors', async () => {
    const mirror = createPublisherKey()
    const record = buildMediaRecord(draft(), { publisher: mirror.did, time: 1_700_000_000_000 })
    const signed = await signRecord(record, mirror)
    assert.deepEqual((await verifyRecord(encodeSignedRecord(signed))).record, record)
    const cases: Array<Record<string, unknown>> = [
      { type: 'text/html' }, { type: 'image/x-icon' }, { size: 17 * 1024 * 1024 }, { sha256: 'C'.repeat(64) }, { cid: 'nope' },
      { url: 'javascript:alert(1)' }, { extra: 1 }
    ]
    for (const change of cases) {
      assert.throws(() => validateRecord({ ...record, ...change }), { name: 'InvalidFieldError' }, JSON.stringify(change))
    }
    assert.notEqual(await registryAddress('hubless', 'media'), await registryAddress('hubless', 'witnesses'))
    assert.notEqual(MEDIA_ACCESS_CONTROLLER_ADDRESS, WITNESS_ACCESS_CONTROLLER_ADDRESS)
  })
})

describe('the media log', () => {
  const peers = new Peers()
  const logs: Registry[] = []
  after(async () => {
    for (const log of logs) await log.stop().catch(() => {})
    await peers.cleanup()
  })

  it('replicates media records in a log of its own; the registry and witness logs refuse them, and it refuses theirs', async () => {
    const open = async (): Promise<{ peer: Awaited<ReturnType<Peers['start']>>, media: Registry, witnesses: Registry }> => {
      const peer = await peers.start(undefined, { name: 'm-two' })
      const media = await createMediaLog({ node: peer.node }, { name: 'm-two' })
      const witnesses = await createWitnessLog({ node: peer.node }, { name: 'm-two' })
      logs.push(media, witnesses)
      return { peer, media, witnesses }
    }
    const [a, b] = [await open(), await open()]
    await connect(a.peer, b.peer)
    assert.equal(a.media.address, await registryAddress('m-two', 'media'))
    const mirror = createPublisherKey()
    const image = await a.media.publish(buildMediaRecord(draft(), { publisher: mirror.did }), mirror)
    await waitForRecords(b.media, [image])
    assert.equal(await errorName(a.peer.registry.publish(buildMediaRecord(draft({ size: 1 }), { publisher: mirror.did }), mirror)), 'UnknownRecordKindError')
    assert.equal(await errorName(a.witnesses.publish(buildMediaRecord(draft({ size: 2 }), { publisher: mirror.did }), mirror)), 'UnknownRecordKindError')
    const witness = buildWitnessRecord({ appId: 'org.example.Pictured', version: '1', channel: 'release', arch: 'x86_64', url: 'https://example.org/a.AppImage', sha256: 'd'.repeat(64), size: 1, cid: CONTENT_CID }, { publisher: mirror.did })
    assert.equal(await errorName(a.media.publish(witness, mirror)), 'UnknownRecordKindError')
  })
})
