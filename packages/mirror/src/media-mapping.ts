import type { AppMetadata } from '@hubless/registry'

/**
 * Icons and screenshots an app links to by URL, served from this mirror's copy when it archived
 * one (`/ipfs/{cid}`, served as an image only, sandboxed: file-route.ts), the original URL kept
 * beside it as the fallback. One place decides, for the API, the feed and the storefront alike.
 */

/** the CID of this mirror's copy of the image at a URL, if it archived one */
export type MediaLookup = (url: string) => { cid: string } | undefined

/** the lookup, and how many copies there are (a change of which makes cached answers stale) */
export interface MediaSource {
  copyOf: MediaLookup
  count: () => number
}

export interface MirroredMedia {
  icon?: string
  /** the icon's original URL, when `icon` is this mirror's copy */
  iconFallback?: string
  screenshots: string[]
  /** the screenshots' original URLs, one per screenshot (the same URL where there is no copy), when any is this mirror's copy */
  screenshotFallbacks?: string[]
}

/** The icon and screenshots fields of an app page: this mirror's copies first, the originals as fallback */
export function mirroredMedia (metadata: AppMetadata, lookup: MediaLookup | undefined, assetUrl: (value: string | undefined) => string | undefined): MirroredMedia | undefined {
  if (lookup == null) return undefined
  const copied = (url: string | undefined): string | undefined => url != null && /^https?:\/\//.test(url) ? lookup(url)?.cid : undefined
  const out: MirroredMedia = { screenshots: [] }
  const iconCopy = copied(metadata.icon)
  if (iconCopy != null) {
    out.icon = `/ipfs/${iconCopy}`
    out.iconFallback = metadata.icon
  }
  const originals = (metadata.screenshots ?? []).filter(s => assetUrl(s) != null)
  const copies = originals.map(copied)
  if (copies.some(c => c != null)) {
    out.screenshots = originals.map((s, i) => copies[i] != null ? `/ipfs/${copies[i]}` : assetUrl(s)!)
    out.screenshotFallbacks = originals.map(s => assetUrl(s)!)
  }
  if (out.icon == null && out.screenshotFallbacks == null) return undefined
  return out
}
