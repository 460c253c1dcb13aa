import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { assemble, buildFixtures, buildRuntime, buildTree, mksquashfs } from '../../appimage/test/fixtures/build.ts'
import { runCli, tempDir } from '../../../test/helpers/cli.ts'

/** An author's commands, each a real process on its own data dir (no daemon: operations run locally) */
describe('hubless publish, yank, endorse, key, trust, status', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let withVersion: string
  let withoutVersion: string
  let dataDir: string
  let publisher: string
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the commands' documented JSON loosely
  const cli = async (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string, json: () => any }> => {
    const result = await runCli(['--data-dir', dataDir, '--json', ...args], { timeout: 90_000 })
    return { ...result, json: () => JSON.parse(result.stdout) }
  }

  before(async () => {
    dir = await tempDir()
    dataDir = join(dir.path, 'author')
    withVersion = (await buildFixtures(join(dir.path, 'v'), [{ compressor: 'zstd', blockSize: 131072, fragments: true }])).fixtures[0]!.path
    withoutVersion = await imageWithoutVersion(join(dir.path, 'nv'))
    const init = await cli('init')
    assert.equal(init.code, 0, init.stderr)
    publisher = init.json().publisher
  })
  after(async () => { await dir.remove() })

  it('init makes a publisher key that key show reports, trusted as a root', async () => {
    assert.match(publisher, /^did:key:z6Mk/)
    const show = await cli('key', 'show')
    assert.equal(show.json().publisher, publisher)
    const mode = (await stat(show.json().file)).mode & 0o777
    assert.equal(mode, 0o600, 'the key file is private')
    const trust = await cli('trust', 'list')
    assert.deepEqual(trust.json().roots, [publisher])
  })

  it('refuses an image without a version before writing anything', async () => {
    const result = await cli('publish', withoutVersion, '--channel', 'release')
    assert.equal(result.code, 1)
    assert.match(result.stderr, /declares no version .*--version/)
    assert.equal((await cli('status')).json().registry.records, 0, 'nothing was appended')
  })

  it('refuses a bad channel and a non-http URL', async () => {
    const channel = await cli('publish', withVersion, '--channel', 'stable')
    assert.equal(channel.code, 2)
    assert.match(channel.stderr, /--channel "stable" is not one of/)
    const url = await cli('publish', withVersion, '--channel', 'release', '--url', 'ftp://example.org/x')
    assert.equal(url.code, 2)
    assert.match(url.stderr, /is not an http\(s\) URL/)
  })

  it('publishes, chains the next release to the previous one, and shows both', async () => {
    const first = await cli('publish', withVersion, '--channel', 'beta', '--version', '1.0.0', '--url', 'https://example.org/MyApp-1.0.0.AppImage')
    assert.equal(first.code, 0, first.stderr)
    const r1 = first.json()
    assert.equal(r1.version, '1.0.0')
    assert.match(r1.cid, /^bafy/)
    assert.match(r1.sha256, /^[0-9a-f]{64}$/)
    assert.equal(r1.previous, undefined)

    const second = await cli('publish', withoutVersion, '--channel', 'beta', '--version', '1.1.0', '--app-id', r1.appId)
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.json().previous, r1.id, 'the hash chain links a publisher\'s releases of one app and channel')

    const show = await cli('show', r1.appId)
    const app = show.json()
    assert.equal(app.owner.trust.status, 'trusted')
    assert.equal(app.history.length, 2)
    assert.equal(app.latest['beta/x86_64'].version, '1.1.0')
    assert.deepEqual(Object.keys(app.latest), ['beta/x86_64'], 'a release reader sees no beta; alpha and nightly readers get the same release, listed once')

    const search = await cli('search', 'my', 'app', '--channel', 'beta')
    assert.deepEqual(search.json().results.map((r: { appId: string, version: string, trust: { status: string } }) => [r.appId, r.version, r.trust.status]), [[r1.appId, '1.1.0', 'trusted']])
  })

  it('yanks a release: the previous one is newest again', async () => {
    const appId = (await cli('search', 'my app', '--channel', 'beta')).json().results[0].appId
    const yank = await cli('yank', appId, '1.1.0', '--reason', 'crashes on start')
    assert.equal(yank.code, 0, yank.stderr)
    const app = (await cli('show', appId)).json()
    assert.equal(app.latest['beta/x86_64'].version, '1.0.0')
    const notMine = await cli('yank', appId, '9.9.9', '--reason', 'x')
    assert.equal(notMine.code, 2)
  })

  it('endorses and unendorses another key; rejects a non-key', async () => {
    const other = await runCli(['--data-dir', join(dir.path, 'other'), '--json', 'init'])
    const otherKey = JSON.parse(other.stdout).publisher as string
    const endorse = await cli('endorse', otherKey, '--until', '2099-01-01')
    assert.equal(endorse.code, 0, endorse.stderr)
    const trust = (await cli('trust', 'list')).json()
    assert.ok(trust.trusted.some((t: { key: string, depth: number }) => t.key === otherKey && t.depth === 1), 'the endorsed key is reached at depth 1')
    assert.equal((await cli('unendorse', otherKey)).code, 0)
    assert.ok(!(await cli('trust', 'list')).json().trusted.some((t: { key: string }) => t.key === otherKey), 'unendorse cuts it')
    const bad = await cli('endorse', 'did:key:nonsense')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /is not a publisher key/)
  })

  it('exports, imports and rotates the key', async () => {
    const exported = await cli('key', 'export', '-o', join(dir.path, 'backup.key'))
    assert.equal(exported.code, 0, exported.stderr)
    const elsewhere = join(dir.path, 'elsewhere')
    const imported = await runCli(['--data-dir', elsewhere, '--json', 'key', 'import', join(dir.path, 'backup.key')])
    assert.equal(imported.code, 0, imported.stderr)
    assert.equal(JSON.parse(imported.stdout).publisher, publisher)
    const again = await runCli(['--data-dir', elsewhere, 'key', 'import', join(dir.path, 'backup.key')])
    assert.equal(again.code, 1, 'an existing key is not replaced without --force')

    const rotated = await cli('key', 'rotate')
    assert.equal(rotated.code, 0, rotated.stderr)
    const newKey = rotated.json().newKey
    assert.equal((await cli('key', 'show')).json().publisher, newKey)
  })

  it('an unreachable --peer is one clear line, before anything is written', async () => {
    const before = (await cli('status')).json().registry.records
    const result = await cli('publish', withVersion, '--channel', 'alpha', '--version', '2.0.0-alpha.1', '--peer', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGRUVh9UGYTEYMBwEf1ynB9jrLM5cT6v3hLN3Ns3RuPmr')
    assert.equal(result.code, 1)
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    assert.match(result.stderr, /^hubless: .*127\.0\.0\.1\/tcp\/1/)
    assert.equal((await cli('status')).json().registry.records, before, 'nothing was appended')
  })

  it('status reports records and peers', async () => {
    const status = (await cli('status')).json()
    assert.equal(typeof status.registry.records, 'number')
    assert.ok(status.registry.records >= 6, `records: ${status.registry.records}`)
    assert.ok(Array.isArray(status.peers))
  })

  it('an encrypted key needs its passphrase', async () => {
    const locked = join(dir.path, 'locked')
    const init = await runCli(['--data-dir', locked, 'init'], { env: { HUBLESS_KEY_PASSPHRASE: 'correct horse' } })
    assert.equal(init.code, 0, init.stderr)
    const wrong = await runCli(['--data-dir', locked, 'key', 'show'], { env: { HUBLESS_KEY_PASSPHRASE: 'wrong' } })
    assert.equal(wrong.code, 1)
    const right = await runCli(['--data-dir', locked, 'key', 'show'], { env: { HUBLESS_KEY_PASSPHRASE: 'correct horse' } })
    assert.equal(right.code, 0, right.stderr)
  })
})

/** An AppImage whose metainfo and desktop entry name no version */
async function imageWithoutVersion (dir: string): Promise<string> {
  const tree = join(dir, 'AppDir')
  await buildTree(tree, { noMetainfo: true, seed: 'v2' })
  const desktop = join(tree, 'usr/share/applications/org.example.MyApp.desktop')
  await writeFile(desktop, (await readFile(desktop, 'utf8')).replace(/^X-AppImage-Version=.*\n/m, ''))
  await mksquashfs(tree, join(dir, 'image.squashfs'), { compressor: 'gzip', blockSize: 131072, fragments: true })
  const out = join(dir, 'NoVersion.AppImage')
  await assemble(buildRuntime().bytes, join(dir, 'image.squashfs'), out)
  return out
}
