import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { buildFixtures } from '../../appimage/test/fixtures/build.ts'
import { waitFor } from '../../net/test/helpers.ts'
import { checkRanges } from '../../net/test/range-checks.ts'
import { runCli, tempDir } from '../../../test/helpers/cli.ts'
import { dataDirLayout } from '../src/data-dir.ts'
import { mapAppImageHubCatalog } from '@hubless/mirror'
import { startMirror } from '../src/daemon/run-mirror.ts'
import type { RunningMirror } from '../src/daemon/run-mirror.ts'
import type { ApiAppDetail } from '@hubless/mirror'

const run = promisify(execFile)
const hasZsync = spawnSync('sh', ['-c', 'command -v zsync'], { stdio: 'ignore' }).status === 0

/** The stable `latest.AppImage` URLs, their zsync control files and byte ranges, on a running mirror */
describe('latest.AppImage and its .zsync on a mirror', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let mirror: RunningMirror | undefined
  let v1: { path: string, bytes: Uint8Array, cid: string }
  let v2: { path: string, bytes: Uint8Array, cid: string }
  let appId: string
  let latest: string
  let imported: { appId: string, channel: string, arch: string }

  before(async () => {
    dir = await tempDir('hubless-latest-')
    // two versions of one app: the same tree but for a 300 KB binary and a small text file
    const squashfs = [{ compressor: 'zstd' as const, blockSize: 131072, fragments: true }]
    const first = (await buildFixtures(join(dir.path, 'v1'), squashfs, { seed: 'v1' })).fixtures[0]!.path
    const second = (await buildFixtures(join(dir.path, 'v2'), squashfs, { seed: 'v2' })).fixtures[0]!.path
    // one URL-only imported record (AppImageHub's first entry), whose content no mirror holds
    const hub = JSON.parse(await readFile(new URL('../../../data/appimagehub-apps.json', import.meta.url), 'utf8')) as unknown[]
    const draft = mapAppImageHubCatalog(hub.slice(0, 1) as Array<Record<string, unknown>>).drafts[0]!
    imported = { appId: draft.appId, channel: draft.channel, arch: draft.arch }
    await writeFile(join(dir.path, 'hub.json'), JSON.stringify(hub.slice(0, 1)))

    mirror = await startMirror({ layout: dataDirLayout(join(dir.path, 'mirror')), listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], lan: false, http: { host: '127.0.0.1', port: 0 }, pin: 'all', seed: join(dir.path, 'hub.json') })
    const publisher = join(dir.path, 'publisher')
    assert.equal((await runCli(['--data-dir', publisher, 'init'])).code, 0)
    const published: Array<{ appId: string, cid: string }> = []
    for (const [file, version] of [[first, '1.0.0'], [second, '2.0.0']] as const) {
      const result = await runCli(['--data-dir', publisher, '--json', 'publish', file, '--channel', 'release', '--version', version, '--peer', mirror.multiaddrs[0]!], { timeout: 90_000 })
      assert.equal(result.code, 0, result.stderr)
      published.push(JSON.parse(result.stdout))
    }
    appId = published[0]!.appId
    v1 = { path: first, bytes: new Uint8Array(await readFile(first)), cid: published[0]!.cid }
    v2 = { path: second, bytes: new Uint8Array(await readFile(second)), cid: published[1]!.cid }
    const detail = async (): Promise<ApiAppDetail> => (await fetch(new URL(`/api/v1/apps/${appId}`, mirror!.api))).json() as Promise<ApiAppDetail>
    await waitFor('the mirror to show 2.0.0 as latest', async () => (await detail().catch(() => undefined))?.latest['release/x86_64']?.version === '2.0.0', 30_000)
    await waitFor('the mirror to pin both releases', () => mirror!.pinner.status().pinned >= 2, 30_000)
    assert.equal((await detail()).latest['release/x86_64']?.content.cid, v2.cid)
    latest = new URL(`/apps/${appId}/release/x86_64/latest.AppImage`, mirror.api).toString()
  })

  after(async () => {
    await mirror?.stop()
    await dir?.remove()
  })

  it('serves the newest release\'s bytes at the stable URL, and a control file pointing at its immutable URL', async () => {
    const response = await fetch(latest)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('etag'), `"${v2.cid}"`)
    assert.equal(response.headers.get('accept-ranges'), 'bytes')
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(v2.bytes), 'expected the bytes of 2.0.0')

    const zsync = await fetch(`${latest}.zsync`)
    assert.equal(zsync.status, 200)
    assert.equal(zsync.headers.get('content-type'), 'application/x-zsync')
    const control = Buffer.from(await zsync.arrayBuffer())
    const header = control.subarray(0, control.indexOf('\n\n') + 1).toString('latin1')
    assert.match(header, /^zsync: 0\.6\.2\n/)
    assert.match(header, new RegExp(`\\nURL: /ipfs/${v2.cid}\\?filename=[^\\n]*2\\.0\\.0[^\\n]*\\.AppImage\\n`))
    assert.match(header, new RegExp(`\\nLength: ${v2.bytes.byteLength}\\n`))
    assert.match(header, new RegExp(`\\nSHA-1: ${createHash('sha1').update(v2.bytes).digest('hex')}\\n`))
    const again = Buffer.from(await (await fetch(`${latest}.zsync`)).arrayBuffer())
    assert.ok(again.equals(control), 'expected the same control file from the cache')
  })

  it('lets Debian\'s zsync 0.6 client update 1.0.0 to 2.0.0, fetching only what changed', { skip: hasZsync ? false : 'the zsync client is missing (Debian: apt-get install zsync)' }, async (t) => {
    const output = join(dir.path, 'updated.AppImage')
    const { stdout, stderr } = await run('zsync', ['-i', v1.path, '-o', output, `${latest}.zsync`], { cwd: dir.path, timeout: 120_000 })
    assert.ok(Buffer.from(await readFile(output)).equals(v2.bytes), `expected zsync to rebuild 2.0.0 byte for byte; it said:\n${stdout}\n${stderr}`)
    const used = /used (\d+) local, fetched (\d+)/.exec(`${stdout}\n${stderr}`)
    assert.ok(used != null, `expected zsync's "used N local, fetched M" line; it said:\n${stdout}\n${stderr}`)
    const fetched = Number(used[2])
    t.diagnostic(`zsync used ${used[1]} bytes of 1.0.0 and fetched ${fetched} of ${v2.bytes.byteLength} bytes (${(100 * fetched / v2.bytes.byteLength).toFixed(1)}%)`)
    assert.ok(fetched > 0 && fetched < v2.bytes.byteLength / 2, `expected zsync to fetch well under half of the ${v2.bytes.byteLength} bytes, it fetched ${fetched}`)
  })

  it('answers byte ranges on the stable URL and on /ipfs/{cid}', async () => {
    await checkRanges(latest, v2.bytes)
    await checkRanges(new URL(`/ipfs/${v1.cid}?filename=old.AppImage`, mirror!.api).toString(), v1.bytes)
  })

  it('answers 404 with a named error for what it cannot serve, 400 for a bad channel', async () => {
    const cases: Array<[string, number, string]> = [
      [`/apps/${imported.appId}/${imported.channel}/${imported.arch}/latest.AppImage`, 404, 'ContentNotOnMirrorError'],
      [`/apps/${imported.appId}/${imported.channel}/${imported.arch}/latest.AppImage.zsync`, 404, 'ContentNotOnMirrorError'],
      ['/apps/org.example.Nothing/release/x86_64/latest.AppImage', 404, 'ReleaseNotFound'],
      [`/apps/${appId}/release/aarch64/latest.AppImage.zsync`, 404, 'ReleaseNotFound'],
      [`/apps/${appId}/stable/x86_64/latest.AppImage`, 400, 'BadParameterError']
    ]
    for (const [path, status, name] of cases) {
      const response = await fetch(new URL(path, mirror!.api))
      assert.equal(response.status, status, path)
      assert.equal(((await response.json()) as { error: { name: string } }).error.name, name, path)
    }
  })
})
