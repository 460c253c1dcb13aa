import { after, describe, it } from 'node:test'
import { createPublisherKey, registryAddress } from '@hubless/registry'
import { releaseRecord } from '../../packages/registry/test/fixtures.ts'
import { createHostilePeer } from './hostile-peer.ts'
import { connect, honestPair, Swarm, until, waitForRecords } from './swarm.ts'
import type { HostilePeer } from './hostile-peer.ts'

/**
 * OrbitDB's head exchange with a new subscriber runs in the queue every replicated update goes
 * through, and starts only when a peer is heard joining the topic
 */
describe('head exchanges with peers that do not play along', () => {
  const swarm = new Swarm('silent-registry')
  const hostiles: HostilePeer[] = []
  after(async () => {
    for (const hostile of hostiles) await hostile.stop()
    await swarm.cleanup()
  })

  it('a peer that keeps an exchange waiting, saying nothing or a head every 3 s, holds up no replication and no peer that comes after it', async () => {
    const key = createPublisherKey()
    const { a, b, first } = await honestPair(swarm, releaseRecord(key, {}, 0), key)
    const silent = await createHostilePeer(a.registry.address)
    const trickling = await createHostilePeer(a.registry.address)
    hostiles.push(silent, trickling)
    silent.headsHeldOpen = true
    // a valid head, again and again, never the end of the exchange
    const head = await trickling.recordEntry(releaseRecord(key, {}, 900), key)
    trickling.heads = Array.from({ length: 20 }, () => head.bytes)
    trickling.headsEvery = 3_000
    trickling.headsHeldOpen = true
    await connect(silent.node, a.node)
    await connect(trickling.node, b.node)
    await Promise.all([silent.join(), trickling.join()])
    await until(() => silent.asked.heads >= 1 && trickling.asked.heads >= 1, 20_000, () => `honest peers opened ${silent.asked.heads} and ${trickling.asked.heads} head exchanges with the hostile ones`)
    // each exchange may keep its honest peer waiting 10 s in all (the OrbitDB patch), then ends
    const next = await a.registry.publish(releaseRecord(key, {}, 1), key)
    await waitForRecords(b.registry, [first, next.id], 30_000)
    const c = await swarm.start()
    await connect(c, a)
    await waitForRecords(c.registry, [first, next.id], 30_000)
  })

  // a node connects to its peers before it opens the registry, so OrbitDB heard none of those
  // already on the topic join it: they had to start the exchange, and one whose queue was busy
  // (or that ignored us) left the new peer with nothing
  it('a neighbour that never starts an exchange is asked for its heads by a peer that opens its registry after connecting to it', async () => {
    const key = createPublisherKey()
    const name = 'late-open-registry'
    const neighbour = await createHostilePeer(await registryAddress(name))
    hostiles.push(neighbour)
    // it answers a head exchange with a valid head, and starts none itself (it runs no OrbitDB)
    const head = await neighbour.recordEntry(releaseRecord(key, {}, 1), key)
    neighbour.heads = [head.bytes]
    await neighbour.join()
    const peer = await swarm.startConnected(neighbour, { name })
    await until(() => neighbour.asked.heads >= 1, 10_000, () => 'the opening peer never asked the neighbour for its heads')
    await until(async () => (await peer.registry.status()).records === 1, 10_000, () => 'the neighbour\'s head never entered the log')
  })
})
