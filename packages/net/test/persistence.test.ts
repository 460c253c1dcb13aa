import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { LevelBlockstore } from 'blockstore-level'
import { createBlockFiles } from '../src/block-files.ts'
import { createNode, fixedSizeChunker } from '../src/index.ts'
import { createFixture, randomBytes } from './helpers.ts'

const run = promisify(execFile)

describe('data directory', () => {
  const fixture = createFixture()
  after(async () => { await fixture.cleanup() })

  it('keeps the peer id and the pinned content across a restart; the key file is 0600', async () => {
    const directory = await fixture.dir()
    const data = randomBytes(700_000, 21)
    const first = await createNode({ directory })
    const peerId = first.peerId.toString()
    const cid = await first.content.add(data)
    await first.stop()
    assert.equal((await stat(join(directory, 'peer.key'))).mode & 0o777, 0o600)

    const second = await fixture.node({ directory })
    assert.equal(second.peerId.toString(), peerId)
    assert.equal(await second.content.isPinned(cid), true)
    assert.deepEqual(await second.content.get(cid, { offline: true }), data)
  })

  it('garbage-collects unpinned blocks and keeps pinned ones', async () => {
    const node = await fixture.node()
    const kept = await node.content.add(randomBytes(300_000, 1), { chunker: fixedSizeChunker(100_000) })
    const dropped = await node.content.add(randomBytes(300_000, 2), { chunker: fixedSizeChunker(100_000), pin: false })
    const unpinnedLater = await node.content.add(randomBytes(50_000, 3))
    await node.content.unpin(unpinnedLater)
    await node.content.unpin(unpinnedLater)
    assert.equal(await node.content.isPinned(dropped), false)
    const { removed } = await node.content.gc({ signal: AbortSignal.timeout(10_000) })
    assert.equal(removed, 5, 'root and three leaves of one file, and the single block of the other')
    assert.equal(await node.content.has(dropped), false)
    assert.equal(await node.content.has(unpinnedLater), false)
    assert.deepEqual(await node.content.get(kept, { offline: true }), randomBytes(300_000, 1))
  })

  it('keeps blocks shared by two pins until both are removed', async () => {
    const node = await fixture.node()
    const shared = randomBytes(100_000, 31)
    const chunker = fixedSizeChunker(100_000)
    const a = await node.content.add(new Uint8Array([...shared, ...randomBytes(100_000, 32)]), { chunker })
    const b = await node.content.add(new Uint8Array([...shared, ...randomBytes(100_000, 33)]), { chunker })
    await node.content.unpin(a)
    assert.equal((await node.content.gc()).removed, 2, 'the root of a and its own leaf; the shared leaf is still pinned by b')
    assert.deepEqual((await node.content.get(b, { offline: true })).subarray(0, 100_000), shared)
    await node.content.unpin(b)
    assert.equal((await node.content.gc()).removed, 3)
  })

  it('upgrades a data directory whose blocks are all in LevelDB: pins, reads and collections see them', async () => {
    const directory = await fixture.dir()
    const data = randomBytes(400_000, 41)
    const chunker = fixedSizeChunker(100_000)
    const first = await createNode({ directory })
    const kept = await first.content.add(data, { chunker })
    const dropped = await first.content.add(randomBytes(200_000, 42), { chunker })
    await first.stop()
    // as a data directory from before block files: every block file moved into LevelDB
    const files = join(directory, 'block-files')
    const level = new LevelBlockstore(join(directory, 'blocks'))
    await level.open()
    let moved = 0
    for await (const { cid, bytes } of createBlockFiles(files).getAll()) {
      await level.put(cid, bytes)
      moved++
    }
    await level.close()
    await rm(files, { recursive: true })
    assert.equal(moved, 6, 'the leaves of both files were block files')

    const second = await fixture.node({ directory })
    assert.deepEqual(await second.content.get(kept, { offline: true }), data)
    assert.equal(await second.content.isPinned(kept), true)
    await second.content.unpin(dropped)
    assert.equal((await second.content.gc()).removed, 3, 'the root and two leaves of the unpinned file, from LevelDB')
    assert.equal(await second.content.has(dropped), false)
    assert.deepEqual(await second.content.get(kept, { offline: true }), data)
  })

  it('reports a held LevelDB lock as DataDirLockedError', async () => {
    const node = await fixture.node()
    await assert.rejects(createNode({ directory: node.directory }), (err: Error) => {
      assert.equal(err.name, 'DataDirLockedError')
      assert.match(err.message, /in use by another hubless process/)
      return true
    })
    // the failed attempt must not have broken the running node
    const cid = await node.content.add(new Uint8Array([1, 2, 3]))
    assert.equal(await node.content.has(cid), true)
  })

  it('reports a damaged key as CorruptDataDirError', async () => {
    const directory = await fixture.dir()
    await writeFile(join(directory, 'peer.key'), 'not a key')
    await assert.rejects(createNode({ directory }), { name: 'CorruptDataDirError' })
  })

  it('rejects bad listen and bootstrap addresses with BadMultiaddrError before touching the directory', async () => {
    const directory = await fixture.dir()
    await assert.rejects(createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/x'] }), { name: 'BadMultiaddrError' })
    await assert.rejects(createNode({ directory, bootstrap: ['nonsense'] }), { name: 'BadMultiaddrError' })
  })

  it('reports a port in use as ListenError', async () => {
    const node = await fixture.node()
    const taken = node.getMultiaddrs()[0]!.replace(/\/p2p\/.*$/, '')
    await assert.rejects(fixture.node({ listen: [taken] }), { name: 'ListenError' })
  })

  it('lets a process that stopped its nodes exit by itself', async () => {
    const script = fileURLToPath(new URL('./fixtures/start-stop.ts', import.meta.url))
    const { stdout } = await run(process.execPath, [script, await fixture.dir(), await fixture.dir()], { timeout: 30_000 })
    assert.equal(JSON.parse(stdout).text, 'exit test')
  })
})
