/**
 * The TUF threat model, one named test per attack, with real components: nodes on 127.0.0.1,
 * registries replicating over libp2p, catalogs over the replicated log, HTTP servers that lie,
 * and records signed with real Ed25519 keys. SECURITY.md maps each test to what it shows.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { createGatewayHandler, fixedSizeChunker } from '@hubless/net'
import { createCatalog, createFreshnessTracker } from '@hubless/query'
import {
  buildEndorseRecord, buildReleaseRecord, buildRevokeKeyRecord, buildRotateKeyRecord, createPublisherKey,
  decodeSignedRecord, encodeCanonical, encodeSignedHeads, encodeSignedRecord, headsTopic, MAX_RECORD_BYTES, recordIdOf, signHeads,
  signRecord
} from '@hubless/registry'
import type { Catalog } from '@hubless/query'
import type { PublisherKey, ReleaseDraft, SignedRecord, UnsignedRecord } from '@hubless/registry'
import { dataDirLayout } from '../../packages/cli/src/data-dir.ts'
import { get } from '../../packages/cli/src/operations/get.ts'
import { openServices } from '../../packages/cli/src/services.ts'
import { errorName } from '../../packages/registry/test/fixtures.ts'
import { createHostilePeer } from './hostile-peer.ts'
import { serveEndless, serveFile, serveGateway, serveTampering } from './servers.ts'
import type { TestServer } from './servers.ts'
import { connect, Swarm, until, waitForRecords } from './swarm.ts'
import type { Peer } from './swarm.ts'

const T0 = 1_700_000_000_000

function draft (appId: string, version: string, extra: Partial<ReleaseDraft> = {}): ReleaseDraft {
  return {
    appId,
    version,
    channel: 'release',
    arch: 'x86_64',
    content: { urls: [`https://example.org/${appId}-${version}.AppImage`] },
    app: { name: appId.split('.').at(-1)!, summary: 'a test app' },
    ...extra
  }
}

describe('TUF threats', () => {
  const swarm = new Swarm('threats-registry')
  const servers: TestServer[] = []
  const catalogs: Catalog[] = []
  let publisher: Peer
  let reader: Peer

  /** sign with real keys, append on the publisher's peer, wait until the reader's log holds them */
  async function publish (...items: Array<[UnsignedRecord, PublisherKey, PublisherKey?]>): Promise<SignedRecord[]> {
    const out: SignedRecord[] = []
    for (const [record, key, newKey] of items) out.push(await publisher.registry.append(await signRecord(record, key, newKey == null ? {} : { newKey })))
    await waitForRecords(reader.registry, out, 30_000)
    return out
  }

  /** random content of `size` bytes held by a node of the swarm, and that node's trustless gateway */
  async function servedContent (size: number): Promise<{ data: Uint8Array, cid: Awaited<ReturnType<Peer['node']['content']['add']>>, gateway: TestServer }> {
    const holder = await swarm.node()
    const data = randomBytes(size)
    const cid = await holder.content.add(data, { chunker: fixedSizeChunker(64 * 1024) })
    return { data, cid, gateway: await serveGateway(createGatewayHandler(holder)) }
  }

  /** `hubless get` (the operation, in this process) of a URL-only record for `data` listing `urls` in order */
  async function getThroughUrls (appId: string, data: Uint8Array, urls: string[]): Promise<{ sha256: string, bytes: Uint8Array }> {
    const dir = await swarm.dir()
    const services = await openServices(dataDirLayout(dir), {})
    try {
      const key = createPublisherKey()
      const sha256 = createHash('sha256').update(data).digest('hex')
      await (await services.registry()).append(await signRecord(buildReleaseRecord(draft(appId, '1.0', {
        content: { sha256, size: data.byteLength, urls }
      }), { publisher: key.did }), key))
      const output = join(dir, 'App.AppImage')
      const got = await get.run({ services, signal: AbortSignal.timeout(30_000) }, { appId, output, allowUntrusted: true })
      return { sha256: got.sha256, bytes: new Uint8Array(await readFile(output)) }
    } finally {
      await services.stop()
    }
  }

  async function readerCatalog (roots: string[]): Promise<Catalog> {
    const catalog = await createCatalog({ source: reader.registry }, { roots })
    catalogs.push(catalog)
    return catalog
  }

  before(async () => {
    publisher = await swarm.start()
    reader = await swarm.start()
    await connect(publisher, reader)
  })
  after(async () => {
    for (const c of catalogs) await c.stop()
    await Promise.allSettled(servers.map(async s => s.close()))
    await swarm.cleanup()
  })

  it('arbitrary software: tampered bytes from a gateway or a URL are rejected (CID, SHA-256) and another source is used', async () => {
    const { data, cid, gateway } = await servedContent(200_000)
    const liar = await serveTampering(gateway.url)
    const honestFile = await serveFile(data)
    const tamperedFile = await serveFile(data, true)
    servers.push(gateway, liar, honestFile, tamperedFile)

    // by CID: blocks from a lying gateway fail their hash; the next gateway's pass
    const fetcher = await swarm.node()
    const result = await fetcher.content.fetch(cid, { gateways: [liar.url, gateway.url], providerTimeout: 200, signal: AbortSignal.timeout(30_000) })
    assert.ok(result.errors.some(e => e.name === 'GatewayVerificationError'), `errors: ${result.errors.map(e => e.name).join(', ')}`)
    assert.equal(result.sources[liar.url] ?? 0, 0, 'no block from the liar')
    assert.deepEqual(await fetcher.content.get(cid, { offline: true }), new Uint8Array(data))

    // by URL, end to end through `hubless get`: the record's SHA-256 rejects the tampered file,
    // the next URL is tried
    const got = await getThroughUrls('org.threat.Arbitrary', data, [tamperedFile.url + '/App.AppImage', honestFile.url + '/App.AppImage'])
    assert.equal(got.sha256, createHash('sha256').update(data).digest('hex'))
    assert.deepEqual(got.bytes, new Uint8Array(data))
    assert.ok(tamperedFile.requests > 0, 'the tampered URL was tried first')
  })

  it('wrong software: another publisher\'s record for a trusted app id is never served as that app; squatting shows as conflicting', async () => {
    const owner = createPublisherKey()
    const squatter = createPublisherKey()
    await publish(
      [buildReleaseRecord(draft('org.threat.Wrong', '1.0'), { publisher: owner.did, time: T0 }), owner],
      [buildReleaseRecord(draft('org.threat.Wrong', '9.0', { content: { urls: ['https://evil.example/x.AppImage'] } }), { publisher: squatter.did, time: T0 + 1 }), squatter]
    )
    const trusting = await readerCatalog([owner.did])
    const view = trusting.app('org.threat.Wrong')!
    assert.equal(view.trust.status, 'trusted')
    assert.equal(trusting.latest('org.threat.Wrong')?.publisher, owner.did)
    assert.equal(trusting.latest('org.threat.Wrong')?.version, '1.0')
    assert.deepEqual(view.claimants.map(c => [c.trust.publisher, c.trust.status]), [[squatter.did, 'conflicting']])
    const hit = trusting.search({ query: 'Wrong' }).hits.find(h => h.appId === 'org.threat.Wrong')
    assert.equal(hit?.publisher, owner.did)
    // with no trusted publisher, the first claimant is unverified and the other conflicting
    const nobody = await readerCatalog([])
    assert.equal(nobody.app('org.threat.Wrong')!.trust.status, 'unverified')
    assert.equal(nobody.app('org.threat.Wrong')!.claimants[0]?.trust.status, 'conflicting')
  })

  it('rollback: replaying an older signed release never makes it the newest', async () => {
    const owner = createPublisherKey()
    const [old] = await publish([buildReleaseRecord(draft('org.threat.Rollback', '1.0'), { publisher: owner.did, time: T0 }), owner])
    const [fresh] = await publish([buildReleaseRecord(draft('org.threat.Rollback', '2.0'), { publisher: owner.did, time: T0 + 10, previous: old!.id }), owner])
    // a mirror replays the old signed release: same bytes, same id, nothing new in the log
    const before = (await reader.registry.status()).records
    await reader.registry.append(await decodeSignedRecord(encodeSignedRecord(old!)))
    assert.equal((await reader.registry.status()).records, before)
    const catalog = await readerCatalog([owner.did])
    assert.equal(catalog.latest('org.threat.Rollback')?.id, fresh!.id)
    // and a reader that got the records newest-first comes to the same answer
    const reversed = await createCatalog({}, { roots: [owner.did] })
    catalogs.push(reversed)
    reversed.addAll([fresh!, old!])
    assert.equal(reversed.latest('org.threat.Rollback')?.id, fresh!.id)
  })

  it('fast-forward: an inflated version from a key that does not own the app changes nothing for trusting readers', async () => {
    const owner = createPublisherKey()
    const attacker = createPublisherKey()
    const [base] = await publish([buildReleaseRecord(draft('org.threat.Forward', '1.0'), { publisher: owner.did, time: T0 }), owner])
    await publish([buildReleaseRecord(draft('org.threat.Forward', '999999.0'), { publisher: attacker.did, time: T0 + 5, previous: base!.id }), attacker])
    const catalog = await readerCatalog([owner.did])
    assert.equal(catalog.latest('org.threat.Forward')?.version, '1.0')
    assert.equal(catalog.app('org.threat.Forward')!.claimants[0]?.trust.status, 'conflicting')
    // naming the owner as publisher without the owner's key does not even get into the log
    const forged = await signRecord(buildReleaseRecord(draft('org.threat.Forward', '999999.1'), { publisher: attacker.did, time: T0 + 6 }), attacker)
    const record = { ...forged.record, publisher: owner.did }
    const bytes = encodeCanonical(record)
    const lie = { id: await recordIdOf(bytes), record, bytes, signature: forged.signature }
    assert.equal(await errorName(publisher.registry.append(lie)), 'InvalidSignatureError')
    assert.equal(await publisher.registry.has(lie.id), false)
  })

  it('indefinite freeze: a reader that hears no fresh signed heads from any trusted mirror for longer than maxAge is told its view is stale', async () => {
    const mirrorKey = createPublisherKey()
    const strangerKey = createPublisherKey()
    let now = Date.now()
    const tracker = createFreshnessTracker({ clock: () => now }, { mirrors: [mirrorKey.did], maxAge: 60_000, registry: publisher.registry.address })
    assert.equal(tracker.status().stale, true, 'no heads yet: stale')

    // the mirror announces its signed heads on the registry's heads topic; the reader listens
    const topic = headsTopic(publisher.registry.address)
    const received: Uint8Array[] = []
    const pubsubR = reader.node.libp2p.services.pubsub
    pubsubR.addEventListener('message', e => { if (e.detail.topic === topic) received.push(e.detail.data) })
    pubsubR.subscribe(topic)
    publisher.node.libp2p.services.pubsub.subscribe(topic)
    const announce = async (key: PublisherKey, time: number): Promise<void> => {
      const status = await publisher.registry.status()
      const wire = encodeSignedHeads(await signHeads({ registry: status.address, heads: status.heads, records: status.records, time }, key))
      await until(async () => (await publisher.node.libp2p.services.pubsub.publish(topic, wire).then(r => r.recipients.length, () => 0)) > 0,
        15_000, () => 'the heads announcement reached no reader')
    }
    await announce(mirrorKey, now)
    await until(() => received.length > 0, 15_000, () => 'no heads announcement arrived')
    await tracker.observe(received.shift()!)
    assert.equal(tracker.status().stale, false)

    // the mirror freezes: time passes, nothing new; replaying its last announcement does not help
    const frozen = encodeSignedHeads(await signHeads({ registry: publisher.registry.address, heads: [], records: 1, time: now }, mirrorKey))
    now += 61_000
    await tracker.observe(frozen)
    const status = tracker.status()
    assert.equal(status.stale, true)
    assert.match(status.explanation, /stale/)
    // an untrusted mirror's fresh heads, a far-future date and a forged signature do not help either
    assert.equal(await errorName(tracker.observe(encodeSignedHeads(await signHeads({ registry: publisher.registry.address, heads: [], records: 1, time: now }, strangerKey)))), 'UntrustedMirrorError')
    assert.equal(await errorName(tracker.observe(encodeSignedHeads(await signHeads({ registry: publisher.registry.address, heads: [], records: 1, time: now + 3_600_000 }, mirrorKey)))), 'InvalidRecordError')
    const good = await signHeads({ registry: publisher.registry.address, heads: [], records: 1, time: now }, mirrorKey)
    const forgedSig = Uint8Array.from(good.signature)
    forgedSig[0]! ^= 1
    assert.equal(await errorName(tracker.observe(encodeSignedHeads({ ...good, signature: forgedSig }))), 'InvalidSignatureError')
    assert.equal(tracker.status().stale, true)
    // the mirror comes back: fresh again
    await announce(mirrorKey, now)
    await until(() => received.length > 0, 15_000, () => 'no heads announcement arrived')
    await tracker.observe(received.shift()!)
    assert.equal(tracker.status().stale, false)
  })

  it('malicious mirror: one lying and one withholding mirror among honest ones cannot block an update from reaching a reader', async () => {
    const lan = new Swarm('threats-registry')
    try {
      const author = await lan.start()
      const honest = await lan.start()
      const withholding = await lan.start()
      const me = await lan.start()
      const liar = await createHostilePeer(author.registry.address)
      try {
        // the liar answers head exchanges with garbage and spams the topic
        liar.heads = [randomBytes(128), randomBytes(4096)]
        const owner = createPublisherKey()
        const v1 = await author.registry.publish(buildReleaseRecord(draft('org.threat.Mirror', '1.0'), { publisher: owner.did, time: T0 }), owner)
        // the withholding mirror took v1 and is then cut off from the author: it will never pass on v2
        await connect(withholding, author)
        await waitForRecords(withholding.registry, [v1])
        await withholding.node.libp2p.hangUp(author.node.peerId)
        await connect(honest, author)
        await connect(me, withholding)
        await connect(me, liar.node)
        await connect(me, honest)
        await liar.join()
        await waitForRecords(me.registry, [v1])
        const v2 = await author.registry.publish(buildReleaseRecord(draft('org.threat.Mirror', '2.0'), { publisher: owner.did, time: T0 + 10, previous: v1.id }), owner)
        for (let i = 0; i < 50; i++) await liar.gossip(randomBytes(300))
        await waitForRecords(me.registry, [v1, v2], 30_000)
        const catalog = await createCatalog({ source: me.registry }, { roots: [owner.did] })
        assert.equal(catalog.latest('org.threat.Mirror')?.version, '2.0')
        await catalog.stop()
        assert.equal(withholding.node.libp2p.getConnections(author.node.peerId).length, 0, 'the withholding mirror never reached the author')
      } finally {
        await liar.stop()
      }
    } finally {
      await lan.cleanup()
    }
  })

  it('endless data: a gateway or URL that streams past the declared size, or an oversize record, is cut off', async () => {
    const { data, cid, gateway } = await servedContent(100_000)
    const sent = { bytes: 0 }
    const endless = await serveEndless(sent)
    const honestFile = await serveFile(data)
    servers.push(gateway, endless, honestFile)

    const fetcher = await swarm.node()
    const result = await fetcher.content.fetch(cid, { gateways: [endless.url, gateway.url], providerTimeout: 200, signal: AbortSignal.timeout(30_000) })
    assert.ok(result.errors.some(e => e.name === 'GatewayRequestError' && /more than/.test(e.message)), result.errors.map(e => e.message).join('; '))
    assert.deepEqual(await fetcher.content.get(cid, { offline: true }), new Uint8Array(data))
    const cutAt = sent.bytes
    assert.ok(cutAt < 64 * 1024 * 1024, `the endless gateway got to send ${cutAt} bytes`)

    // a URL that sends more than the record's size is cut off at the size; the next URL is used
    const got = await getThroughUrls('org.threat.Endless', data, [endless.url + '/a', honestFile.url + '/a'])
    assert.deepEqual(got.bytes, new Uint8Array(data))

    // records: oversize is refused before anything is written
    const key = createPublisherKey()
    const big = buildReleaseRecord(draft('org.threat.Endless', '2.0', { app: { name: 'Big', description: 'x'.repeat(MAX_RECORD_BYTES) } }), { publisher: key.did })
    assert.match(await errorName(publisher.registry.publish(big, key)), /OversizeRecordError|InvalidFieldError/)
    const envelope = dagCbor.encode({ r: new Uint8Array(MAX_RECORD_BYTES + 1), s: new Uint8Array(64) })
    assert.equal(await errorName(decodeSignedRecord(envelope)), 'OversizeRecordError')
  })

  it('mix-and-match: records link to their predecessors; a fork in a publisher\'s chain is detected and reported', async () => {
    const owner = createPublisherKey()
    const [base] = await publish([buildReleaseRecord(draft('org.threat.Mix', '1.0'), { publisher: owner.did, time: T0 }), owner])
    const [left, right] = await publish(
      [buildReleaseRecord(draft('org.threat.Mix', '1.1'), { publisher: owner.did, time: T0 + 1, previous: base!.id }), owner],
      [buildReleaseRecord(draft('org.threat.Mix', '1.1.1'), { publisher: owner.did, time: T0 + 2, previous: base!.id }), owner]
    )
    assert.equal(left!.record.kind === 'release' && left!.record.previous, base!.id)
    const catalog = await readerCatalog([owner.did])
    const forks = catalog.app('org.threat.Mix')!.forks
    assert.equal(forks.length, 1)
    assert.deepEqual(forks[0]!.releases, [left!.id, right!.id].sort())
    assert.equal(forks[0]!.previous, base!.id)
  })

  it('key compromise: after a revocation, releases signed after the stated point are untrusted; rotation moves trust to the new key', async () => {
    const root = createPublisherKey()
    const stolen = createPublisherKey()
    await publish(
      [buildEndorseRecord(stolen.did, {}, { publisher: root.did, time: T0 }), root],
      [buildReleaseRecord(draft('org.threat.Stolen', '1.0'), { publisher: stolen.did, time: T0 + 100 }), stolen],
      [buildRevokeKeyRecord(T0 + 150, 'laptop stolen', { publisher: stolen.did, time: T0 + 300 }), stolen],
      // the thief back-dates a release to after the revocation point
      [buildReleaseRecord(draft('org.threat.Stolen', '6.6.6'), { publisher: stolen.did, time: T0 + 200 }), stolen]
    )
    const catalog = await readerCatalog([root.did])
    assert.equal(catalog.latest('org.threat.Stolen')?.version, '1.0')
    assert.equal(catalog.app('org.threat.Stolen')!.history.find(r => r.version === '6.6.6')?.state, 'revoked')

    const oldKey = createPublisherKey()
    const newKey = createPublisherKey()
    await publish(
      [buildEndorseRecord(oldKey.did, {}, { publisher: root.did, time: T0 }), root],
      [buildReleaseRecord(draft('org.threat.Rotated', '1.0'), { publisher: oldKey.did, time: T0 + 100 }), oldKey],
      [buildRotateKeyRecord(newKey.did, { publisher: oldKey.did, time: T0 + 150 }), oldKey, newKey],
      [buildReleaseRecord(draft('org.threat.Rotated', '2.0'), { publisher: newKey.did, time: T0 + 200 }), newKey],
      [buildReleaseRecord(draft('org.threat.Rotated', '3.0'), { publisher: oldKey.did, time: T0 + 250 }), oldKey]
    )
    const after = await readerCatalog([root.did])
    const view = after.app('org.threat.Rotated')!
    assert.equal(view.trust.status, 'trusted')
    assert.equal(view.trust.publisher, newKey.did)
    assert.equal(after.latest('org.threat.Rotated')?.version, '2.0')
    assert.equal(view.history.find(r => r.version === '3.0')?.state, 'revoked')
    // a rotation the new key did not countersign is refused outright
    assert.equal(await errorName(signRecord(buildRotateKeyRecord(createPublisherKey().did, { publisher: oldKey.did }), oldKey)), 'InvalidSignatureError')
  })

  it('forged writer identity: an OrbitDB entry signed by one key and naming another identity is rejected', async () => {
    const attacker = await createHostilePeer(publisher.registry.address)
    try {
      const victim = (await publisher.registry.status()).identity
      const rejected: string[] = []
      reader.registry.addEventListener('rejected', e => { rejected.push(e.detail.error.name) })
      await connect(attacker.node, reader.node)
      await attacker.join()
      const key = createPublisherKey()
      const forged = await attacker.recordEntry(buildReleaseRecord(draft('org.threat.Forged', '1.0'), { publisher: key.did, time: T0 }), key, { claimIdentity: victim })
      await until(async () => (await attacker.gossip(forged.bytes)) > 0, 15_000, () => 'the forged entry reached no peer')
      await until(() => rejected.includes('ForgedIdentityError'), 15_000, () => `reader rejected ${rejected.join(', ') || 'nothing'}`)
      const ids: string[] = []
      for await (const r of reader.registry.records()) ids.push(r.record.kind === 'release' ? r.record.appId : '')
      assert.ok(!ids.includes('org.threat.Forged'))
      // the same record under the attacker's own identity is fine: anyone may publish
      const own = await attacker.recordEntry(buildReleaseRecord(draft('org.threat.Forged', '1.0'), { publisher: key.did, time: T0 }), key, { time: 1 })
      assert.notEqual(own.hash, forged.hash)
    } finally {
      await attacker.stop()
    }
  })
})
