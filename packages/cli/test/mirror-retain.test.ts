import assert from 'node:assert/strict'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildReleaseRecord, buildYankRecord } from '@hubless/registry'
import type { ReleaseRecord, SignedRecord } from '@hubless/registry'
import { runCli, tempDir } from '../../../test/helpers/cli.ts'
import { dataDirLayout } from '../src/data-dir.ts'
import { startMirror } from '../src/daemon/run-mirror.ts'
import { yank } from '../src/operations/publisher-records.ts'
import { CATALOG_RETAIN_RELEASES } from '../src/services.ts'
import type { ApiAppDetail, ApiReleasePage } from '@hubless/mirror/api'

const APP = 'org.example.Nightly'
const NIGHTLIES = 12

async function json<T> (url: URL): Promise<{ status: number, body: T }> {
  const response = await fetch(url)
  return { status: response.status, body: await response.json() as T }
}

/** A mirror's catalog keeps the newest releases; its API reads every one from the registry */
describe('a mirror that keeps only the newest releases in memory', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const start = async () => startMirror({ layout: dataDirLayout(join(dir.path, 'm')), listen: [], peers: [], lan: false, http: { host: '127.0.0.1', port: 0 }, pin: 'none', saveIndexAfter: 100 })
  let mirror: Awaited<ReturnType<typeof start>> | undefined
  let nightlies: Array<SignedRecord<ReleaseRecord>>

  before(async () => {
    dir = await tempDir('hubless-mirror-retain-')
    const init = await runCli(['--data-dir', join(dir.path, 'm'), 'init'])
    assert.equal(init.code, 0, init.stderr)
    mirror = await start()
    // the data dir's own key: a yank through its operations below signs with it
    const key = await mirror.services.publisherKey()
    const registry = await mirror.services.registry()
    const drafts = Array.from({ length: NIGHTLIES }, (_, i) => buildReleaseRecord({
      appId: APP,
      version: `1.0.${i}`,
      channel: 'nightly',
      arch: 'x86_64',
      content: { urls: [`https://example.org/nightly-${i}.AppImage`] },
      app: { name: 'Nightly', summary: 'built every night' }
    }, { publisher: key.did, time: 1_800_000_000_000 + i * 86_400_000 }))
    nightlies = await registry.publishMany(drafts, key) as Array<SignedRecord<ReleaseRecord>>
    // the newest is withdrawn after the fact: the two kept before it are the fallback
    await registry.publish(buildYankRecord(nightlies.at(-1)!, 'crashes at start', { publisher: key.did, time: 1_900_000_000_000 }), key)
  })

  after(async () => {
    await mirror?.stop()
    await dir.remove()
  })

  it('shows the newest releases on the app page and lists every one, a page at a time', async () => {
    const { body: app } = await json<ApiAppDetail>(new URL(`/api/v1/apps/${APP}`, mirror!.api))
    assert.equal(app.historyPartial, true)
    assert.deepEqual(app.history.map(r => r.version), ['1.0.11', '1.0.10', '1.0.9', '1.0.0'], `the newest ${CATALOG_RETAIN_RELEASES} and the first`)
    assert.equal(Object.values(app.latest)[0]?.version, '1.0.10')

    const { status, body: all } = await json<ApiReleasePage>(new URL(`/api/v1/apps/${APP}/releases`, mirror!.api))
    assert.equal(status, 200)
    assert.equal(all.total, NIGHTLIES)
    assert.deepEqual(all.releases.map(r => r.version), nightlies.map(n => n.record.version).reverse())
    assert.deepEqual(all.releases[0]?.yanked, { reason: 'crashes at start' })
    assert.equal(all.releases.filter(r => r.yanked != null).length, 1)

    const { body: page } = await json<ApiReleasePage>(new URL(`/api/v1/apps/${APP}/releases?offset=4&limit=3`, mirror!.api))
    assert.deepEqual(page.releases.map(r => r.version), ['1.0.7', '1.0.6', '1.0.5'])
    assert.equal(page.total, NIGHTLIES)

    for (const [path, code] of [[`${APP}/releases?limit=0`, 400], [`${APP}/releases?limit=5000`, 400], [`${APP}/releases?offset=x`, 400], ['org.example.None/releases', 404], [`${APP}/other`, 400]] as const) {
      const answer = await json<{ error: { name: string } }>(new URL(`/api/v1/apps/${path}`, mirror!.api))
      assert.equal(answer.status, code, path)
      assert.equal(typeof answer.body.error.name, 'string')
    }
  })

  it('saves what it keeps with the registry\'s position, and restarts to the same views', async () => {
    const before = await json<ApiAppDetail>(new URL(`/api/v1/apps/${APP}`, mirror!.api))
    await mirror!.stop()
    mirror = undefined
    const saved = await readFile(dataDirLayout(join(dir.path, 'm')).indexFile, 'utf8')
    const header = JSON.parse(saved.slice(0, saved.indexOf('\n')))
    assert.equal(header.retain, CATALOG_RETAIN_RELEASES)
    assert.equal(header.records, 5, 'four releases and the yank')
    assert.equal(header.position.seq, NIGHTLIES + 1)
    assert.deepEqual(header.partial, [APP])

    mirror = await start()
    const after = await json<ApiAppDetail>(new URL(`/api/v1/apps/${APP}`, mirror.api))
    assert.deepEqual(after.body, before.body)
  })

  it('rebuilds its catalog from the registry when the saved index is torn', async () => {
    const before = await json<ApiAppDetail>(new URL(`/api/v1/apps/${APP}`, mirror!.api))
    await mirror!.stop()
    mirror = undefined
    const file = dataDirLayout(join(dir.path, 'm')).indexFile
    const saved = await readFile(file, 'utf8')
    await writeFile(file, saved.slice(0, Math.floor(saved.length / 2)))
    mirror = await start()
    const after = await json<ApiAppDetail>(new URL(`/api/v1/apps/${APP}`, mirror.api))
    assert.deepEqual(after.body, before.body)
  })

  it('yanks a release its catalog no longer keeps, found in the registry', async () => {
    const output = await yank.run({ services: mirror!.services, signal: AbortSignal.timeout(30_000) }, { appId: APP, version: '1.0.2', reason: 'a bad build' })
    assert.equal(output.release, nightlies[2]!.id)
    const { body: all } = await json<ApiReleasePage>(new URL(`/api/v1/apps/${APP}/releases`, mirror!.api))
    assert.deepEqual(all.releases.find(r => r.version === '1.0.2')?.yanked, { reason: 'a bad build' })
    await assert.rejects(yank.run({ services: mirror!.services, signal: AbortSignal.timeout(30_000) }, { appId: APP, version: '9.9.9', reason: 'none such' }), { name: 'UsageError' })
  })

  it('a command run while no mirror runs keeps what the mirror keeps, and leaves its saved index as it was', async () => {
    await mirror!.stop()
    mirror = undefined
    const file = dataDirLayout(join(dir.path, 'm')).indexFile
    const written = await stat(file)
    // `trust` opens the catalog in the command's own process
    const trust = await runCli(['--data-dir', join(dir.path, 'm'), '--json', 'trust', 'list'])
    assert.equal(trust.code, 0, trust.stderr)
    const after = await stat(file)
    assert.deepEqual([after.mtimeMs, after.size], [written.mtimeMs, written.size], 'not rebuilt from the registry and written again')
    const saved = await readFile(file, 'utf8')
    assert.equal(JSON.parse(saved.slice(0, saved.indexOf('\n'))).retain, CATALOG_RETAIN_RELEASES)
  })
})
