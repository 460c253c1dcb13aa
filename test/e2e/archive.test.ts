import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { recordFromJSON } from '@hubless/registry'
import { buildFixtures } from '../../packages/appimage/test/fixtures/build.ts'
import { runCli, startCli, tempDir } from '../helpers/cli.ts'
import { eventually } from '../helpers/eventually.ts'
import type { RunningCli } from '../helpers/cli.ts'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

interface Ready { peerId: string, multiaddrs: string[], api: string }

/** The origins AppImageHub links to, as one local server: alive, changed, gone, broken, slow, endless, looping, HTML, not an AppImage */
async function startOrigins (files: { a: Buffer, b: Buffer }): Promise<{ url: string, changed: { bytes: Buffer }, requests: Map<string, number>, close: () => Promise<void> }> {
  const changed = { bytes: files.a }
  const requests = new Map<string, number>()
  const sendFile = (req: IncomingMessage, res: ServerResponse, bytes: Buffer, etag: string): void => {
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end()
      return
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    const start = range == null ? 0 : Number(range[1])
    res.writeHead(range == null ? 200 : 206, { 'content-type': 'application/octet-stream', etag, 'content-length': bytes.byteLength - start })
    res.end(bytes.subarray(start))
  }
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/'
    requests.set(path, (requests.get(path) ?? 0) + 1)
    if (path === '/alive/App.AppImage') sendFile(req, res, files.a, '"a"')
    else if (path === '/changed/App.AppImage') sendFile(req, res, changed.bytes, changed.bytes === files.a ? '"a"' : '"b"')
    else if (path === '/gone/App.AppImage') res.writeHead(404).end('not found')
    else if (path === '/error/App.AppImage') res.writeHead(500).end('oops')
    else if (path === '/slow/App.AppImage') res.writeHead(200, { 'content-type': 'application/octet-stream' }).write(files.a.subarray(0, 1000))
    else if (path === '/endless/App.AppImage') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const chunk = Buffer.alloc(64 * 1024, 7)
      const pump = (): void => { while (!res.destroyed && res.write(chunk)) { /* until the buffer is full */ } }
      res.on('drain', pump)
      pump()
    } else if (path === '/loop/App.AppImage') res.writeHead(302, { location: '/loop/App.AppImage' }).end()
    else if (path === '/html/App.AppImage') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Releases</title>')
    else if (path === '/notappimage/App.AppImage') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(300_000, 1))
    // the GitHub Releases API, as tracking asks it (the fixtures' update information names example/myapp): no release yet
    else if (path === '/github/repos/example/myapp/releases/latest') res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}')
    else res.writeHead(404).end()
  })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    changed,
    requests,
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

const ORIGINS = ['alive', 'changed', 'gone', 'error', 'slow', 'endless', 'loop', 'html', 'notappimage'] as const
const app = (name: string): string => `org.example.Archive${name[0]!.toUpperCase()}${name.slice(1)}`

interface StatusOrigin { url: string, appId: string, state: string, since: string, lastError?: string, archived?: { cid: string, sha256: string, size: number, version: string, availableHere: boolean } }
interface Status { archive: { archived: number, archivedBytes: number, origins: Record<string, number>, checked: StatusOrigin[], tracked: Array<{ appId: string, source: string, state: string, lastError?: string }> } | null }

describe('a mirror archives what the catalog only links to, and keeps it alive when the origins die', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let origins: Awaited<ReturnType<typeof startOrigins>> | undefined
  let mirror: RunningCli | undefined
  let reader: RunningCli | undefined
  let ready: Ready
  let mirrorKey: string
  let files: { a: Buffer, b: Buffer }
  const data = (name: string): string => join(dir.path, name)
  const status = async (): Promise<Status> => await (await fetch(new URL('/api/v1/status', ready.api))).json() as Status

  before(async () => {
    dir = await tempDir('hubless-archive-')
    const built = await buildFixtures(join(dir.path, 'fixtures'), [
      { compressor: 'zstd', blockSize: 131072, fragments: true },
      { compressor: 'gzip', blockSize: 131072, fragments: true }
    ])
    files = { a: await readFile(built.fixtures[0]!.path), b: await readFile(built.fixtures[1]!.path) }
    origins = await startOrigins(files)
    // AppImageHub's shape: no version, no hash, a URL
    const catalog = ORIGINS.map(name => ({
      id: `Archive-${name}`,
      name: `Archive ${name}`,
      summary: `an app whose origin is ${name}`,
      appstreamId: app(name),
      sourceUrl: `${origins!.url}/${name}/App.AppImage`,
      categories: ['Utility'],
      architecture: 'x86_64',
      appImageType: 2
    }))
    await writeFile(data('catalog.json'), JSON.stringify(catalog))
    const init = await runCli(['--data-dir', data('mirror'), '--json', 'init'])
    assert.equal(init.code, 0, init.stderr)
    mirrorKey = (JSON.parse(init.stdout) as { publisher: string }).publisher
    mirror = await startCli(['--data-dir', data('mirror'), '--json', 'mirror', '--http', '127.0.0.1:0', '--pin', 'all', '--seed', data('catalog.json'),
      '--archive-max-file', '8M', '--archive-timeout', '2', '--archive-recheck', '2', '--github-api', `${origins!.url}/github`, '--track-host-spacing', '0'], { timeout: 90_000 })
    ready = JSON.parse(mirror.readyLine) as Ready
  })

  after(async () => {
    await reader?.stop()
    await mirror?.stop()
    await origins?.close()
    await dir.remove()
  })

  it('archives the good origins, names what is wrong with each bad one, and stays up', async () => {
    const s = await eventually('every origin checked once', async () => {
      const st = await status()
      return st.archive != null && st.archive.checked.length === ORIGINS.length ? st : undefined
    })
    const byName = new Map(s.archive!.checked.map(o => [o.url.split('/')[3]!, o]))
    assert.equal(s.archive!.archived, 2)
    for (const name of ['alive', 'changed']) {
      const o = byName.get(name)!
      assert.equal(o.state, 'alive')
      assert.equal(o.archived?.version, '1.1.0', 'the real version, read from the AppImage, where the catalog had none')
      assert.equal(o.archived?.size, files.a.byteLength)
      assert.equal(o.archived?.availableHere, true)
    }
    const expected: Record<string, [string, string]> = {
      gone: ['gone', 'OriginGoneError'],
      error: ['failing', 'OriginHttpError'],
      slow: ['failing', 'OriginTimeoutError'],
      endless: ['failing', 'OriginTooLargeError'],
      loop: ['failing', 'TooManyRedirectsError'],
      html: ['failing', 'OriginServedHtmlError'],
      notappimage: ['failing', 'NotAnAppImageError']
    }
    for (const [name, [state, error]] of Object.entries(expected)) {
      assert.equal(byName.get(name)?.state, state, `${name}: ${JSON.stringify(byName.get(name))}`)
      assert.match(byName.get(name)?.lastError ?? '', new RegExp(`^${error}:`), name)
    }
    assert.ok((origins!.requests.get('/loop/App.AppImage') ?? 0) <= 6, 'a redirect loop is followed at most 5 times')

    // the witnesses, verified here, signed by the mirror's key
    const lines = (await (await fetch(new URL('/api/v1/witnesses', ready.api))).text()).trim().split('\n')
    const witnesses = await Promise.all(lines.map(async line => recordFromJSON(line)))
    assert.equal(witnesses.length, 2)
    for (const w of witnesses) {
      assert.equal(w.record.kind, 'witness')
      assert.equal(w.record.publisher, mirrorKey)
    }
    const metrics = await (await fetch(new URL('/metrics', ready.api))).text()
    assert.match(metrics, /hubless_archived_files 2/)
    // the process's memory, which an operator watches against the mirror's goals
    for (const name of ['process_resident_memory_bytes', 'hubless_anonymous_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      const value = Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1])
      assert.ok(value > 10 * 2 ** 20, `${name} is a process's memory, not ${value}`)
    }
    assert.match(metrics, /hubless_origins\{state="gone"\} 1/)
    assert.match(metrics, /hubless_origin_state_since_seconds\{app="org.example.ArchiveGone",url="[^"]+",state="gone",available_here="false"\}/)
    const detail = await (await fetch(new URL(`/api/v1/apps/${app('alive')}`, ready.api))).json() as { witnesses: Record<string, { mirrors: number, agree: boolean }> }
    const summary = Object.values(detail.witnesses)[0]
    assert.equal(summary?.mirrors, 1)
    assert.equal(summary?.agree, true)
    const origin = (detail as unknown as { origins: Array<{ state: string, archived?: { availableHere: boolean } }> }).origins
    assert.equal(origin[0]?.state, 'alive', 'the app page says how its origin fares')
    assert.equal(origin[0]?.archived?.availableHere, true)
    // tracking asked the (local) GitHub Releases API its update information names, and keeps the answer
    const tracked = await eventually('the archived apps to be tracked', async () => {
      const t = (await status()).archive?.tracked.find(a => a.appId === app('alive'))
      return t?.lastError != null ? t : undefined
    })
    assert.equal(tracked.source, 'gh-releases-zsync')
    assert.match(tracked.lastError ?? '', /^OriginGoneError: .*\/github\/repos\/example\/myapp\/releases\/latest answered 404/)
    assert.ok((origins!.requests.get('/github/repos/example/myapp/releases/latest') ?? 0) >= 1)
    assert.equal((await fetch(new URL('/healthz', ready.api))).status, 200)
  })

  it('sees a changed origin, witnesses the new bytes and shows the conflict', async () => {
    origins!.changed.bytes = files.b
    const changed = await eventually('the changed origin to be seen', async () => {
      const o = (await status()).archive?.checked.find(c => c.appId === app('changed'))
      return o?.state === 'changed' ? o : undefined
    })
    assert.equal(changed.archived?.size, files.a.byteLength, 'the first copy is kept and still served here')
    const shown = await runCli(['--data-dir', data('mirror'), 'show', app('changed')])
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /CONFLICT: .*\/changed\/App\.AppImage at version 1\.1\.0/)
    const alive = await runCli(['--data-dir', data('mirror'), 'show', app('alive')])
    assert.match(alive.stdout, /witnessed by 1 mirror\(s\): they agree/)
  })

  it('after the origins stop, a second node gets the archived file by CID from the network and through the gateway', async () => {
    const archived = (await status()).archive!.checked.find(c => c.appId === app('alive'))!.archived!
    await origins!.close()
    origins = undefined

    // through the mirror's gateway
    const viaGateway = Buffer.from(await (await fetch(new URL(`/ipfs/${archived.cid}`, ready.api))).arrayBuffer())
    assert.ok(viaGateway.equals(files.a), 'the gateway serves the archived bytes')

    // a reader node connected to the mirror, trusting nothing yet
    reader = await startCli(['--data-dir', data('reader'), '--json', 'daemon', '--http', '127.0.0.1:0', '--peer', ready.multiaddrs[0]!], { timeout: 60_000 })
    const out = join(dir.path, 'got.AppImage')
    const refused = await eventually('the reader to replicate the imported app', async () => {
      const r = await runCli(['--data-dir', data('reader'), 'get', app('alive'), '-o', out])
      if (!/imported/.test(r.stderr)) throw new Error(`get said: ${r.stderr.slice(0, 300)}`)
      return r
    })
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /--witness/)
    const trusted = await runCli(['--data-dir', data('reader'), 'trust', 'add', mirrorKey, '--witness'])
    assert.equal(trusted.code, 0, trusted.stderr)
    const got = await eventually('get by CID, verified by the witnessed SHA-256', async () => {
      const r = await runCli(['--data-dir', data('reader'), '--json', 'get', app('alive'), '-o', out], { timeout: 60_000 })
      return r.code === 0 ? r : undefined
    })
    const result = JSON.parse(got.stdout) as { sha256: string, cid: string, witnessedBy: string[], sources: Record<string, number> }
    assert.equal(result.sha256, archived.sha256)
    assert.equal(result.cid, archived.cid)
    assert.deepEqual(result.witnessedBy, [mirrorKey])
    assert.ok((await readFile(out)).equals(files.a), 'byte-identical to what the origin served')

    // over HTTP only, from a data dir with no node state: the mirror's feeds and gateway
    await runCli(['--data-dir', data('http'), 'trust', 'add', mirrorKey, '--witness'])
    const viaHttp = await runCli(['--data-dir', data('http'), '--json', 'get', app('alive'), '--mirror', ready.api, '-o', join(dir.path, 'http.AppImage')], { timeout: 60_000 })
    assert.equal(viaHttp.code, 0, viaHttp.stderr)
    assert.ok((await readFile(join(dir.path, 'http.AppImage'))).equals(files.a))
    // the dead origin says so, and that the file is still here
    const gone = await eventually('the alive origin to be seen gone or failing', async () => {
      const o = (await status()).archive?.checked.find(c => c.appId === app('alive'))
      return o != null && o.state !== 'alive' ? o : undefined
    })
    assert.equal(gone.archived?.availableHere, true)
  })
})
