import type { ApiAppDetail, ApiAppList, ApiAppSummary, ApiFacetCount, ApiFacets, ApiRelease, ApiSearchAnswer, ApiTrust } from './api-types.ts'
import type { AppView, Facets, ReleaseView, SearchHit, SearchResults, TrustVerdict } from '@hubless/query'
import type { AppMetadata } from '@hubless/registry'
import { mirroredMedia } from './media-mapping.ts'
import type { MediaLookup } from './media-mapping.ts'

/** Turns the catalog's views into the API's JSON shapes (a contract: see api-types.ts) */

export function apiTrust (verdict: TrustVerdict): ApiTrust {
  return { status: verdict.status, path: verdict.path, explanation: verdict.explanation }
}

/** An icon or screenshot named by CID is served by this mirror's gateway; an https URL is left as it is */
export function assetUrl (value: string | undefined): string | undefined {
  if (value == null) return undefined
  if (/^https?:\/\//.test(value)) return value
  return /^[a-z0-9]+$/i.test(value) ? `/ipfs/${value}` : undefined
}

export function apiRelease (release: ReleaseView, trust: TrustVerdict): ApiRelease {
  const c = release.content
  const filename = `${release.appId}-${release.version}-${release.arch}.AppImage`.replace(/[^A-Za-z0-9._-]/g, '_')
  return {
    id: release.id,
    version: release.version,
    channel: release.channel,
    arch: release.arch,
    publisher: release.publisher,
    trust: apiTrust(trust),
    published: new Date(release.time).toISOString(),
    imported: release.imported,
    yanked: release.state === 'yanked' ? { reason: release.reason ?? '' } : undefined,
    content: {
      cid: c.cid,
      sha256: c.sha256,
      size: c.size,
      urls: c.urls,
      download: c.cid == null ? undefined : `/ipfs/${c.cid}?filename=${encodeURIComponent(filename)}&download=true`,
      updateInformation: c.updateInformation
    }
  }
}

export function apiAppSummary (hit: SearchHit, metadata: AppMetadata | undefined, media?: MediaLookup): ApiAppSummary {
  const mirrored = metadata == null ? undefined : mirroredMedia(metadata, media, assetUrl)
  return {
    appId: hit.appId,
    name: hit.name,
    summary: hit.summary,
    version: hit.version ?? '',
    channel: hit.channel ?? '',
    arch: hit.arch ?? '',
    categories: hit.categories,
    license: metadata?.license,
    licenseClass: hit.license,
    publisher: hit.publisher,
    trust: apiTrust(hit.trust),
    icon: mirrored?.icon ?? assetUrl(metadata?.icon),
    iconFallback: mirrored?.iconFallback,
    updated: new Date(hit.updated).toISOString(),
    imported: hit.trust.status === 'imported'
  }
}

function facetCounts (counts: Record<string, number> | undefined): ApiFacetCount[] {
  return Object.entries(counts ?? {})
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
}

/** A search's answer, as `hubless search --json` gives it (facets only when the search counted them) */
export function apiSearchAnswer (query: string, results: SearchResults, metadata: (appId: string) => AppMetadata | undefined, media?: MediaLookup): ApiSearchAnswer {
  return {
    query,
    total: results.total,
    page: Math.floor(results.offset / results.limit) + 1,
    pageSize: results.limit,
    results: results.hits.map(hit => apiAppSummary(hit, metadata(hit.appId), media)),
    facets: results.facets == null ? undefined : apiFacets(results.facets)
  }
}

function apiFacets (facets: Partial<Facets>): ApiFacets {
  return {
    category: facetCounts(facets.category),
    channel: facetCounts(facets.channel),
    arch: facetCounts(facets.arch),
    license: facetCounts(facets.license),
    publisher: facetCounts(facets.publisher),
    trust: facetCounts(facets.trust)
  }
}

export function apiAppList (query: string, page: number, results: SearchResults, metadata: (appId: string) => AppMetadata | undefined, media?: MediaLookup): ApiAppList {
  const answer = apiSearchAnswer(query, results, metadata, media)
  return { ...answer, page, apps: answer.results, facets: apiFacets(results.facets ?? {}) }
}

export function apiAppDetail (app: AppView, media?: MediaLookup): ApiAppDetail {
  const m = app.metadata
  const latest: Record<string, ApiRelease> = {}
  const listed = new Set<string>()
  for (const entry of app.latest) {
    // a release reaches every reader channel above its own (the ladder): list it once, at its own
    if (entry.release.channel !== entry.channel || listed.has(`${entry.release.id}/${entry.arch}`)) continue
    listed.add(`${entry.release.id}/${entry.arch}`)
    latest[`${entry.channel}/${entry.arch}`] = apiRelease(entry.release, app.trust)
  }
  return {
    appId: app.appId,
    name: app.name,
    summary: m.summary,
    description: m.description,
    categories: m.categories ?? [],
    keywords: m.keywords ?? [],
    license: m.license,
    developer: m.developer,
    homepage: m.homepage,
    icon: assetUrl(m.icon),
    screenshots: (m.screenshots ?? []).map(s => assetUrl(s)).filter((s): s is string => s != null),
    owner: { publisher: app.trust.publisher, trust: apiTrust(app.trust) },
    conflicting: app.claimants.map(c => c.trust.publisher),
    latest,
    history: onePerRelease(app.history).map(r => apiRelease(r, app.trust)),
    ...(app.historyPartial === true ? { historyPartial: true as const } : {}),
    ...mirroredMedia(m, media, assetUrl)
  }
}

/**
 * The history as people read it: a version republished by the same key on the same channel and
 * architecture is one release, shown by its newest record (the catalog keeps every record).
 */
export function onePerRelease (history: ReleaseView[]): ReleaseView[] {
  const seen = new Set<string>()
  return history.filter(r => {
    const key = JSON.stringify([r.publisher, r.channel, r.arch, r.version])
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
