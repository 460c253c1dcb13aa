/**
 * The record model shared by every hubless peer. These are the *unsigned* shapes; a
 * `SignedRecord` wraps the canonical dag-cbor bytes of one of them with an Ed25519 signature.
 *
 * Contract notes (other packages rely on them):
 * - `publisher` is a `did:key` string of an Ed25519 public key (`did:key:z6Mk…`).
 * - Times are integer milliseconds since the Unix epoch (dag-cbor has no float-free date type).
 * - CIDs are carried as strings (CIDv1 base32) so that the JSON export of a record is the same
 *   data as its CBOR form, and a browser can verify it with no CID class.
 * - Optional fields are omitted, never `undefined` or `null` (canonical encoding depends on it).
 */

export const RECORD_VERSION = 1

/**
 * The hubless wire format (the package README, "Wire format"): version 1 is records of schema
 * {@link RECORD_VERSION} 1 in the envelope `{ r, s?, c? }`, in OrbitDB entries of version
 * {@link ORBITDB_ENTRY_VERSION} 2 (payload `{ op: 'ADD', key: null, value: envelope }`), signed by
 * the record's own signature or, in an entry its publisher wrote, by the entry's, under the
 * access controller `/hubless/records-v1`. Its frozen test vectors are in
 * `test/vectors/wire-v1.ts`: a change to any of these bytes needs a new version, and a new
 * registry name or access controller address, or it forks the network.
 */
export const WIRE_FORMAT_VERSION = 1
/** the OrbitDB entry version (`v`) of wire format 1 */
export const ORBITDB_ENTRY_VERSION = 2

export const CHANNELS = ['release', 'beta', 'alpha', 'nightly', 'continuous'] as const
export type Channel = typeof CHANNELS[number]

export const RECORD_KINDS = ['release', 'yank', 'endorse', 'unendorse', 'rotate-key', 'revoke-key', 'witness', 'media'] as const
export type RecordKind = typeof RECORD_KINDS[number]

/** Architectures as AppImage names them in file names (`x86_64`, `aarch64`, `armhf`, `i686`) */
export type Architecture = string

export interface ReleaseContent {
  /** UnixFS CID (CIDv1, raw leaves) of the AppImage; absent for URL-only imported records */
  cid?: string
  /** hex SHA-256 of the whole file; absent for URL-only imported records */
  sha256?: string
  /** size in bytes; absent when unknown (imported records) */
  size?: number
  /** HTTP(S) URLs the same bytes can be downloaded from */
  urls: string[]
  /** the AppImage's embedded update information (`zsync|…`, `gh-releases-zsync|…`) */
  updateInformation?: string
}

export interface AppMetadata {
  name: string
  summary?: string
  description?: string
  categories?: string[]
  keywords?: string[]
  /** SPDX expression */
  license?: string
  developer?: string
  homepage?: string
  /** CID of the icon image, or an https URL for imported records */
  icon?: string
  /** CIDs of screenshots, or https URLs for imported records */
  screenshots?: string[]
}

interface RecordBase {
  /** schema version, {@link RECORD_VERSION} */
  v: number
  kind: RecordKind
  /** did:key of the signing publisher */
  publisher: string
  /** publication time, ms since epoch (claimed by the publisher) */
  time: number
}

export interface ReleaseRecord extends RecordBase {
  kind: 'release'
  /** AppStream component id, reverse DNS (`org.kde.krita`) */
  appId: string
  version: string
  channel: Channel
  arch: Architecture
  content: ReleaseContent
  app: AppMetadata
  /** id (CID string) of this publisher's previous release record of the same app and channel */
  previous?: string
  /** set by `hubless import`: the record restates a third-party catalog and was not published by the app's author */
  imported?: { source: string, sourceId: string }
}

export interface YankRecord extends RecordBase {
  kind: 'yank'
  /** id (CID string) of the release record withdrawn; must be the same publisher's */
  release: string
  appId: string
  version: string
  reason: string
}

export interface EndorseRecord extends RecordBase {
  kind: 'endorse'
  /** did:key of the endorsed publisher */
  subject: string
  /** only for these app ids (absent = every app) */
  appIds?: string[]
  /** expiry, ms since epoch (absent = no expiry) */
  until?: number
}

export interface UnendorseRecord extends RecordBase {
  kind: 'unendorse'
  subject: string
}

export interface RotateKeyRecord extends RecordBase {
  kind: 'rotate-key'
  /** did:key of the new key; the record carries a second signature by that key */
  newKey: string
}

export interface RevokeKeyRecord extends RecordBase {
  kind: 'revoke-key'
  /** releases signed by this key with `time` at or after this point are untrusted */
  since: number
  reason: string
}

/**
 * A mirror's signed statement that on `time` the HTTP(S) URL `url` served bytes of SHA-256
 * `sha256`, `size` bytes long, whose UnixFS CID (as `publish` adds a file) is `cid`, and that
 * they are app `appId` version `version`. `release` names the imported release record it
 * witnesses, when there is one. Witness records live in the witness log only (see the README:
 * a kind older peers do not know must never enter the registry log, or it strands them).
 */
export interface WitnessRecord extends RecordBase {
  kind: 'witness'
  appId: string
  /** the version the file declares (AppStream/desktop metadata), else the catalog's */
  version: string
  channel: Channel
  arch: Architecture
  /** the URL that was fetched (before redirects) */
  url: string
  /** hex SHA-256 of what it served */
  sha256: string
  size: number
  /** UnixFS CID of the same bytes, as `publish` adds a file */
  cid: string
  /** id of the release record (usually an imported, URL-only one) this witnesses */
  release?: string
  /** the AppImage's embedded update information */
  updateInformation?: string
}

/** The image types a media record may name: what a storefront shows in an <img> */
export const MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'] as const
export type MediaType = typeof MEDIA_TYPES[number]

/** the largest image a media record may name: 16 MiB */
export const MAX_MEDIA_BYTES = 16 * 1024 * 1024

/**
 * A mirror's statement about an image an app's metadata links to (an icon or a screenshot, by
 * https URL): on date `time`, `url` served an image of this type, SHA-256, size and CID, which
 * the mirror archived. Media records live in the media log only, a log of their own (see the
 * README: the witness log's peers refuse a kind they do not know, so it could not go there).
 */
export interface MediaRecord extends RecordBase {
  kind: 'media'
  /** the app whose metadata names the URL */
  appId: string
  /** the URL that was fetched (before redirects), as the app's metadata names it */
  url: string
  /** the type its bytes are (from their magic bytes, not from what the origin said) */
  type: MediaType
  sha256: string
  size: number
  /** UnixFS CID of the same bytes */
  cid: string
}

export type UnsignedRecord = ReleaseRecord | YankRecord | EndorseRecord | UnendorseRecord | RotateKeyRecord | RevokeKeyRecord | WitnessRecord | MediaRecord

/**
 * The registry log entry that signs a record published into the log by its publisher: the
 * entry's fields other than its payload (the record's wire envelope) and its key (the
 * publisher's). Its signature, by the publisher, covers the canonical dag-cbor of
 * `{ id, payload: { op: 'ADD', key: null, value: envelope }, next, refs, clock, v }`, as OrbitDB
 * signs every entry, so the one signature serves the log and the record alike.
 */
export interface EntryProof {
  /** the log's id (its OrbitDB address) */
  id: string
  next: string[]
  refs: string[]
  clock: { id: string, time: number }
  v: number
  /** hex Ed25519 signature by the record's publisher */
  sig: string
}

/**
 * A record as it travels: the canonical dag-cbor encoding of the unsigned record, and the
 * signatures over it. `id` is the CIDv1 (dag-cbor, sha2-256) of `bytes`, so two peers name a
 * record identically however they received it. A record carries its own `signature`, or (when
 * its publisher wrote it into the registry's log) the `entry` that signs it.
 */
export interface SignedRecord<R extends UnsignedRecord = UnsignedRecord> {
  id: string
  record: R
  /** canonical dag-cbor of `record` */
  bytes: Uint8Array
  /** Ed25519 signature by `record.publisher` over `bytes` */
  signature?: Uint8Array
  /** the log entry, written by `record.publisher`, that signs the record instead */
  entry?: EntryProof
  /** rotate-key only: signature by `record.newKey` over `bytes` */
  countersignature?: Uint8Array
}
