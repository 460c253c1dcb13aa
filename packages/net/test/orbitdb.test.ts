import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { createFixture, waitFor } from './helpers.ts'
import type { NodeHelia } from '../src/index.ts'

// Only the few calls this smoke test makes; the full declarations live with @hubless/registry.
interface EventsDb {
  address: string
  add: (value: unknown) => Promise<string>
  all: () => Promise<Array<{ hash: string, value: unknown }>>
  close: () => Promise<void>
}
interface OrbitDB {
  open: (address: string, options?: { type?: string }) => Promise<EventsDb>
  stop: () => Promise<void>
}
interface OrbitDBModule {
  createOrbitDB: (init: { ipfs: NodeHelia, directory: string }) => Promise<OrbitDB>
}

const fixture = createFixture()
const orbits: OrbitDB[] = []

after(async () => {
  await Promise.allSettled(orbits.map(async o => o.stop()))
  await fixture.cleanup()
})

it('OrbitDB 4 replicates an events-db entry between two hubless nodes', async () => {
  // a module-name variable keeps tsc from looking for types OrbitDB does not ship
  const moduleName = '@orbitdb/core'
  const { createOrbitDB } = await import(moduleName) as OrbitDBModule
  const a = await fixture.node({ pubsubHeartbeatInterval: 200 })
  const b = await fixture.node({ pubsubHeartbeatInterval: 200 })
  await b.dial(a.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })

  const orbitA = await createOrbitDB({ ipfs: a.helia, directory: join(a.directory, 'orbitdb') })
  orbits.push(orbitA)
  const orbitB = await createOrbitDB({ ipfs: b.helia, directory: join(b.directory, 'orbitdb') })
  orbits.push(orbitB)

  const dbA = await orbitA.open('hubless-smoke', { type: 'events' })
  const hash = await dbA.add({ hello: 'world' })
  const dbB = await orbitB.open(dbA.address)
  await waitFor('the entry to replicate to B', async () => (await dbB.all()).length === 1, 20_000)
  const entries = await dbB.all()
  assert.equal(entries[0]?.hash, hash)
  assert.deepEqual(entries[0]?.value, { hello: 'world' })
  assert.equal(await a.content.isPinned(hash), true, 'OrbitDB pins its entries, so gc() keeps them')
})
