import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
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

  it('starts from what it held at its last clean stop, reading only the records since', async () => {
    await pinner?.stop()
    pinner = undefined
    const stateFile = join(dir, 'pinner-state.json')
    const reads: string[] = []
    const counting = new Proxy(registry, {
      get (target, prop, receiver) {
        if (prop === 'records') {
          return (options?: { after?: unknown }) => {
            reads.push(options?.after == null ? 'all' : 'since')
            return target.records(options as never)
          }
        }
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
    const start = async (channels?: Array<'release' | 'beta'>): Promise<Pinner> => startPinner({ services: { node, registry: counting, catalog }, policy: 'all', channels, stateFile })
    const bytes = new TextEncoder().encode('content kept across restarts'.repeat(100))
    const cid = (await node.content.add(bytes)).toString()
    await publishRelease('2.0', cid, bytes.length)

    // no state yet: every record is read once
    pinner = await start()
    await eventually('the first content to be pinned', () => pinner!.status().pinned === 1)
    assert.deepEqual(reads, ['all'])
    await pinner.stop()
    assert.equal(JSON.parse(await readFile(stateFile, 'utf8')).pinned[0].cid, cid, 'a clean stop saves what is pinned')

    // a release published while the pinner was stopped
    const later = new TextEncoder().encode('published while stopped'.repeat(100))
    const laterCid = (await node.content.add(later)).toString()
    await publishRelease('2.1', laterCid, later.length)
    reads.length = 0
    pinner = await start()
    await eventually('the release published meanwhile to be pinned', () => pinner!.status().pinned === 2)
    assert.deepEqual(reads, ['since'], 'only the records after the saved position were read')
    await assert.rejects(readFile(stateFile), 'the state is taken as it is read: a crash leaves none behind')

    // other settings want other releases: everything is read again
    await pinner.stop()
    reads.length = 0
    pinner = await start(['release'])
    await eventually('the first pass', () => reads.length > 0)
    assert.deepEqual(reads, ['all'])
    await pinner.stop()

    // no clean stop (the state is gone): everything is read again
    await rm(stateFile, { force: true })
    reads.length = 0
    pinner = await start(['release'])
    await eventually('the first pass', () => reads.length > 0)
    assert.deepEqual(reads, ['all'])
  })
})
