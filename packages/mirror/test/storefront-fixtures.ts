/**
 * The storefront's own test data and API: the real AppImageHub catalog through the importer
 * (src/import), shaped as the mirror's API v1 answers (src/api-types.ts),
 * plus a few hand-made apps for the trust states the import cannot produce (trusted with a
 * verified file, unverified, conflicting, hostile text). The API route answers from that
 * in-memory list so the page can be tested before the real mirror serves it; the end-to-end test
 * against the real mirror is separate.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { sendJson } from '../src/http-server.ts'
import { mapAppImageHubCatalog } from '../src/import/appimagehub.ts'
import type { Route } from '../src/http-server.ts'
import type { ApiAppDetail, ApiAppList, ApiAppPage, ApiAppSummary, ApiFacetCount, ApiRelease, ApiTrust, ApiWitness } from '../src/api-types.ts'
import type { ReleaseDraft } from '@hubless/registry/records'

export const IMPORTER = 'did:key:z6MkimportImporterKeyOfThisMirror00000000000000000'
export const ROOT = 'did:key:z6MkrootRootKeyOfThisMirror000000000000000000000'
export const AUTHOR = 'did:key:z6MkauthorVerifiedAuthorKey0000000000000000000000'
export const STRANGER = 'did:key:z6MkstrangerUnknownKey000000000000000000000000000'
export const SQUATTER = 'did:key:z6MksquatterSecondKey0000000000000000000000000000'

/** the bytes behind the trusted app's download, served at /ipfs/{cid} */
export const FILE_BYTES = new TextEncoder().encode('#!/bin/sh\necho "hello from a test AppImage"\n'.repeat(64))
export const FILE_SHA256 = createHash('sha256').update(FILE_BYTES).digest('hex')
export const FILE_CID = CID.createV1(raw.code, await sha256.digest(FILE_BYTES)).toString()

const importedTrust: ApiTrust = {
  status: 'imported',
  path: [],
  explanation: `imported from appimagehub by ${IMPORTER}; no root endorses the importer`
}

function releaseOf (draft: ReleaseDraft, index: number): ApiRelease {
  return {
    id: `bafyreiimported${index.toString(36).padStart(8, '0')}`,
    version: draft.version ?? 'unknown',
    channel: draft.channel,
    arch: draft.arch,
    publisher: IMPORTER,
    trust: importedTrust,
    published: '2026-08-16T00:00:00.000Z',
    ...(draft.imported == null ? {} : { imported: draft.imported }),
    content: { urls: draft.content.urls, ...(draft.content.updateInformation == null ? {} : { updateInformation: draft.content.updateInformation }) }
  }
}

function detailOf (draft: ReleaseDraft, index: number): ApiAppDetail {
  const release = releaseOf(draft, index)
  return {
    appId: draft.appId,
    name: draft.app.name,
    ...(draft.app.summary == null ? {} : { summary: draft.app.summary }),
    ...(draft.app.description == null ? {} : { description: draft.app.description }),
    categories: draft.app.categories ?? [],
    keywords: draft.app.keywords ?? [],
    ...(draft.app.license == null ? {} : { license: draft.app.license }),
    ...(draft.app.developer == null ? {} : { developer: draft.app.developer }),
    ...(draft.app.homepage == null ? {} : { homepage: draft.app.homepage }),
    ...(draft.app.icon == null ? {} : { icon: draft.app.icon }),
    screenshots: draft.app.screenshots ?? [],
    owner: { publisher: IMPORTER, trust: importedTrust },
    conflicting: [],
    latest: { [`${release.channel}/${release.arch}`]: release },
    history: [release]
  }
}

function verifiedRelease (version: string, channel: string, published: string, trust: ApiTrust, publisher = AUTHOR): ApiRelease {
  return {
    id: `bafyreiverified${version.replace(/\W/g, '')}${channel}`,
    version,
    channel,
    arch: 'x86_64',
    publisher,
    trust,
    published,
    content: {
      cid: FILE_CID,
      sha256: FILE_SHA256,
      size: FILE_BYTES.byteLength,
      urls: [`https://example.org/Hubless_Demo-${version}-x86_64.AppImage`],
      download: `/ipfs/${FILE_CID}?filename=Hubless_Demo-${version}-x86_64.AppImage`
    }
  }
}

const trusted: ApiTrust = { status: 'trusted', path: [ROOT, AUTHOR], explanation: `trusted via root ${ROOT} -> ${AUTHOR}` }
const unverified: ApiTrust = { status: 'unverified', path: [], explanation: 'no trusted key endorses this publisher' }
const conflicting: ApiTrust = { status: 'conflicting', path: [], explanation: 'two keys publish org.example.Contested and neither is trusted' }

function handmade (): ApiAppDetail[] {
  const stable = verifiedRelease('2.1.0', 'release', '2026-11-01T10:00:00.000Z', trusted)
  const beta = verifiedRelease('2.2.0-beta.1', 'beta', '2026-11-10T10:00:00.000Z', trusted)
  const old = verifiedRelease('2.0.0', 'release', '2026-09-01T10:00:00.000Z', trusted)
  const demo: ApiAppDetail = {
    appId: 'org.hubless.Demo',
    name: 'Hubless Demo',
    summary: 'A verified test app published by its author',
    description: 'The demo app of the storefront test.\n\nIt has:\n\n• a verified file with SHA-256 and CID\n• releases on two channels',
    categories: ['Utility', 'Development'],
    keywords: ['demo'],
    license: 'MIT',
    developer: 'Hubless Authors',
    homepage: 'https://example.org/demo',
    icon: '/test-assets/icon-demo.svg',
    screenshots: ['/test-assets/screenshot-1.svg', '/test-assets/screenshot-2.svg'],
    owner: { publisher: AUTHOR, trust: trusted },
    conflicting: [],
    latest: { 'beta/x86_64': beta, 'release/x86_64': stable },
    history: [beta, stable, { ...old, yanked: { reason: 'crashes on start' } }]
  }
  const lone = verifiedRelease('0.3.0', 'release', '2026-10-05T10:00:00.000Z', unverified, STRANGER)
  const stranger: ApiAppDetail = {
    appId: 'io.github.stranger.Lonely',
    name: 'Lonely Tool',
    summary: 'Signed by a key nobody vouches for',
    categories: ['Utility'],
    keywords: [],
    license: 'GPL-3.0-or-later',
    icon: '/test-assets/icon-lonely.svg',
    screenshots: [],
    owner: { publisher: STRANGER, trust: unverified },
    conflicting: [],
    latest: { 'release/x86_64': lone },
    history: [lone]
  }
  const contested = verifiedRelease('1.0.0', 'release', '2026-10-20T10:00:00.000Z', conflicting, STRANGER)
  const squatted: ApiAppDetail = {
    appId: 'org.example.Contested',
    name: 'Contested App',
    summary: 'Two keys claim this id',
    categories: ['Network'],
    keywords: [],
    screenshots: [],
    owner: { publisher: STRANGER, trust: conflicting },
    conflicting: [SQUATTER],
    latest: { 'release/x86_64': contested },
    history: [contested]
  }
  const hostileRelease = verifiedRelease('6.6.6', 'release', '2026-10-21T10:00:00.000Z', unverified, STRANGER)
  const hostile: ApiAppDetail = {
    appId: 'org.example.Hostile',
    name: '<img src=x onerror="window.__pwned=1">Hostile',
    summary: '<script>window.__pwned=2</script> tries markup',
    description: '<b>bold?</b> <a href="javascript:window.__pwned=3">click</a>',
    categories: ['Utility'],
    keywords: [],
    homepage: 'javascript:window.__pwned=4',
    icon: 'javascript:window.__pwned=5',
    screenshots: ['data:image/svg+xml,<svg onload="window.__pwned=6"/>'],
    owner: { publisher: STRANGER, trust: unverified },
    conflicting: [],
    latest: { 'release/x86_64': hostileRelease },
    history: [hostileRelease]
  }
  return [demo, stranger, squatted, hostile, ...witnessed()]
}

export const MIRROR_A = 'did:key:z6MkmirrorAWitnessKey00000000000000000000000000000'
export const MIRROR_B = 'did:key:z6MkmirrorBWitnessKey00000000000000000000000000000'
export const OTHER_SHA256 = 'f'.repeat(64)

function witnessOf (mirror: string, release: string | undefined, version: string, url: string, sha256 = FILE_SHA256): ApiWitness {
  return {
    id: `bafyreiwitness${mirror.slice(-6)}${version.replace(/\W/g, '')}`,
    mirror,
    time: Date.parse('2026-11-20T10:00:00.000Z'),
    url,
    sha256,
    size: FILE_BYTES.byteLength,
    cid: FILE_CID,
    version,
    ...(release == null ? {} : { release }),
    trusted: mirror === MIRROR_A
  }
}

/** Imported apps that mirrors archived: one whose witnesses agree (its origin gone, a newer version tracked), one whose witnesses conflict */
function witnessedApp (appId: string, name: string, url: string): { app: ApiAppPage, release: ApiRelease } {
  const release: ApiRelease = {
    id: `bafyrei${appId.replace(/\W/g, '').toLowerCase()}`,
    version: '1.4.0',
    channel: 'release',
    arch: 'x86_64',
    publisher: IMPORTER,
    trust: importedTrust,
    published: '2026-08-16T00:00:00.000Z',
    imported: { source: 'appimagehub', sourceId: name },
    content: { urls: [url] }
  }
  const app: ApiAppPage = {
    appId,
    name,
    summary: 'An imported app that mirrors archived',
    categories: ['Utility'],
    keywords: [],
    screenshots: [],
    owner: { publisher: IMPORTER, trust: importedTrust },
    conflicting: [],
    latest: { 'release/x86_64': release },
    history: [release]
  }
  return { app, release }
}

function witnessed (): ApiAppPage[] {
  const kept = witnessedApp('org.example.Witnessed', 'Witnessed App', 'https://origin.example/Witnessed-1.4.0-x86_64.AppImage')
  const agreed = [witnessOf(MIRROR_A, kept.release.id, '1.4.0', kept.release.content.urls[0]!), witnessOf(MIRROR_B, kept.release.id, '1.4.0', kept.release.content.urls[0]!)]
  kept.app.witnesses = { [kept.release.id]: { mirrors: 2, trustedMirrors: 1, agree: true, conflicts: [], witnesses: agreed } }
  kept.app.witnessConflicts = []
  const newer = witnessOf(MIRROR_A, undefined, '1.5.0', 'https://origin.example/Witnessed-1.5.0-x86_64.AppImage')
  kept.app.trackedVersions = [{ version: '1.5.0', channel: 'release', arch: 'x86_64', mirrors: 1, trustedMirrors: 1, agree: true, witnesses: [newer] }]
  kept.app.origins = [{
    url: kept.release.content.urls[0]!,
    state: 'gone',
    since: '2026-11-25T00:00:00.000Z',
    lastChecked: '2026-11-26T00:00:00.000Z',
    lastError: 'OriginGoneError: answered 404',
    archived: { cid: FILE_CID, sha256: FILE_SHA256, size: FILE_BYTES.byteLength, version: '1.4.0', availableHere: true }
  }]

  const disputed = witnessedApp('org.example.Disputed', 'Disputed App', 'https://origin.example/Disputed-x86_64.AppImage')
  const url = disputed.release.content.urls[0]!
  const views = [witnessOf(MIRROR_A, disputed.release.id, '1.4.0', url), witnessOf(MIRROR_B, disputed.release.id, '1.4.0', url, OTHER_SHA256)]
  const conflict = { appId: disputed.app.appId, url, version: '1.4.0', sha256: [FILE_SHA256, OTHER_SHA256].sort(), witnesses: views }
  disputed.app.witnesses = { [disputed.release.id]: { mirrors: 2, trustedMirrors: 1, agree: false, conflicts: [conflict], witnesses: views } }
  disputed.app.witnessConflicts = [conflict]
  disputed.app.origins = [{
    url,
    state: 'changed',
    since: '2026-11-21T00:00:00.000Z',
    lastChecked: '2026-11-26T00:00:00.000Z',
    archived: { cid: FILE_CID, sha256: FILE_SHA256, size: FILE_BYTES.byteLength, version: '1.4.0', availableHere: true }
  }]
  return [kept.app, disputed.app]
}

/** The real catalog through the importer, plus the hand-made apps */
export function loadCatalog (): ApiAppDetail[] {
  const json = JSON.parse(readFileSync(new URL('../../../data/appimagehub-apps.json', import.meta.url), 'utf8')) as unknown
  const imported = mapAppImageHubCatalog(json).drafts.map(detailOf)
  return [...handmade(), ...imported]
}

const FREE = /^(MIT|ISC|Zlib|BSD-\d|Apache-2\.0|MPL-2\.0|CC0-1\.0|(A|L)?GPL-[23])/i

function licenseClass (license: string | undefined): 'free' | 'non-free' | 'unknown' {
  if (license == null) return 'unknown'
  if (/proprietary/i.test(license)) return 'non-free'
  return FREE.test(license) ? 'free' : 'unknown'
}

function summaryOf (app: ApiAppDetail, release: ApiRelease): ApiAppSummary {
  return {
    appId: app.appId,
    name: app.name,
    ...(app.summary == null ? {} : { summary: app.summary }),
    version: release.version,
    channel: release.channel,
    arch: release.arch,
    categories: app.categories,
    ...(app.license == null ? {} : { license: app.license }),
    publisher: release.publisher,
    trust: app.owner.trust,
    ...(app.icon == null ? {} : { icon: app.icon }),
    updated: release.published,
    imported: release.imported != null,
    licenseClass: licenseClass(app.license)
  }
}

interface Query { q: string[], category?: string, channel?: string, arch?: string, trusted: boolean, free: boolean, sort: string, page: number }

class BadParameter extends Error {}

function parseQuery (url: URL): Query {
  const allowed = new Set(['q', 'category', 'channel', 'arch', 'trusted', 'license', 'sort', 'page'])
  for (const key of url.searchParams.keys()) {
    if (!allowed.has(key)) throw new BadParameter(`unknown parameter ${key}`)
  }
  const get = (key: string): string | undefined => {
    const v = url.searchParams.get(key)
    return v == null || v === '' ? undefined : v
  }
  const page = Number(get('page') ?? '1')
  if (!Number.isInteger(page) || page < 1 || page > 10_000) throw new BadParameter('page must be a positive integer')
  const trusted = get('trusted')
  if (trusted != null && trusted !== 'true' && trusted !== 'false') throw new BadParameter('trusted must be true or false')
  const license = get('license')
  if (license != null && license !== 'free') throw new BadParameter('license must be free')
  const sort = get('sort') ?? ''
  if (!['', 'relevance', 'updated', 'name'].includes(sort)) throw new BadParameter('sort must be relevance, updated or name')
  return {
    q: (get('q') ?? '').toLowerCase().split(/\s+/).filter(w => w !== ''),
    category: get('category'),
    channel: get('channel'),
    arch: get('arch'),
    trusted: trusted === 'true',
    free: license === 'free',
    sort,
    page
  }
}

type Facet = 'category' | 'channel' | 'arch' | 'license' | 'trust' | 'publisher'

function releaseFor (app: ApiAppDetail, q: Pick<Query, 'channel' | 'arch'>): ApiRelease | undefined {
  return Object.values(app.latest).find(r => (q.channel == null || r.channel === q.channel) && (q.arch == null || r.arch === q.arch))
}

function passes (app: ApiAppDetail, q: Query, except?: Facet): boolean {
  const text = `${app.name} ${app.summary ?? ''} ${app.appId} ${app.categories.join(' ')}`.toLowerCase()
  if (!q.q.every(word => text.includes(word))) return false
  if (except !== 'category' && q.category != null && !app.categories.includes(q.category)) return false
  if (except !== 'channel' && except !== 'arch' && releaseFor(app, q) == null) return false
  if (except === 'channel' && releaseFor(app, { arch: q.arch }) == null) return false
  if (except === 'arch' && releaseFor(app, { channel: q.channel }) == null) return false
  if (except !== 'license' && q.free && licenseClass(app.license) !== 'free') return false
  if (except !== 'trust' && q.trusted && app.owner.trust.status !== 'trusted') return false
  return true
}

function count (values: Iterable<string>, into: Map<string, number>): void {
  for (const v of new Set(values)) into.set(v, (into.get(v) ?? 0) + 1)
}

function sorted (counts: Map<string, number>): ApiFacetCount[] {
  return [...counts].map(([value, n]) => ({ value, count: n })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
}

export const PAGE_SIZE = 20

/** `/api/v1/apps` and `/api/v1/apps/{id}` over `apps`; `/ipfs/{FILE_CID}`; `/test-assets/*` images */
export function createTestApiRoute (apps: ApiAppDetail[]): Route {
  const byId = new Map(apps.map(app => [app.appId, app]))
  return async (_req, res, url) => {
    if (url.pathname === '/api/v1/apps') {
      let q: Query
      try {
        q = parseQuery(url)
      } catch (err) {
        if (!(err instanceof BadParameter)) throw err
        sendJson(res, 400, { error: { name: 'BadParameter', message: err.message } })
        return true
      }
      const hits = apps.filter(app => passes(app, q))
      const facet = (name: Facet, valuesOf: (app: ApiAppDetail) => string[]): ApiFacetCount[] => {
        const counts = new Map<string, number>()
        for (const app of apps) if (passes(app, q, name)) count(valuesOf(app), counts)
        return sorted(counts)
      }
      const order = q.sort === 'updated' ? 'updated' : q.sort === 'name' || q.q.length === 0 ? 'name' : 'relevance'
      const rank = (app: ApiAppDetail): number => q.q.every(w => app.name.toLowerCase().includes(w)) ? 0 : 1
      hits.sort((a, b) => {
        if (order === 'updated') return (releaseFor(b, q)?.published ?? '').localeCompare(releaseFor(a, q)?.published ?? '')
        if (order === 'relevance' && rank(a) !== rank(b)) return rank(a) - rank(b)
        return a.name.localeCompare(b.name, 'en') || (a.appId < b.appId ? -1 : 1)
      })
      const results = hits.slice((q.page - 1) * PAGE_SIZE, q.page * PAGE_SIZE).map(app => summaryOf(app, releaseFor(app, q) as ApiRelease))
      const body: ApiAppList = {
        query: q.q.join(' '),
        total: hits.length,
        page: q.page,
        pageSize: PAGE_SIZE,
        results,
        apps: results,
        facets: {
          category: facet('category', app => app.categories),
          channel: facet('channel', app => Object.values(app.latest).filter(r => q.arch == null || r.arch === q.arch).map(r => r.channel)),
          arch: facet('arch', app => Object.values(app.latest).filter(r => q.channel == null || r.channel === q.channel).map(r => r.arch)),
          license: facet('license', app => [licenseClass(app.license)]),
          publisher: facet('publisher', app => [app.owner.publisher]),
          trust: facet('trust', app => [app.owner.trust.status])
        }
      }
      sendJson(res, 200, body)
      return true
    }
    const one = /^\/api\/v1\/apps\/([^/]+)$/.exec(url.pathname)
    if (one != null) {
      let id = ''
      try {
        id = decodeURIComponent(one[1] ?? '')
      } catch {}
      const app = byId.get(id)
      if (app == null) sendJson(res, 404, { error: { name: 'AppNotFound', message: `no app ${id}` } })
      else sendJson(res, 200, app)
      return true
    }
    if (url.pathname === `/ipfs/${FILE_CID}`) {
      const filename = (url.searchParams.get('filename') ?? FILE_CID).replace(/[^\w.-]/g, '_')
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': FILE_BYTES.byteLength,
        'content-disposition': `attachment; filename="${filename}"`
      })
      res.end(FILE_BYTES)
      return true
    }
    const asset = /^\/test-assets\/([a-z0-9-]+)\.svg$/.exec(url.pathname)
    if (asset != null) {
      const svg = testImage(asset[1] ?? '')
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'content-length': Buffer.byteLength(svg) })
      res.end(svg)
      return true
    }
    return false
  }
}

function testImage (name: string): string {
  if (name.startsWith('icon')) {
    const hue = name === 'icon-demo' ? 150 : 20
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="hsl(${hue} 70% 40%)"/><circle cx="32" cy="32" r="16" fill="#fff"/></svg>`
  }
  // a "screenshot": a window with a title bar and a few coloured blocks
  return '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 300" width="480" height="300">' +
    '<rect width="480" height="300" fill="#e2e8f0"/><rect width="480" height="28" fill="#334155"/>' +
    '<circle cx="16" cy="14" r="6" fill="#ef4444"/><circle cx="36" cy="14" r="6" fill="#f59e0b"/><circle cx="56" cy="14" r="6" fill="#22c55e"/>' +
    `<rect x="20" y="50" width="140" height="230" fill="#1d4ed8"/><rect x="180" y="50" width="280" height="100" fill="${name.endsWith('2') ? '#a855f7' : '#0ea5e9'}"/>` +
    '<rect x="180" y="170" width="280" height="110" fill="#f97316"/></svg>'
}
