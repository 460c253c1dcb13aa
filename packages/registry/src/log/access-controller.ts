import { logger } from '@libp2p/logger'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { ForgedIdentityError, InvalidSignatureError, MalformedRecordError, UnknownRecordKindError } from '../errors.ts'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { didToPublicKey } from '../records/did-key.ts'
import { decodeLogRecord } from '../records/signed.ts'
import type { VerifySignature } from '../records/signed.ts'
import type { RecordKind, UnsignedRecord } from '../records/types.ts'
import { setBounded } from './bounded-map.ts'
import { entryProofOf } from './entry-proof.ts'
import { entrySignatureValid } from './entry-signature.ts'
import { pinOnce } from './pins.ts'
import type { PinStore } from './pins.ts'
import type { SignedRecord } from '../records/types.ts'
import type { AccessController, AccessControllerFactory, AccessControllerInit, Identities, LogEntry } from '@orbitdb/core'

const log = logger('hubless:registry:access')

/** The access controller type named in the manifest; `/hubless/…` addresses resolve to it */
export const ACCESS_CONTROLLER_TYPE = 'hubless'
/**
 * The access controller's address, part of the database manifest. It is a constant (no per-
 * instance params, no random ids) so that the manifest, and with it the database address, is a
 * function of the registry name alone: two mirrors that never met open the same database.
 */
export const ACCESS_CONTROLLER_ADDRESS = '/hubless/records-v1'

/** The access controller type and address of the witness log (see {@link WITNESS_LOG}) */
export const WITNESS_ACCESS_CONTROLLER_TYPE = 'hubless-witness'
export const WITNESS_ACCESS_CONTROLLER_ADDRESS = '/hubless/witnesses-v1'

/** The access controller type and address of the media log (see {@link MEDIA_LOG}) */
export const MEDIA_ACCESS_CONTROLLER_TYPE = 'hubless-media'
export const MEDIA_ACCESS_CONTROLLER_ADDRESS = '/hubless/media-v1'

/** Which log a registry opens: the registry log of releases and trust, the mirrors' witness log, or their media log */
export type LogKind = 'records' | 'witnesses' | 'media'

/**
 * What tells the two logs apart: the access controller's type and address (part of the OrbitDB
 * manifest, so the two logs have different addresses, gossip topics, head-exchange and snapshot
 * protocols) and the record kinds each admits. The registry log admits exactly the kinds peers
 * before the witness log knew, so every peer, old or new, reaches the same verdict on its
 * entries; a witness entry there is refused by new peers as by old ones.
 */
export interface LogSpec {
  log: LogKind
  type: string
  address: string
  kinds: readonly RecordKind[]
}

export const RECORDS_LOG: LogSpec = {
  log: 'records',
  type: ACCESS_CONTROLLER_TYPE,
  address: ACCESS_CONTROLLER_ADDRESS,
  kinds: ['release', 'yank', 'endorse', 'unendorse', 'rotate-key', 'revoke-key']
}

export const WITNESS_LOG: LogSpec = {
  log: 'witnesses',
  type: WITNESS_ACCESS_CONTROLLER_TYPE,
  address: WITNESS_ACCESS_CONTROLLER_ADDRESS,
  kinds: ['witness']
}

/**
 * The media log: mirrors' statements about the images apps link to. A log of its own, because
 * peers of the witness log released before media records refuse the kind (and with it every
 * witness entry behind one); nobody but a peer that knows the kind ever opens this log.
 */
export const MEDIA_LOG: LogSpec = {
  log: 'media',
  type: MEDIA_ACCESS_CONTROLLER_TYPE,
  address: MEDIA_ACCESS_CONTROLLER_ADDRESS,
  kinds: ['media']
}

export function logSpec (log: LogKind = 'records'): LogSpec {
  return log === 'witnesses' ? WITNESS_LOG : log === 'media' ? MEDIA_LOG : RECORDS_LOG
}

/** Throws UnknownRecordKindError unless `spec`'s log admits records of this kind */
export function assertKindInLog (spec: LogSpec, record: UnsignedRecord): void {
  if (!spec.kinds.includes(record.kind)) {
    throw new UnknownRecordKindError(spec.log === 'records'
      ? `a ${record.kind} record does not belong in the registry log (peers that do not know the kind would stop replicating at it); witness records go to the witness log, media records to the media log`
      : `the ${spec.log === 'media' ? 'media' : 'witness'} log holds ${spec.kinds.join(', ')} records only, not ${record.kind}; publish it to the log of its kind`)
  }
}

/** Rejections that depend only on the entry's bytes; the verdict is cached by entry hash */
const DEFINITIVE = new Set(['InvalidSignatureError', 'MalformedRecordError', 'OversizeRecordError', 'UnknownRecordKindError', 'InvalidAppIdError', 'InvalidChannelError', 'InvalidFieldError', 'InvalidPublisherKeyError', 'ForgedIdentityError', 'MalformedTextError', 'MissingSizeError'])

const MAX_CACHED = 100_000
/** publisher keys remembered by DID (a log of 5,000 apps has a few hundred publishers) */
const MAX_PUBLISHER_KEYS = 4_096

export interface AccessHooks {
  /** a replicated entry (with a hash) passed every check */
  accepted (entryHash: string, record: SignedRecord, entry: LogEntry): void
  /** an entry failed a check; `error` is a named registry error */
  rejected (entryHash: string | undefined, error: Error): void
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

/** The payload of an events-database entry must be exactly `{ op: 'ADD', key: null, value: <wire bytes> }` */
function wireOf (entry: LogEntry): Uint8Array {
  const payload = entry.payload
  if (!isPlainObject(payload) || payload.op !== 'ADD' || payload.key !== null || !(payload.value instanceof Uint8Array) || Object.keys(payload).length !== 3) {
    throw new MalformedRecordError('the entry payload is not { op: "ADD", key: null, value: <signed record bytes> }')
  }
  return payload.value
}

/**
 * An entry whose writer key is the record's publisher key is signed by the publisher over bytes
 * that contain the record. Its OrbitDB signature is then checked by the access controller (a
 * snapshot's other entries by the snapshot loader), and it is the signature of a record that has
 * none of its own (what `publish` writes: one signature per record). A record that does carry
 * its own signature always has it checked, so that every record in the log verifies outside it.
 */
export function publisherWroteEntry (entry: Pick<LogEntry, 'key'>): (record: UnsignedRecord) => boolean {
  return record => typeof entry.key === 'string' && entry.key.length === 64 && entry.key === publisherKeyHex(record.publisher)
}

/** publishers' keys in OrbitDB's form (hex), by DID: a log has few publishers, and every entry asks */
const publisherKeys = new Map<string, string>()

function publisherKeyHex (did: string): string {
  let hex = publisherKeys.get(did)
  if (hex === undefined) {
    hex = bytesToString(didToPublicKey(did), 'base16')
    setBounded(publisherKeys, MAX_PUBLISHER_KEYS, did, hex)
  }
  return hex
}

/**
 * Open to every writer, and deterministic and context-free: an entry is accepted when its
 * payload is a valid signed hubless record (size, canonical encoding, schema, signatures) and
 * its writer identity is bound to the key that signed the entry. Nothing else is read — no
 * clock, no trust, no local state — because a peer that rejects an entry its neighbours
 * accepted stops replicating everything after it.
 *
 * Verdicts are cached by entry hash: OrbitDB's join re-checks an entry once for every path that
 * reaches it, and the cache turns those re-checks into a map lookup.
 */
export interface CheckOptions {
  /** how Ed25519 signatures are checked (default: records/ed25519.ts `verify`); a snapshot import batches them */
  verify?: VerifySignature
  /** check the entry's OrbitDB signature too, whoever wrote it (canAppend leaves that to OrbitDB's join) */
  entrySignature?: boolean
  /** the bytes the entry's signature signs, when the caller has them already (entry-bytes.ts) */
  signedEntryBytes?: Uint8Array
}

/** Our controller, plus the check itself for the bulk import path */
export interface HublessAccessController extends AccessController {
  /** the same checks as canAppend; throws the named error; caches an acceptance by entry hash */
  check (entry: LogEntry, options?: CheckOptions): Promise<SignedRecord>
  /** true when this entry hash was accepted before */
  accepted (hash: string): boolean
}

export function hublessAccessController (hooks: AccessHooks, onCreate?: (ac: HublessAccessController) => void, spec: LogSpec = RECORDS_LOG): AccessControllerFactory {
  return async (init: AccessControllerInit): Promise<AccessController> => {
    const identities: Identities = init.identities
    const accepted = new Map<string, true>()
    const rejected = new Map<string, Error>()
    // identity hash -> its verified signing key
    const identityKeys = new Map<string, Promise<string>>()

    // a peer that checked entries by an identity can show the identity to the next peer that asks
    function pinIdentity (hash: string): void {
      const pins = (init.orbitdb.ipfs as { pins?: PinStore }).pins
      if (pins == null) return
      void pinOnce(pins, CID.parse(hash, base58btc)).catch(err => { log('pinning identity %s failed - %e', hash, err) })
    }

    async function identityKey (hash: string): Promise<string> {
      const identity = await identities.getIdentity(hash)
      if (identity == null) {
        // may be a block not fetched yet: a verdict, but not one to remember
        throw Object.assign(new ForgedIdentityError(`the writer identity ${hash} could not be found`), { transient: true })
      }
      let valid = false
      try {
        valid = await identities.verifyIdentity(identity)
      } catch {
        valid = false
      }
      if (!valid) throw new ForgedIdentityError(`the writer identity ${hash} does not verify`)
      pinIdentity(hash)
      return identity.publicKey
    }

    async function checkIdentity (entry: LogEntry): Promise<void> {
      if (typeof entry.identity !== 'string' || typeof entry.key !== 'string') {
        throw new ForgedIdentityError('the entry names no writer identity or key')
      }
      // one lookup per identity, however many entries ask at once
      let key = identityKeys.get(entry.identity)
      if (key == null) {
        key = identityKey(entry.identity)
        const hash = entry.identity
        key.catch(err => { if ('transient' in (err as Error)) identityKeys.delete(hash) })
        setBounded(identityKeys, MAX_CACHED, entry.identity, key)
      }
      // OrbitDB verifies the entry's signature against entry.key only; this binds that key to the named identity
      if (await key !== entry.key) {
        throw new ForgedIdentityError(`the entry claims writer identity ${entry.identity} but is signed by another key (${entry.key.slice(0, 16)}…)`)
      }
    }

    /** the record and its signatures, and (written by its publisher, or asked for) the entry's signature */
    async function checkRecord (entry: LogEntry, options: CheckOptions = {}): Promise<SignedRecord> {
      const wire = wireOf(entry)
      let entryChecked: Promise<boolean> | undefined
      const record = await decodeLogRecord(wire, record => {
        const wrote = publisherWroteEntry(entry)(record)
        // the entry's check starts beside the record's, so that a batching verify gets both at once
        if (options.entrySignature === true || wrote) entryChecked = entrySignatureValid(entry, options.verify, options.signedEntryBytes)
        return wrote
      }, options.verify).catch(async err => {
        await entryChecked
        throw err
      })
      if (entryChecked != null && !(await entryChecked)) {
        throw new InvalidSignatureError(`entry ${entry.hash ?? '(new)'} has an OrbitDB signature that does not verify`)
      }
      assertKindInLog(spec, record.record)
      // signed by this entry: the entry's fields go with the record wherever it is taken
      if (record.signature == null) record.entry = entryProofOf(entry)
      return record
    }

    async function check (entry: LogEntry, options?: CheckOptions): Promise<SignedRecord> {
      const hash = entry.hash
      const rejection = hash == null ? undefined : rejected.get(hash)
      if (rejection != null) throw rejection
      const record = await checkRecord(entry, options)
      await checkIdentity(entry)
      if (hash != null) setBounded(accepted, MAX_CACHED, hash, true)
      return record
    }

    async function canAppend (entry: LogEntry): Promise<boolean> {
      const hash = entry.hash
      if (hash != null) {
        if (accepted.has(hash)) return true
        if (rejected.has(hash)) return false
      }
      try {
        const record = await checkRecord(entry)
        await checkIdentity(entry)
        if (hash != null) {
          setBounded(accepted, MAX_CACHED, hash, true)
          hooks.accepted(hash, record, entry)
        }
        return true
      } catch (err) {
        const error = err instanceof Error ? err : new MalformedRecordError(String(err))
        if (hash != null && DEFINITIVE.has(error.name) && !('transient' in error)) setBounded(rejected, MAX_CACHED, hash, error)
        log('rejected entry %s: %s %s', hash, error.name, error.message)
        hooks.rejected(hash, error)
        return false
      }
    }

    const ac: HublessAccessController = {
      type: spec.type,
      address: spec.address,
      canAppend,
      check,
      accepted: hash => accepted.has(hash)
    }
    onCreate?.(ac)
    return ac
  }
}
