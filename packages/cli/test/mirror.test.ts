import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { EPOCH_HEADER, POSITION_HEADER, createCatalog, createHttpSource } from '@hubless/query'
import { createPublisherKey, recordFromJSON } from '@hubless/registry'
import { buildFixtures } from '../../appimage/test/fixtures/build.ts'
import { runCli, tempDir } from '../../../test/helpers/cli.ts'
import { dataDirLayout } from '../src/data-dir.ts'
import { startMirror } from '../src/daemon/run-mirror.ts'
import type { RunningMirror } from '../src/daemon/run-mirror.ts'

async function eventually<T> (what: string, check: () => Promise<T | undefined>, timeout = 30_000): Promise<T> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
}

/** The mirror's HTTP side and pinning policy, on one in-process mirror and a publisher process */
describe('hubless mirror', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let mirror: RunningMirror | undefined
  let trustedOnly: RunningMirror | undefined
  let release: { id: string, appId: string, cid: string, publisher: string }
  let appImage: string

  before(async () => {
    dir = await tempDir('hubless-mirror-')
    appImage = (await buildFixtures(join(dir.path, 'fx'), [{ compressor: 'zstd', blockSize: 131072, fragments: true }])).fixtures[0]!.path
    mirror = await startMirror({ layout: dataDirLayout(join(dir.path, 'all')), listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], lan: false, http: { host: '127.0.0.1', port: 0 }, pin: 'all' })
    trustedOnly = await startMirror({ layout: dataDirLayout(join(dir.path, 'trusted')), listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], lan: false, http: { host: '127.0.0.1', port: 0 }, pin: 'trusted' })
    await trustedOnly.services.node.dial(mirror.multiaddrs[0]!)
    const init = await runCli(['--data-dir', join(dir.path, 'p'), 'init'])
    assert.equal(init.code, 0, init.stderr)
    const published = await runCli(['--data-dir', join(dir.path, 'p'), '--json', 'publish', appImage, '--channel', 'release', '--peer', mirror.multiaddrs[0]!], { timeout: 90_000 })
    assert.equal(published.code, 0, published.stderr)
    release = JSON.parse(published.stdout)
  })

  after(async () => {
    await trustedOnly?.stop()
    await mirror?.stop()
    await dir.remove()
  })

  it('--pin all keeps the content; --pin trusted keeps only what its roots trust', async () => {
    assert.equal(mirror!.pinner.status().pinned, 1)
    assert.equal(await mirror!.services.node.content.isPinned(release.cid), true)
    await eventually('the trusted-only mirror to replicate the record', async () => (await trustedOnly!.services.registry()).has(release.id).then(has => has || undefined))
    await new Promise(resolve => setTimeout(resolve, 1_000))
    assert.equal(trustedOnly!.pinner.status().pinned, 0, 'an unverified publisher\'s content is not pinned')

    await trustedOnly!.services.trustRoots.add(release.publisher)
    await trustedOnly!.services.reloadTrustRoots()
    await trustedOnly!.pinner.rescan()
    await eventually('the trusted-only mirror to pin once the publisher is a root', async () => trustedOnly!.pinner.status().pinned === 1 ? true : undefined)
  })

  it('serves the signed record, verifiable by the client', async () => {
    const response = await fetch(new URL(`/api/v1/records/${release.id}`, mirror!.api))
    assert.equal(response.status, 200)
    const signed = await recordFromJSON(await response.text())
    assert.equal(signed.id, release.id)
    assert.equal(signed.record.publisher, release.publisher)
  })

  it('serves every signed record as a feed an app store\'s catalog reads and verifies over HTTP', async () => {
    const head = await fetch(new URL('/api/v1/records', mirror!.api), { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.match(head.headers.get('content-type') ?? '', /^application\/x-ndjson/)
    const epoch = head.headers.get(EPOCH_HEADER)
    assert.ok(epoch != null && epoch !== '', 'the feed names its order')
    const lines = (await (await fetch(new URL('/api/v1/records', mirror!.api))).text()).split('\n').filter(l => l !== '')
    const records = await Promise.all(lines.map(async line => recordFromJSON(line)))
    assert.ok(records.some(r => r.id === release.id), 'the published record is in the feed')
    const rest = await fetch(new URL(`/api/v1/records?after=${lines.length}`, mirror!.api))
    assert.equal(await rest.text(), '', 'nothing after the last line')
    assert.equal(rest.headers.get(EPOCH_HEADER), epoch, 'the same order while the mirror runs')
    assert.match(rest.headers.get('access-control-expose-headers') ?? '', /x-hubless-epoch, x-hubless-position/, 'an app store on another origin reads them')

    // the live set: this one release, placed at the feed's end when it was read
    const live = await fetch(new URL('/api/v1/records/live', mirror!.api))
    assert.equal(live.headers.get(POSITION_HEADER), String(lines.length))
    const liveIds = (await Promise.all((await live.text()).split('\n').filter(l => l !== '').map(async line => recordFromJSON(line)))).map(r => r.id)
    assert.ok(liveIds.includes(release.id), 'the newest release is in the live set')

    // the reader's own roots decide trust, not the mirror's
    const source = createHttpSource({ url: mirror!.api, pollInterval: 0 })
    const catalog = await createCatalog({ source }, { roots: [release.publisher] })
    try {
      const app = catalog.app(release.appId)
      assert.equal(app?.trust.status, 'trusted')
      assert.equal(app?.latest[0]?.release.content.cid, release.cid)
    } finally {
      source.stop()
      await catalog.stop()
    }
  })

  it('serves a user whose peer-to-peer is blocked: search, show and get with --mirror, all verified', async () => {
    const user = join(dir.path, 'firewalled')
    // no --peer, no listen address: this user's node reaches nobody; only HTTP to the mirror
    const trusted = await runCli(['--data-dir', user, 'trust', 'add', release.publisher])
    assert.equal(trusted.code, 0, trusted.stderr)
    const found = await runCli(['--data-dir', user, '--json', 'search', '--mirror', mirror!.api])
    assert.equal(found.code, 0, found.stderr)
    const hits = (JSON.parse(found.stdout) as { results: Array<{ appId: string, trust: { status: string } }> }).results
    assert.deepEqual(hits.map(h => [h.appId, h.trust.status]), [[release.appId, 'trusted']], 'trusted by this user\'s own root')
    const local = await runCli(['--data-dir', user, '--json', 'search'])
    assert.deepEqual(JSON.parse(local.stdout).results, [], 'nothing reached the user\'s registry by peer-to-peer')
    const shown = await runCli(['--data-dir', user, '--json', 'show', release.appId, '--mirror', mirror!.api])
    assert.equal(shown.code, 0, shown.stderr)
    assert.equal((JSON.parse(shown.stdout) as { latest: Record<string, { content: { cid: string } }> }).latest['release/x86_64']?.content.cid, release.cid)
    const output = join(dir.path, 'firewalled.AppImage')
    const got = await runCli(['--data-dir', user, '--json', 'get', release.appId, '--mirror', mirror!.api, '-o', output], { timeout: 90_000 })
    assert.equal(got.code, 0, got.stderr)
    const result = JSON.parse(got.stdout) as { sources: Record<string, number>, verified: boolean }
    assert.equal(result.verified, true)
    assert.ok((result.sources[mirror!.api] ?? 0) > 0, `blocks came through the mirror's gateway: ${JSON.stringify(result.sources)}`)
    assert.deepEqual(await readFile(output), await readFile(appImage))
    const unreachable = await runCli(['--data-dir', user, 'search', '--mirror', 'http://127.0.0.1:9'])
    assert.notEqual(unreachable.code, 0)
    assert.match(unreachable.stderr, /HttpSourceError|cannot reach/)
    assert.equal(unreachable.stderr.trim().split('\n').length, 1, `one line: ${unreachable.stderr}`)
  })

  it('answers bad parameters with 400 and a JSON error, unknown things with 404, writes with 405', async () => {
    const cases: Array<[string, number]> = [
      ['/api/v1/apps?page=0', 400],
      ['/api/v1/records?after=-1', 400],
      ['/api/v1/records?after=1e3', 400],
      ['/api/v1/apps?pageSize=100000', 400],
      ['/api/v1/apps?channel=stable', 400],
      ['/api/v1/apps?sort=random', 400],
      ['/api/v1/apps?trusted=maybe', 400],
      [`/api/v1/apps?q=${'x'.repeat(300)}`, 400],
      ['/api/v1/records/not-a-cid', 400],
      ['/api/v1/apps/%E0%A4%A', 400],
      ['/api/v1/apps/org.example.Nothing', 404],
      ['/api/v1/nothing', 404],
      ['/ipfs/not-a-cid?format=raw', 400]
    ]
    for (const [path, status] of cases) {
      const response = await fetch(new URL(path, mirror!.api))
      assert.equal(response.status, status, `${path} -> ${status}`)
      if (path.startsWith('/api/')) {
        const body = await response.json() as { error: { name: string, message: string } }
        assert.equal(typeof body.error.name, 'string', `${path} names its error`)
      }
    }
    assert.equal((await fetch(new URL('/api/v1/apps', mirror!.api), { method: 'POST' })).status, 405)
    const op = await fetch(new URL('/api/v1/op/status', mirror!.api), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.equal(op.status, 404, 'the public side serves no operations, even to loopback clients')
  })

  it('lists the app with its trust status and facets', async () => {
    const list = await (await fetch(new URL('/api/v1/apps?q=my+app', mirror!.api))).json() as { total: number, apps: Array<{ appId: string, trust: { status: string } }>, facets: { channel: Array<{ value: string, count: number }> } }
    assert.equal(list.apps[0]?.appId, release.appId)
    assert.equal(list.apps[0]?.trust.status, 'unverified')
    assert.ok(list.facets.channel.some(f => f.value === 'release' && f.count === 1))
    const detail = await (await fetch(new URL(`/api/v1/apps/${release.appId}`, mirror!.api))).json() as { latest: Record<string, { content: { download: string } }> }
    const latest = Object.values(detail.latest)[0]!
    const download = await fetch(new URL(latest.content.download, mirror!.api))
    assert.equal(download.status, 200)
  })

  it('reports health, readiness and metrics', async () => {
    assert.equal((await fetch(new URL('/healthz', mirror!.api))).status, 200)
    assert.equal((await fetch(new URL('/readyz', mirror!.api))).status, 200)
    const metrics = await (await fetch(new URL('/metrics', mirror!.api))).text()
    assert.match(metrics, /^hubless_registry_records 1$/m)
    assert.match(metrics, /^hubless_pinned_releases 1$/m)
    assert.match(metrics, /^hubless_peers [1-9]/m)
    assert.match(metrics, /^hubless_http_requests_served_total\{kind="api"\} [1-9]/m)
    const status = await (await fetch(new URL('/api/v1/status', mirror!.api))).json() as { pins: { pinned: number, missing: unknown[] } }
    assert.equal(status.pins.pinned, 1)
    assert.deepEqual(status.pins.missing, [])
  })

  it('hands an endorsement to the peer named before it returns, as publish does', async () => {
    const subject = createPublisherKey().did
    const endorsed = await runCli(['--data-dir', join(dir.path, 'p'), '--json', 'endorse', subject, '--peer', mirror!.multiaddrs[0]!], { timeout: 90_000 })
    assert.equal(endorsed.code, 0, endorsed.stderr)
    const result = JSON.parse(endorsed.stdout) as { id: string, heldBy?: string[] }
    assert.deepEqual(result.heldBy, [mirror!.services.node.peerId.toString()])
    assert.equal(await (await mirror!.services.registry()).has(result.id), true, 'the mirror holds it when the command returns')
    const unreachable = await runCli(['--data-dir', join(dir.path, 'p'), 'unendorse', subject, '--peer', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGRUVh9UGYTEYMBwEf1ynB9jrLM5cT6v3hLN3Ns3RuPmr'], { timeout: 60_000 })
    assert.notEqual(unreachable.code, 0, 'a peer that cannot be reached is found before anything is written')
  })
})
