/**
 * How the frozen vectors of wire format 1 (wire-v1.ts) were made, with today's code: the test
 * builds them again and compares, so that a change to any encoder fails it.
 */
import { registryAddress } from '../../src/index.ts'
import { buildMediaRecord, buildReleaseRecord, buildRotateKeyRecord, encodeSignedRecord, publisherKeyFromSecret, signRecord } from '../../src/records/index.ts'
import { prepareRecord } from '../../src/records/signed.ts'
import { chainEntries } from '../../src/log/batch-append.ts'
import { identityForKey } from '../../src/log/writer-identity.ts'
import type { NodeHelia } from '@hubless/net'
import type { Identity, LogEntry } from '@orbitdb/core'

/** publisher, its next key, and an old peer's own OrbitDB writer key */
export const publisher = publisherKeyFromSecret(new Uint8Array(32).fill(1))
export const nextKey = publisherKeyFromSecret(new Uint8Array(32).fill(2))
export const oldWriter = publisherKeyFromSecret(new Uint8Array(32).fill(3))
export const TIME = 1_767_225_600_000

export const release = buildReleaseRecord({
  appId: 'org.example.Vector',
  version: '1.2.3',
  channel: 'release',
  arch: 'x86_64',
  content: { cid: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', sha256: 'ab'.repeat(32), size: 4096, urls: ['https://example.org/Vector-1.2.3-x86_64.AppImage'] },
  app: { name: 'Vector', summary: 'a frozen test vector', categories: ['Utility'] }
}, { publisher: publisher.did, time: TIME })

export const rotate = buildRotateKeyRecord(nextKey.did, { publisher: publisher.did, time: TIME + 1 })

/** a media record, as a mirror's key signs it into the media log (the log's entries are written as the registry log's) */
export const media = buildMediaRecord({
  appId: 'org.example.Vector',
  url: 'https://example.org/vector-icon.png',
  type: 'image/png',
  sha256: 'cd'.repeat(32),
  size: 2048,
  cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
}, { publisher: oldWriter.did, time: TIME + 2 })

/** identities need a block store to put their block in, nothing else */
const helia = {
  blockstore: { put: async () => {} },
  pins: { isPinned: async () => true, add: async function * () {} }
} as unknown as NodeHelia

export async function identity (key: typeof publisher): Promise<Identity> {
  return identityForKey(helia, key)
}

/** the first entry of the registry `hubless` written by `writer` with `record` (signed or not) */
export async function firstEntry (writer: Identity, record: Awaited<ReturnType<typeof prepareRecord>>): Promise<{ hash: string, bytes: Uint8Array }> {
  const log = { id: await registryAddress('hubless'), heads: async () => [] as LogEntry[], traverse: async function * () {} }
  const [entry] = await chainEntries([record], { log, writer, referencesCount: 4 })
  return { hash: entry!.entry.hash, bytes: entry!.bytes }
}

export async function build () {
  const own = await signRecord(release, publisher)
  const signedMedia = await signRecord(media, oldWriter)
  const rotated = await signRecord(rotate, publisher, { newKey: nextKey })
  const publisherIdentity = await identity(publisher)
  const oldIdentity = await identity(oldWriter)
  return {
    /** a release with its own signature: `{ r, s }` */
    signedRelease: { id: own.id, wire: encodeSignedRecord(own) },
    /** a media record with its own signature (the media log's one kind) */
    signedMedia: { id: signedMedia.id, wire: encodeSignedRecord(signedMedia) },
    /** a rotate-key record, countersigned by its new key: `{ c, r, s }` */
    rotateKey: { id: rotated.id, wire: encodeSignedRecord(rotated) },
    /** one signature per record: the entry by the publisher's identity signs a record `{ r }` */
    publisherEntry: await firstEntry(publisherIdentity, await prepareRecord(release, publisher)),
    publisherIdentity: { hash: publisherIdentity.hash, bytes: publisherIdentity.bytes },
    /** before one signature per record: a peer's own writer identity, the record `{ r, s }` with its own signature */
    oldEntry: await firstEntry(oldIdentity, own),
    oldIdentity: { hash: oldIdentity.hash, bytes: oldIdentity.bytes }
  }
}
