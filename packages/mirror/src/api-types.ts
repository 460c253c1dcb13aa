/**
 * The mirror's public JSON API, version 1 (`/api/v1/…`). These shapes are a contract with
 * clients (the storefront, app stores); add fields, never change or remove one. The app metadata
 * and release content are the records' own shapes (`@hubless/registry`), not restated here.
 */
import type { TrackedVersion, WitnessConflict, WitnessSummary, WitnessView } from '@hubless/query'
import type { AppMetadata, ReleaseContent } from '@hubless/registry/records'

export type TrustStatus = 'trusted' | 'unverified' | 'conflicting' | 'imported' | 'untrusted' | 'revoked'

export interface ApiTrust {
  status: TrustStatus
  /** how the status was reached, e.g. ["root did:key:z6Mk…A", "did:key:z6Mk…B"] */
  path: string[]
  /** one line for a person: "trusted via root X -> Y" */
  explanation: string
}

/** One app in a result list: its newest release visible on the requested channel/arch */
export interface ApiAppSummary {
  appId: string
  name: string
  summary?: string
  version: string
  channel: string
  arch: string
  categories: string[]
  license?: string
  /** did:key of the publisher of the release shown */
  publisher: string
  trust: ApiTrust
  /** URL of the icon through this mirror (`/ipfs/CID`: named so by the record, or a copy this mirror archived) or the record's https URL */
  icon?: string
  /** the icon's original URL, when `icon` is this mirror's archived copy */
  iconFallback?: string
  /** publication time of the release shown, ISO 8601 */
  updated: string
  imported: boolean
  /** the license's class (SPDX ids, OSI or FSF approved = free); `license=free` filters on it */
  licenseClass?: 'free' | 'non-free' | 'unknown'
}

export interface ApiFacetCount { value: string, count: number }

/** What a search answers, in the API and in `hubless search --json` alike (schemas/search.json) */
export interface ApiSearchAnswer {
  query: string
  total: number
  page: number
  pageSize: number
  results: ApiAppSummary[]
  facets?: ApiFacets
}

export interface ApiFacets {
    category: ApiFacetCount[]
    channel: ApiFacetCount[]
    arch: ApiFacetCount[]
    license: ApiFacetCount[]
    publisher: ApiFacetCount[]
  /** counts per trust status (`trusted`, `unverified`, …) */
  trust?: ApiFacetCount[]
}

export interface ApiAppList extends ApiSearchAnswer {
  /** the same list as `results`, under the name version 1 first gave it */
  apps: ApiAppSummary[]
  facets: ApiFacets
}

export interface ApiRelease {
  /** the record id (CID); `/api/v1/records/{id}` returns the signed record */
  id: string
  version: string
  channel: string
  arch: string
  publisher: string
  trust: ApiTrust
  published: string
  yanked?: { reason: string }
  /** set when the record restates a third-party catalog (`hubless import`), not the author's own release */
  imported?: { source: string, sourceId: string }
  content: ReleaseContent & {
    /** `/ipfs/CID?filename=…` through this mirror, when the content has a CID */
    download?: string
  }
}

/** The app as its preferred release describes it (the record's AppMetadata, with every list present) */
export interface ApiAppDetail extends Omit<AppMetadata, 'categories' | 'keywords' | 'screenshots'> {
  appId: string
  categories: string[]
  keywords: string[]
  screenshots: string[]
  /** the icon's original URL, when `icon` is this mirror's archived copy (`/ipfs/{cid}`): the fallback */
  iconFallback?: string
  /** the screenshots' original URLs, one per screenshot, when any of `screenshots` is this mirror's archived copy */
  screenshotFallbacks?: string[]
  owner: { publisher: string, trust: ApiTrust }
  /** other keys publishing this app id (squatting is shown, never hidden) */
  conflicting: string[]
  /**
   * newest release per channel and architecture, key `${channel}/${arch}`; a release is listed once,
   * at its own channel (a beta reader also gets the newest release-channel build: the channel ladder)
   */
  latest: Record<string, ApiRelease>
  /** every release, newest first; with `historyPartial`, the newest few per channel and architecture */
  history: ApiRelease[]
  /** the mirror's catalog holds only the newest releases: `/api/v1/apps/{appId}/releases` lists every one */
  historyPartial?: true
}

/** `/api/v1/apps/{appId}/releases`: every release of the app's owner, newest first, a page at a time */
export interface ApiReleasePage {
  appId: string
  /** releases in all */
  total: number
  offset: number
  releases: ApiRelease[]
}

/** What one mirror's key signed about the bytes a URL served (`time` in ms since epoch) */
export type ApiWitness = WitnessView
/** how many mirrors witnessed a release, whether they agree, its conflicts, each witness */
export type ApiWitnessSummary = WitnessSummary
/** two witnesses that disagree on the bytes of one URL at one version: shown, never resolved */
export type ApiWitnessConflict = WitnessConflict
/** a version mirrors witnessed upstream that no release record names yet (tracking) */
/** a tracked version, with a download through this mirror's gateway when its witnesses agree on the file */
export type ApiTrackedVersion = TrackedVersion & { download?: string }

/** What this mirror's checks say of one origin URL of the app's imported releases */
export interface ApiOriginState {
  url: string
  /** `alive` serves what was archived, `gone` 404/410/no such host, `changed` other bytes, `failing` anything else */
  state: 'alive' | 'gone' | 'changed' | 'failing'
  /** since when the state holds, ISO 8601 */
  since: string
  lastChecked: string
  lastError?: string
  /** the file as this mirror archived it from the URL; `availableHere`: still served from this mirror */
  archived?: { cid: string, sha256: string, size: number, version: string, availableHere: boolean }
}

/** `/api/v1/apps/{appId}`: the app, with what mirrors witnessed and this mirror's origin checks when there are any */
export interface ApiAppPage extends ApiAppDetail {
  /** by release id: the witnesses of each of the app's witnessed releases */
  witnesses?: Record<string, ApiWitnessSummary>
  /** every disagreement on the bytes of one of the app's URLs at one version */
  witnessConflicts?: ApiWitnessConflict[]
  /** versions witnessed upstream that no release record names, newest first */
  trackedVersions?: ApiTrackedVersion[]
  /** this mirror's checks of the app's origin URLs (mirrors that archive) */
  origins?: ApiOriginState[]
}

export interface ApiError {
  error: { name: string, message: string }
}
