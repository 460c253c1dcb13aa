import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createNode } from '@hubless/net'
import { createCatalog } from '@hubless/query'
import { buildEndorseRecord, buildReleaseRecord, buildYankRecord, createPublisherKey, createRegistry } from '@hubless/registry'
import type { HublessNode } from '@hubless/net'
import type { Catalog } from '@hubless/query'
import type { Registry, ReleaseRecord, SignedRecord } from '@hubless/registry'
import { startPinner } from '../src/pinner.ts'
import type { Pinner } from '../src/pinner.ts'

async function eventually (what: string, check: () => boolean | Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** The pinner on a real node, registry and catalog: what it keeps, and what it reads to decide */
describe('pinner', () => {
  let dir: string
  let node: HublessNode
  let registry: Registry
  let catalog: Catalog
  let pinner: Pinner | undefined
  let fullReads = 0
  const key = createPublisherKey()

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hubless-pinner-'))
    node = await createNode({ directory: dir, listen: [] })
    registry = await createRegistry({ node }, { name: 'pinner-test' })
    catalog = await createCatalog({ source: registry })
  })

  after(async () => {
    await pinner?.stop()
    await catalog.stop()
    await registry.stop()
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  })

  async function publishRelease (version: string, cid: string, size: number): Promise<SignedRecord<ReleaseRecord>> {
    const record = buildReleaseRecord({
      appId: 'org.example.Pinned',
      version,
      channel: 'release',
      arch: 'x86_64',
      content: { cid, size, urls: [`https://example.org/${version}.AppImage`] },
      app: { name: 'Pinned' }
    }, { publisher: key.did })
    return await registry.publish(record, key) as SignedRecord<ReleaseRecord>
  }

  it('keeps content while any release naming it is wanted, and sweeps without reading the whole registry', async () => {
    const bytes = new TextEncoder().encode('an AppImage, shared by two releases'.repeat(100))
    const cid = (await node.content.add(bytes)).toString()
    const v1 = await publishRelease('1.0', cid, bytes.length)
    const v2 = await publishRelease('1.1', cid, bytes.length)
    // count the passes over every record (the start's one is expected)
    const counted = new Proxy(registry, {
      get (target, prop, receiver) {
        if (prop === 'records') fullReads++
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
    pinner = await startPinner({ services: { node, registry: counted, catalog }, policy: 'all' })
    await eventually('the content to be pinned', () => pinner!.status().pinned === 1)
    await eventually('the start\'s scan and sweep', () => fullReads >= 1)
    const readsAfterStart = fullReads

    // trust records make a sweep run; it reads the pinned releases, not every record
    for (let i = 0; i < 3; i++) {
      const endorser = createPublisherKey()
      await registry.publish(buildEndorseRecord(key.did, {}, { publisher: endorser.did }), endorser)
    }
    await registry.publish(buildYankRecord(v1, 'broken', { publisher: key.did }), key)
    await new Promise(resolve => setTimeout(resolve, 3_000))
    assert.equal(pinner.status().pinned, 1, 'v1.1 still wants the content')
    assert.equal(await node.content.isPinned(cid), true)

    await registry.publish(buildYankRecord(v2, 'broken too', { publisher: key.did }), key)
    await eventually('the content to be unpinned', async () => !await node.content.isPinned(cid))
    assert.equal(pinner.status().pinned, 0)
    assert.equal(fullReads, readsAfterStart, 'no sweep read the whole registry')
  })
})
