import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createNode } from '@hubless/net'
import { createCatalog, createWitnessIndex } from '@hubless/query'
import { buildReleaseRecord, createPublisherKey, createRegistry, createWitnessLog } from '@hubless/registry'
import { assemble, buildRuntime, buildTree, mksquashfs } from '../../appimage/test/fixtures/build.ts'
import { startArchiver } from '../src/archive/archiver.ts'
import { globToRegExp, parseGithubRelease, parseZsyncHeader, pickAsset } from '../src/archive/upstream.ts'
import { appWitnesses, releasedVersions } from '../src/witness-mapping.ts'
import type { Archiver, ArchiveEvent } from '../src/archive/archiver.ts'
import type { HublessNode } from '@hubless/net'
import type { Catalog } from '@hubless/query'
import type { Registry, WitnessRecord } from '@hubless/registry'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { closeServer, listenOnLoopback } from './local-server.ts'

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex')

/** An AppImage declaring `version`, with `updateInformation` in its runtime (mksquashfs) */
async function buildImage (dir: string, version: string, updateInformation: string | undefined, squashfs: Map<string, string>): Promise<Buffer> {
  let image = squashfs.get(version)
  if (image == null) {
    const tree = join(dir, `tree-${version}`)
    await buildTree(tree, { seed: version })
    const metainfo = join(tree, 'usr/share/metainfo/org.example.MyApp.metainfo.xml')
    await writeFile(metainfo, (await readFile(metainfo, 'utf8')).replace('<release version="1.1.0"', `<release version="${version}"`))
    const desktop = join(tree, 'usr/share/applications/org.example.MyApp.desktop')
    await writeFile(desktop, (await readFile(desktop, 'utf8')).replace('X-AppImage-Version=1.1.0', `X-AppImage-Version=${version}`))
    image = join(dir, `${version}.squashfs`)
    await mksquashfs(tree, image, { compressor: 'zstd', blockSize: 131072, fragments: true })
    squashfs.set(version, image)
  }
  const out = join(dir, `${createHash('sha256').update(`${version}|${updateInformation}`).digest('hex').slice(0, 12)}.AppImage`)
  await assemble(buildRuntime({ updateInformation }).bytes, image, out)
  return await readFile(out)
}

function zsyncControl (file: Buffer, name: string): string {
  return `zsync: 0.6.2\nFilename: ${name}\nMTime: Sat, 01 Jun 2024 00:00:00 +0000\nBlocksize: 2048\nLength: ${file.byteLength}\nHash-Lengths: 2,2,5\nURL: ${name}\nSHA-1: ${sha1(file)}\n\n\u0001\u0002 block checksums follow`
}

describe('tracking archived apps upstream', () => {
  let dir: string
  let server: Server
  let base: string
  let node: HublessNode
  let registry: Registry
  let witnesses: Registry
  let catalog: Catalog
  let archiver: Archiver
  const events: ArchiveEvent[] = []
  const files: Record<string, Buffer> = {}
  /** which version each upstream announces, and what the bad .zsync host answers */
  const upstream = { z: '1', g: '1', p: '1', u: '1', bad: 'html' as 'html' | 'junk' | 'endless' | 'mismatch' }
  const seen = { zsync304: 0, api304: 0, authorization: [] as string[], paths: [] as string[] }

  const send = (req: IncomingMessage, res: ServerResponse, body: Buffer | string, type: string, etag?: string): void => {
    if (etag != null && req.headers['if-none-match'] === etag) {
      if (req.url?.endsWith('.zsync') === true) seen.zsync304++
      else seen.api304++
      res.writeHead(304, { etag }).end()
      return
    }
    res.writeHead(200, { 'content-type': type, ...(etag == null ? {} : { etag }) }).end(body)
  }
  const release = (tag: string, assets: Array<[string, Buffer | string, string]>): string => JSON.stringify({
    tag_name: tag,
    name: tag,
    assets: assets.map(([name, bytes, path]) => ({ name, size: typeof bytes === 'string' ? bytes.length : bytes.byteLength, browser_download_url: `${base}${path}`, content_type: 'application/octet-stream' }))
  })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hubless-track-'))
    server = createServer((req, res) => {
      const path = req.url ?? '/'
      seen.paths.push(path)
      const bin = 'application/octet-stream'
      const file = /^\/(\w+)\/App-(\d)\.AppImage$/.exec(path)
      if (file != null && files[`${file[1]}${file[2]}`] != null) return send(req, res, files[`${file[1]}${file[2]}`]!, bin)
      if (path === '/z/App.AppImage.zsync') return send(req, res, zsyncControl(files[`z${upstream.z}`]!, `App-${upstream.z}.AppImage`), bin, `"z${upstream.z}"`)
      if (/^\/g\/App-\d\.AppImage\.zsync$/.test(path)) return send(req, res, zsyncControl(files[`g${path[7]}`]!, `App-${path[7]}.AppImage`), bin)
      if (path === '/u/App.AppImage') return send(req, res, files[`u${upstream.u}`]!, bin, `"u${upstream.u}"`)
      if (path.startsWith('/api/')) seen.authorization.push(req.headers.authorization ?? '')
      if (path === '/api/repos/owner/app/releases/latest') {
        const v = upstream.g
        return send(req, res, release(`v${v}`, [[`App-${v}-x86_64.AppImage`, files[`g${v}`]!, `/g/App-${v}.AppImage`], [`App-${v}-x86_64.AppImage.zsync`, 'x', `/g/App-${v}.AppImage.zsync`]]), 'application/json', `"g${v}"`)
      }
      if (path === '/api/repos/owner/plain/releases/latest') {
        const v = upstream.p
        return send(req, res, release(`v${v}`, [[`App-${v}-aarch64.AppImage`, files.p1!, '/p/App-1.AppImage'], [`App-${v}-x86_64.AppImage`, files[`p${v}`]!, `/p/App-${v}.AppImage`]]), 'application/json', `"p${v}"`)
      }
      if (path === '/api/repos/owner/bad/releases/latest') return send(req, res, '{"message": "Not Found", "documentation_url": "x"}', 'application/json')
      if (path === '/bad/App.AppImage.zsync') {
        if (upstream.bad === 'html') return send(req, res, '<!doctype html><title>Releases</title>', 'text/html')
        if (upstream.bad === 'junk') return send(req, res, 'this is not\na zsync file\n\n', bin)
        if (upstream.bad === 'mismatch') return send(req, res, zsyncControl(files.b1!, '../b/App-1.AppImage').replace(/SHA-1: \w+/, `SHA-1: ${'0'.repeat(40)}`).replace(/Length: \d+/, 'Length: 5'), bin)
        res.writeHead(200, { 'content-type': bin })
        const chunk = Buffer.alloc(16 * 1024, 'a')
        const pump = (): void => { while (!res.destroyed && res.write(chunk)) { /* until the buffer is full */ } }
        res.on('drain', pump)
        pump()
        return
      }
      res.writeHead(404).end()
    })
    base = await listenOnLoopback(server)

    const squashfs = new Map<string, string>()
    const zInfo = `zsync|${base}/z/App.AppImage.zsync`
    const gInfo = 'gh-releases-zsync|owner|app|latest|App-*-x86_64.AppImage.zsync'
    files.z1 = await buildImage(dir, '1.1.0', zInfo, squashfs)
    files.z2 = await buildImage(dir, '2.0.0', zInfo, squashfs)
    files.g1 = await buildImage(dir, '1.1.0', gInfo, squashfs)
    files.g2 = await buildImage(dir, '2.0.0', gInfo, squashfs)
    files.p1 = await buildImage(dir, '1.1.0', undefined, squashfs)
    files.p2 = await buildImage(dir, '2.0.0', undefined, squashfs)
    files.u1 = files.p1
    files.u2 = files.p2
    files.b1 = await buildImage(dir, '1.1.0', `zsync|${base}/bad/App.AppImage.zsync`, squashfs)

    node = await createNode({ directory: join(dir, 'node'), listen: ['/ip4/127.0.0.1/tcp/0'], lan: false, peers: [], gateways: [] })
    registry = await createRegistry({ node }, { directory: join(dir, 'registry') })
    witnesses = await createWitnessLog({ node }, { directory: join(dir, 'witnesses') })
    catalog = await createCatalog({ source: registry }, { roots: [] })
    const importer = createPublisherKey()
    const apps: Array<[string, string, string | undefined]> = [
      ['Z', '/z/App-1.AppImage', undefined],
      ['G', '/g/App-1.AppImage', undefined],
      ['P', '/p/App-1.AppImage', 'https://github.com/owner/plain'],
      ['U', '/u/App.AppImage', undefined],
      ['B', '/b/App-1.AppImage', 'https://github.com/owner/bad']
    ]
    for (const [name, path, homepage] of apps) {
      await registry.publish(buildReleaseRecord({
        appId: `org.example.Track${name}`,
        version: '1.1.0',
        channel: 'release',
        arch: 'x86_64',
        content: { urls: [`${base}${path}`] },
        app: { name: `Track ${name}`, homepage },
        imported: { source: 'appimagehub', sourceId: `Track-${name}` }
      }, { publisher: importer.did }), importer)
    }
    archiver = await startArchiver({ node, registry, witnesses, key: createPublisherKey() }, {
      directory: join(dir, 'archive'),
      scanInterval: 3600_000,
      recheckInterval: 1,
      tracking: { interval: 1, hostSpacing: 0, githubApi: `${base}/api`, githubToken: 'test-token' },
      onEvent: event => { events.push(event) }
    })
    await archiver.runOnce()
  })

  after(async () => {
    await archiver?.stop()
    await catalog?.stop()
    await witnesses?.stop()
    await registry?.stop()
    await node?.stop()
    await closeServer(server)
    await rm(dir, { recursive: true, force: true })
  })

  const witnessed = async (): Promise<WitnessRecord[]> => {
    const out: WitnessRecord[] = []
    for await (const w of witnesses.records()) out.push(w.record as WitnessRecord)
    return out
  }
  const trackedOf = async (appId: string): Promise<{ state: string, source: string, versions: string[], lastError?: string } | undefined> =>
    (await archiver.status()).tracked.find(t => t.appId === appId)

  it('archives every app, then finds each one current upstream by its own source', async () => {
    const status = await archiver.status()
    assert.equal(status.archived, 5, JSON.stringify(status.checked.map(c => [c.url, c.lastError])))
    assert.deepEqual(Object.fromEntries(status.tracked.map(t => [t.appId.slice(-1), t.source])), { Z: 'zsync', G: 'gh-releases-zsync', P: 'github', U: 'url', B: 'zsync' })
    for (const app of ['Z', 'G', 'P']) assert.equal((await trackedOf(`org.example.Track${app}`))?.state, 'current', app)
    assert.equal((await witnessed()).length, 5, 'nothing new upstream: only the five archived files are witnessed')
    assert.ok(!seen.paths.includes('/p/App-2.AppImage'))
  })

  it('asks again with conditional requests: unchanged answers are 304s', async () => {
    const before = { zsync: seen.zsync304, api: seen.api304 }
    await archiver.runOnce()
    assert.ok(seen.zsync304 > before.zsync, 'the .zsync was asked with If-None-Match')
    assert.ok(seen.api304 >= before.api + 2, 'the releases API was asked with If-None-Match')
    assert.ok(seen.authorization.every(a => a === 'Bearer test-token'), 'GITHUB_TOKEN is sent as a Bearer token')
  })

  it('witnesses a new release found by zsync, by the GitHub Releases API and by the repository link, with the versions the files declare', async () => {
    upstream.z = '2'
    upstream.g = '2'
    upstream.p = '2'
    await archiver.runOnce()
    const all = await witnessed()
    for (const [app, key] of [['Z', 'z2'], ['G', 'g2'], ['P', 'p2']] as const) {
      const w = all.find(r => r.appId === `org.example.Track${app}` && r.version === '2.0.0')
      assert.ok(w != null, `${app}: a witness of 2.0.0 in ${JSON.stringify(all.map(r => [r.appId, r.version]))}`)
      assert.equal(w.sha256, createHash('sha256').update(files[key]!).digest('hex'))
      assert.equal(w.release, undefined, 'a tracked version names no release record')
      assert.equal(w.url, `${base}/${key[0]}/App-2.AppImage`)
      assert.ok(await node.content.isPinned(w.cid), 'the new file is pinned')
      const t = await trackedOf(`org.example.Track${app}`)
      assert.equal(t?.state, 'updated')
      assert.deepEqual(t?.versions, ['2.0.0'])
    }
    // asked again: nothing more is witnessed
    await archiver.runOnce()
    assert.equal((await witnessed()).length, all.length)
  })

  it('shows tracked versions in the app page, apart from the releases the records name', async () => {
    const index = createWitnessIndex()
    for await (const w of witnesses.records()) index.add(w)
    const app = await (async () => {
      for (let i = 0; i < 100; i++) {
        const found = catalog.app('org.example.TrackZ')
        if (found != null) return found
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      throw new Error('the catalog never listed org.example.TrackZ')
    })()
    const fields = appWitnesses(index, app)
    assert.equal(fields.trackedVersions.length, 1)
    assert.equal(fields.trackedVersions[0]?.version, '2.0.0')
    assert.equal(fields.trackedVersions[0]?.mirrors, 1)
    assert.equal(fields.trackedVersions[0]?.agree, true)
    const summary = Object.values(fields.witnesses)[0]
    assert.equal(summary?.agree, true, 'the archived release still agrees: the new version is not a conflict')

    // a bounded catalog keeps part of the history: which versions were released is the registry's to say
    const partial = { ...app, historyPartial: true as const }
    assert.equal(await releasedVersions(registry, index, app), undefined, 'a complete history says it all')
    const released = await releasedVersions(registry, index, partial)
    assert.ok(released?.has(`${app.history[0]!.version}\n${app.history[0]!.arch}`))
    assert.equal(appWitnesses(index, partial, released).trackedVersions.length, 1, 'the tracked version is still unreleased')
    const tracked = fields.trackedVersions[0]!
    const releasedSince = { async * find () { yield { record: { kind: 'release', version: tracked.version, arch: tracked.arch } } } }
    const dropped = { ...partial, history: [] }
    assert.deepEqual(appWitnesses(index, dropped, await releasedVersions(releasedSince as never, index, dropped)).trackedVersions, [], 'a release the kept history dropped is not shown as a tracked version')
  })

  it('a plain URL that serves a new version (new ETag) is a tracked version, not a changed origin', async () => {
    upstream.u = '2'
    await archiver.runOnce()
    const u = (await archiver.status()).checked.find(c => c.appId === 'org.example.TrackU')
    assert.equal(u?.state, 'alive')
    assert.equal(u?.archived?.version, '1.1.0', 'the first copy stays, still served here')
    const w = (await witnessed()).find(r => r.appId === 'org.example.TrackU' && r.version === '2.0.0')
    assert.ok(w != null && w.release == null)
  })

  it('garbage upstream answers get named errors and lose nothing', async () => {
    const appId = 'org.example.TrackB'
    const before = (await archiver.status()).checked.find(c => c.appId === appId)!
    assert.equal(before.archived?.availableHere, true)
    const expect: Array<[typeof upstream.bad, string]> = [['html', 'OriginServedHtmlError'], ['junk', 'ZsyncControlError'], ['endless', 'ZsyncControlError'], ['mismatch', 'ZsyncMismatchError']]
    for (const [mode, name] of expect) {
      upstream.bad = mode
      await archiver.runOnce()
      const t = await trackedOf(appId)
      assert.equal(t?.state, 'failing', mode)
      assert.match(t?.lastError ?? '', new RegExp(`^${name}:`), `${mode}: ${t?.lastError}`)
    }
    const after = (await archiver.status()).checked.find(c => c.appId === appId)!
    assert.equal(after.state, 'alive')
    assert.deepEqual(after.archived, before.archived, 'the archived copy is kept and still served here')
    assert.equal((await witnessed()).filter(w => w.appId === appId).length, 1)
  })

  it('parses zsync headers and releases answers, refusing garbage by name', () => {
    const h = parseZsyncHeader(zsyncControl(Buffer.from('abc'), 'App 1.AppImage').replace('URL: App 1.AppImage', 'URL: ../dl/App%201.AppImage'), 'https://example.org/a/b/App.zsync')
    assert.deepEqual(h, { filename: 'App 1.AppImage', url: 'https://example.org/a/dl/App%201.AppImage', sha1: sha1(Buffer.from('abc')), length: 3 })
    for (const bad of ['', 'zsync: 0.6.2\nSHA-1: x\nLength: 3\n\n', 'zsync: 0.6.2\nSHA-1: ' + 'a'.repeat(40) + '\nLength: -1\n\n', 'zsync: 0.6.2\nURL: javascript:alert(1)\nSHA-1: ' + 'a'.repeat(40) + '\nLength: 3\n\n', '\u0000\u0001binary']) {
      assert.throws(() => parseZsyncHeader(bad, 'https://example.org/x.zsync'), { name: 'ZsyncControlError' }, JSON.stringify(bad))
    }
    for (const bad of ['not json', '[]', '{"tag_name": 1, "assets": []}', '{"message": "Not Found"}']) {
      assert.throws(() => parseGithubRelease(bad, 'api'), { name: 'ReleasesAnswerError' }, bad)
    }
    const rel = parseGithubRelease(JSON.stringify({ tag_name: 'v2', assets: [{ name: 'A-x86_64.AppImage', size: 1, browser_download_url: 'https://x/a' }, { name: 'bad', size: 'x', browser_download_url: 'https://x/b' }, { name: 'A-arm64.AppImage', size: 1, browser_download_url: 'ftp://x/c' }] }), 'api')
    assert.equal(rel.assets.length, 1)
    assert.equal(pickAsset(rel, { arch: 'x86_64', from: 'api' }).name, 'A-x86_64.AppImage')
    assert.throws(() => pickAsset(rel, { arch: 'aarch64', from: 'api' }), { name: 'NoMatchingAssetError' })
    assert.throws(() => pickAsset(rel, { pattern: '*.zsync', arch: 'x86_64', from: 'api' }), { name: 'NoMatchingAssetError' })
    assert.ok(globToRegExp('App-*-x86_64.AppImage.zsync').test('App-2.0-x86_64.AppImage.zsync'))
    assert.ok(!globToRegExp('App-*.zsync').test('App-1.AppImage.zsync.sig'))
  })
})
