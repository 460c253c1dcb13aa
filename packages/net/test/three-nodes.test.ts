import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createFixture, randomBytes, waitFor } from './helpers.ts'
import type { HublessNode } from '../src/index.ts'

describe('three nodes on 127.0.0.1 (A-B, B-C)', () => {
  const fixture = createFixture()
  let a: HublessNode
  let b: HublessNode
  let c: HublessNode

  before(async () => {
    a = await fixture.node({ pubsubHeartbeatInterval: 200 })
    b = await fixture.node({ pubsubHeartbeatInterval: 200 })
    c = await fixture.node({ pubsubHeartbeatInterval: 200 })
    await a.dial(b.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
    await c.dial(b.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
  })

  after(async () => { await fixture.cleanup() })

  it('connects A-B and B-C only', () => {
    assert.equal(a.libp2p.getConnections(b.peerId).length > 0, true, 'A should be connected to B')
    assert.equal(c.libp2p.getConnections(b.peerId).length > 0, true, 'C should be connected to B')
    assert.equal(a.libp2p.getConnections(c.peerId).length, 0, 'A must not be connected to C')
  })

  it('delivers a gossipsub message from A to C through B', async () => {
    const topic = 'hubless-test-topic'
    for (const node of [a, b, c]) node.libp2p.services.pubsub.subscribe(topic)
    let received: Uint8Array | undefined
    c.libp2p.services.pubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic === topic) received = evt.detail.data
    })
    await waitFor('B to see A and C on the topic', () => b.libp2p.services.pubsub.getSubscribers(topic).length === 2)
    const message = new TextEncoder().encode('hello from A')
    // until the meshes have formed (a heartbeat or two) B may only gossip about the message; publishing
    // again is what an application does too, and the loop is bounded
    const signal = AbortSignal.timeout(15_000)
    while (received == null) {
      if (signal.aborted) assert.fail('C did not receive the message from A within 15 s')
      await a.libp2p.services.pubsub.publish(topic, message)
      await waitFor('the message to reach C', () => received != null, 1000).catch(() => {})
    }
    assert.deepEqual(new Uint8Array(received), message)
    assert.equal(a.libp2p.getConnections(c.peerId).length, 0, 'the message must have gone through B')
  })

  it('fetches content added on A from C, byte for byte', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123, 7)
    const cid = await a.content.add(data)
    assert.equal(cid.version, 1)
    // B has to hold the blocks for C to get them: bitswap does not forward wants
    await b.content.pin(cid, { signal: AbortSignal.timeout(20_000) })
    const got = await c.content.get(cid, { signal: AbortSignal.timeout(20_000) })
    assert.equal(got.byteLength, data.byteLength)
    assert.deepEqual(got, data)
  })
})
