import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createPublisherKey } from '../src/index.ts'
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
      // libp2p takes at most 5 inbound connections a second from one address
      await new Promise(resolve => setTimeout(resolve, 250))
      // as `hubless` starts: the node connects to the mirror before it opens the registry
      const peer = await peers.startConnected(mirror)
      await assert.doesNotReject(waitForRecords(peer.registry, [record], 10_000), `new peer ${i} from 127.0.0.1 got nothing from the mirror`)
      // and the mirror hears what it publishes (over the topic, not only in the exchange of heads)
      const own = await peer.registry.publish(releaseRecord(key, {}, 100 + i), key)
      await assert.doesNotReject(waitForRecords(mirror.registry, [own], 10_000), `the mirror never got the record of new peer ${i} from 127.0.0.1`)
      await peers.stop(peer)
    }
  })
})
