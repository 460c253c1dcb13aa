import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { RegistryPins } from '../src/log/pins.ts'
import type { PinStore } from '../src/log/pins.ts'

async function hashOf (n: number): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(Uint8Array.of(n))).toString(base58btc)
}

function stubPins (fail = new Set<string>()): PinStore & { pinned: string[] } {
  const pinned: string[] = []
  return {
    pinned,
    isPinned: async () => false,
    add: async function * (cid) {
      const hash = cid.toString(base58btc)
      if (fail.has(hash)) throw new Error('no such block')
      pinned.push(hash)
      yield cid
    }
  }
}

describe('registry pins', () => {
  it('are complete only when every block asked for was pinned and no held work waits to name its blocks', async () => {
    const hashes = await Promise.all([1, 2, 3].map(hashOf))
    const pins = stubPins()
    const registryPins = new RegistryPins({ pins, stopped: () => false })
    async function * lazily (): AsyncGenerator<string> { yield * hashes }
    await registryPins.inBackground(lazily())
    assert.deepEqual(pins.pinned, hashes, 'blocks read from an async source, in order')
    assert.equal(registryPins.complete, true)

    let finish!: () => void
    const held = registryPins.holdingGc(async keep => { await new Promise<void>(resolve => { finish = resolve }); keep([hashes[0]!]) })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(registryPins.complete, false, 'work holding garbage collection has blocks still to name')
    finish()
    await held
    await registryPins.idle()
    assert.equal(registryPins.complete, true)
  })

  it('are not complete after a failed pin or a stop in the middle', async () => {
    const hashes = await Promise.all([4, 5].map(hashOf))
    const failing = new RegistryPins({ pins: stubPins(new Set([hashes[0]!])), stopped: () => false })
    await failing.inBackground(hashes)
    assert.equal(failing.complete, false, 'a pin failed')

    let stopped = false
    const pins = stubPins()
    const cut = new RegistryPins({ pins, stopped: () => stopped })
    stopped = true
    await cut.inBackground(hashes)
    assert.deepEqual(pins.pinned, [])
    assert.equal(cut.complete, false, 'a stop cut the pins short')
  })

  it('of long work holding garbage collection start before the work ends, and the hold lasts until the last is pinned', async () => {
    const many = await Promise.all(Array.from({ length: 10_000 }, async (_, i) => CID.createV1(raw.code, await sha256.digest(Uint8Array.of(i >> 16, (i >> 8) & 255, i & 255)))))
    const pinned: string[] = []
    const asked: Array<boolean | undefined> = []
    const pinMany = async (cids: CID[], options?: { leaves?: boolean }): Promise<CID[]> => {
      asked.push(options?.leaves)
      for (const cid of cids) pinned.push(cid.toString(base58btc))
      return []
    }
    let released = false
    const registryPins = new RegistryPins({ pins: stubPins(), pinMany, holdGc: async () => () => { released = true }, stopped: () => false })
    let pinnedBeforeEnd = 0
    await registryPins.holdingGc(async keep => {
      // blocks as CIDs or as their base58btc strings
      keep(many.slice(0, 2_000))
      keep(many.slice(2_000, 4_000).map(cid => cid.toString(base58btc)))
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.equal(pinned.length, 0, 'fewer blocks than the bound (4,096) wait for the work to end')
      keep(many.slice(4_000))
      await registryPins.idle()
      pinnedBeforeEnd = pinned.length
      assert.equal(released, false, 'garbage collection is held while work goes on')
    })
    assert.ok(pinnedBeforeEnd >= 4_096, `${pinnedBeforeEnd} pinned before the work ended`)
    await registryPins.settled()
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(pinned, many.map(cid => cid.toString(base58btc)), 'every block pinned once, in order')
    assert.ok(asked.length > 0 && asked.every(leaves => leaves === true), 'blocks the work stored are pinned unread, as one block each')
    assert.equal(released, true, 'the hold ends once the last is pinned')
    assert.equal(registryPins.complete, true)
  })
})
