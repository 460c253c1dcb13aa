import { after, describe, it } from 'node:test'
import { createPublisherKey } from '@hubless/registry'
import { releaseRecord } from '../../packages/registry/test/fixtures.ts'
import { createHostilePeer } from './hostile-peer.ts'
import { connect, honestPair, Swarm, until, waitForRecords } from './swarm.ts'
import type { HostilePeer } from './hostile-peer.ts'

/**
 * OrbitDB's head exchange with a new subscriber runs in the queue every replicated update goes
 * through: a peer that took the exchange and never answered held up all replication for good
 */
describe('a peer that takes head exchanges and never answers', () => {
  const swarm = new Swarm('silent-registry')
  let hostile: HostilePeer | undefined
  after(async () => {
    await hostile?.stop()
    await swarm.cleanup()
  })

  it('holds up no replication, and no peer that comes after it', async () => {
    const key = createPublisherKey()
    const { a, b, first } = await honestPair(swarm, releaseRecord(key, {}, 0), key)
    hostile = await createHostilePeer(a.registry.address)
    hostile.silentHeads = true
    await connect(hostile.node, a.node)
    await connect(hostile.node, b.node)
    await hostile.join()
    await until(() => hostile!.asked.heads >= 2, 20_000, () => `honest peers opened ${hostile!.asked.heads} head exchanges with the silent peer`)
    // each honest peer's exchange with it waits 10 s for a word (the OrbitDB patch), then ends
    const next = await a.registry.publish(releaseRecord(key, {}, 1), key)
    await waitForRecords(b.registry, [first, next.id], 30_000)
    const c = await swarm.start()
    await connect(c, a)
    await waitForRecords(c.registry, [first, next.id], 30_000)
  })
})
