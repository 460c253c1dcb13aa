import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:http'
import { buildEndorseRecord, buildReleaseRecord, createPublisherKey, encodeCanonical, encodeSignedRecord, recordToJSON, signRecord } from '@hubless/registry/records'
import { sign } from '../../registry/src/records/ed25519.ts'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'
import { EPOCH_HEADER } from '../src/index.ts'
import type { CatalogRecord } from '../src/index.ts'
import type { AddressInfo } from 'node:net'
import { endorse, key, release } from './records.ts'

/**
 * The package runs in a browser: bundle it with esbuild for the browser platform (a `node:`
 * import anywhere fails the bundle) and search in headless Chromium. Debian's chromium, driven by
 * playwright-core with an explicit executablePath: no tool downloads a browser.
 */

const here = dirname(fileURLToPath(import.meta.url))
const pkg = join(here, '..')
const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** page.evaluate has no timeout of its own */
async function bounded<T> (work: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([work, new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => { reject(new Error('the page did not answer in time')) }, { once: true })
  })])
}

describe('in the browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install chromium` }, () => {
  let browser: Browser | undefined
  let bundle = ''

  before(async () => {
    const result = await build({
      stdin: {
        contents: "import { createCatalog, createHttpSource } from './src/index.ts'\nglobalThis.hublessQuery = { createCatalog, createHttpSource }\n",
        resolveDir: pkg,
        loader: 'ts'
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      write: false,
      logLevel: 'silent'
    })
    bundle = result.outputFiles[0]!.text
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 })
  })

  after(async () => {
    await browser?.close()
  })

  it('has no node: imports in its sources', () => {
    for (const file of sources(join(pkg, 'src'))) {
      assert.doesNotMatch(readFileSync(file, 'utf8'), /from ['"]node:/, `${file} imports a Node built-in`)
    }
  })

  it('bundles for the browser and searches in headless Chromium', async () => {
    const root = key(100)
    const author = key(1)
    const records: CatalogRecord[] = [
      await endorse(root, author),
      await release({ publisher: author, appId: 'org.kde.krita', name: 'Krita', summary: 'Digital painting', categories: ['Graphics'] }),
      await release({ publisher: key(2), appId: 'org.kde.kdenlive', name: 'Kdenlive', summary: 'Video editor', categories: ['AudioVideo'] })
    ].map(r => ({ id: r.id, record: r.record }))
    const page = await browser!.newPage()
    try {
      await page.setContent('<!doctype html><title>hubless query</title>')
      await page.addScriptTag({ content: bundle })
      const answer = await bounded(page.evaluate(async ({ records, root }) => {
        const { createCatalog } = (globalThis as unknown as { hublessQuery: typeof import('../src/index.ts') }).hublessQuery
        const catalog = await createCatalog({}, { roots: [root] })
        catalog.addAll(records)
        const typo = catalog.search({ query: 'kritta' })
        const editor = catalog.search({ query: 'video editor' })
        const reloaded = await createCatalog({}, { roots: [root], savedIndex: catalog.save() })
        return {
          typo: typo.hits.map(h => [h.name, h.trust.status]),
          editor: editor.hits[0]?.name,
          facets: editor.facets?.trust,
          reloaded: reloaded.search({ query: 'painting' }).hits.map(h => h.appId),
          userAgent: navigator.userAgent
        }
      }, { records, root }), AbortSignal.timeout(20_000))
      assert.deepEqual(answer.typo, [['Krita', 'trusted']])
      assert.equal(answer.editor, 'Kdenlive')
      assert.deepEqual(answer.facets, { unverified: 1 })
      assert.deepEqual(answer.reloaded, ['org.kde.krita'])
      assert.match(answer.userAgent, /HeadlessChrome|Chrome/)
    } finally {
      await page.close()
    }
  })

  it('reads a mirror\'s record feed over HTTP and verifies every signature in the page', async () => {
    const me = createPublisherKey()
    const author = createPublisherKey()
    const signed = [
      await signRecord(buildEndorseRecord(author.did, {}, { publisher: me.did }), me),
      await signRecord(buildReleaseRecord({
        appId: 'org.kde.krita', version: '5.2.0', channel: 'release', arch: 'x86_64',
        content: { urls: ['https://example.org/krita.AppImage'] }, app: { name: 'Krita', summary: 'Digital painting' }
      }, { publisher: author.did, time: 2_000 }), author)
    ]
    const forged = recordToJSON(await signRecord(buildReleaseRecord({
      appId: 'org.example.Forged', version: '1.0', channel: 'release', arch: 'x86_64',
      content: { urls: ['https://example.org/forged.AppImage'] }, app: { name: 'Forged' }
    }, { publisher: author.did, time: 3_000 }), author))
    forged.signature = `${forged.signature![0] === 'A' ? 'B' : 'A'}${forged.signature!.slice(1)}`
    // a record published into a log by its publisher: no signature of its own, the entry's instead
    // (built here by hand from the documented entry format, as a cross-check of the registry's)
    const builder = { ...await signRecord(buildReleaseRecord({
      appId: 'org.gnome.Builder', version: '47.0', channel: 'release', arch: 'x86_64',
      content: { urls: ['https://example.org/builder.AppImage'] }, app: { name: 'Builder', summary: 'An IDE for painting code' }
    }, { publisher: author.did, time: 4_000 }), author), signature: undefined }
    const fields = { id: '/orbitdb/zdpuAtestRegistry', next: [], refs: [], clock: { id: Buffer.from(author.publicKey).toString('hex'), time: 7 }, v: 2 }
    const entrySig = await sign(encodeCanonical({ ...fields, payload: { op: 'ADD', key: null, value: encodeSignedRecord(builder) } }), author)
    const entrySigned = recordToJSON({ ...builder, entry: { ...fields, sig: Buffer.from(entrySig).toString('hex') } })
    const moved = { ...entrySigned, entry: { ...entrySigned.entry!, clock: { ...fields.clock, time: 8 } } }
    const feed = [...signed.map(r => JSON.stringify(recordToJSON(r))), JSON.stringify(forged), JSON.stringify(entrySigned), JSON.stringify(moved)].join('\n') + '\n'
    // the page and the feed from one origin on loopback, as a mirror serves its storefront and API
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/records') === true) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson', [EPOCH_HEADER]: 'test' }).end(feed)
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>hubless query</title>')
      }
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const page = await browser!.newPage()
    try {
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { timeout: 20_000 })
      await page.addScriptTag({ content: bundle })
      const answer = await bounded(page.evaluate(async ({ root }) => {
        const { createCatalog, createHttpSource } = (globalThis as unknown as { hublessQuery: typeof import('../src/index.ts') }).hublessQuery
        const source = createHttpSource({ url: location.origin, pollInterval: 0 })
        const rejected: string[] = []
        source.addEventListener('rejected', event => { rejected.push(event.detail.error.name) })
        const catalog = await createCatalog({ source }, { roots: [root] })
        return { hits: catalog.search({ query: 'painting' }).hits.map(h => [h.appId, h.trust.status]), size: catalog.size, rejected }
      }, { root: me.did }), AbortSignal.timeout(20_000))
      assert.deepEqual(answer.hits, [['org.kde.krita', 'trusted'], ['org.gnome.Builder', 'trusted']])
      assert.equal(answer.size, 2, 'the forged records are not in the catalog')
      assert.deepEqual(answer.rejected, ['InvalidSignatureError', 'InvalidSignatureError'])
    } finally {
      await page.close()
      await new Promise(resolve => server.close(resolve))
    }
  })
})
