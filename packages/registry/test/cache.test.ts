import assert from 'node:assert/strict'
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createPublisherKey } from '../src/index.ts'
import { decodeFrames, encodeFrames } from '../src/log/record-cache.ts'
import { releaseRecord, signedRelease } from './fixtures.ts'
import { ids, Peers } from './peers.ts'

async function cacheFile (dir: string): Promise<string> {
  const registryDir = join(dir, 'registry')
  const name = (await readdir(registryDir)).find(f => f.endsWith('.records'))
  assert.ok(name != null, 'the registry keeps a record cache file')
  return join(registryDir, name)
}

describe('record cache', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('is rebuilt from the log when it is torn, short or missing', async () => {
    const dir = await peers.dir()
    let peer = await peers.start(dir)
    const key = createPublisherKey()
    const published = []
    for (let i = 0; i < 5; i++) published.push((await peer.registry.publish(releaseRecord(key, {}, i), key)).id)
    published.sort()
    await peers.stop(peer)
    const file = await cacheFile(dir)
    const whole = await readFile(file)
    const frames = decodeFrames(whole)
    assert.equal(frames.items.length, 5)
    assert.equal(frames.torn, false)

    const damage: Array<[string, () => Promise<void>]> = [
      ['torn', async () => { await truncate(file, whole.length - 7) }],
      // exactly one frame short: no torn frame, found by the head check
      ['short', async () => { await writeFile(file, whole.subarray(0, decodeFrames(whole.subarray(0, whole.length - 1)).validLength)) }],
      ['missing', async () => { await rm(file) }],
      ['garbage', async () => { await writeFile(file, Uint8Array.of(0, 0, 0, 9, 1, 2)) }]
    ]
    for (const [what, hurt] of damage) {
      await hurt()
      peer = await peers.start(dir)
      assert.deepEqual(await ids(peer.registry), published, `after a ${what} cache file`)
      await peers.stop(peer)
      assert.deepEqual(await readFile(file), whole, `the ${what} cache was rewritten`)
    }
  })

  it('keeps no view of the file it was read from (a Node Buffer\'s slice would hold all of it)', async () => {
    const signed = await signedRelease()
    const file = Buffer.concat([encodeFrames([{ entryHash: 'zdpu-entry', signed, entry: new Uint8Array(1000) }]), Buffer.alloc(4096)])
    const [item] = decodeFrames(file).items
    assert.ok(item != null, 'expected the frame back')
    assert.deepEqual(item.signed.bytes, signed.bytes)
    assert.deepEqual(item.signed.signature, signed.signature)
    assert.notEqual(item.signed.bytes.buffer, file.buffer, 'record bytes must be a copy, not a view of the file')
    assert.notEqual(item.signed.signature!.buffer, file.buffer, 'the signature must be a copy, not a view of the file')
  })
})
