import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH, imageStats } from '../helpers/browser.ts'
import { runCli, startCli, tempDir } from '../helpers/cli.ts'
import type { RunningCli } from '../helpers/cli.ts'
import type { Browser } from 'playwright-core'

/**
 * The main job as the README starts it (`hubless mirror --seed default`): the real AppImageHub
 * catalog imported on first run, then searched through the CLI, the JSON API and the storefront.
 */
describe('a mirror seeded with the real AppImageHub catalog', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let mirror: RunningCli | undefined
  let api: string
  let browser: Browser | undefined

  before(async () => {
    dir = await tempDir('hubless-catalog-')
    mirror = await startCli(['--data-dir', join(dir.path, 'm'), '--json', 'mirror', '--seed', 'default', '--http', '127.0.0.1:0'], { timeout: 120_000 })
    api = (JSON.parse(mirror.readyLine) as { api: string }).api
  })

  after(async () => {
    await browser?.close()
    await mirror?.stop()
    await dir.remove()
  })

  it('imported every mappable entry, labelled as imported', async () => {
    const status = await (await fetch(new URL('/api/v1/status', api))).json() as { registry: { records: number }, apps: number }
    assert.equal(status.registry.records, 1669, '1,672 entries less the 3 with no http(s) URL')
    assert.equal(status.apps, 1669)
    const list = await (await fetch(new URL('/api/v1/apps?q=krita', api))).json() as { apps: Array<{ appId: string, trust: { status: string }, imported: boolean }> }
    assert.equal(list.apps[0]?.appId, 'org.kde.krita', 'an exact name is the first hit')
    assert.equal(list.apps[0]?.trust.status, 'imported')
    assert.equal(list.apps[0]?.imported, true)
  })

  it('answers the CLI through the running mirror', async () => {
    const result = await runCli(['--data-dir', join(dir.path, 'm'), '--json', 'search', 'kdenlive'])
    assert.equal(result.code, 0, result.stderr)
    const rows = (JSON.parse(result.stdout) as { results: Array<{ appId: string }> }).results
    assert.equal(rows[0]?.appId, 'org.kde.kdenlive')
  })

  it('a restart does not import again', async () => {
    await mirror?.stop()
    mirror = await startCli(['--data-dir', join(dir.path, 'm'), '--json', 'mirror', '--seed', 'default', '--http', '127.0.0.1:0'], { timeout: 120_000 })
    api = (JSON.parse(mirror.readyLine) as { api: string }).api
    const status = await (await fetch(new URL('/api/v1/status', api))).json() as { registry: { records: number } }
    assert.equal(status.registry.records, 1669)
  })

  it('the storefront searches it and opens an app', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 })
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    // record icons point at other hosts: nothing leaves this machine
    await page.route(url => !url.href.startsWith(api), route => route.abort())
    await page.goto(`${api}/`, { timeout: 30_000 })
    await page.getByRole('searchbox').fill('krita')
    await page.getByRole('searchbox').press('Enter')
    const link = page.getByRole('link', { name: 'Krita', exact: true })
    await link.first().waitFor({ timeout: 15_000 })
    await link.first().click()
    await page.getByRole('heading', { name: 'Krita', level: 1 }).waitFor({ timeout: 15_000 })
    assert.match(await page.locator('main').textContent() ?? '', /Imported/)
    const stats = imageStats(await page.screenshot())
    assert.ok(stats.stddev > 20 && stats.colours > 40, `the page is drawn, got ${JSON.stringify(stats)}`)
  })
})
