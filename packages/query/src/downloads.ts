/**
 * Which file a reader downloads for an app: the one question `hubless get`, `install`, `list`
 * and `update` ask, answered from the catalog and the witnesses together.
 *
 * - An author's own signed release (one that is not an import) always wins: a witnessed version
 *   never ranks above it, whatever its version.
 * - Otherwise (the app is known only from an import) the candidates are the imported release,
 *   with the content the reader's trusted witnesses vouch for, and the versions mirrors tracked
 *   upstream that no release record names (`WitnessIndex.tracked`), when witnesses the reader
 *   trusts saw them and agree on the bytes. The newest version wins; on a tie the release record.
 *
 * A tracked version becomes a release view of its own: its id is the first trusted witness
 * record's (stable as more mirrors witness it), its content the witnessed CID, SHA-256 and size (the URLs the witnesses fetched as
 * fallback), its metadata the app's. It is always marked `witnessed`, never shown as the app's
 * own release.
 */

import { channelVisible } from './channels.ts'
import { InvalidQueryError } from './errors.ts'
import { compareVersions, parseVersion } from './version.ts'
import type { AppView, Catalog, ReleaseView, TrustVerdict } from './index.ts'
import type { TrackedVersion, WitnessIndex, WitnessView } from './witnesses.ts'
import type { Architecture, Channel } from '@hubless/registry/records'

export interface DownloadQuery {
  /** reader channel, default `release` (the channel ladder applies) */
  channel?: Channel
  arch?: Architecture
  /** a version exactly as the release or the witnesses name it; default: the newest */
  version?: string
}

export interface Download {
  release: ReleaseView
  /** the verdict on the release's publisher (an import's is usually `imported`) */
  trust: TrustVerdict
  /**
   * the trusted witness keys whose witnessed CID, SHA-256 and size `release.content` holds (an
   * imported release or a tracked version); absent for an author's release
   */
  witnessedBy?: string[]
  /** a version mirrors witnessed upstream that no release record names */
  tracked: boolean
  /** the reader may download it without overriding trust: its publisher is trusted, or trusted witnesses vouch for its bytes */
  trusted: boolean
}

export type DownloadCatalog = Pick<Catalog, 'app' | 'latest'>
export type DownloadWitnesses = Pick<WitnessIndex, 'forRelease' | 'tracked'>

function usable (release: ReleaseView, reader: Channel, query: DownloadQuery): boolean {
  return release.state === 'ok' && channelVisible(reader, release.channel) &&
    (query.arch == null || release.arch === query.arch) && (query.version == null || release.version === query.version)
}

/** The release record a reader gets: the catalog's newest, or the owner's release of `query.version` */
function recordRelease (catalog: DownloadCatalog, app: AppView, reader: Channel, query: DownloadQuery): ReleaseView | undefined {
  if (query.version == null) return catalog.latest(app.appId, { channel: reader, arch: query.arch })
  const own = app.history.find(r => usable(r, reader, query))
  if (own != null) return own
  return app.claimants.map(c => c.newest).find(r => usable(r, reader, query))
}

function trustOf (app: AppView, release: ReleaseView): TrustVerdict {
  return app.claimants.find(c => c.newest.publisher === release.publisher)?.trust ?? app.trust
}

/** The trusted witnesses of a tracked version, when there are some and they agree on the bytes */
function vouchedTracked (tracked: TrackedVersion): WitnessView[] | undefined {
  const trusted = tracked.witnesses.filter(w => w.trusted)
  const first = trusted[0]
  if (first == null) return undefined
  return trusted.every(w => w.sha256 === first.sha256 && w.size === first.size && w.cid === first.cid) ? trusted : undefined
}

function trackedRelease (app: AppView, tracked: TrackedVersion, witnesses: WitnessView[], base: ReleaseView | undefined): ReleaseView {
  // the first trusted witness names it: an id that stays as more mirrors witness the same file,
  // so that an installed tracked version is not offered again as an update to itself
  const first = witnesses.at(-1)!
  const view: ReleaseView = {
    id: first.id,
    appId: app.appId,
    version: tracked.version,
    channel: tracked.channel as Channel,
    arch: tracked.arch,
    time: first.time,
    // the key that states the app (the import's), so that an installed import and its tracked update stay one signer
    publisher: base?.publisher ?? app.trust.publisher,
    content: { cid: first.cid, sha256: first.sha256, size: first.size, urls: [...new Set(witnesses.map(w => w.url))] },
    app: base?.app ?? app.metadata,
    state: 'ok',
    witnessed: { by: [...new Set(witnesses.map(w => w.mirror))] }
  }
  const imported = base?.imported ?? app.history.find(r => r.imported != null)?.imported
  if (imported != null) view.imported = imported
  return view
}

/**
 * The file a reader should download for `appId` (see the module comment for the ranking), or
 * undefined when the app has none for the channel, architecture and version asked.
 */
export function chooseDownload (catalog: DownloadCatalog, witnesses: DownloadWitnesses | undefined, appId: string, query: DownloadQuery = {}): Download | undefined {
  if (query.version != null && (typeof query.version !== 'string' || query.version === '')) {
    throw new InvalidQueryError('version must be a non-empty string', { parameter: 'version' })
  }
  const app = catalog.app(appId)
  if (app == null) return undefined
  const reader = query.channel ?? 'release'
  let base = recordRelease(catalog, app, reader, query)
  if (base != null && base.imported == null) {
    const trust = trustOf(app, base)
    return { release: base, trust, tracked: false, trusted: trust.status === 'trusted' }
  }
  // an import names no version, or another one, where its witnesses read the file's own
  const vouchedVersion = (release: ReleaseView): string | undefined => witnesses?.forRelease(release.id)?.vouched?.version
  if (base == null && query.version != null) {
    const newest = catalog.latest(app.appId, { channel: reader, arch: query.arch })
    if (newest?.imported != null && vouchedVersion(newest) === query.version) base = newest
  }
  let best: Download | undefined
  let bestVersion = ''
  if (base != null) {
    const trust = trustOf(app, base)
    const vouched = trust.status === 'trusted' ? undefined : witnesses?.forRelease(base.id)?.vouched
    bestVersion = vouched?.version ?? base.version
    best = vouched == null
      ? { release: base, trust, tracked: false, trusted: trust.status === 'trusted' }
      : {
          release: {
            ...base,
            // an import that named no version has the one its witnesses read from the file
            version: parseVersion(base.version).kind === 'unknown' ? vouched.version : base.version,
            content: { ...base.content, cid: vouched.cid, sha256: vouched.sha256, size: vouched.size },
            witnessed: { by: vouched.by }
          },
          trust,
          witnessedBy: vouched.by,
          tracked: false,
          trusted: true
        }
  }
  for (const tracked of witnesses?.tracked(appId) ?? []) {
    if (!channelVisible(reader, tracked.channel as Channel) || (query.arch != null && tracked.arch !== query.arch)) continue
    if (query.version != null && tracked.version !== query.version) continue
    const vouched = vouchedTracked(tracked)
    if (vouched == null) continue
    if (best != null && compareVersions(tracked.version, bestVersion) <= 0) continue
    const release = trackedRelease(app, tracked, vouched, base)
    bestVersion = tracked.version
    best = { release, trust: trustOf(app, base ?? release), witnessedBy: release.witnessed!.by, tracked: true, trusted: true }
  }
  return best
}
