import { NoMatchingAssetError, ReleasesAnswerError, ZsyncControlError } from '../errors.ts'

/**
 * Where an app's new releases are announced, read from text others wrote: the header of a
 * `.zsync` control file and the GitHub Releases API's answer. Both parsers take at most what the
 * fetcher let through and throw a named error for garbage; neither fetches anything.
 */

/** The fields of a `.zsync` header the tracker uses (zsync 0.6's `Key: value` lines before the first blank line) */
export interface ZsyncHeader {
  filename: string
  /** the file's URL, resolved against the `.zsync` URL */
  url: string
  /** hex SHA-1 of the whole file */
  sha1: string
  length: number
}

/** the most a `.zsync` header may be before its blank line; the block checksums after it are never read */
export const MAX_ZSYNC_HEADER = 64 * 1024

/** Parses the header of a `.zsync` control file fetched from `zsyncUrl` */
export function parseZsyncHeader (text: string, zsyncUrl: string): ZsyncHeader {
  const end = text.indexOf('\n\n')
  if (end < 0) throw new ZsyncControlError(`${zsyncUrl} is not a zsync control file: no blank line ends a header within ${MAX_ZSYNC_HEADER} bytes`)
  const fields = new Map<string, string>()
  for (const line of text.slice(0, end).split('\n')) {
    const m = /^([A-Za-z0-9-]+): ?(.*)$/.exec(line)
    if (m == null) throw new ZsyncControlError(`${zsyncUrl} is not a zsync control file: header line ${JSON.stringify(line.slice(0, 60))} is not "Key: value"`)
    fields.set(m[1]!.toLowerCase(), m[2]!.trim())
  }
  if (!fields.has('zsync')) throw new ZsyncControlError(`${zsyncUrl} is not a zsync control file: its header has no "zsync:" version line`)
  const filename = fields.get('filename') ?? ''
  const sha1 = (fields.get('sha-1') ?? '').toLowerCase()
  const lengthText = fields.get('length') ?? ''
  if (!/^[0-9a-f]{40}$/.test(sha1)) throw new ZsyncControlError(`${zsyncUrl}: "SHA-1: ${sha1.slice(0, 60)}" is not 40 hex digits`)
  if (!/^\d{1,16}$/.test(lengthText) || Number(lengthText) <= 0) throw new ZsyncControlError(`${zsyncUrl}: "Length: ${lengthText.slice(0, 30)}" is not a size`)
  const target = fields.get('url') ?? filename
  if (target === '') throw new ZsyncControlError(`${zsyncUrl}: the header names no file (no "URL:" and no "Filename:")`)
  let url: URL
  try {
    url = new URL(target, zsyncUrl)
  } catch {
    throw new ZsyncControlError(`${zsyncUrl}: "URL: ${target.slice(0, 100)}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ZsyncControlError(`${zsyncUrl}: "URL: ${target.slice(0, 100)}" is not http(s)`)
  return { filename: filename === '' ? decodeURIComponent(url.pathname.split('/').at(-1) ?? '') : filename, url: url.toString(), sha1, length: Number(lengthText) }
}

/** One asset of a GitHub release, as the Releases API describes it */
export interface ReleaseAsset {
  name: string
  url: string
  size: number
}

export interface GithubRelease {
  tag: string
  assets: ReleaseAsset[]
}

/** the most a releases answer may be (a release with hundreds of assets is ~1 MB) */
export const MAX_RELEASES_ANSWER = 4 * 1024 * 1024

/** Reads a `GET /repos/{owner}/{repo}/releases/latest` (or `/releases/tags/{tag}`) answer */
export function parseGithubRelease (text: string, from: string): GithubRelease {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ReleasesAnswerError(`${from} answered ${text.length} characters that are not JSON (${JSON.stringify(text.slice(0, 40))})`)
  }
  const release = json as { tag_name?: unknown, assets?: unknown }
  if (json == null || typeof json !== 'object' || Array.isArray(json) || typeof release.tag_name !== 'string' || !Array.isArray(release.assets)) {
    throw new ReleasesAnswerError(`${from} did not answer a release: expected an object with "tag_name" and "assets"`)
  }
  const assets: ReleaseAsset[] = []
  for (const item of release.assets.slice(0, 1000)) {
    const a = item as { name?: unknown, browser_download_url?: unknown, size?: unknown }
    if (a == null || typeof a.name !== 'string' || typeof a.browser_download_url !== 'string' || typeof a.size !== 'number') continue
    if (!/^https?:\/\//.test(a.browser_download_url) || !Number.isSafeInteger(a.size) || a.size < 0) continue
    assets.push({ name: a.name, url: a.browser_download_url, size: a.size })
  }
  return { tag: release.tag_name.slice(0, 256), assets }
}

/** A file name glob as AppImageUpdate matches them (`*` any run, `?` one character, no path separators) */
export function globToRegExp (pattern: string): RegExp {
  const body = [...pattern].map(c => c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')).join('')
  return new RegExp(`^${body}$`)
}

/** names an architecture goes by in AppImage file names */
const ARCH_NAMES: Record<string, string[]> = {
  x86_64: ['x86_64', 'x86-64', 'amd64', 'x64'],
  aarch64: ['aarch64', 'arm64'],
  armhf: ['armhf', 'armv7l', 'armv7'],
  i686: ['i686', 'i386', 'x86', 'ia32']
}

/** The asset of `release` whose name matches `pattern` (the update information's), or for an app without one, the `*.AppImage` for `arch` */
export function pickAsset (release: GithubRelease, options: { pattern?: string, arch: string, from: string }): ReleaseAsset {
  if (options.pattern != null) {
    const match = globToRegExp(options.pattern)
    const found = release.assets.find(a => match.test(a.name))
    if (found == null) throw new NoMatchingAssetError(`${options.from}: release ${release.tag} has no asset matching ${options.pattern} (${release.assets.length} assets)`)
    return found
  }
  const images = release.assets.filter(a => /\.appimage$/i.test(a.name))
  const mine = (ARCH_NAMES[options.arch] ?? [options.arch]).map(n => n.toLowerCase())
  const others = Object.entries(ARCH_NAMES).filter(([arch]) => arch !== options.arch).flatMap(([, names]) => names)
  const named = (a: ReleaseAsset, names: string[]): boolean => names.some(n => new RegExp(`(^|[^a-z0-9])${n.replace(/[-_]/g, '[-_]')}([^a-z0-9]|$)`, 'i').test(a.name))
  const found = images.find(a => named(a, mine)) ?? (images.filter(a => !named(a, others)).length === 1 ? images.find(a => !named(a, others)) : undefined)
  if (found == null) throw new NoMatchingAssetError(`${options.from}: release ${release.tag} has no *.AppImage asset for ${options.arch} (${images.length} AppImage assets)`)
  return found
}

/** `owner/repo` of a GitHub repository link (`https://github.com/o/r`, or a release download URL in it) */
export function githubRepository (url: string | undefined): { owner: string, repo: string } | undefined {
  if (url == null) return undefined
  const m = /^https:\/\/github\.com\/([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})(?:\/|$|\.git$)/.exec(url)
  if (m == null) return undefined
  const repo = m[2]!.replace(/\.git$/, '')
  return repo === '' || repo === '.' || repo === '..' ? undefined : { owner: m[1]!, repo }
}
