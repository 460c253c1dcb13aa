import { isChannel } from '@hubless/registry'
import { AppNotFoundError, DownloadFailedError, SignerChangedError, UntrustedAppError, UsageError } from '../errors.ts'
import type { InstalledApp } from './installed.ts'
import { chooseDownload } from '@hubless/query'
import type { AppView, Catalog, DownloadWitnesses, ReleaseView, TrustVerdict } from '@hubless/query'
import type { Channel } from '@hubless/registry'

export interface Selection {
  app: AppView
  release: ReleaseView & { content: { cid: string } }
  trust: TrustVerdict
}

export function checkChannel (channel: string | undefined): Channel | undefined {
  if (channel != null && !isChannel(channel)) {
    throw new UsageError(`--channel "${channel}" is not one of release, beta, alpha, nightly, continuous`)
  }
  return channel as Channel | undefined
}

/**
 * The release `hubless get` would pick (`chooseDownload` of @hubless/query: an author's release,
 * else an import or a version tracked upstream that the reader's trusted witnesses vouch for),
 * refused unless trusted (or `allowUntrusted`). Install needs a CID: its updates fetch only the
 * blocks that changed, which a URL-only release cannot offer.
 */
export function selectRelease (catalog: Catalog, appId: string, options: { channel?: Channel, arch?: string, allowUntrusted?: boolean, witnesses?: DownloadWitnesses }): Selection {
  const app = catalog.app(appId)
  if (app == null) throw new AppNotFoundError(`no app ${appId} in the registry (try \`hubless search\`)`)
  const download = chooseDownload(catalog, options.witnesses, appId, { channel: options.channel, arch: options.arch })
  if (download == null) {
    throw new AppNotFoundError(`${appId} has no usable release on channel ${options.channel ?? 'release'}${options.arch == null ? '' : ` for ${options.arch}`}`)
  }
  const { release, trust } = download
  if (!download.trusted && options.allowUntrusted !== true) {
    throw new UntrustedAppError(`${appId} is ${trust.status}: ${trust.explanation}; trust its publisher (\`hubless trust add KEY\`), a mirror that witnessed it (\`hubless trust add KEY --witness\`), or pass --allow-untrusted`)
  }
  if (release.content.cid == null) {
    throw new DownloadFailedError(`${appId} ${release.version} names no CID (only URLs): install needs content by CID; download it with \`hubless get\``)
  }
  return { app, release: release as Selection['release'], trust }
}

/** Whether choosing `appId`'s release can depend on witnesses: the catalog has no author's release for it */
export function needsWitnesses (catalog: Catalog, appId: string, options: { channel?: Channel, arch?: string }): boolean {
  const latest = catalog.latest(appId, options)
  return latest == null || latest.imported != null
}

/**
 * Whether `release` may replace what is installed: signed by the same key, or by a key a
 * rotation links to it. The catalog groups the keys of one rotation chain into one identity, and
 * an app's history holds the releases of its owner's identity, so the installed key is linked
 * exactly when one of its releases is in that history.
 */
export function signerLinked (app: AppView, installed: Pick<InstalledApp, 'publisher'>, release: ReleaseView): boolean {
  if (installed.publisher === release.publisher) return true
  const inHistory = (key: string): boolean => app.history.some(r => r.publisher === key)
  return inHistory(release.publisher) && inHistory(installed.publisher)
}

export function checkSigner (selection: Selection, installed: InstalledApp, allowSignerChange: boolean | undefined): void {
  if (allowSignerChange === true || signerLinked(selection.app, installed, selection.release)) return
  throw new SignerChangedError(`${installed.appId} ${selection.release.version} is signed by ${selection.release.publisher}, but the installed ${installed.version} by ${installed.publisher}, and no key rotation links the two; if you expected the change, pass --allow-signer-change`)
}
