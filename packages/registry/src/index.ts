/**
 * @hubless/registry: signed release records on a replicated OrbitDB log.
 *
 * The record half (encoding, signatures, schema) is also published alone, browser-safe, as
 * `@hubless/registry/records`; this entry point adds what needs Node: publisher key files and
 * the replicated log.
 */

export * from './records/index.ts'
export { KeyExistsError, KeyFileError, KeyNotFoundError, RegistryStoppedError, WrongPassphraseError, ForgedIdentityError, InvalidRegistryNameError } from './errors.ts'
