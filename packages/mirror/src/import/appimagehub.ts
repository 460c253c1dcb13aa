import { LIMITS, buildReleaseRecord, cleanVersion, isHttpUrl, isSafeVersion, publisherKeyFromSecret, validateRecord } from '@hubless/registry/records'
import { declaredAppId, githubAppId, hubAppId } from './app-id.ts'
import { InvalidCatalogError } from '../errors.ts'
import { appstreamToText, cleanInlineText, cleanLine, hasControl } from './text.ts'
import type { AppMetadata, ReleaseDraft } from '@hubless/registry/records'

/**
 * Importing today's AppImageHub: a pure mapping from the hub's catalog (the format of
 * `data/appimagehub-apps.json`) to release-record drafts, for `hubless import appimagehub`.
 *
 * Decisions (documented here because they shape every imported record):
 * - One draft per hub entry, channel `release`, labelled `imported: { source: 'appimagehub', sourceId }`.
 * - App id: the entry's AppStream id when it is reverse DNS (a `.desktop` suffix dropped), else
 *   `io.github.<owner>.<repo>` from its GitHub repository, else `org.appimagehub.<id>`. When two
 *   entries would share an id (the hub lists variant builds of one app as separate apps), the
 *   first by hub id keeps it and the others fall to the next choice, so no entry hides another.
 * - Version: the entry's `version`, else the version of its AppStream latest release, else the
 *   literal `unknown` (a record must carry a version; `unknown` says the truth and is
 *   recognisable by clients, where an invented `0` would not be).
 * - Architecture: the entry's, normalised (`amd64` → `x86_64`, …); else read from the download
 *   file name; else `x86_64`, the only architecture the hub's CI ever accepted.
 * - Content is URL-only (the hub has no hashes): `sourceUrl` and the `Download`/`Install` links
 *   that are http(s). A mirror adds CID and SHA-256 when it fetches and verifies the file.
 * - Icons and screenshots in the hub are paths inside its `database/` folder, which the hub
 *   publishes at https://appimage.github.io/database/ (every hub client resolves them there);
 *   they become absolute URLs on that host. Absolute http(s) URLs are kept.
 * - Descriptions are AppStream markup in the hub; records carry plain text ({@link appstreamToText}).
 * - `license` `NOASSERTION` (the hub's "unknown") is dropped.
 *
 * The mapping is deterministic: the same catalog gives the same drafts in the same order, so
 * re-importing is idempotent for a caller that skips drafts already in the registry
 * (`draftFingerprint` in ./fingerprint.ts).
 */

export const APPIMAGEHUB_SOURCE = 'appimagehub'
export const APPIMAGEHUB_DATABASE_URL = 'https://appimage.github.io/database/'
export const UNKNOWN_VERSION = 'unknown'
const DEFAULT_ARCH = 'x86_64'

/** One entry of the hub's catalog as the file has it; every field but `id` may be missing or odd */
export interface AppImageHubEntry {
  id: string
  sourceUrl?: unknown
  githubRepo?: unknown
  name?: unknown
  summary?: unknown
  description?: unknown
  categories?: unknown
  authors?: unknown
  links?: unknown
  license?: unknown
  icons?: unknown
  screenshots?: unknown
  version?: unknown
  architecture?: unknown
  updateInformation?: unknown
  appstreamId?: unknown
  appstreamUrls?: unknown
  appstreamLatestRelease?: unknown
  developerName?: unknown
  [field: string]: unknown
}

export interface ImportSkip {
  /** the hub id of the entry (or `#index` when it has none) */
  sourceId: string
  reason: string
}

export interface ImportRename {
  sourceId: string
  /** the id the entry asked for (AppStream or GitHub derived) */
  wanted: string
  appId: string
  reason: string
}

export interface AppImageHubImport {
  /** one per mapped entry, sorted by hub id */
  drafts: ReleaseDraft[]
  /** entries in the file */
  total: number
  skipped: ImportSkip[]
  /** entries whose preferred app id was taken by another entry */
  renamed: ImportRename[]
  /** how many drafts got a default instead of a value from the hub */
  defaults: { version: number, arch: number }
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'x86_64', amd64: 'x86_64', 'x86-64': 'x86_64', x64: 'x86_64',
  i386: 'i686', i486: 'i686', i586: 'i686', i686: 'i686', x86: 'i686', ia32: 'i686',
  aarch64: 'aarch64', arm64: 'aarch64',
  armhf: 'armhf', armv7l: 'armhf', armv7: 'armhf', armv7hl: 'armhf', arm: 'armhf'
}

/** A hub architecture name as AppImage file names spell it; undefined when unrecognised */
export function normalizeArch (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  return ARCH_ALIASES[value.trim().toLowerCase()]
}

// the file name's own spelling, most specific first (`x86-64` must not read as `x86`)
const ARCH_IN_FILE_NAME: Array<[RegExp, string]> = [
  [/(?:^|[^a-z0-9])(?:x86[_-]64|amd64|x64)(?:[^a-z0-9]|$)/, 'x86_64'],
  [/(?:^|[^a-z0-9])(?:aarch64|arm64)(?:[^a-z0-9]|$)/, 'aarch64'],
  [/(?:^|[^a-z0-9])(?:armhf|armv7l?)(?:[^a-z0-9]|$)/, 'armhf'],
  [/(?:^|[^a-z0-9])(?:i[3-6]86|ia32)(?:[^a-z0-9]|$)/, 'i686']
]

function archFromUrl (url: string): string | undefined {
  const file = (url.split(/[?#]/)[0]?.split('/').at(-1) ?? '').toLowerCase()
  return ARCH_IN_FILE_NAME.find(([pattern]) => pattern.test(file))?.[1]
}

/**
 * Check that `json` is the hub's catalog: a list of objects. Entries without a usable `id` are
 * reported by {@link mapAppImageHubCatalog}, not thrown: one bad entry must not stop an import.
 */
export function parseAppImageHubCatalog (json: unknown): unknown[] {
  if (!Array.isArray(json)) {
    throw new InvalidCatalogError('an AppImageHub catalog is a JSON list of app entries (like data/appimagehub-apps.json); this file is not a list')
  }
  return json
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function strings (value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/** image references; the hub has entries where several URLs were pasted into one string */
function images (value: unknown): string[] {
  return strings(value).flatMap(v => v.split(/(?=https?:\/\/)/)).map(v => v.trim()).filter(v => v !== '')
}

function imageUrl (path: string): string | undefined {
  const value = path.trim()
  // (a type guard's false branch would narrow `value` to never)
  if (isHttpUrl(value as unknown)) return value
  // a path inside the hub's database folder: `<id>/icons/128x128/x.png`; nothing else is resolvable
  if (value === '' || value.startsWith('/') || value.includes('..') || /^[a-z][a-z0-9+.-]*:/i.test(value)) return undefined
  const url = APPIMAGEHUB_DATABASE_URL + value.split('/').map(part => encodeURIComponent(part)).join('/')
  return isHttpUrl(url) ? url : undefined
}

function uniq (values: Array<string | undefined>, max: number): string[] {
  const out: string[] = []
  for (const v of values) {
    if (v != null && !out.includes(v) && out.length < max) out.push(v)
  }
  return out
}

function versionOf (entry: AppImageHubEntry): string | undefined {
  const latest = isObject(entry.appstreamLatestRelease) ? entry.appstreamLatestRelease.version : undefined
  for (const candidate of [entry.version, latest]) {
    if (typeof candidate !== 'string') continue
    // `../x` or `.glibc2.17` would be a path in the file name `APP-VERSION-ARCH.AppImage`: the registry refuses them
    const v = cleanVersion(candidate)
    if (v.length <= LIMITS.version && isSafeVersion(v)) return v
  }
  return undefined
}

function downloadUrls (entry: AppImageHubEntry): string[] {
  const links = Array.isArray(entry.links) ? entry.links.filter(isObject) : []
  const fromLinks = links
    .filter(link => link.type === 'Download' || link.type === 'Install')
    .map(link => typeof link.url === 'string' ? link.url.trim() : undefined)
  const source = typeof entry.sourceUrl === 'string' ? entry.sourceUrl.trim() : undefined
  return uniq([source, ...fromLinks].filter(url => isHttpUrl(url)), LIMITS.urls)
}

function metadataOf (entry: AppImageHubEntry): AppMetadata {
  const authors = Array.isArray(entry.authors) ? entry.authors.filter(isObject) : []
  const urls = isObject(entry.appstreamUrls) ? entry.appstreamUrls : {}
  const github = typeof entry.githubRepo === 'string' && /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(entry.githubRepo.trim())
    ? `https://github.com/${entry.githubRepo.trim()}`
    : undefined
  const homepage = [urls.homepage, github].find(url => isHttpUrl(url))
  const license = cleanLine(entry.license, LIMITS.license)
  const categories = uniq(strings(entry.categories).map(c => cleanLine(c, LIMITS.word)), LIMITS.categories)
  const screenshots = uniq(images(entry.screenshots).map(imageUrl), LIMITS.screenshots)
  const app: AppMetadata = {
    name: cleanInlineText(entry.name, LIMITS.name) ?? cleanLine(entry.id, LIMITS.name) ?? 'unnamed',
    summary: cleanInlineText(entry.summary, LIMITS.summary),
    description: appstreamToText(entry.description, LIMITS.description),
    categories: categories.length > 0 ? categories : undefined,
    license: license === 'NOASSERTION' ? undefined : license,
    developer: cleanInlineText(entry.developerName, LIMITS.shortText) ?? cleanLine(authors[0]?.name, LIMITS.shortText),
    homepage,
    icon: images(entry.icons).map(imageUrl).find(url => url != null),
    screenshots: screenshots.length > 0 ? screenshots : undefined
  }
  return app
}

// a fixed key only to run the registry's own schema check on each draft before anyone signs it
const CHECK_PUBLISHER = publisherKeyFromSecret(new Uint8Array(32).fill(7)).did

/**
 * Map the hub's catalog to release drafts, with a report of what was skipped and why.
 * Throws InvalidCatalogError only when the file is not a catalog at all.
 */
export function mapAppImageHubCatalog (json: unknown): AppImageHubImport {
  const raw = parseAppImageHubCatalog(json)
  const result: AppImageHubImport = { drafts: [], total: raw.length, skipped: [], renamed: [], defaults: { version: 0, arch: 0 } }

  const entries: AppImageHubEntry[] = []
  const seen = new Set<string>()
  raw.forEach((value, index) => {
    if (!isObject(value) || typeof value.id !== 'string' || value.id.trim() === '') {
      result.skipped.push({ sourceId: `#${index}`, reason: 'entry has no id (a hub entry is an object with a string "id")' })
      return
    }
    const id = value.id.trim()
    if (id.length > LIMITS.shortText || hasControl(id)) {
      result.skipped.push({ sourceId: `#${index}`, reason: 'entry id is over 256 characters or has control characters' })
      return
    }
    if (seen.has(id)) {
      result.skipped.push({ sourceId: id, reason: 'a second entry with the same id; the first one is imported' })
      return
    }
    seen.add(id)
    entries.push({ ...value, id })
  })
  // by hub id, so that which of two colliding entries keeps an app id does not depend on file order
  entries.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

  const taken = new Set<string>()
  for (const entry of entries) {
    const urls = downloadUrls(entry)
    if (urls.length === 0) {
      result.skipped.push({ sourceId: entry.id, reason: 'no http(s) download URL in sourceUrl or links' })
      continue
    }

    const choices = [declaredAppId(entry.appstreamId), githubAppId(entry.githubRepo), hubAppId(entry.id)]
      .filter((id): id is string => id != null)
    let appId = choices.find(id => !taken.has(id.toLowerCase()))
    if (appId == null) {
      // two hub ids that sanitise alike (`Foo-Bar`, `Foo_Bar`): number the later one
      const base = hubAppId(entry.id)
      for (let n = 2; appId == null; n++) {
        if (!taken.has(`${base}_${n}`.toLowerCase())) appId = `${base}_${n}`
      }
    }
    const wanted = choices[0]
    if (wanted != null && wanted !== appId) {
      result.renamed.push({ sourceId: entry.id, wanted, appId, reason: 'another hub entry (first by id) has this app id' })
    }

    const version = versionOf(entry)
    const arch = normalizeArch(entry.architecture) ?? urls.map(archFromUrl).find(a => a != null)
    const updateInformation = cleanLine(entry.updateInformation, LIMITS.updateInformation)
    const draft: ReleaseDraft = {
      appId,
      version: version ?? UNKNOWN_VERSION,
      channel: 'release',
      arch: arch ?? DEFAULT_ARCH,
      content: updateInformation == null ? { urls } : { urls, updateInformation },
      app: metadataOf(entry),
      imported: { source: APPIMAGEHUB_SOURCE, sourceId: entry.id }
    }

    try {
      validateRecord(buildReleaseRecord(draft, { publisher: CHECK_PUBLISHER, time: 0 }))
    } catch (err) {
      result.skipped.push({ sourceId: entry.id, reason: `${(err as Error).name}: ${(err as Error).message}` })
      continue
    }
    taken.add(appId.toLowerCase())
    if (version == null) result.defaults.version++
    if (arch == null) result.defaults.arch++
    // the registry's builder drops undefined fields; the draft itself must be canonical too
    result.drafts.push(JSON.parse(JSON.stringify(draft)) as ReleaseDraft)
  }
  return result
}
