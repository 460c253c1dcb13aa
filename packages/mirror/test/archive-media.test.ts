import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { createPublisherKey, verifyRecord, encodeSignedRecord, signRecord } from '@hubless/registry'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createMediaArchiver } from '../src/archive/media.ts'
import { imageType } from '../src/image-type.ts'
import { createOriginFetcher } from '../src/archive/origin-fetch.ts'
import { mirroredMedia } from '../src/media-mapping.ts'
import { apiAppSummary, assetUrl } from '../src/api-mapping.ts'
import type { AppMetadata, MediaRecord, SignedRecord, UnsignedRecord } from '@hubless/registry'
import type { Server } from 'node:http'
import { closeServer, listenOnLoopback } from './local-server.ts'

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 3)])
const SVG = Buffer.from('<?xml version="1.0"?>\n<!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>')
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 '), Buffer.alloc(50)])

describe('archiving icons and screenshots', () => {
  let server: Server
  let base: string
  let dir: string
  const added: Uint8Array[] = []
  const published: SignedRecord[] = []
  const key = createPublisherKey()
  const pinned: boolean[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hubless-media-'))
    await mkdir(join(dir, 'partial'))
    server = createServer((req, res) => {
      if (req.url === '/icon.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG)
      else if (req.url === '/shot.svg') res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(SVG)
      else if (req.url === '/shot.webp') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(WEBP)
      else if (req.url === '/page.png') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Screenshots</title>')
      else if (req.url === '/untyped-page.png') res.writeHead(200, { 'content-type': 'image/png' }).end('<html><body>not an image</body></html>')
      else if (req.url === '/binary.png') res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(5000, 1))
      else if (req.url === '/huge.png') res.writeHead(200, { 'content-type': 'image/png', 'content-length': 50_000_000 }).end()
      else if (req.url === '/endless.png') {
        res.writeHead(200, { 'content-type': 'image/png' })
        res.write(PNG)
        const chunk = Buffer.alloc(64 * 1024, 7)
        const pump = (): void => { while (!res.destroyed && res.write(chunk)) { /* until the buffer is full */ } }
        res.on('drain', pump)
        pump()
      } else if (req.url === '/loop.png') res.writeHead(302, { location: '/loop.png' }).end()
      else res.writeHead(404).end()
    })
    base = await listenOnLoopback(server)
  })

  after(async () => {
    await closeServer(server)
    await rm(dir, { recursive: true, force: true })
  })

  it('tells images from everything else by their bytes', () => {
    assert.equal(imageType(PNG), 'image/png')
    assert.equal(imageType(SVG), 'image/svg+xml')
    assert.equal(imageType(WEBP), 'image/webp')
    assert.equal(imageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0])), 'image/jpeg')
    assert.equal(imageType(Buffer.from('GIF89a....')), 'image/gif')
    assert.equal(imageType(Buffer.from('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg>')), 'image/svg+xml')
    assert.equal(imageType(Buffer.from('<html><svg></svg></html>')), undefined)
    assert.equal(imageType(Buffer.from('<?xml version="1.0"?><feed/>')), undefined)
    assert.equal(imageType(Buffer.alloc(100, 1)), undefined)
    assert.equal(imageType(new Uint8Array()), undefined)
    // whatever an origin sends: a type from the fixed list or none, never a throw, never an HTML page
    const types = new Set([undefined, 'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'])
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), bytes => types.has(imageType(bytes))), { numRuns: 2000 })
    fc.assert(fc.property(fc.string({ maxLength: 300 }), text => imageType(Buffer.from(`<html>${text}<svg></svg>`)) === undefined && imageType(Buffer.from(`<!doctype html>${text}`)) === undefined))
  })

  it('archives what is an image, names what is wrong with the rest, and loses nothing', async () => {
    const events: Array<{ url: string, cid?: string, error?: string }> = []
    const media = await createMediaArchiver({
      node: {
        content: {
          async add (source, options) {
            const bytes = source as Uint8Array
            added.push(bytes)
            pinned.push(options?.pin === true)
            return CID.createV1(raw.code, await sha256.digest(bytes))
          }
        } as Parameters<typeof createMediaArchiver>[0]['node']['content']
      },
      media: {
        async publish (record: UnsignedRecord) {
          const signed = await signRecord(record, key)
          published.push(signed)
          return signed
        }
      },
      key,
      fetcher: createOriginFetcher({ headersTimeout: 2_000, idleTimeout: 2_000 })
    }, { directory: dir, budgetLeft: () => Number.POSITIVE_INFINITY, maxImageBytes: 1024 * 1024, onEvent: e => { events.push(e) } })
    const app: AppMetadata = {
      name: 'Pictured',
      icon: `${base}/icon.png`,
      screenshots: ['page', 'untyped-page', 'binary', 'huge', 'endless', 'loop', 'gone'].map(n => `${base}/${n}.png`).concat(`${base}/shot.svg`, `${base}/shot.webp`)
    }
    await media.archive('org.example.Pictured', app, AbortSignal.timeout(30_000))
    const failed = new Map(media.status().failed.map(f => [f.url.split('/').at(-1), f.error.split(':')[0]]))
    assert.deepEqual(Object.fromEntries(failed), {
      'page.png': 'OriginServedHtmlError',
      'untyped-page.png': 'OriginServedHtmlError',
      'binary.png': 'NotAnImageError',
      'huge.png': 'OriginTooLargeError',
      'endless.png': 'OriginTooLargeError',
      'loop.png': 'TooManyRedirectsError',
      'gone.png': 'OriginGoneError'
    })
    assert.equal(media.status().archived, 3)
    assert.ok(pinned.every(p => p), 'every image is pinned')
    const icon = media.copyOf(`${base}/icon.png`)!
    assert.equal(icon.type, 'image/png')
    assert.equal(icon.sha256, createHash('sha256').update(PNG).digest('hex'))
    assert.equal(media.copyOf(`${base}/shot.svg`)?.type, 'image/svg+xml')
    // the media records, signed by the mirror's key, verify anywhere
    assert.equal(published.length, 3)
    for (const signed of published) {
      const record = (await verifyRecord(encodeSignedRecord(signed))).record as MediaRecord
      assert.equal(record.kind, 'media')
      assert.equal(record.publisher, key.did)
    }
    // kept across a restart; an archived image is not fetched again, nor a failed one before its retry
    await media.save()
    const again = await createMediaArchiver({ node: { content: { add: async () => { throw new Error('must not add') } } as never }, media: { publish: async () => { throw new Error('must not publish') } }, key, fetcher: createOriginFetcher() }, { directory: dir, budgetLeft: () => 1e9 })
    await again.archive('org.example.Pictured', app, AbortSignal.timeout(5_000))
    assert.equal(again.copyOf(`${base}/icon.png`)?.cid, icon.cid)
    assert.equal(JSON.parse(await readFile(join(dir, 'media.json'), 'utf8')).copies[`${base}/icon.png`].cid, icon.cid)

    // the API names the copy, the original kept as the fallback
    const mirrored = mirroredMedia(app, url => media.copyOf(url), assetUrl)!
    assert.equal(mirrored.icon, `/ipfs/${icon.cid}`)
    assert.equal(mirrored.iconFallback, `${base}/icon.png`)
    assert.equal(mirrored.screenshots.length, app.screenshots!.length)
    assert.equal(mirrored.screenshots.at(-2), `/ipfs/${media.copyOf(`${base}/shot.svg`)!.cid}`)
    assert.equal(mirrored.screenshots[0], `${base}/page.png`, 'no copy: the original')
    assert.deepEqual(mirrored.screenshotFallbacks, app.screenshots)
    const hit = { appId: 'org.example.Pictured', name: 'Pictured', publisher: key.did, trust: { status: 'imported', publisher: key.did, path: [], explanation: '' }, categories: [], license: 'unknown', updated: 0, score: 0 } as unknown as Parameters<typeof apiAppSummary>[0]
    const summary = apiAppSummary(hit, app, url => media.copyOf(url))
    assert.equal(summary.icon, `/ipfs/${icon.cid}`)
    assert.equal(summary.iconFallback, `${base}/icon.png`)
    assert.equal(mirroredMedia({ name: 'x', icon: 'https://example.org/none.png' }, () => undefined, assetUrl), undefined)
  })

  it('takes an image its origin does not give from a trusted mirror\'s media record, by CID, checked', async () => {
    const other = createPublisherKey()
    const stranger = createPublisherKey()
    const cid = CID.createV1(raw.code, await sha256.digest(PNG)).toString()
    const sha = createHash('sha256').update(PNG).digest('hex')
    const record = (publisher: typeof other, url: string, overrides: Partial<MediaRecord> = {}): MediaRecord => ({
      v: 1, kind: 'media', publisher: publisher.did, time: 1_700_000_000_000, appId: 'org.example.Pictured', url, type: 'image/png', sha256: sha, size: PNG.byteLength, cid, ...overrides
    })
    const log = [
      await signRecord(record(other, `${base}/gone-a.png`), other),
      await signRecord(record(stranger, `${base}/gone-b.png`), stranger),
      await signRecord(record(other, `${base}/gone-c.png`, { sha256: 'f'.repeat(64) }), other)
    ]
    const pins: string[] = []
    const media = await createMediaArchiver({
      node: {
        content: {
          fetch: async () => ({}),
          get: async () => PNG,
          pin: async (c: unknown) => { pins.push(String(c)) }
        } as never
      },
      media: {
        publish: async () => { throw new Error('an adopted image is not this mirror\'s to witness') },
        async * records () { yield * log },
        addEventListener: () => {}
      },
      key,
      fetcher: createOriginFetcher()
    }, { directory: await mkdtemp(join(dir, 'adopt-')), budgetLeft: () => 1e9, trustedKeys: async () => [other.did] })
    await media.archive('org.example.Pictured', { name: 'Pictured', icon: `${base}/gone-a.png`, screenshots: [`${base}/gone-b.png`, `${base}/gone-c.png`] }, AbortSignal.timeout(10_000))
    assert.equal(media.copyOf(`${base}/gone-a.png`)?.cid, cid)
    assert.equal(media.copyOf(`${base}/gone-a.png`)?.adoptedFrom, other.did)
    assert.equal(media.copyOf(`${base}/gone-b.png`), undefined, 'a key this mirror does not trust is not believed')
    assert.equal(media.copyOf(`${base}/gone-c.png`), undefined, 'bytes that do not match the record are not kept')
    assert.deepEqual(pins, [cid])
  })

  it('stays within the budget', async () => {
    const media = await createMediaArchiver({ node: { content: { add: async () => { throw new Error('must not add') } } as never }, media: { publish: async () => { throw new Error('must not publish') } }, key, fetcher: createOriginFetcher() }, { directory: await mkdtemp(join(dir, 'budget-')), budgetLeft: () => 0 })
    await media.archive('org.example.Other', { name: 'Other', icon: `${base}/icon.png` }, AbortSignal.timeout(5_000))
    assert.equal(media.status().archived, 0)
  })
})
