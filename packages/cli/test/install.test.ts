import assert from 'node:assert/strict'
import { open, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildFixtures } from '../../appimage/test/fixtures/build.ts'
import { runCli, startCli, tempDir } from '../../../test/helpers/cli.ts'
import type { RunningCli } from '../../../test/helpers/cli.ts'
import { dataDirLayout } from '../src/data-dir.ts'
import { update } from '../src/operations/install.ts'
import { openServices } from '../src/services.ts'

const APP = 'org.example.MyApp'
const ICON = 'hubless-org.example.MyApp'

/** As if the blockstore had been collected: small blocks (LevelDB) and large ones (files) */
async function removeBlockstore (user: string): Promise<void> {
  await rm(join(user, 'node', 'blocks'), { recursive: true, force: true })
  await rm(join(user, 'node', 'block-files'), { recursive: true, force: true })
}

/**
 * A user's installed apps, end to end: a mirror process, two publishers and a user, each a real
 * process on its own data dir; the user's HOME and XDG_DATA_HOME are temp dirs.
 */
describe('hubless install, list, update, rollback, remove', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let mirror: RunningCli | undefined
  let peer: string
  let api: string
  const images: Record<'v1' | 'v2' | 'v3', string> = { v1: '', v2: '', v3: '' }
  const keys: Record<'p' | 'q', string> = { p: '', q: '' }
  let home: string
  let share: string
  let user: string
  let installedPath: string

  // biome-ignore lint/suspicious/noExplicitAny: the test reads the commands' documented JSON loosely
  const cli = async (dataDir: string, ...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string, json: () => any }> => {
    const result = await runCli(['--data-dir', dataDir, '--json', ...args], { timeout: 90_000, env: { HOME: home, XDG_DATA_HOME: share } })
    return { ...result, json: () => JSON.parse(result.stdout) }
  }
  const publish = async (who: 'p' | 'q', image: string, version: string): Promise<void> => {
    const published = await cli(join(dir.path, who), 'publish', image, '--channel', 'release', '--version', version, '--peer', peer)
    assert.equal(published.code, 0, published.stderr)
  }
  const installedRecord = async (): Promise<Record<string, { version: string, publisher: string, path: string, sha256: string, cid: string, id: string, previous?: { version: string } }>> =>
    JSON.parse(await readFile(join(user, 'installed.json'), 'utf8')).apps

  before(async () => {
    dir = await tempDir('hubless-install-')
    home = join(dir.path, 'home')
    share = join(home, 'share')
    user = join(dir.path, 'user')
    installedPath = join(home, 'Applications', `${APP}.AppImage`)
    for (const seed of ['v1', 'v2', 'v3'] as const) {
      // one source tree per version: the program differs, the 2.5 MB library and the rest are shared
      images[seed] = (await buildFixtures(join(dir.path, seed), [{ compressor: 'zstd', blockSize: 131072, fragments: true }], { seed })).fixtures[0]!.path
    }
    mirror = await startCli(['--data-dir', join(dir.path, 'mirror'), '--json', 'mirror', '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0'], { timeout: 60_000 })
    const ready = JSON.parse(mirror.readyLine) as { multiaddrs: string[], api: string }
    peer = ready.multiaddrs[0]!
    api = ready.api
    for (const who of ['p', 'q'] as const) {
      const init = await cli(join(dir.path, who), 'init')
      assert.equal(init.code, 0, init.stderr)
      keys[who] = init.json().publisher
    }
    await publish('p', images.v1, '1.0.0')
    const trusted = await cli(user, 'trust', 'add', keys.p)
    assert.equal(trusted.code, 0, trusted.stderr)
  })

  after(async () => {
    await mirror?.stop()
    await dir.remove()
  })

  it('installs the newest trusted release: executable, with desktop entry, icon and record', async () => {
    const installed = await cli(user, 'install', APP, '--mirror', api)
    assert.equal(installed.code, 0, installed.stderr)
    const result = installed.json()
    assert.equal(result.app.path, installedPath, 'into ~/Applications of $HOME')
    assert.equal(result.app.version, '1.0.0')
    assert.equal(result.trust.status, 'trusted')
    assert.deepEqual(await readFile(installedPath), await readFile(images.v1))
    assert.equal((await stat(installedPath)).mode & 0o777, 0o755)

    const desktopFile = join(share, 'applications', `${ICON}.desktop`)
    assert.equal(result.app.desktopFile, desktopFile)
    const desktop = await readFile(desktopFile, 'utf8')
    assert.match(desktop, new RegExp(`^Exec=${installedPath} %F$`, 'm'), 'Exec runs the installed file, arguments kept')
    assert.match(desktop, new RegExp(`^Exec=${installedPath} --new$`, 'm'), 'so do the actions')
    assert.match(desktop, new RegExp(`^TryExec=${installedPath}$`, 'm'))
    assert.match(desktop, new RegExp(`^Icon=${ICON}$`, 'm'))
    assert.match(desktop, /^X-AppImage-Version=1\.0\.0$/m)
    assert.match(desktop, /^Name=My App$/m)
    // the fixture's icon is a 1×1 PNG: the nearest hicolor size is 16×16
    const icon = join(share, 'icons', 'hicolor', '16x16', 'apps', `${ICON}.png`)
    assert.equal(result.app.iconFile, icon)
    assert.ok((await stat(icon)).size > 0)

    const record = (await installedRecord())[APP]!
    assert.equal(record.version, '1.0.0')
    assert.equal(record.publisher, keys.p)
    assert.equal(record.path, installedPath)
    assert.match(record.sha256, /^[0-9a-f]{64}$/)
    assert.match(record.cid, /^bafy/)

    const again = await cli(user, 'install', APP, '--mirror', api)
    assert.equal(again.code, 1)
    assert.equal(again.json().error.name, 'AlreadyInstalledError')
  })

  it('lists the update; an interrupted update leaves v1 as it was; the next one fetches only the blocks that changed', async (t) => {
    await publish('p', images.v2, '2.0.0')
    const listed = await cli(user, 'list')
    assert.equal(listed.code, 0, listed.stderr)
    const [app] = listed.json().apps
    assert.equal(app.version, '1.0.0')
    assert.deepEqual({ version: app.update?.version, signerChanged: app.update?.signerChanged }, { version: '2.0.0', signerChanged: false })

    // as if the blockstore had been collected: the installed file is the only local copy of v1's blocks
    await removeBlockstore(user)

    const v1 = await readFile(images.v1)
    const services = await openServices(dataDirLayout(user), {})
    const stop = new AbortController()
    try {
      const interrupted = update.run({
        services,
        signal: AbortSignal.any([stop.signal, AbortSignal.timeout(60_000)]),
        onProgress: progress => {
          // midway: the first block that comes over the network
          if (/^fetching blocks \(http/.test(progress.phase)) stop.abort(new Error('interrupted'))
        }
      }, { appIds: [APP], applications: join(share, 'applications'), icons: join(share, 'icons') })
      await assert.rejects(interrupted, /interrupted/)
      assert.ok(stop.signal.aborted, 'the update was cut while fetching')
    } finally {
      await services.stop()
    }
    assert.deepEqual(await readFile(installedPath), v1, 'the installed file is untouched')
    assert.equal((await stat(installedPath)).mode & 0o777, 0o755, 'and still executable')
    assert.equal((await installedRecord())[APP]!.version, '1.0.0')

    const updated = await cli(user, 'update')
    assert.equal(updated.code, 0, updated.stderr)
    const [result] = updated.json().results
    const size = (await stat(images.v2)).size
    t.diagnostic(`update 1.0.0 -> 2.0.0 of a ${size}-byte file: fetched ${result.bytesFetched} bytes, reused ${result.bytesReused}, blocks ${JSON.stringify(result.sources)}`)
    assert.equal(result.status, 'updated')
    assert.equal(result.to, '2.0.0')
    assert.deepEqual(await readFile(installedPath), await readFile(images.v2), 'v2 byte for byte')
    assert.ok(result.bytesReused > size / 2, `most of the file came from the installed one: ${result.bytesReused} of ${size}`)
    assert.ok(result.bytesFetched < size / 2, `fetched ${result.bytesFetched} of ${size}`)
    assert.ok(result.bytesFetched > 0)
    const record = (await installedRecord())[APP]!
    assert.equal(record.version, '2.0.0')
    assert.equal(record.previous?.version, '1.0.0')
    assert.match(await readFile(join(share, 'applications', `${ICON}.desktop`), 'utf8'), /^X-AppImage-Version=2\.0\.0$/m)

    const current = await cli(user, 'update', APP)
    assert.equal(current.json().results[0].status, 'current')
  })

  it('rolls back to v1 byte for byte, and a user-modified file still updates', async () => {
    const rolled = await cli(user, 'rollback', APP)
    assert.equal(rolled.code, 0, rolled.stderr)
    assert.deepEqual({ from: rolled.json().from, version: rolled.json().app.version }, { from: '2.0.0', version: '1.0.0' })
    assert.deepEqual(await readFile(installedPath), await readFile(images.v1))
    assert.equal((await stat(installedPath)).mode & 0o777, 0o755)
    assert.match(await readFile(join(share, 'applications', `${ICON}.desktop`), 'utf8'), /^X-AppImage-Version=1\.0\.0$/m)

    // the user scribbles over the middle of v1, and the blockstore is gone again
    const file = await open(installedPath, 'r+')
    await file.write(Buffer.alloc(200_000, 0x55), 0, 200_000, 600_000)
    await file.close()
    await removeBlockstore(user)
    const updated = await cli(user, 'update', APP)
    assert.equal(updated.code, 0, updated.stderr)
    const [result] = updated.json().results
    assert.equal(result.status, 'updated')
    assert.deepEqual(await readFile(installedPath), await readFile(images.v2))
    assert.ok(result.bytesReused > 0, 'the blocks the user left alone are still reused')
  })

  it('refuses an update signed by another key, naming both, unless told', async () => {
    await publish('q', images.v3, '3.0.0')
    // the user now trusts q and no longer p: the catalog picks q's 3.0.0
    assert.equal((await cli(user, 'trust', 'remove', keys.p)).code, 0)
    assert.equal((await cli(user, 'trust', 'add', keys.q)).code, 0)
    const [listed] = (await cli(user, 'list')).json().apps
    assert.deepEqual({ version: listed.update?.version, signerChanged: listed.update?.signerChanged }, { version: '3.0.0', signerChanged: true })

    const refused = await cli(user, 'update', APP)
    assert.equal(refused.code, 1)
    const error = refused.json().error
    assert.equal(error.name, 'SignerChangedError')
    assert.ok(error.message.includes(keys.p) && error.message.includes(keys.q), `names both keys: ${error.message}`)
    assert.deepEqual(await readFile(installedPath), await readFile(images.v2), 'nothing changed')
    const all = await cli(user, 'update')
    assert.equal(all.code, 1, 'updating everything reports the refusal too')
    assert.equal(all.json().results[0].error.name, 'SignerChangedError')

    const told = await cli(user, 'update', APP, '--check', '--allow-signer-change')
    assert.equal(told.code, 0, told.stderr)
    assert.deepEqual([told.json().results[0].status, told.json().results[0].to], ['available', '3.0.0'])
  })

  it('removes the file, the kept version, the desktop entry, the icon and the record', async () => {
    const record = (await installedRecord())[APP]!
    const removed = await cli(user, 'remove', APP)
    assert.equal(removed.code, 0, removed.stderr)
    for (const path of [installedPath, record.previous == null ? undefined : join(home, 'Applications', `.${APP}.AppImage.previous`), join(share, 'applications', `${ICON}.desktop`), join(share, 'icons', 'hicolor', '16x16', 'apps', `${ICON}.png`)]) {
      if (path != null) await assert.rejects(stat(path), { code: 'ENOENT' }, `${path} is gone`)
    }
    assert.deepEqual((await cli(user, 'list')).json().apps, [])
    const again = await cli(user, 'remove', APP)
    assert.equal(again.json().error.name, 'NotInstalledError')
  })
})
