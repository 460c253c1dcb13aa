import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createNode } from '@hubless/net'
import { createPublisherKey, createRegistry } from '../src/index.ts'
import { releaseRecord } from './fixtures.ts'
import { Peers, waitForRecords } from './peers.ts'

/** new peers from one address, one after another: gossipsub's default scoring ignored them all from the 15th on */
const PEERS_FROM_ONE_ADDRESS = 16

describe('peers that share an address (one NAT, one host)', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('a mirror gives its records to every new peer from one address, however many came before', async () => {
    const mirror = await peers.start()
    const key = createPublisherKey()
    const record = await mirror.registry.publish(releaseRecord(key, {}, 1), key)
    for (let i = 1; i <= PEERS_FROM_ONE_ADDRESS; i++) {
      // as `hubless` starts: the node connects to its peers, then opens the registry (so only
      // the mirror, hearing it join the registry's topic, can start the exchange of heads)
      const directory = await peers.dir()
      const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
      // libp2p takes at most 5 inbound connections a second from one address
      await new Promise(resolve => setTimeout(resolve, 250))
      const connected = node.libp2p.dial(mirror.node.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
      const peer = { node, registry: await connected.then(async () => createRegistry({ node }, { name: 'test-registry' }), async err => { await node.stop(); throw err }), directory }
      peers.running.add(peer)
      await assert.doesNotReject(waitForRecords(peer.registry, [record], 10_000), `new peer ${i} from 127.0.0.1 got nothing from the mirror`)
      // and the mirror hears what it publishes (the topic, not only the exchange of heads it starts)
      const own = await peer.registry.publish(releaseRecord(key, {}, 100 + i), key)
      await assert.doesNotReject(waitForRecords(mirror.registry, [own], 10_000), `the mirror never got the record of new peer ${i} from 127.0.0.1`)
      await peers.stop(peer)
    }
  })
})
