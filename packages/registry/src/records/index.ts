/**
 * @hubless/registry/records: the browser-safe half of the registry. Signed hubless records:
 * their canonical dag-cbor encoding, ids, Ed25519 signatures by did:key publishers, schema
 * validation, the wire envelope and the JSON form HTTP mirrors serve. No Node built-ins, no
 * OrbitDB, no libp2p: @hubless/query bundles this for browsers.
 *
 * @example
 * ```ts
 * const key = createPublisherKey()
 * const signed = await signRecord(buildEndorseRecord(createPublisherKey().did, {}, { publisher: key.did }), key)
 * const again = await decodeSignedRecord(encodeSignedRecord(signed))
 * ```
 */

export * from './types.ts'
export {
  InvalidAppIdError, InvalidChannelError, InvalidFieldError, InvalidPublisherKeyError, InvalidSignatureError,
  IncompleteDraftError, MalformedRecordError, MalformedTextError, MissingSizeError, OversizeRecordError, UnknownRecordKindError
} from '../errors.ts'
export { MAX_ENVELOPE_BYTES, MAX_RECORD_BYTES, encodeCanonical, isCidString, isRecordId, recordIdOf } from './codec.ts'
export { didToPublicKey, isDidKey, publicKeyToDid } from './did-key.ts'
export { createPublisherKey, publisherKeyFromSecret } from './ed25519.ts'
export type { PublisherKey } from './ed25519.ts'
export { LIMITS, assertAppId, isChannel, isHttpUrl, isRecordKind, isValidAppId, validateRecord } from './schema.ts'
export {
  countersignRecord, decodeSignedRecord, encodeSignedRecord, parseSignedRecord, recordFromJSON, recordToJSON,
  signRecord, verifyRecord
} from './signed.ts'
export type { SignOptions, SignedRecordJSON, VerifyOptions } from './signed.ts'
export {
  buildEndorseRecord, buildReleaseRecord, buildRevokeKeyRecord, buildRotateKeyRecord, buildUnendorseRecord,
  buildMediaRecord, buildWitnessRecord, buildYankRecord, findPreviousRelease, findRelease, withoutUndefined
} from './builders.ts'
export { cleanIdentityText, cleanProseText, cleanVersion, isSafeVersion } from './text-rules.ts'
export type { BuildOptions, BuildReleaseOptions, MediaDraft, ReleaseDraft, WitnessDraft } from './builders.ts'
export { MAX_HEADS_BYTES, decodeSignedHeads, encodeSignedHeads, headsTopic, signHeads } from './heads.ts'
export type { HeadsAnnouncement, SignedHeads } from './heads.ts'
