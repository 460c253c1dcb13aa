/**
 * Every error @hubless/registry throws. Each class has a stable `name` that callers and tests
 * match on; messages say what was wrong with the input and what to do about it.
 */

/** A signature (or a rotate-key countersignature) does not verify against the key it names */
export class InvalidSignatureError extends Error {
  static override name = 'InvalidSignatureError'
  override name = 'InvalidSignatureError'
}

/** An OrbitDB entry claims a writer identity whose key did not sign it, or whose key is not the record's publisher */
export class ForgedIdentityError extends Error {
  static override name = 'ForgedIdentityError'
  override name = 'ForgedIdentityError'
}

/** Bytes are not a well-formed, canonically encoded record or envelope */
export class MalformedRecordError extends Error {
  static override name = 'MalformedRecordError'
  override name = 'MalformedRecordError'
}

/** A record or envelope is larger than the registry accepts */
export class OversizeRecordError extends Error {
  static override name = 'OversizeRecordError'
  override name = 'OversizeRecordError'
}

/** `kind` names no record kind this version knows */
export class UnknownRecordKindError extends Error {
  static override name = 'UnknownRecordKindError'
  override name = 'UnknownRecordKindError'
}

/** An app id breaks the AppStream reverse-DNS rules */
export class InvalidAppIdError extends Error {
  static override name = 'InvalidAppIdError'
  override name = 'InvalidAppIdError'
}

/** A channel is not one of CHANNELS */
export class InvalidChannelError extends Error {
  static override name = 'InvalidChannelError'
  override name = 'InvalidChannelError'
}

/** A field has the wrong type, is missing, is out of bounds, or is not allowed in this kind */
export class InvalidFieldError extends Error {
  static override name = 'InvalidFieldError'
  override name = 'InvalidFieldError'
}

/** A string is not a did:key of an Ed25519 public key, or key bytes have the wrong length */
export class InvalidPublisherKeyError extends Error {
  static override name = 'InvalidPublisherKeyError'
  override name = 'InvalidPublisherKeyError'
}

/** A key file could not be read, or is not a hubless publisher key file */
export class KeyFileError extends Error {
  static override name = 'KeyFileError'
  override name = 'KeyFileError'
}

/** A passphrase-protected key was opened without the right passphrase */
export class WrongPassphraseError extends Error {
  static override name = 'WrongPassphraseError'
  override name = 'WrongPassphraseError'
}

/** A key file already exists where a new key would be written */
export class KeyExistsError extends Error {
  static override name = 'KeyExistsError'
  override name = 'KeyExistsError'
}

/** No publisher key exists in the data dir */
export class KeyNotFoundError extends Error {
  static override name = 'KeyNotFoundError'
  override name = 'KeyNotFoundError'
}

/** A release draft lacks something a release record needs (version, content, …) */
export class IncompleteDraftError extends Error {
  static override name = 'IncompleteDraftError'
  override name = 'IncompleteDraftError'
}

/** The registry was used after stop() */
export class RegistryStoppedError extends Error {
  static override name = 'RegistryStoppedError'
  override name = 'RegistryStoppedError'
}

/** A registry name is empty or contains characters unsafe in an address */
export class InvalidRegistryNameError extends Error {
  static override name = 'InvalidRegistryNameError'
  override name = 'InvalidRegistryNameError'
}

/** A peer's snapshot stream stalled or ran past its deadline; the peer is skipped for a while */
export class SnapshotTimeoutError extends Error {
  static override name = 'SnapshotTimeoutError'
  override name = 'SnapshotTimeoutError'
}

/** A string in a record is not well-formed UTF-16 (a lone surrogate), so it has no UTF-8 form to sign */
export class MalformedTextError extends Error {
  static override name = 'MalformedTextError'
  override name = 'MalformedTextError'
}

/** A release names its content's SHA-256 but not its size, so a download cannot be bounded before it is checked */
export class MissingSizeError extends Error {
  static override name = 'MissingSizeError'
  override name = 'MissingSizeError'
}

/** A holds request or answer is not the bounded JSON `/hubless/holds/1.0.0` exchanges */
export class InvalidHoldsMessageError extends Error {
  static override name = 'InvalidHoldsMessageError'
  override name = 'InvalidHoldsMessageError'
}

/** A snapshot manifest is malformed or breaks a bound (a piece named twice, counts that disagree); the peer is skipped for a while */
export class SnapshotManifestError extends Error {
  static override name = 'SnapshotManifestError'
  override name = 'SnapshotManifestError'
}

/** A snapshot of a format this peer does not read; it is ignored (the peer is asked for format 1 instead), never imported in part */
export class SnapshotVersionError extends Error {
  static override name = 'SnapshotVersionError'
  override name = 'SnapshotVersionError'
}

/** A snapshot piece is not the one its manifest names (another hash, truncated, padded, another entry count); what was imported before it stays */
export class SnapshotPieceError extends Error {
  static override name = 'SnapshotPieceError'
  override name = 'SnapshotPieceError'
}

/** A snapshot did not bring the heads its manifest says it covers (cut short, or entries left out); what it brought stays, the rest comes by replication */
export class SnapshotHeadsError extends Error {
  static override name = 'SnapshotHeadsError'
  override name = 'SnapshotHeadsError'
}

/** The data dir's record index was written by a newer hubless, in a layout this version does not read; nothing in it is changed */
export class IndexFormatError extends Error {
  static override name = 'IndexFormatError'
  override name = 'IndexFormatError'
}

/** A peer serves as many live sets as it will at once; the asker takes the snapshot alone */
export class PeerBusyError extends Error {
  static override name = 'PeerBusyError'
  override name = 'PeerBusyError'
}

/** A peer reset the stream of a snapshot or live set (busy, or failed part-way): what came is not the whole */
export class SnapshotRefusedError extends Error {
  static override name = 'SnapshotRefusedError'
  override name = 'SnapshotRefusedError'
}
