import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildFixtures } from '../../packages/appimage/test/fixtures/build.ts'
import { runCli, startCli, tempDir } from '../helpers/cli.ts'
import { eventually } from '../helpers/eventually.ts'
import type { RunningCli } from '../helpers/cli.ts'

interface Ready { peerId: string, multiaddrs: string[], api: string }

describe('two mirrors and a publisher, as three hubless processes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let appImage: string
  let mirrorA: RunningCli | undefined
  let mirrorB: RunningCli | undefined
  let readyA: Ready
  let readyB: Ready
  const data = (name: string): string => join(dir.path, name)

  before(async () => {
    dir = await tempDir('hubless-e2e-')
    const built = await buildFixtures(join(dir.path, 'fixtures'), [{ compressor: 'zstd', blockSize: 131072, fragments: true }])
    appImage = built.fixtures[0]!.path
    mirrorA = await startCli(['--data-dir', data('a'), '--json', 'mirror', '--http', '127.0.0.1:0', '--pin', 'all'])
    readyA = JSON.parse(mirrorA.readyLine) as Ready
    mirrorB = await startCli(['--data-dir', data('b'), '--json', 'mirror', '--http', '127.0.0.1:0', '--pin', 'all', '--peer', readyA.multiaddrs[0]!])
    readyB = JSON.parse(mirrorB.readyLine) as Ready
  })

  after(async () => {
    await mirrorB?.stop()
    await mirrorA?.stop()
    await dir.remove()
  })

  it('publish to A reaches B (connected only to A), which serves it by CLI, API, get, and alone over HTTP', async () => {
    const init = await runCli(['--data-dir', data('p'), '--json', 'init'])
    assert.equal(init.code, 0, init.stderr)
    const publisher = (JSON.parse(init.stdout) as { publisher: string }).publisher

    const published = await runCli(['--data-dir', data('p'), '--json', 'publish', appImage, '--channel', 'release', '--peer', readyA.multiaddrs[0]!, '--wait', '60'], { timeout: 90_000 })
    assert.equal(published.code, 0, `publish: ${published.stderr}`)
    const release = JSON.parse(published.stdout) as { appId: string, version: string, cid: string, sha256: string, heldBy: string[] }
    assert.deepEqual(release.heldBy, [readyA.peerId], 'publish waits until mirror A holds the record and pins the content')

    // B learns of it through A alone, within seconds
    const hits = await eventually('B to list the app in `hubless search`', async () => {
      const result = await runCli(['--data-dir', data('b'), '--json', 'search', 'my app'])
      const rows = (JSON.parse(result.stdout) as { results: Array<{ appId: string, version: string, publisher: string, trust: { status: string } }> }).results
      return rows.some(r => r.appId === release.appId) ? rows : undefined
    })
    const hit = hits.find(r => r.appId === release.appId)!
    assert.equal(hit.version, release.version)
    assert.equal(hit.publisher, publisher)
    assert.equal(hit.trust.status, 'unverified', 'B does not trust the publisher yet')

    const api = await (await fetch(new URL(`/api/v1/apps?q=${encodeURIComponent('my app')}`, readyB.api))).json() as { apps: Array<{ appId: string }> }
    assert.ok(api.apps.some(a => a.appId === release.appId), 'B\'s /api/v1/apps lists it')

    // an untrusted app needs --allow-untrusted, and says why
    const refused = await runCli(['--data-dir', data('b'), 'get', release.appId, '-o', join(dir.path, 'refused.AppImage')])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /is not from a publisher you trust \(unverified: /)
    assert.doesNotMatch(refused.stderr, /unverified: unverified:/)

    const trusted = await runCli(['--data-dir', data('b'), 'trust', 'add', publisher])
    assert.equal(trusted.code, 0, trusted.stderr)
    const out = join(dir.path, 'got.AppImage')
    const got = await runCli(['--data-dir', data('b'), '--json', 'get', release.appId, '-o', out], { timeout: 90_000 })
    assert.equal(got.code, 0, got.stderr)
    assert.equal((JSON.parse(got.stdout) as { trust: { status: string } }).trust.status, 'trusted')
    assert.deepEqual(await readFile(out), await readFile(appImage), 'get through B returns the same bytes')

    // B pins what it replicated; with A gone it still serves the file over plain HTTP
    await eventually('B to pin the content', async () => {
      const status = await (await fetch(new URL('/api/v1/status', readyB.api))).json() as { pins: { pinned: number } }
      return status.pins.pinned >= 1 ? true : undefined
    })
    const exitA = await mirrorA!.stop()
    assert.equal(exitA.code, 0, 'mirror A stops cleanly')
    mirrorA = undefined
    const download = await fetch(new URL(`/ipfs/${release.cid}?filename=app.AppImage&download=true`, readyB.api))
    assert.equal(download.status, 200)
    assert.match(download.headers.get('content-disposition') ?? '', /attachment/)
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), await readFile(appImage))
    const car = await fetch(new URL(`/ipfs/${release.cid}?format=car`, readyB.api))
    assert.equal(car.status, 200, 'and as a trustless-gateway CAR')
    assert.match(car.headers.get('content-type') ?? '', /application\/vnd\.ipld\.car/)
  })
})
