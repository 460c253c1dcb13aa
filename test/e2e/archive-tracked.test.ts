import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import { assemble, buildRuntime, buildTree, mksquashfs } from '../../packages/appimage/test/fixtures/build.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/browser.ts'
import { runCli, startCli, tempDir } from '../helpers/cli.ts'
import { eventually } from '../helpers/eventually.ts'
import type { RunningCli } from '../helpers/cli.ts'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

interface Ready { peerId: string, multiaddrs: string[], api: string }

const APP = 'org.example.MyApp'
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAF0lEQVR4nGP8z4AfMOGVHVUwqmBUAQUAYSoBH6PrTUwAAAAASUVORK5CYII=', 'base64')
// script in an SVG: never runs, in an <img> or opened on the mirror's origin
const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="teal"/><script>window.top.__pwned = 1; document.title = "pwned"</script></svg>')

/** An AppImage of the fixture tree whose AppStream data declares `version` (mksquashfs, reproducible) */
async function buildVersion (dir: string, version: string): Promise<Buffer> {
  const tree = join(dir, `tree-${version}`)
  await buildTree(tree, { seed: version })
  const metainfo = join(tree, 'usr/share/metainfo/org.example.MyApp.metainfo.xml')
  const text = await readFile(metainfo, 'utf8')
  await writeFile(metainfo, text.replace('<releases>', `<releases>\n    <release version="${version}" date="2025-01-01"/>`))
  await mksquashfs(tree, join(dir, `${version}.squashfs`), { compressor: 'zstd', blockSize: 131072, fragments: true })
  await assemble(buildRuntime({}).bytes, join(dir, `${version}.squashfs`), join(dir, `${version}.AppImage`))
  return await readFile(join(dir, `${version}.AppImage`))
}

describe('a mirror archives an app\'s images and tracks its new version, which a reader then gets after the origin died', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let server: Server | undefined
  let origin: string
  let mirror: RunningCli | undefined
  let reader: RunningCli | undefined
  let ready: Ready
  let mirrorKey: string
  const files: { v1: Buffer, v2: Buffer, current: 'v1' | 'v2' } = { v1: Buffer.alloc(0), v2: Buffer.alloc(0), current: 'v1' }
  const data = (name: string): string => join(dir.path, name)
  const api = async <T>(path: string): Promise<T> => await (await fetch(new URL(path, ready.api))).json() as T

  before(async () => {
    dir = await tempDir('hubless-tracked-')
    files.v1 = await buildVersion(dir.path, '1.1.0')
    files.v2 = await buildVersion(dir.path, '1.2.0')
    server = createServer((req, res) => {
      if (req.url === '/app/MyApp.AppImage') {
        const etag = `"${files.current}"`
        if (req.headers['if-none-match'] === etag) res.writeHead(304, { etag }).end()
        else res.writeHead(200, { 'content-type': 'application/octet-stream', etag }).end(files[files.current])
      } else if (req.url === '/media/icon.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG)
      else if (req.url === '/media/shot.svg') res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(SVG)
      else if (req.url === '/media/page.png') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Screenshots</title>')
      else if (req.url === '/media/loop.png') res.writeHead(302, { location: '/media/loop.png' }).end()
      else if (req.url === '/media/endless.png') {
        res.writeHead(200, { 'content-type': 'image/png' })
        const chunk = Buffer.alloc(64 * 1024, 7)
        const pump = (): void => { while (!res.destroyed && res.write(chunk)) { /* until the buffer is full */ } }
        res.on('drain', pump)
        pump()
      } else res.writeHead(404).end()
    })
    await new Promise<void>(resolve => { server!.listen(0, '127.0.0.1', resolve) })
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await writeFile(data('catalog.json'), JSON.stringify([{
      id: 'MyApp',
      name: 'MyApp',
      summary: 'an app AppImageHub only links to',
      appstreamId: APP,
      sourceUrl: `${origin}/app/MyApp.AppImage`,
      icons: [`${origin}/media/icon.png`],
      screenshots: ['shot.svg', 'page.png', 'loop.png', 'endless.png'].map(n => `${origin}/media/${n}`),
      categories: ['Utility'],
      architecture: 'x86_64',
      appImageType: 2
    }]))
    const init = await runCli(['--data-dir', data('mirror'), '--json', 'init'])
    assert.equal(init.code, 0, init.stderr)
    mirrorKey = (JSON.parse(init.stdout) as { publisher: string }).publisher
    mirror = await startCli(['--data-dir', data('mirror'), '--json', 'mirror', '--http', '127.0.0.1:0', '--pin', 'all', '--seed', data('catalog.json'),
      '--archive-max-file', '16M', '--archive-timeout', '2', '--archive-recheck', '2', '--track', 'none'], { timeout: 90_000 })
    ready = JSON.parse(mirror.readyLine) as Ready
  })

  after(async () => {
    await reader?.stop()
    await mirror?.stop()
    server?.closeAllConnections()
    await new Promise<void>(resolve => { if (server == null) resolve(); else server.close(() => { resolve() }) })
    await dir.remove()
  })

  it('archives the icon and screenshots that are images, names what is wrong with the rest, and serves its copies', async () => {
    interface Media { archived: number, failed: Array<{ url: string, error: string }> }
    const media = await eventually('the images to be tried', async () => {
      const m = (await api<{ archive: { media?: Media } }>('/api/v1/status')).archive.media
      return m != null && m.archived + m.failed.length === 5 ? m : undefined
    }, 60_000)
    assert.equal(media.archived, 2)
    const errors = Object.fromEntries(media.failed.map(f => [f.url.split('/').at(-1), f.error.split(':')[0]]))
    assert.deepEqual(errors, { 'page.png': 'OriginServedHtmlError', 'loop.png': 'TooManyRedirectsError', 'endless.png': 'OriginTooLargeError' })
    const page = await api<{ icon: string, iconFallback: string, screenshots: string[], screenshotFallbacks: string[], origins: Array<{ state: string }> }>(`/api/v1/apps/${APP}`)
    assert.match(page.icon, /^\/ipfs\/\w+$/)
    assert.equal(page.iconFallback, `${origin}/media/icon.png`)
    assert.match(page.screenshots[0]!, /^\/ipfs\/\w+$/)
    assert.equal(page.screenshots[1], `${origin}/media/page.png`, 'no copy: the original URL')
    assert.deepEqual(page.screenshotFallbacks, ['shot.svg', 'page.png', 'loop.png', 'endless.png'].map(n => `${origin}/media/${n}`))
    assert.equal(page.origins[0]?.state, 'alive', 'the app\'s file was archived, whatever became of its images')
    const list = await api<{ apps: Array<{ appId: string, icon: string, iconFallback?: string }> }>('/api/v1/apps?q=MyApp')
    assert.deepEqual(list.apps.map(a => [a.icon, a.iconFallback]), [[page.icon, `${origin}/media/icon.png`]], 'search results name the copy too')
    const icon = await fetch(new URL(page.icon, ready.api))
    assert.equal(icon.headers.get('content-type'), 'image/png')
    assert.ok(Buffer.from(await icon.arrayBuffer()).equals(PNG))
    const svg = await fetch(new URL(page.screenshots[0]!, ready.api))
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml')
    assert.match(svg.headers.get('content-security-policy') ?? '', /sandbox/)
    assert.equal(svg.headers.get('x-content-type-options'), 'nosniff')
    const metrics = await (await fetch(new URL('/metrics', ready.api))).text()
    assert.match(metrics, /hubless_archived_images\{state="archived"\} 2/)
    assert.match(metrics, /hubless_archived_images\{state="failed"\} 3/)
    // the feed names the copy first, the original after it
    const feed = await api<{ items: Array<{ id: string, icons: string[], screenshots: string[] }> }>('/feed.json')
    const item = feed.items.find(i => i.id === APP)!
    assert.deepEqual(item.icons, [new URL(page.icon, ready.api).href, `${origin}/media/icon.png`])
    assert.equal(item.screenshots[0], new URL(page.screenshots[0]!, ready.api).href)
  })

  it('witnesses the new version the origin serves, which a second node gets byte-identical by CID after the origin stopped', async () => {
    files.current = 'v2'
    const tracked = await eventually('the new version to be witnessed', async () => {
      const page = await api<{ trackedVersions?: Array<{ version: string, download?: string }> }>(`/api/v1/apps/${APP}`)
      return page.trackedVersions?.find(t => t.version === '1.2.0')
    }, 60_000)
    assert.match(tracked.download ?? '', /^\/ipfs\/\w+\?filename=org\.example\.MyApp-1\.2\.0-x86_64\.AppImage&download=true$/)
    server!.closeAllConnections()
    await new Promise<void>(resolve => { server!.close(() => { resolve() }) })
    server = undefined

    // through the mirror's HTTP download of the tracked version
    const viaMirror = Buffer.from(await (await fetch(new URL(tracked.download!, ready.api))).arrayBuffer())
    assert.ok(viaMirror.equals(files.v2), 'the mirror serves the tracked version')

    reader = await startCli(['--data-dir', data('reader'), '--json', 'daemon', '--http', '127.0.0.1:0', '--peer', ready.multiaddrs[0]!], { timeout: 60_000 })
    const trusted = await runCli(['--data-dir', data('reader'), 'trust', 'add', mirrorKey, '--witness'])
    assert.equal(trusted.code, 0, trusted.stderr)
    const out = data('got.AppImage')
    const got = await eventually('get of the tracked version, by CID, checked against the witnessed SHA-256', async () => {
      const r = await runCli(['--data-dir', data('reader'), '--json', 'get', APP, '-o', out], { timeout: 60_000 })
      if (r.code !== 0) return undefined
      const result = JSON.parse(r.stdout) as { version: string, tracked?: boolean, witnessedBy: string[] }
      return result.version === '1.2.0' ? result : undefined
    }, 60_000)
    assert.equal(got.tracked, true)
    assert.deepEqual(got.witnessedBy, [mirrorKey])
    assert.ok((await readFile(out)).equals(files.v2), 'byte-identical to what the origin served as 1.2.0')

    const older = await runCli(['--data-dir', data('reader'), '--json', 'get', `${APP}@1.1.0`, '-o', data('older.AppImage')], { timeout: 60_000 })
    assert.equal(older.code, 0, older.stderr)
    assert.ok((await readFile(data('older.AppImage'))).equals(files.v1), 'APP@VERSION gets the version asked for')
    const none = await runCli(['--data-dir', data('reader'), 'get', `${APP}@9.9`, '-o', data('none.AppImage')])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /AppNotFoundError|no usable version 9\.9/)

    const home = data('home')
    const installed = await runCli(['--data-dir', data('reader'), '--json', 'install', APP, '--dir', join(home, 'Applications')], { timeout: 60_000, env: { HOME: home, XDG_DATA_HOME: join(home, '.local/share') } })
    assert.equal(installed.code, 0, installed.stderr)
    const app = (JSON.parse(installed.stdout) as { app: { version: string, path: string } }).app
    assert.equal(app.version, '1.2.0')
    assert.ok((await readFile(app.path)).equals(files.v2))
  })

  it('with the origin stopped, the storefront shows the images from the mirror and the tracked version as witnessed, and an SVG runs no script on its origin', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 })
    try {
      const page = await browser.newPage()
      const requested: string[] = []
      page.on('request', r => { requested.push(r.url()) })
      await page.goto(`${ready.api}#/app/${APP}`)
      const icon = page.locator('img.app-icon')
      await icon.waitFor({ timeout: 30_000 })
      await page.waitForFunction(() => (document.querySelector('img.app-icon') as HTMLImageElement | null)?.complete === true, undefined, { timeout: 30_000 })
      assert.match((await icon.getAttribute('src')) ?? '', /^\/ipfs\/\w+$/)
      assert.ok(await icon.evaluate(img => (img as HTMLImageElement).naturalWidth > 0), 'the mirror\'s copy of the icon loaded')
      const shot = page.locator('.screenshots img').first()
      await page.waitForFunction(() => (document.querySelector('.screenshots img') as HTMLImageElement | null)?.complete === true, undefined, { timeout: 30_000 })
      assert.ok(await shot.evaluate(img => (img as HTMLImageElement).naturalWidth > 0), 'the SVG screenshot shows')
      assert.ok(!requested.some(u => u.startsWith(`${origin}/media/icon.png`) || u.startsWith(`${origin}/media/shot.svg`)), 'the archived images come from the mirror, not the origin')
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined)
      const tracked = page.locator('[data-tracked-version="1.2.0"]')
      assert.match((await tracked.textContent()) ?? '', /witnessed by 1 mirror/)
      assert.match((await tracked.locator('[data-tracked-download]').getAttribute('href')) ?? '', /^\/ipfs\/\w+\?filename=/)
      // opened on its own, on the mirror's origin: sandboxed
      const svgUrl = new URL((await shot.getAttribute('src'))!, ready.api).href
      await page.goto(svgUrl)
      assert.notEqual(await page.title(), 'pwned', 'the SVG\'s script did not run')
    } finally {
      await browser.close()
    }
  })
})
