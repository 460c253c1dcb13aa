import { IncompleteDraftError } from '../errors.ts'
import { RECORD_VERSION } from './types.ts'
import type {
  AppMetadata, Architecture, Channel, EndorseRecord, ReleaseContent, ReleaseRecord, RevokeKeyRecord,
  MediaRecord, RotateKeyRecord, SignedRecord, UnendorseRecord, UnsignedRecord, WitnessRecord, YankRecord
} from './types.ts'

/**
 * Helpers that turn what a command knows into an unsigned record: they fill `v`, `kind`, `time`
 * and drop `undefined` fields (the canonical encoding has no undefined).
 */

/** What a publisher knows about a release before it is signed */
export interface ReleaseDraft {
  appId: string
  /** absent when the image declares none and the user gave none: {@link buildReleaseRecord} refuses that */
  version?: string
  channel: Channel
  arch: Architecture
  content: ReleaseContent
  app: AppMetadata
  imported?: { source: string, sourceId: string }
}

export interface BuildOptions {
  /** did:key of the signing publisher */
  publisher: string
  /** ms since epoch; default Date.now() */
  time?: number
}

export interface BuildReleaseOptions extends BuildOptions {
  /** id of this publisher's previous release of the app on the channel ({@link findPreviousRelease}) */
  previous?: string
}

/** A deep copy with `undefined` object fields removed */
export function withoutUndefined<T> (value: T): T {
  if (Array.isArray(value)) return value.map(v => withoutUndefined(v)) as T
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) out[k] = withoutUndefined(v)
  }
  return out as T
}

function base (options: BuildOptions): { v: number, publisher: string, time: number } {
  return { v: RECORD_VERSION, publisher: options.publisher, time: options.time ?? Date.now() }
}

/** An unsigned release record from a draft; throws IncompleteDraftError when the version is unknown */
export function buildReleaseRecord (draft: ReleaseDraft, options: BuildReleaseOptions): ReleaseRecord {
  if (draft.version == null || draft.version.trim() === '') {
    throw new IncompleteDraftError(`no version for ${draft.appId}: the image declares none; pass one (--version)`)
  }
  if (draft.content.cid == null && draft.content.urls.length === 0) {
    throw new IncompleteDraftError(`no content for ${draft.appId}: add the image to IPFS or give at least one URL`)
  }
  return withoutUndefined<ReleaseRecord>({
    ...base(options),
    kind: 'release',
    appId: draft.appId,
    version: draft.version,
    channel: draft.channel,
    arch: draft.arch,
    content: draft.content,
    app: draft.app,
    previous: options.previous,
    imported: draft.imported
  })
}

export function buildYankRecord (release: Pick<SignedRecord<ReleaseRecord>, 'id' | 'record'>, reason: string, options: BuildOptions): YankRecord {
  return { ...base(options), kind: 'yank', release: release.id, appId: release.record.appId, version: release.record.version, reason }
}

export function buildEndorseRecord (subject: string, scope: { appIds?: string[], until?: number }, options: BuildOptions): EndorseRecord {
  return withoutUndefined<EndorseRecord>({ ...base(options), kind: 'endorse', subject, appIds: scope.appIds?.length === 0 ? undefined : scope.appIds, until: scope.until })
}

export function buildUnendorseRecord (subject: string, options: BuildOptions): UnendorseRecord {
  return { ...base(options), kind: 'unendorse', subject }
}

export function buildRotateKeyRecord (newKey: string, options: BuildOptions): RotateKeyRecord {
  return { ...base(options), kind: 'rotate-key', newKey }
}

export function buildRevokeKeyRecord (since: number, reason: string, options: BuildOptions): RevokeKeyRecord {
  return { ...base(options), kind: 'revoke-key', since, reason }
}

/**
 * The head of a publisher's chain of releases for one app and channel: the release no other of
 * those releases names as `previous` (the newest by time, then id, if the chain forked). Its id
 * is the `previous` of the next release.
 */
export function findPreviousRelease<R extends Pick<SignedRecord<UnsignedRecord>, 'id' | 'record'> = SignedRecord<UnsignedRecord>> (records: Iterable<R>, query: { publisher: string, appId: string, channel: Channel }): (R & { record: ReleaseRecord }) | undefined {
  const mine: Array<R & { record: ReleaseRecord }> = []
  for (const r of records) {
    const rec = r.record
    if (rec.kind === 'release' && rec.publisher === query.publisher && rec.appId === query.appId && rec.channel === query.channel) {
      mine.push(r as R & { record: ReleaseRecord })
    }
  }
  const named = new Set(mine.map(r => r.record.previous).filter(p => p != null))
  let best: (R & { record: ReleaseRecord }) | undefined
  for (const r of mine) {
    if (named.has(r.id)) continue
    if (best == null || r.record.time > best.record.time || (r.record.time === best.record.time && r.id > best.id)) best = r
  }
  return best
}

/** A publisher's release of an app at a version (for `hubless yank APP VERSION`); the newest if there are several (channels, architectures) */
export function findRelease (records: Iterable<SignedRecord<UnsignedRecord>>, query: { publisher: string, appId: string, version: string, channel?: Channel, arch?: Architecture }): SignedRecord<ReleaseRecord> | undefined {
  let best: SignedRecord<ReleaseRecord> | undefined
  for (const r of records) {
    const rec = r.record
    if (rec.kind !== 'release' || rec.publisher !== query.publisher || rec.appId !== query.appId || rec.version !== query.version) continue
    if ((query.channel != null && rec.channel !== query.channel) || (query.arch != null && rec.arch !== query.arch)) continue
    if (best == null || rec.time > best.record.time) best = r as SignedRecord<ReleaseRecord>
  }
  return best
}

/** What a mirror observed when it fetched an image an app's metadata links to: see {@link MediaRecord} */
export type MediaDraft = Omit<MediaRecord, 'v' | 'kind' | 'publisher' | 'time'>

/** An unsigned media record: the mirror's key (`options.publisher`) states what image `draft.url` served at `options.time` */
export function buildMediaRecord (draft: MediaDraft, options: BuildOptions): MediaRecord {
  return withoutUndefined<MediaRecord>({ ...base(options), kind: 'media', ...draft })
}

/** What a mirror observed when it fetched a release's file: see {@link WitnessRecord} */
export type WitnessDraft = Omit<WitnessRecord, 'v' | 'kind' | 'publisher' | 'time'>

/** An unsigned witness record: the mirror's key (`options.publisher`) states what `draft.url` served at `options.time` */
export function buildWitnessRecord (draft: WitnessDraft, options: BuildOptions): WitnessRecord {
  return withoutUndefined<WitnessRecord>({ ...base(options), kind: 'witness', ...draft })
}
