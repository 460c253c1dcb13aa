import { createHash } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseUpdateInformation } from '@hubless/appimage'
import { logger } from '@libp2p/logger'
import { OriginError, OriginTooLargeError, ZsyncMismatchError } from '../errors.ts'
import { githubRepository, MAX_RELEASES_ANSWER, MAX_ZSYNC_HEADER, parseGithubRelease, parseZsyncHeader, pickAsset } from './upstream.ts'
import type { WitnessTarget } from './archiver.ts'
import type { FetchedFile, OriginFetcher } from './origin-fetch.ts'
import type { ArchivedCopy } from './origins.ts'
import type { GithubRelease, ZsyncHeader } from './upstream.ts'

const log = logger('hubless:mirror:track')

/** each app is asked upstream at most once a day */
export const DEFAULT_TRACK_INTERVAL = 24 * 3600_000
/** two tracking requests to one host start at least this far apart */
export const DEFAULT_HOST_SPACING = 2_000
export const DEFAULT_GITHUB_API = 'https://api.github.com'
/** without a token, GitHub's API answers 60 requests an hour: by default its requests start 65 s apart */
export const DEFAULT_GITHUB_SPACING = 65_000

/**
 * Where an app's new releases are looked for, in this order: its AppImage's update information
 * (`zsync`, `gh-releases-zsync`), else the catalog's GitHub repository link (the latest
 * release's `*.AppImage` for the architecture), else its plain URL, whose `ETag`/`Last-Modified`
 * the archiver's own recheck asks about (tracking leaves those to it).
 */
export type TrackSource =
  | { kind: 'zsync', url: string }
  | { kind: 'gh-releases-zsync', owner: string, repo: string, tag: string, pattern: string }
  | { kind: 'github', owner: string, repo: string }
  | { kind: 'url' }

/** An archived app the tracker follows: what the archiver has of it */
export interface TrackTarget {
  appId: string
  /** the imported release record archived */
  release: string
  channel: WitnessTarget['channel']
  arch: WitnessTarget['arch']
  /** the URL it was archived from */
  url: string
  archived: ArchivedCopy
  /** the app's homepage in the catalog (a GitHub repository link) */
  homepage?: string
}

/** What the tracker keeps per app (DATA_DIR/archive/tracks.json) */
interface TrackRecord {
  appId: string
  source: TrackSource['kind']
  state: 'current' | 'updated' | 'failing'
  since: number
  lastChecked: number
  /** validators of the last `.zsync` or releases answer: the next request is conditional */
  etag?: string
  lastModified?: string
  retryAt?: number
  lastError?: string
  /** the newest file seen upstream */
  newest?: { url: string, size: number, sha1?: string, sha256?: string, version?: string }
  /** versions this mirror witnessed by tracking, oldest first, with their bytes */
  witnessed: Array<{ version: string, url: string, size: number, sha256: string, time: number }>
}

export interface TrackedApp {
  appId: string
  source: TrackSource['kind']
  state: TrackRecord['state']
  since: string
  lastChecked: string
  newest?: { url: string, version?: string }
  /** versions witnessed by tracking */
  versions: string[]
  lastError?: string
}

export interface TrackerInit {
  /** ms between two checks of one app; default {@link DEFAULT_TRACK_INTERVAL} */
  interval?: number
  /** ms between the starts of two tracking requests to one host; default {@link DEFAULT_HOST_SPACING} ({@link DEFAULT_GITHUB_SPACING} for the GitHub API without a token) */
  hostSpacing?: number
  /** the GitHub API's base URL; default {@link DEFAULT_GITHUB_API} */
  githubApi?: string
  /** a GitHub token (`GITHUB_TOKEN`), sent as `Authorization: Bearer`: 5,000 requests an hour instead of 60 */
  githubToken?: string
}

export type TrackEvent =
  | { type: 'tracked', appId: string, source: TrackSource['kind'], state: 'unchanged' | 'new', version?: string, url?: string }
  | { type: 'track-failed', appId: string, source: TrackSource['kind'], error: string }

export interface TrackerComponents {
  fetcher: OriginFetcher
  /** reads, adds, pins and witnesses a fetched file (the archiver's one path) */
  witness: (file: string, fetched: FetchedFile, target: WitnessTarget, signal: AbortSignal) => Promise<ArchivedCopy>
}

export interface TrackerOptions {
  directory: string
  /** the most bytes the next file may be (the archiver's budget) */
  maxBytes: () => number
  onEvent?: (event: TrackEvent) => void
}

export interface Tracker {
  /** one pass over the targets that are due; resolves when it is done */
  pass (targets: TrackTarget[], signal: AbortSignal): Promise<void>
  status (): TrackedApp[]
  /** bytes of the files witnessed by tracking (pinned, within the mirror's budget) */
  bytes (): number
  save (): Promise<void>
}

/** The source to track an archived app by */
export function trackSource (target: Pick<TrackTarget, 'archived' | 'homepage' | 'url'>): TrackSource {
  const info = target.archived.updateInformation == null ? undefined : parseUpdateInformation(target.archived.updateInformation)
  if (info?.transport === 'zsync' && info.url != null && /^https?:\/\//.test(info.url)) return { kind: 'zsync', url: info.url }
  if (info?.transport === 'gh-releases-zsync' && info.user != null && info.repo != null && info.pattern != null) {
    return { kind: 'gh-releases-zsync', owner: info.user, repo: info.repo, tag: info.tag ?? 'latest', pattern: info.pattern }
  }
  const repo = githubRepository(target.homepage) ?? githubRepository(target.url)
  if (repo != null) return { kind: 'github', ...repo }
  return { kind: 'url' }
}

/** Each host's turns: two requests start at least `spacing` ms apart; a host that asked to wait (rate limits) is skipped until then */
function hostTurns (spacing: (host: string) => number): { turn: (host: string, signal: AbortSignal) => Promise<void>, block: (host: string, until: number) => void, blocked: (host: string) => boolean } {
  const next = new Map<string, number>()
  const blockedUntil = new Map<string, number>()
  return {
    async turn (host, signal) {
      const now = Date.now()
      const at = Math.max(now, next.get(host) ?? 0)
      next.set(host, at + spacing(host))
      if (at > now) await sleep(at - now, undefined, { signal })
    },
    block (host, until) { blockedUntil.set(host, Math.max(until, blockedUntil.get(host) ?? 0)) },
    blocked: host => (blockedUntil.get(host) ?? 0) > Date.now()
  }
}

/**
 * Tracks archived apps upstream and witnesses their new releases with the versions their files
 * declare. Every request is conditional where the answer had validators, bounded (the archiver's
 * fetcher), spaced per host, and each app is asked at most once per interval. A garbage answer is
 * a named error kept with the app; what was archived and witnessed stays.
 */
export async function createTracker (components: TrackerComponents, init: TrackerInit, options: TrackerOptions): Promise<Tracker> {
  const { fetcher } = components
  const file = join(options.directory, 'tracks.json')
  const interval = init.interval ?? DEFAULT_TRACK_INTERVAL
  const githubApi = (init.githubApi ?? DEFAULT_GITHUB_API).replace(/\/+$/, '')
  const anonymous = init.githubToken == null || init.githubToken === ''
  const hosts = hostTurns(host => init.hostSpacing ?? (anonymous && host === new URL(githubApi).host ? DEFAULT_GITHUB_SPACING : DEFAULT_HOST_SPACING))
  const records = new Map<string, TrackRecord>()
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { apps?: TrackRecord[] }
    for (const r of parsed.apps ?? []) if (typeof r?.appId === 'string') records.set(r.appId, { ...r, witnessed: Array.isArray(r.witnessed) ? r.witnessed : [] })
  } catch {
    // none yet, or torn: tracking starts over (what it witnessed stays pinned and in the witness log)
  }
  let saving: Promise<void> = Promise.resolve()

  const githubHeaders = (): Record<string, string> => ({
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'hubless-mirror',
    ...(anonymous ? {} : { authorization: `Bearer ${init.githubToken}` })
  })

  function hostOf (source: TrackSource): string {
    return source.kind === 'zsync' ? new URL(source.url).host : new URL(githubApi).host
  }

  async function readZsync (url: string, record: TrackRecord, conditional: boolean, signal: AbortSignal): Promise<ZsyncHeader | undefined> {
    const answer = await fetcher.fetchText(url, {
      signal,
      maxBytes: MAX_ZSYNC_HEADER,
      until: '\n\n',
      etag: conditional ? record.etag : undefined,
      lastModified: conditional ? record.lastModified : undefined
    })
    if (answer.notModified) return undefined
    const header = parseZsyncHeader(answer.text, answer.finalUrl)
    if (conditional) {
      record.etag = answer.etag
      record.lastModified = answer.lastModified
    }
    return header
  }

  async function readRelease (owner: string, repo: string, tag: string, record: TrackRecord, signal: AbortSignal): Promise<GithubRelease | undefined> {
    const path = tag === 'latest' ? 'releases/latest' : `releases/tags/${encodeURIComponent(tag)}`
    const url = `${githubApi}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/${path}`
    const answer = await fetcher.fetchText(url, { signal, maxBytes: MAX_RELEASES_ANSWER, headers: githubHeaders(), etag: record.etag, lastModified: record.lastModified })
    if (answer.notModified) return undefined
    if (!answer.complete) throw new OriginTooLargeError(`${url} answered more than ${MAX_RELEASES_ANSWER} bytes: not a release`)
    const release = parseGithubRelease(answer.text, url)
    record.etag = answer.etag
    record.lastModified = answer.lastModified
    return release
  }

  /** whether `candidate` is a file this app already has: the archived copy, the newest seen, or one tracking witnessed */
  function known (target: TrackTarget, record: TrackRecord, candidate: { url?: string, size: number, sha1?: string, sha256?: string }): boolean {
    const files = [
      { url: target.url, size: target.archived.size, sha1: target.archived.sha1, sha256: target.archived.sha256 },
      ...(record.newest == null ? [] : [record.newest]),
      ...record.witnessed.map(w => ({ url: w.url, size: w.size, sha1: undefined, sha256: w.sha256 }))
    ]
    return files.some(f => {
      if (candidate.sha256 != null && f.sha256 != null) return candidate.sha256 === f.sha256
      if (candidate.sha1 != null && f.sha1 != null) return candidate.sha1 === f.sha1 && candidate.size === f.size
      // an asset named by URL: the same URL at the same size is taken as the same file
      return candidate.sha1 == null && candidate.url != null && candidate.url === f.url && candidate.size === f.size
    })
  }

  /** fetches a new upstream file, checks it against what announced it, and witnesses it */
  async function takeFile (target: TrackTarget, record: TrackRecord, found: { url: string, size: number, sha1?: string }, signal: AbortSignal): Promise<void> {
    const limit = options.maxBytes()
    if (found.size > limit) throw new OriginTooLargeError(`${found.url} is announced at ${found.size} bytes, more than the ${limit} this mirror archives now`)
    const part = join(options.directory, 'partial', `track-${createHash('sha256').update(found.url).digest('hex').slice(0, 32)}.part`)
    const fetched = await fetcher.fetchToFile(found.url, part, { signal, maxBytes: limit })
    if (found.sha1 != null && (fetched.sha1 !== found.sha1 || fetched.size !== found.size)) {
      await rm(part, { force: true })
      throw new ZsyncMismatchError(`${found.url} served ${fetched.size} bytes of SHA-1 ${fetched.sha1}; its .zsync says ${found.size} bytes of SHA-1 ${found.sha1}`)
    }
    if (known(target, record, { size: fetched.size, sha256: fetched.sha256 })) {
      await rm(part, { force: true })
      record.newest = { url: found.url, size: fetched.size, sha1: fetched.sha1, sha256: fetched.sha256, version: record.newest?.version }
      settle(record, 'current', target, 'unchanged')
      return
    }
    const copy = await components.witness(part, fetched, {
      appId: target.appId,
      channel: target.channel,
      arch: target.arch,
      url: found.url,
      version: target.archived.version,
      // the archived release's own version, re-served with other bytes, is that release's; a new version names no record yet
      release: version => version === target.archived.version ? target.release : undefined
    }, signal)
    record.newest = { url: found.url, size: copy.size, sha1: fetched.sha1, sha256: copy.sha256, version: copy.version }
    record.witnessed.push({ version: copy.version, url: found.url, size: copy.size, sha256: copy.sha256, time: copy.time })
    settle(record, 'updated', target, 'new', copy.version, found.url)
  }

  function settle (record: TrackRecord, state: TrackRecord['state'], target: TrackTarget, outcome: 'unchanged' | 'new', version?: string, url?: string): void {
    if (record.state !== state) record.since = Date.now()
    record.state = state
    delete record.lastError
    delete record.retryAt
    options.onEvent?.({ type: 'tracked', appId: target.appId, source: record.source, state: outcome, version, url })
  }

  async function zsyncFlow (target: TrackTarget, record: TrackRecord, zsyncUrl: string, conditional: boolean, signal: AbortSignal): Promise<void> {
    const header = await readZsync(zsyncUrl, record, conditional, signal)
    if (header == null || known(target, record, { size: header.length, sha1: header.sha1 })) {
      settle(record, record.state === 'failing' ? 'current' : record.state, target, 'unchanged')
      return
    }
    // a file whose SHA-1 nobody noted (archived before tracking) is fetched once to be compared by SHA-256
    await takeFile(target, record, { url: header.url, size: header.length, sha1: header.sha1 }, signal)
  }

  async function check (target: TrackTarget, source: TrackSource, record: TrackRecord, signal: AbortSignal): Promise<void> {
    if (source.kind === 'zsync') {
      await zsyncFlow(target, record, source.url, true, signal)
      return
    }
    if (source.kind === 'url') return
    const ghTag = source.kind === 'gh-releases-zsync' ? source.tag : 'latest'
    const release = await readRelease(source.owner, source.repo, ghTag, record, signal)
    if (release == null) {
      settle(record, record.state === 'failing' ? 'current' : record.state, target, 'unchanged')
      return
    }
    const from = `${source.owner}/${source.repo} ${release.tag}`
    const asset = pickAsset(release, { pattern: source.kind === 'gh-releases-zsync' ? source.pattern : undefined, arch: target.arch, from })
    if (/\.zsync$/i.test(asset.name)) {
      // the release answer's validators cover the .zsync too: it is read whole each time the release changed
      await zsyncFlow(target, record, asset.url, false, signal)
      return
    }
    if (known(target, record, { url: asset.url, size: asset.size })) {
      settle(record, record.state === 'failing' ? 'current' : record.state, target, 'unchanged')
      return
    }
    await takeFile(target, record, { url: asset.url, size: asset.size }, signal)
  }

  async function track (target: TrackTarget, signal: AbortSignal): Promise<void> {
    const source = trackSource(target)
    const now = Date.now()
    let record = records.get(target.appId)
    if (record?.source !== source.kind) {
      record = { appId: target.appId, source: source.kind, state: 'current', since: now, lastChecked: 0, witnessed: record?.witnessed ?? [] }
      records.set(target.appId, record)
    }
    if (source.kind === 'url') return
    if (now - record.lastChecked < interval || (record.retryAt ?? 0) > now) return
    const host = hostOf(source)
    if (hosts.blocked(host)) return
    await hosts.turn(host, signal)
    record.lastChecked = Date.now()
    try {
      await check(target, source, record, signal)
    } catch (err) {
      if (signal.aborted) throw err
      const error = err instanceof Error ? err : new Error(String(err))
      if (record.state !== 'failing') record.since = Date.now()
      record.state = 'failing'
      record.lastError = `${error.name}: ${error.message}`
      if (err instanceof OriginError && err.retryAt != null) {
        record.retryAt = err.retryAt
        hosts.block(host, err.retryAt)
      }
      options.onEvent?.({ type: 'track-failed', appId: target.appId, source: source.kind, error: record.lastError })
      log('tracking %s (%s) failed: %s', target.appId, source.kind, record.lastError)
    }
  }

  async function save (): Promise<void> {
    saving = saving.then(async () => {
      await writeFile(`${file}.tmp`, JSON.stringify({ apps: [...records.values()] }) + '\n')
      await rename(`${file}.tmp`, file)
    }).catch(err => { log.error('could not save the tracking state: %e', err) })
    await saving
  }

  return {
    async pass (targets, signal) {
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < targets.length && !signal.aborted) {
          const target = targets[next++]!
          await track(target, signal).catch(err => { if (!signal.aborted) log.error('tracking %s failed: %e', target.appId, err) })
        }
      }
      await Promise.all(Array.from({ length: 4 }, worker))
      await save()
    },
    status () {
      return [...records.values()].sort((a, b) => b.since - a.since).map(r => {
        const app: TrackedApp = {
          appId: r.appId,
          source: r.source,
          state: r.state,
          since: new Date(r.since).toISOString(),
          lastChecked: new Date(r.lastChecked).toISOString(),
          versions: [...new Set(r.witnessed.map(w => w.version))]
        }
        if (r.newest != null) app.newest = { url: r.newest.url, version: r.newest.version }
        if (r.lastError != null) app.lastError = r.lastError
        return app
      })
    },
    bytes: () => [...records.values()].reduce((sum, r) => sum + r.witnessed.reduce((s, w) => s + w.size, 0), 0),
    save
  }
}
