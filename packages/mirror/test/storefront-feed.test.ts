import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startHttpServer } from '../src/http-server.ts'
import { buildAppImageHubFeed, preferredRelease } from '../src/feed.ts'
import { createFeedRoute } from '../src/feed-route.ts'
import { FILE_CID, FILE_SHA256, loadCatalog } from './storefront-fixtures.ts'
import type { HttpServer } from '../src/http-server.ts'

/**
 * What https://appimage.github.io/feed.json serves, as its Jekyll template (`feed.json` in the
 * appimage.github.io repository) renders the hub's 4KWALL page (`apps/4KWALL.md`): the schema
 * clients of the hub parse.
 */
const HUB_FEED = {
  version: 1,
  home_page_url: 'https://appimage.github.io/',
  feed_url: 'https://appimage.github.io/feed.json',
  description: 'AppImage applications for Linux without installation',
  icon: 'https://appimage.github.io/apple-touch-icon.png',
  favicon: 'https://appimage.github.io/favicon.ico',
  expired: false,
  items: [{
    name: '4KWALL',
    description: 'Browse, download, and auto-change 4K wallpapers',
    categories: ['Graphics'],
    authors: [{ name: 'rishabh3354', url: 'https://github.com/rishabh3354' }],
    license: 'LicenseRef-proprietary=https://raw.githubusercontent.com/rishabh3354/4KWALL/main/share/license/LICENSE',
    links: [{ type: 'GitHub', url: 'rishabh3354/4KWALL' }, { type: 'Download', url: 'https://github.com/rishabh3354/4KWALL/releases' }],
    icons: ['4KWALL/icons/512x512/com.warlordsoftwares.wallpaper-app-4kwall.png'],
    screenshots: ['4KWALL/screenshot.png']
  }]
}

function shape (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `array<${value.length > 0 ? shape(value[0]) : '?'}>`
  if (typeof value === 'object') return `{${Object.keys(value).sort().map(k => `${k}:${shape((value as Record<string, unknown>)[k])}`).join(',')}}`
  return typeof value
}

const apps = loadCatalog()

describe('/feed.json in AppImageHub\'s schema (storefront\'s own test)', () => {
  const feed = buildAppImageHubFeed(apps, 'https://mirror.example/')

  it('has every top-level field of the hub\'s feed, of the same type', () => {
    for (const [key, value] of Object.entries(HUB_FEED)) {
      if (key === 'items') continue
      assert.ok(key in feed, `feed has ${key}`)
      assert.equal(typeof (feed as unknown as Record<string, unknown>)[key], typeof value, `type of ${key}`)
    }
    assert.equal(feed.version, 1)
    assert.equal(feed.expired, false)
    assert.equal(feed.home_page_url, 'https://mirror.example/')
    assert.equal(feed.feed_url, 'https://mirror.example/feed.json')
    assert.equal(feed.items.length, apps.length)
  })

  it('gives every item the hub\'s fields with the hub\'s types', () => {
    const hubItem = HUB_FEED.items[0] as Record<string, unknown>
    for (const item of feed.items) {
      const ours = item as unknown as Record<string, unknown>
      for (const [key, value] of Object.entries(hubItem)) {
        assert.equal(typeof ours.description, 'string', `${item.id} has a description, empty when unknown (the hub omits it, which crashes clients)`)
        assert.ok(key in ours, `${item.id} has ${key}`)
        if (key === 'license' && ours.license === null) continue
        if (key === 'authors') {
          // the hub's authors are GitHub users with a url; ours have one when the app has a homepage
          for (const a of ours.authors as Array<Record<string, unknown>>) {
            assert.equal(typeof a.name, 'string')
            assert.ok(a.url === undefined || typeof a.url === 'string')
          }
          continue
        }
        if (Array.isArray(value) && (ours[key] as unknown[]).length === 0) continue
        assert.equal(shape(ours[key]), shape(value), `${item.id}.${key} is shaped like the hub's`)
      }
    }
  })

  it('maps an imported hub app back to what the hub said, with absolute image URLs', () => {
    const wall = feed.items.find(item => item.id === 'io.github.rishabh3354._4KWALL')
    const hub = HUB_FEED.items[0]!
    assert.ok(wall != null)
    assert.equal(wall.name, '4kWall', 'the app\'s name (the hub used its page name)')
    assert.equal(wall.description, hub.description)
    assert.deepEqual(wall.categories, hub.categories)
    assert.deepEqual(wall.authors, [{ name: 'rishabh3354', url: 'https://github.com/rishabh3354/4KWALL' }])
    assert.equal(wall.license, hub.license)
    assert.deepEqual(wall.links.find(l => l.type === 'GitHub'), hub.links[0])
    assert.ok(wall.links.some(l => l.type === 'Download' && l.url === hub.links[1]?.url))
    assert.deepEqual(wall.icons, hub.icons, 'relative under the hub\'s database/, as the hub has them')
    assert.deepEqual(wall.screenshots, hub.screenshots)
    assert.equal(wall.version, '2026.7.9')
    assert.equal(wall.imported, true)
    assert.equal(wall.trust, 'imported')
    assert.equal(wall.sha256, undefined, 'an imported URL-only release has no hash')
  })

  it('adds what the hub never had: version, SHA-256, CID and a download through this mirror', () => {
    const demo = feed.items.find(item => item.id === 'org.hubless.Demo')
    assert.ok(demo != null)
    assert.equal(demo.version, '2.1.0', 'the stable release, not the newer beta')
    assert.equal(demo.channel, 'release')
    assert.equal(demo.sha256, FILE_SHA256)
    assert.equal(demo.cid, FILE_CID)
    assert.equal(demo.download, `https://mirror.example/ipfs/${FILE_CID}?filename=Hubless_Demo-2.1.0-x86_64.AppImage`)
    assert.equal(demo.links.find(l => l.type === 'Download')?.url, demo.download, 'the first Download link is the mirror')
    assert.deepEqual(demo.icons, ['https://mirror.example/test-assets/icon-demo.svg'])
    assert.deepEqual(demo.releases.map(r => `${r.channel}/${r.version}`), ['beta/2.2.0-beta.1', 'release/2.1.0'])
    assert.equal(demo.trust, 'trusted')
    assert.equal(demo.imported, false)
  })

  it('never passes a non-http URL through', () => {
    const hostile = feed.items.find(item => item.id === 'org.example.Hostile')
    assert.ok(hostile != null)
    assert.deepEqual(hostile.icons, [])
    assert.deepEqual(hostile.screenshots, [])
    for (const item of feed.items) {
      for (const url of item.links.filter(l => l.type !== 'GitHub').map(l => l.url)) {
        assert.match(url, /^https?:\/\//, `${item.id}: ${url}`)
      }
      // images: absolute http(s), or a path under the hub's database/ (no scheme, no way out of it)
      for (const url of [...item.icons, ...item.screenshots]) {
        assert.ok(/^https?:\/\//.test(url) || new URL(url, 'https://appimage.github.io/database/').href.startsWith('https://appimage.github.io/database/'), `${item.id}: ${url}`)
      }
    }
  })

  it('is deterministic and sorted by app id', () => {
    assert.deepEqual(buildAppImageHubFeed([...apps].reverse(), 'https://mirror.example'), feed)
    const ids = feed.items.map(i => i.id)
    assert.deepEqual(ids, [...ids].sort())
    assert.equal(preferredRelease({ ...apps[0]!, latest: {}, history: [] }), undefined)
  })

  describe('createFeedRoute', () => {
    let server: HttpServer
    before(async () => {
      server = await startHttpServer({ host: '127.0.0.1', port: 0 }, [createFeedRoute({ apps: async () => apps, baseUrl: 'http://mirror.test' })])
    })
    after(async () => { await server.close() })

    it('serves the feed as JSON and refuses other methods', async () => {
      const res = await fetch(`${server.url}/feed.json`, { signal: AbortSignal.timeout(10_000) })
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      const body = await res.json() as { feed_url: string, items: unknown[] }
      assert.equal(body.feed_url, 'http://mirror.test/feed.json')
      assert.equal(body.items.length, apps.length)
      const post = await fetch(`${server.url}/feed.json`, { method: 'POST', signal: AbortSignal.timeout(10_000) })
      assert.equal(post.status, 405)
      await post.body?.cancel()
    })
  })
})
