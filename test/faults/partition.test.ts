/**
 * Partitions: five peers, split and healed several times while publishing on both sides. After
 * each heal every peer converges to the same records (bounded waits).
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { buildReleaseRecord, createPublisherKey } from '@hubless/registry'
import type { PublisherKey } from '@hubless/registry'
import { connect, ids, Swarm, until } from '../security/swarm.ts'
import type { Peer } from '../security/swarm.ts'

const ROUNDS = 4
const PER_SIDE = 4

const swarm = new Swarm('partition-registry')
after(async () => { await swarm.cleanup() })

function cross (a: Peer[], b: Peer[]): Array<[Peer, Peer]> {
  return a.flatMap(x => b.map(y => [x, y] as [Peer, Peer]))
}

async function split (left: Peer[], right: Peer[]): Promise<void> {
  for (const [x, y] of cross(left, right)) await x.node.libp2p.hangUp(y.node.peerId)
  await until(() => cross(left, right).every(([x, y]) => x.node.libp2p.getConnections(y.node.peerId).length === 0), 10_000, () => 'the sides are still connected')
}

async function converge (peers: Peer[], want: Set<string>, ms: number): Promise<void> {
  let counts: number[] = []
  await until(async () => {
    const lists = await Promise.all(peers.map(async p => ids(p.registry)))
    counts = lists.map(l => l.length)
    return lists.every(have => have.length === want.size && have.every(id => want.has(id)))
  }, ms, () => `peers did not converge on ${want.size} records; they hold ${counts.join(', ')}`)
}

async function publish (peer: Peer, key: PublisherKey, label: string): Promise<string> {
  const signed = await peer.registry.publish(buildReleaseRecord({
    appId: 'org.faults.Partition', version: label, channel: 'nightly', arch: 'x86_64',
    content: { urls: [`https://example.org/${label}.AppImage`] }, app: { name: 'Partition test' }
  }, { publisher: key.did }), key)
  return signed.id
}

it('five peers split and healed several times while publishing on both sides converge to the same records', { timeout: 240_000 }, async () => {
  const peers: Peer[] = []
  for (let i = 0; i < 5; i++) peers.push(await swarm.start())
  // a ring plus one chord: every peer reaches every other, not all directly
  for (const [x, y] of [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [1, 3]] as const) await connect(peers[x]!, peers[y]!)
  const key = createPublisherKey()
  const all = new Set<string>()
  all.add(await publish(peers[0]!, key, 'start'))
  await converge(peers, all, 30_000)

  const started = Date.now()
  for (let round = 0; round < ROUNDS; round++) {
    // a different cut each round
    const cut = round % 2 === 0 ? 2 : 3
    const left = peers.slice(0, cut)
    const right = peers.slice(cut)
    await split(left, right)
    const leftIds = new Set(all)
    const rightIds = new Set(all)
    for (let i = 0; i < PER_SIDE; i++) {
      const l = await publish(left[i % left.length]!, key, `r${round}-left-${i}`)
      const r = await publish(right[i % right.length]!, key, `r${round}-right-${i}`)
      leftIds.add(l)
      rightIds.add(r)
      all.add(l)
      all.add(r)
    }
    // each side converges on its own records, and none of the other side's
    await converge(left, leftIds, 30_000)
    await converge(right, rightIds, 30_000)
    // heal: one link across the cut is enough
    await connect(left[0]!, right[0]!)
    if (round % 2 === 1) await connect(left.at(-1)!, right.at(-1)!)
    await converge(peers, all, 60_000)
  }
  const lists = await Promise.all(peers.map(async p => ids(p.registry)))
  for (const list of lists) assert.deepEqual(list, lists[0], 'every peer holds the same records')
  assert.equal(lists[0]!.length, 1 + ROUNDS * PER_SIDE * 2)
  console.log(`# ${ROUNDS} splits and heals of 5 peers, ${all.size} records, converged in ${Date.now() - started} ms`)
})
