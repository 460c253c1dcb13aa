/**
 * Witnesses: what mirrors signed about the bytes a URL served (`witness` records of the
 * registry's witness log). The index answers, per release, how many mirrors witnessed it,
 * whether they agree, which witnesses conflict (two that disagree on the bytes of the same URL
 * and version, shown as such and never resolved), and, when the reader's trusted witness keys
 * agree on the bytes, the content those keys vouch for (CID, SHA-256, size), which a reader may
 * then download and verify although the release itself names none.
 *
 * Bytes are the same when their SHA-256 and size are: the CID a witness gives is where that
 * mirror stores them, and two mirrors whose chunkers differ (hubless versions before and after a
 * chunker change) give different CIDs for the same file.
 */

import { isDidKey, validateRecord } from '@hubless/registry/records'
import type { WitnessRecord } from '@hubless/registry/records'
import { InvalidRecordError, InvalidTrustRootError } from './errors.ts'
import type { CatalogRecord } from './index.ts'

export interface WitnessView {
  /** the witness record's id */
  id: string
  /** the mirror key that signed it */
  mirror: string
  /** when the mirror fetched, ms */
  time: number
  url: string
  sha256: string
  size: number
  cid: string
  version: string
  /** the release record it names, if any */
  release?: string
  /** the reader trusts this mirror key as a witness */
  trusted: boolean
}

export interface WitnessConflict {
  appId: string
  url: string
  version: string
  /** the different SHA-256 values witnessed */
  sha256: string[]
  witnesses: WitnessView[]
}

export interface WitnessSummary {
  /** distinct mirror keys that witnessed the release */
  mirrors: number
  /** of those, the ones the reader trusts as witnesses */
  trustedMirrors: number
  /** every witness of the release saw the same bytes */
  agree: boolean
  /** disagreements on the bytes of one of the release's URLs at one version */
  conflicts: WitnessConflict[]
  /** newest first */
  witnesses: WitnessView[]
  /**
   * what every trusted witness of the release saw, when at least one did and all agree on the
   * SHA-256 and size; the CID is the newest trusted witness's (others may address the same
   * bytes by another CID)
   */
  vouched?: { cid: string, sha256: string, size: number, version: string, by: string[] }
}

/**
 * A version of an app that mirrors witnessed upstream (tracking its update information, its
 * GitHub releases or its URL) and that no release record names: the app's newer release, as
 * far as the witnesses say. It is shown as witnessed, never as the app's own release.
 */
export interface TrackedVersion {
  version: string
  channel: string
  arch: string
  /** distinct mirror keys that witnessed it */
  mirrors: number
  trustedMirrors: number
  /** every witness saw the same bytes */
  agree: boolean
  /** newest first */
  witnesses: WitnessView[]
}

export interface WitnessIndexInit {
  /** did:keys of the mirrors the reader trusts as witnesses */
  witnessKeys?: string[]
}

export interface WitnessIndex {
  /** take in one witness record (already signature-checked); false for a record of another kind */
  add (record: CatalogRecord): boolean
  /** witnesses of a release record id; undefined when nobody witnessed it */
  forRelease (releaseId: string): WitnessSummary | undefined
  /** every conflict of an app's witnesses */
  conflicts (appId: string): WitnessConflict[]
  /** versions of an app witnessed with no release record named, newest witness first */
  tracked (appId: string): TrackedVersion[]
  setWitnessKeys (keys: string[]): void
  /** witness records taken in */
  readonly size: number
}

function checkKeys (keys: string[]): Set<string> {
  if (!Array.isArray(keys)) throw new InvalidTrustRootError('witness keys must be a list of did:key strings')
  for (const key of keys) {
    if (!isDidKey(key)) throw new InvalidTrustRootError(`witness key ${JSON.stringify(String(key)).slice(0, 80)} is not a did:key`)
  }
  return new Set(keys)
}

class Witnesses implements WitnessIndex {
  private keys: Set<string>
  private readonly byId = new Map<string, { id: string, record: WitnessRecord }>()
  private readonly byRelease = new Map<string, string[]>()
  /** `appId \n url \n version` -> witness ids */
  private readonly byUrl = new Map<string, string[]>()
  private readonly byApp = new Map<string, Set<string>>()
  /** appId -> ids of witnesses that name no release */
  private readonly unreleased = new Map<string, string[]>()

  constructor (init: WitnessIndexInit) {
    this.keys = checkKeys(init.witnessKeys ?? [])
  }

  get size (): number {
    return this.byId.size
  }

  setWitnessKeys (keys: string[]): void {
    this.keys = checkKeys(keys)
  }

  add (input: CatalogRecord): boolean {
    if (input?.record?.kind !== 'witness') return false
    if (typeof input.id !== 'string' || input.id === '') throw new InvalidRecordError('a witness record needs its id')
    try {
      validateRecord(input.record)
    } catch (err) {
      throw new InvalidRecordError(`witness ${input.id.slice(0, 80)} is malformed: ${(err as Error).message}`, { cause: err })
    }
    if (this.byId.has(input.id)) return true
    const record = input.record as WitnessRecord
    this.byId.set(input.id, { id: input.id, record })
    if (record.release != null) push(this.byRelease, record.release, input.id)
    else push(this.unreleased, record.appId, input.id)
    const urlKey = `${record.appId}\n${record.url}\n${record.version}`
    push(this.byUrl, urlKey, input.id)
    const keys = this.byApp.get(record.appId) ?? new Set()
    keys.add(urlKey)
    this.byApp.set(record.appId, keys)
    return true
  }

  private view (id: string): WitnessView {
    const { record } = this.byId.get(id)!
    const view: WitnessView = {
      id,
      mirror: record.publisher,
      time: record.time,
      url: record.url,
      sha256: record.sha256,
      size: record.size,
      cid: record.cid,
      version: record.version,
      trusted: this.keys.has(record.publisher)
    }
    if (record.release != null) view.release = record.release
    return view
  }

  private conflictAt (urlKey: string): WitnessConflict | undefined {
    const views = (this.byUrl.get(urlKey) ?? []).map(id => this.view(id))
    const hashes = [...new Set(views.map(v => v.sha256))].sort()
    if (hashes.length < 2) return undefined
    const [appId, url, version] = urlKey.split('\n') as [string, string, string]
    return { appId, url, version, sha256: hashes, witnesses: views.sort(newestFirst) }
  }

  conflicts (appId: string): WitnessConflict[] {
    return [...(this.byApp.get(appId) ?? [])].map(k => this.conflictAt(k)).filter(c => c != null)
  }

  tracked (appId: string): TrackedVersion[] {
    const groups = new Map<string, { channel: string, arch: string, views: WitnessView[] }>()
    for (const id of this.unreleased.get(appId) ?? []) {
      const { record } = this.byId.get(id)!
      const key = `${record.version}\n${record.channel}\n${record.arch}`
      const group = groups.get(key) ?? { channel: record.channel, arch: record.arch, views: [] }
      group.views.push(this.view(id))
      groups.set(key, group)
    }
    return [...groups.values()].map(({ channel, arch, views }) => {
      const witnesses = views.sort(newestFirst)
      return {
        version: witnesses[0]!.version,
        channel,
        arch,
        mirrors: new Set(witnesses.map(w => w.mirror)).size,
        trustedMirrors: new Set(witnesses.filter(w => w.trusted).map(w => w.mirror)).size,
        agree: new Set(witnesses.map(sameBytes)).size === 1,
        witnesses
      }
    }).sort((a, b) => newestFirst(a.witnesses[0]!, b.witnesses[0]!))
  }

  forRelease (releaseId: string): WitnessSummary | undefined {
    const ids = this.byRelease.get(releaseId)
    if (ids == null) return undefined
    const witnesses = ids.map(id => this.view(id)).sort(newestFirst)
    const urlKeys = new Set(ids.map(id => {
      const r = this.byId.get(id)!.record
      return `${r.appId}\n${r.url}\n${r.version}`
    }))
    const conflicts = [...urlKeys].map(k => this.conflictAt(k)).filter(c => c != null)
    const mirrors = new Set(witnesses.map(w => w.mirror))
    const trusted = witnesses.filter(w => w.trusted)
    const summary: WitnessSummary = {
      mirrors: mirrors.size,
      trustedMirrors: new Set(trusted.map(w => w.mirror)).size,
      agree: new Set(witnesses.map(sameBytes)).size === 1 && conflicts.length === 0,
      conflicts,
      witnesses
    }
    const first = trusted[0]
    if (first != null && trusted.every(w => sameBytes(w) === sameBytes(first))) {
      summary.vouched = { cid: first.cid, sha256: first.sha256, size: first.size, version: first.version, by: [...new Set(trusted.map(w => w.mirror))] }
    }
    return summary
  }
}

/** What decides that two witnesses saw the same bytes: SHA-256 and size, not the CID (it depends on the chunker) */
function sameBytes (w: WitnessView): string {
  return `${w.sha256} ${w.size}`
}

function push (map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key)
  if (list == null) map.set(key, [value])
  else list.push(value)
}

function newestFirst (a: WitnessView, b: WitnessView): number {
  return b.time - a.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** An index of witness records for a reader who trusts `init.witnessKeys` as witnesses */
export function createWitnessIndex (init: WitnessIndexInit = {}): WitnessIndex {
  return new Witnesses(init)
}
