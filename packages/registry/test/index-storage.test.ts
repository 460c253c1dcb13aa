/// <reference path="../src/orbitdb.d.ts" />
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LevelStorage } from '@orbitdb/core'
import { openIndexStorage } from '../src/log/index-storage.ts'

describe('log index storage', () => {
  const dirs: string[] = []
  after(async () => { await Promise.all(dirs.flatMap(d => [d, `${d}-frames`]).map(async d => rm(d, { recursive: true, force: true }))) })

  it('writes what OrbitDB\'s LevelStorage reads, one key or many at once, and reads what it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hubless-index-'))
    dirs.push(dir)
    const ours = await openIndexStorage(dir, `${dir}-frames`)
    await ours.put('zdpu-one', true)
    await ours.putMany(['zdpu-two', 'zdpu-three'], true)
    await ours.putMany([], true)
    await ours.del('zdpu-three')
    await ours.close()

    const orbit = await LevelStorage({ path: dir })
    for (const key of ['zdpu-one', 'zdpu-two']) assert.ok(await orbit.get(key), `OrbitDB finds ${key}`)
    assert.equal(await orbit.get('zdpu-three'), undefined)
    await orbit.put('zdpu-four', true)
    const orbitKeys: string[] = []
    for await (const [key] of orbit.iterator()) orbitKeys.push(key)
    await orbit.close()

    const again = await openIndexStorage(dir, `${dir}-frames`)
    assert.deepEqual(await again.get('zdpu-four'), await again.get('zdpu-one'), 'the same value, whoever wrote it')
    assert.equal(await again.get('missing'), undefined)
    const keys: string[] = []
    for await (const [key] of again.iterator()) keys.push(key)
    assert.deepEqual(keys, orbitKeys)
    assert.deepEqual(keys, ['zdpu-four', 'zdpu-one', 'zdpu-two'])
    await again.close()
  })
})
