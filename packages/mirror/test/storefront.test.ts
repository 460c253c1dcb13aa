import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, imageStats } from '../../../test/helpers/browser.ts'
import { startHttpServer } from '../src/http-server.ts'
import { createStorefrontRoute } from '../src/storefront-route.ts'
import { FILE_SHA256, OTHER_SHA256, PAGE_SIZE, createTestApiRoute, loadCatalog } from './storefront-fixtures.ts'
import type { HttpServer } from '../src/http-server.ts'
import type { Browser, BrowserContext, Page } from 'playwright-core'

/**
 * The storefront's own test: the page from createStorefrontRoute, driven in headless Chromium,
 * against an API route of this test that answers from the real AppImageHub catalog (through the
 * importer) and a few hand-made apps (storefront-fixtures.ts). The end-to-end test against a
 * real mirror lives with the mirror.
 */

const TIMEOUT = 15_000

/** A request with a path exactly as given (fetch would normalise `..` away) */
async function rawGet (url: string, path: string): Promise<{ status: number, body: string }> {
  const { hostname, port } = new URL(url)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    socket.setTimeout(5_000, () => { socket.destroy(new Error('raw request timed out')) })
    socket.on('connect', () => { socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`) })
    socket.on('data', chunk => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) })
    })
  })
}

const apps = loadCatalog()

describe('storefront (its own test: page + static route, against an in-test API of the imported catalog)', () => {
  let server: HttpServer
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let dir: string
  const outside: string[] = []

  /** a hash change keeps the old page until the new one renders: wait for the app asked for */
  async function openApp (appId: string): Promise<void> {
    await page.goto(`${server.url}/#/app/${appId}`)
    await page.locator(`article.app[data-app-id="${appId}"]`).waitFor()
  }
  const pageErrors: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hubless-storefront-'))
    server = await startHttpServer({ host: '127.0.0.1', port: 0 }, [createStorefrontRoute(), createTestApiRoute(apps)])
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 })
    context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true, colorScheme: 'light' })
    context.setDefaultTimeout(TIMEOUT)
    // nothing leaves 127.0.0.1: imported icons name https://appimage.github.io and must fall back
    await context.route('**/*', async route => {
      const url = new URL(route.request().url())
      if (url.hostname === '127.0.0.1') {
        await route.continue()
      } else {
        outside.push(url.href)
        await route.abort('blockedbyclient')
      }
    })
    page = await context.newPage()
    page.on('pageerror', err => { pageErrors.push(err.message) })
  })

  after(async () => {
    await context?.close()
    await browser?.close()
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  describe('the static route', () => {
    it('serves the page with content types, ETags, 304s and a strict CSP', async () => {
      const res = await fetch(`${server.url}/`, { signal: AbortSignal.timeout(TIMEOUT) })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      const etag = res.headers.get('etag')
      assert.match(etag ?? '', /^"[\w-]+"$/)
      assert.match(await res.text(), /<main id="main"/)

      const again = await fetch(`${server.url}/`, { headers: { 'if-none-match': etag ?? '' }, signal: AbortSignal.timeout(TIMEOUT) })
      assert.equal(again.status, 304)
      assert.equal(await again.text(), '')

      const types: Record<string, string> = {
        '/storefront/app.js': 'text/javascript; charset=utf-8',
        '/storefront/style.css': 'text/css; charset=utf-8',
        '/storefront/icon.svg': 'image/svg+xml',
        '/favicon.ico': 'image/svg+xml'
      }
      for (const [path, type] of Object.entries(types)) {
        const r = await fetch(server.url + path, { signal: AbortSignal.timeout(TIMEOUT) })
        assert.equal(r.status, 200, path)
        assert.equal(r.headers.get('content-type'), type, path)
        assert.equal(r.headers.get('cache-control'), 'no-cache', path)
        await r.body?.cancel()
      }
      const head = await fetch(`${server.url}/storefront/app.js`, { method: 'HEAD', signal: AbortSignal.timeout(TIMEOUT) })
      assert.equal(head.status, 200)
      assert.equal(await head.text(), '')
      const post = await fetch(`${server.url}/`, { method: 'POST', signal: AbortSignal.timeout(TIMEOUT) })
      assert.equal(post.status, 405)
      await post.body?.cancel()
    })

    it('cannot be walked out of its folder', async () => {
      const attempts = [
        '/storefront/../package.json',
        '/storefront/..%2fpackage.json',
        '/storefront/%2e%2e/package.json',
        '/storefront/%2e%2e%2fsrc%2findex.ts',
        '/storefront/..\\package.json',
        '/storefront/....//package.json',
        '/storefront//etc/passwd',
        '/storefront/%2fetc%2fpasswd',
        '/storefront/.hidden',
        '/storefront/app.js%00.css',
        '/storefront/',
        '/storefront/nope.js'
      ]
      for (const path of attempts) {
        const { status, body } = await rawGet(server.url, path)
        assert.ok(status === 404 || status === 400, `${path} answers 404/400, got ${status}`)
        assert.doesNotMatch(body, /"name": "hubless"|root:x:0:0|export /, `${path} leaks no file`)
      }
      // `..` that the URL parser resolves lands on a path the storefront does not own
      const { status } = await rawGet(server.url, '/storefront/../../../../etc/passwd')
      assert.equal(status, 404)
    })
  })

  describe('the page in Chromium', () => {
    it('lists the catalog, with facet counts and category browsing', async () => {
      await page.goto(`${server.url}/`, { waitUntil: 'load' })
      await page.locator('.result').first().waitFor()
      assert.equal(await page.locator('h1').textContent(), 'All apps')
      assert.equal(await page.locator('.count').getAttribute('data-count'), String(apps.length))
      assert.equal(await page.locator('.result').count(), PAGE_SIZE)
      // every result shows name, version and a trust badge
      const first = page.locator('.result').first()
      assert.ok(((await first.locator('.result-name').textContent()) ?? '').length > 0)
      assert.match((await first.locator('.meta').textContent()) ?? '', /Version /)
      assert.equal(await first.locator('.badge').first().isVisible(), true)

      const graphics = page.locator('#category-list a[data-category="Graphics"]')
      await graphics.waitFor()
      assert.match((await graphics.textContent()) ?? '', /^Graphics\d+$/)
      await graphics.click()
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Graphics apps')
      assert.equal(await graphics.getAttribute('aria-current'), 'page')
      const expected = apps.filter(a => a.categories.includes('Graphics')).length
      assert.equal(await page.locator('.count').getAttribute('data-count'), String(expected))
      assert.match((await page.locator('#filter-category option:checked').textContent()) ?? '', new RegExp(`^Graphics \\(${expected}\\)$`))
      // focus moves to the new heading for keyboard and screen-reader users
      assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1')

      await page.locator('.pagination a[rel="next"]').click()
      await page.waitForFunction(() => document.querySelector('.pagination [aria-current]')?.textContent?.startsWith('Page 2'))
      assert.match(page.url(), /page=2/)
    })

    it('searches and filters', async () => {
      await page.goto(`${server.url}/#/`)
      await page.locator('.result').first().waitFor()
      await page.getByLabel('Search apps').fill('krita')
      await page.keyboard.press('Enter')
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Results for “krita”')
      const names = await page.locator('.result-name').allTextContents()
      assert.ok(names.includes('Krita'), `Krita is found, got ${names.join(', ')}`)
      const krita = page.locator('.result[data-app-id="org.kde.krita"]')
      assert.match((await krita.locator('.badges').textContent()) ?? '', /Imported, not verified/)

      // filters: trusted only leaves the one trusted app; free only counts follow the facets
      await page.getByLabel('Search apps').fill('')
      await page.keyboard.press('Enter')
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'All apps')
      const trustedLabel = page.getByLabel(/Trusted publishers only/)
      assert.match((await page.locator('label.check').nth(1).textContent()) ?? '', /\(1\)$/)
      await trustedLabel.check()
      await page.waitForFunction(() => document.querySelector('.count')?.getAttribute('data-count') === '1')
      assert.deepEqual(await page.locator('.result-name').allTextContents(), ['Hubless Demo'])
      assert.match(page.url(), /trusted=true/)
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'filter-trusted', 'a filter keeps the focus while it is used')
      await page.getByLabel(/Trusted publishers only/).uncheck()
      await page.waitForFunction(n => document.querySelector('.count')?.getAttribute('data-count') === n, String(apps.length))

      await page.getByLabel(/Free licenses only/).check()
      await page.waitForFunction(n => Number(document.querySelector('.count')?.getAttribute('data-count')) < n, apps.length)
      const free = Number(await page.locator('.count').getAttribute('data-count'))
      assert.ok(free > 300 && free < apps.length, `free-only narrows the list, got ${free}`)

      await page.getByLabel('Channel').selectOption('beta')
      await page.waitForFunction(() => document.querySelector('.count')?.getAttribute('data-count') === '1')
      assert.deepEqual(await page.locator('.result-name').allTextContents(), ['Hubless Demo'])
      assert.match((await page.locator('.result .meta').textContent()) ?? '', /2\.2\.0-beta\.1.*beta · x86_64/)
    })

    it('opens an app page with trust path, versions, screenshots and a verified download', async () => {
      await page.goto(`${server.url}/#/?q=hubless+demo`)
      await page.locator('.result[data-app-id="org.hubless.Demo"] .result-name a').click()
      await page.waitForFunction(() => location.hash === '#/app/org.hubless.Demo')
      await page.locator('article.app').waitFor()
      assert.equal(await page.locator('h1').textContent(), 'Hubless Demo')
      assert.equal(await page.title(), 'Hubless Demo – hubless')
      assert.equal(await page.locator('[data-sha256]').textContent(), FILE_SHA256)
      assert.match((await page.locator('.trust .badges').textContent()) ?? '', /Trusted/)
      assert.equal(await page.locator('[data-trust-path] li').count(), 2)
      assert.deepEqual(await page.locator('.versions table').first().locator('tbody tr td:nth-child(3)').allTextContents(), ['2.2.0-beta.1', '2.1.0'])
      assert.match((await page.locator('.versions details summary').textContent()) ?? '', /All releases \(3\)/)
      assert.match((await page.locator('.versions details').textContent()) ?? '', /withdrawn/)
      assert.match((await page.locator('.description').textContent()) ?? '', /a verified file with SHA-256 and CID/)
      assert.equal(await page.locator('.description li').count(), 2)

      const shots = page.locator('.screenshots img')
      assert.equal(await shots.count(), 2)
      await page.waitForFunction(() => [...document.querySelectorAll('.screenshots img')].every(img => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0))
      assert.equal(await shots.first().getAttribute('alt'), 'Screenshot 1 of Hubless Demo')

      assert.equal(await page.locator('[data-install]').textContent(), 'hubless install org.hubless.Demo')
      assert.equal(await page.locator('[data-run]').textContent(), 'chmod +x Hubless_Demo-2.1.0-x86_64.AppImage\n./Hubless_Demo-2.1.0-x86_64.AppImage')

      const link = page.locator('a[data-download="gateway"]')
      assert.match((await link.getAttribute('href')) ?? '', /^\/ipfs\/bafk[a-z0-9]+\?filename=Hubless_Demo-2\.1\.0-x86_64\.AppImage$/)
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
      assert.equal(download.suggestedFilename(), 'Hubless_Demo-2.1.0-x86_64.AppImage')
      const saved = join(dir, 'download.AppImage')
      await download.saveAs(saved)
      assert.equal(createHash('sha256').update(await readFile(saved)).digest('hex'), FILE_SHA256, 'the file matches the SHA-256 the page shows')

      const png = await page.screenshot({ fullPage: true })
      await writeFile(join(tmpdir(), 'hubless-storefront-app.png'), png)
      const stats = imageStats(png)
      assert.ok(stats.stddev > 20 && stats.colours > 40, `the page is not blank: brightness spread ${stats.stddev.toFixed(1)}, ${stats.colours} colours`)
    })

    it('labels imported, unverified and conflicting apps and never shows them as trusted', async () => {
      await openApp('org.kde.krita')
      assert.equal(await page.locator('h1').textContent(), 'Krita')
      assert.match((await page.locator('.app-header .badges').textContent()) ?? '', /Imported, not verified/)
      assert.equal(await page.locator('.badge-good').count(), 0, 'no trusted badge anywhere on an imported app')
      assert.match((await page.locator('.download .warning').textContent()) ?? '', /No SHA-256.*imported/)
      assert.equal(await page.locator('a[data-download="gateway"]').count(), 0)
      assert.match((await page.locator('a[data-download="origin"]').getAttribute('href')) ?? '', /^https:\/\//)
      // its icon names https://appimage.github.io (blocked here): the placeholder takes its place
      await page.waitForFunction(() => (document.querySelector('.app-icon') as HTMLImageElement | null)?.src.endsWith('/storefront/app-placeholder.svg'))

      await openApp('io.github.stranger.Lonely')
      assert.match((await page.locator('.app-header .badges').textContent()) ?? '', /Unverified publisher/)
      assert.equal(await page.locator('.badge-good').count(), 0)
      assert.match((await page.locator('.trust').textContent()) ?? '', /No trust path/)

      await openApp('org.example.Contested')
      assert.match((await page.locator('.app-header .badges').textContent()) ?? '', /Conflicting publishers/)
      assert.equal(await page.locator('[data-conflicting] li').count(), 1)

      await page.goto(`${server.url}/#/app/org.example.Nope`)
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Not found')
    })

    it('shows witnesses, conflicts, tracked versions and origin states, and serves the archived copy', async () => {
      await openApp('org.example.Witnessed')
      assert.match((await page.locator('[data-witnesses]').textContent()) ?? '', /witnessed by 2 mirrors \(1 trusted by this mirror\): they agree/)
      assert.equal(await page.locator('[data-witnesses]').getAttribute('data-witnesses'), 'agree')
      assert.equal(await page.locator('[data-witness-conflict]').count(), 0)
      assert.match((await page.locator('[data-tracked-version="1.5.0"]').textContent()) ?? '', /1\.5\.0 \(release, x86_64\): witnessed by 1 mirror, they agree/)
      assert.match((await page.locator('[data-origin-state="gone"]').textContent()) ?? '', /gone \(404, 410 or no such host\) since 2026-11-25/)
      assert.match((await page.locator('[data-origin-state="gone"] [data-available-here]').textContent()) ?? '', /still available from this mirror/)
      assert.match((await page.locator('.download .warning').textContent()) ?? '', new RegExp(`this mirror fetched the file and witnessed SHA-256 ${FILE_SHA256}`))
      const archived = page.locator('a[data-download="archived"]')
      assert.match((await archived.getAttribute('href')) ?? '', /^\/ipfs\/\w+\?filename=Witnessed_App-1\.4\.0-x86_64\.AppImage&download=true$/)
      const [download] = await Promise.all([page.waitForEvent('download'), archived.click()])
      const saved = join(dir, 'archived.AppImage')
      await download.saveAs(saved)
      assert.equal(createHash('sha256').update(await readFile(saved)).digest('hex'), FILE_SHA256, 'the archived copy downloads from this mirror with the witnessed SHA-256')

      await openApp('org.example.Disputed')
      assert.equal(await page.locator('[data-witnesses]').getAttribute('data-witnesses'), 'disagree')
      assert.match((await page.locator('[data-witnesses]').textContent()) ?? '', /witnessed by 2 mirrors .*: they DISAGREE on the bytes/)
      const conflict = (await page.locator('[data-witness-conflict]').textContent()) ?? ''
      assert.match(conflict, /Conflict: https:\/\/origin\.example\/Disputed-x86_64\.AppImage served different bytes at version 1\.4\.0/)
      assert.match(conflict, new RegExp(OTHER_SHA256))
      assert.match((await page.locator('[data-origin-state="changed"]').textContent()) ?? '', /CHANGED: it serves other bytes than this mirror archived from it since 2026-11-21\. The file \(1\.4\.0, .*\) is still available from this mirror/)
      assert.equal(await page.locator('.badge-good').count(), 0, 'witnesses never make an import look trusted')

      // an app no mirror witnessed has no such section
      await openApp('org.hubless.Demo')
      assert.equal(await page.locator('section.witnesses').count(), 0)
    })

    it('shows hostile record text as text and runs none of it', async () => {
      await openApp('org.example.Hostile')
      assert.equal(await page.locator('h1').textContent(), '<img src=x onerror="window.__pwned=1">Hostile')
      assert.equal(await page.locator('article.app img[src="x"]').count(), 0)
      assert.equal(await page.locator('a[href^="javascript:"]').count(), 0)
      assert.equal(await page.locator('img[src^="javascript:"], img[src^="data:"]').count(), 0)
      await page.goto(`${server.url}/#/?q=hostile`)
      await page.locator('.result').first().waitFor()
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined)
    })

    it('works from the keyboard and makes no request outside this mirror', async () => {
      await page.goto(`${server.url}/`)
      await page.locator('.result').first().waitFor()
      await page.keyboard.press('Tab')
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content')
      const route = await page.evaluate(() => location.hash)
      await page.keyboard.press('Enter')
      // the skip link moves focus when its hash change is handled, a moment later on a busy machine
      await page.waitForFunction(() => document.activeElement?.id === 'main', undefined, { timeout: 5_000 }).catch(() => {})
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'main')
      assert.equal(await page.evaluate(() => location.hash), route, 'the skip link leaves the reader on the page they were on')
      // landmarks and labels
      assert.equal(await page.locator('header.site-header').count(), 1)
      assert.equal(await page.locator('search form#search').count(), 1)
      assert.equal(await page.locator('nav[aria-labelledby="categories-heading"]').count(), 1)
      for (const id of ['q', 'filter-category', 'filter-channel', 'filter-arch', 'filter-sort']) {
        assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `#${id} has a label`)
      }
      assert.deepEqual(pageErrors, [], 'no script errors')
      // the only outside requests (blocked) are the images imported records name by https URL
      const images = new Set(apps.flatMap(app => [app.icon, ...app.screenshots]).filter(url => url != null).map(url => new URL(url, server.url).href))
      assert.ok(outside.length > 0, 'imported icons were asked for (and blocked)')
      assert.deepEqual(outside.filter(url => !images.has(url)), [], 'nothing else leaves the page')
      const png = await page.screenshot()
      await writeFile(join(tmpdir(), 'hubless-storefront-list.png'), png)
      assert.ok(imageStats(png).stddev > 20)
    })
  })
})
