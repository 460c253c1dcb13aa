import { APPIMAGEHUB_DATABASE_URL } from './import/appimagehub.ts'
import type { ApiAppDetail, ApiRelease, TrustStatus } from './api-types.ts'

/**
 * `/feed.json` in the schema of AppImageHub's feed (https://appimage.github.io/feed.json, built by
 * the `feed.json` Jekyll template of the appimage.github.io repository), so that an AppImage
 * store switches to a mirror by changing one URL.
 *
 * The hub's schema: `version`, `home_page_url`, `feed_url`, `description`, `icon`, `favicon`,
 * `expired`, and `items[]` of `name`, `description`, `categories`, `authors` ({name, url}),
 * `license` (or null), `links` ({type, url}; `GitHub` links are `owner/repo`), `icons` and
 * `screenshots`. Kept as the hub has them, with what a client must know:
 * - `icons` and `screenshots` of imported apps are the hub's own paths under
 *   https://appimage.github.io/database/, relative as the hub has them (clients join that
 *   prefix); those a mirror or an author serves are absolute URLs;
 * - `description` is always there (the summary, else the description, else ""), and plain text (the hub's is AppStream markup or the desktop file's comment).
 *
 * Added, what the hub never had: `id` (the AppStream id), `version`, `channel`, `arch`, `sha256`,
 * `cid`, `size`, `download` (through this mirror's gateway, verified), `published`,
 * `publisher`, `trust`, `imported`, and `releases` (the newest per channel and architecture).
 */

export interface FeedAuthor { name: string, url?: string }
export interface FeedLink { type: string, url: string }

export interface FeedRelease {
  version: string
  channel: string
  arch: string
  published: string
  sha256?: string
  cid?: string
  size?: number
  download?: string
  urls: string[]
}

export interface AppImageHubFeedItem {
  name: string
  /** always present (empty when the app has no text): clients call `item.description.toLowerCase()` */
  description: string
  categories: string[]
  authors: FeedAuthor[]
  license: string | null
  links: FeedLink[]
  icons: string[]
  screenshots: string[]
  // hubless additions
  id: string
  version?: string
  channel?: string
  arch?: string
  sha256?: string
  cid?: string
  size?: number
  download?: string
  published?: string
  publisher: string
  trust: TrustStatus
  imported: boolean
  releases: FeedRelease[]
}

export interface AppImageHubFeed {
  version: 1
  home_page_url: string
  feed_url: string
  description: string
  icon: string
  favicon: string
  expired: false
  items: AppImageHubFeedItem[]
}

export const FEED_DESCRIPTION = 'AppImage applications for Linux without installation, from a hubless mirror'

function absolute (url: string, base: string): string | undefined {
  try {
    const resolved = new URL(url, base + '/')
    return resolved.protocol === 'http:' || resolved.protocol === 'https:' ? resolved.href : undefined
  } catch {
    return undefined
  }
}

/** An image URL as the hub's clients read it: relative under the hub's database, absolute elsewhere */
function hubAsset (url: string, base: string): string | undefined {
  const resolved = absolute(url, base)
  return resolved?.startsWith(APPIMAGEHUB_DATABASE_URL) === true ? resolved.slice(APPIMAGEHUB_DATABASE_URL.length) : resolved
}

/** the release a store installs: a stable x86_64 build if there is one, then any release build, then the newest */
export function preferredRelease (app: ApiAppDetail): ApiRelease | undefined {
  const latest = Object.values(app.latest).filter(r => r.yanked == null)
  return app.latest['release/x86_64'] ??
    latest.find(r => r.channel === 'release') ??
    latest[0] ??
    app.history.find(r => r.yanked == null)
}

function feedRelease (release: ApiRelease, base: string): FeedRelease {
  const download = release.content.download == null ? undefined : absolute(release.content.download, base)
  return {
    version: release.version,
    channel: release.channel,
    arch: release.arch,
    published: release.published,
    ...(release.content.sha256 == null ? {} : { sha256: release.content.sha256 }),
    ...(release.content.cid == null ? {} : { cid: release.content.cid }),
    ...(release.content.size == null ? {} : { size: release.content.size }),
    ...(download == null ? {} : { download }),
    urls: release.content.urls.map(url => absolute(url, base)).filter((url): url is string => url != null)
  }
}

function linksOf (homepage: string | undefined, release: FeedRelease | undefined): FeedLink[] {
  const links: FeedLink[] = []
  const github = homepage == null ? null : /^https:\/\/github\.com\/([A-Za-z0-9-]+\/[A-Za-z0-9._-]+)\/?$/.exec(homepage)
  if (github?.[1] != null) links.push({ type: 'GitHub', url: github[1] })
  if (release?.download != null) links.push({ type: 'Download', url: release.download })
  for (const url of release?.urls ?? []) links.push({ type: 'Download', url })
  if (homepage != null && github == null) links.push({ type: 'Homepage', url: homepage })
  return links
}

function item (app: ApiAppDetail, base: string): AppImageHubFeedItem {
  const preferred = preferredRelease(app)
  const release = preferred == null ? undefined : feedRelease(preferred, base)
  const icon = app.icon == null ? undefined : hubAsset(app.icon, base)
  // record text comes from publishers: only http(s) URLs reach a client
  const homepage = app.homepage == null ? undefined : absolute(app.homepage, base)
  return {
    name: app.name,
    description: app.summary ?? app.description ?? '',
    categories: app.categories,
    authors: app.developer == null ? [] : [{ name: app.developer, ...(homepage == null ? {} : { url: homepage }) }],
    license: app.license ?? null,
    links: linksOf(homepage, release),
    // this mirror's copy first, the original URL as the fallback
    icons: icon == null ? [] : [icon, ...(app.iconFallback == null ? [] : [hubAsset(app.iconFallback, base)].filter((s): s is string => s != null && s !== icon))],
    screenshots: app.screenshots.map(s => hubAsset(s, base)).filter((s): s is string => s != null),
    id: app.appId,
    ...(release == null
      ? {}
      : {
          version: release.version,
          channel: release.channel,
          arch: release.arch,
          ...(release.sha256 == null ? {} : { sha256: release.sha256 }),
          ...(release.cid == null ? {} : { cid: release.cid }),
          ...(release.size == null ? {} : { size: release.size }),
          ...(release.download == null ? {} : { download: release.download }),
          published: release.published
        }),
    publisher: app.owner.publisher,
    trust: app.owner.trust.status,
    imported: preferred?.imported != null || preferred?.trust.status === 'imported',
    releases: Object.keys(app.latest).sort().map(key => feedRelease(app.latest[key] as ApiRelease, base))
  }
}

/**
 * The feed for a list of apps, items sorted by app id (the hub sorts by page) so the output is
 * stable. `baseUrl` is this mirror's public URL (`https://mirror.example`); relative URLs in the
 * apps (`/ipfs/CID`) are made absolute on it.
 */
export function buildAppImageHubFeed (apps: ApiAppDetail[], baseUrl: string): AppImageHubFeed {
  const base = baseUrl.replace(/\/+$/, '')
  return {
    version: 1,
    home_page_url: `${base}/`,
    feed_url: `${base}/feed.json`,
    description: FEED_DESCRIPTION,
    icon: `${base}/storefront/icon.svg`,
    favicon: `${base}/storefront/icon.svg`,
    expired: false,
    items: [...apps].sort((a, b) => a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0).map(app => item(app, base))
  }
}
