/**
 * Test records: real canonical bytes and real record ids (so `previous` and `release` links are
 * valid), with dummy signature bytes, because verification is the registry's job and the catalog
 * receives records the registry already verified.
 */
import { RECORD_VERSION, encodeCanonical, publicKeyToDid, recordIdOf } from '@hubless/registry/records'
import type {
  Channel, EndorseRecord, ReleaseRecord, RevokeKeyRecord, RotateKeyRecord, SignedRecord, UnendorseRecord,
  UnsignedRecord, YankRecord
} from '@hubless/registry/records'

/** a deterministic did:key for test publisher number `n` */
export function key (n: number): string {
  const bytes = new Uint8Array(32)
  bytes[0] = 0x5a
  bytes[31] = n & 0xff
  bytes[30] = (n >> 8) & 0xff
  return publicKeyToDid(bytes)
}

export async function sign<R extends UnsignedRecord> (record: R): Promise<SignedRecord<R>> {
  const bytes = encodeCanonical(record)
  return { id: await recordIdOf(bytes), record, bytes, signature: new Uint8Array(64) }
}

export interface ReleaseOptions {
  publisher: string
  appId?: string
  version?: string
  channel?: Channel
  arch?: string
  time?: number
  previous?: string
  name?: string
  summary?: string
  categories?: string[]
  license?: string
  imported?: boolean
}

export function releaseRecord (o: ReleaseOptions): ReleaseRecord {
  const appId = o.appId ?? 'org.example.App'
  const record: ReleaseRecord = {
    v: RECORD_VERSION,
    kind: 'release',
    publisher: o.publisher,
    time: o.time ?? 1_700_000_000_000,
    appId,
    version: o.version ?? '1.0.0',
    channel: o.channel ?? 'release',
    arch: o.arch ?? 'x86_64',
    content: { urls: [`https://example.org/${appId}-${o.version ?? '1.0.0'}.AppImage`] },
    app: { name: o.name ?? appId.split('.').at(-1)! }
  }
  if (o.summary != null) record.app.summary = o.summary
  if (o.categories != null) record.app.categories = o.categories
  if (o.license != null) record.app.license = o.license
  if (o.previous != null) record.previous = o.previous
  if (o.imported === true) record.imported = { source: 'appimagehub', sourceId: appId }
  return record
}

export async function release (o: ReleaseOptions): Promise<SignedRecord<ReleaseRecord>> {
  return sign(releaseRecord(o))
}

export async function yank (publisher: string, target: SignedRecord<ReleaseRecord>, time = 1_800_000_000_000): Promise<SignedRecord<YankRecord>> {
  return sign<YankRecord>({
    v: RECORD_VERSION, kind: 'yank', publisher, time, release: target.id, appId: target.record.appId, version: target.record.version, reason: 'broken build'
  })
}

export async function endorse (publisher: string, subject: string, extra: { appIds?: string[], until?: number, time?: number } = {}): Promise<SignedRecord<EndorseRecord>> {
  const record: EndorseRecord = { v: RECORD_VERSION, kind: 'endorse', publisher, subject, time: extra.time ?? 1_600_000_000_000 }
  if (extra.appIds != null) record.appIds = extra.appIds
  if (extra.until != null) record.until = extra.until
  return sign(record)
}

export async function unendorse (publisher: string, subject: string, time = 1_650_000_000_000): Promise<SignedRecord<UnendorseRecord>> {
  return sign<UnendorseRecord>({ v: RECORD_VERSION, kind: 'unendorse', publisher, subject, time })
}

export async function rotate (publisher: string, newKey: string, time: number): Promise<SignedRecord<RotateKeyRecord>> {
  return sign<RotateKeyRecord>({ v: RECORD_VERSION, kind: 'rotate-key', publisher, newKey, time })
}

export async function revoke (publisher: string, since: number, time = since): Promise<SignedRecord<RevokeKeyRecord>> {
  return sign<RevokeKeyRecord>({ v: RECORD_VERSION, kind: 'revoke-key', publisher, since, time, reason: 'key leaked' })
}
