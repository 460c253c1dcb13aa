import {
  InvalidAppIdError, InvalidChannelError, InvalidFieldError, MalformedRecordError, MissingSizeError, UnknownRecordKindError
} from '../errors.ts'
import { isCidString, isRecordId } from './codec.ts'
import { isDidKey } from './did-key.ts'
import { assertWellFormedText, CONTROL, identityTextProblem, isSafeVersion, proseTextProblem } from './text-rules.ts'
import { CHANNELS, MAX_MEDIA_BYTES, MEDIA_TYPES, RECORD_KINDS, RECORD_VERSION } from './types.ts'
import type { Channel, RecordKind, UnsignedRecord } from './types.ts'

/**
 * Schema validation of an unsigned record. It is deterministic and context-free on purpose: it
 * reads nothing but the record (no clock, no local state), because the OrbitDB access controller
 * runs it and every peer must reach the same verdict on every entry, or replication splits.
 *
 * Unknown fields are rejected, so a record has one meaning on every peer.
 */

export const LIMITS = {
  appId: 255,
  version: 128,
  arch: 32,
  name: 256,
  summary: 1024,
  description: 16 * 1024,
  shortText: 256,
  reason: 1024,
  license: 512,
  url: 2048,
  urls: 16,
  categories: 32,
  keywords: 64,
  word: 64,
  screenshots: 32,
  appIds: 256,
  updateInformation: 1024
} as const

type Obj = Record<string, unknown>

function isObject (value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function fieldError (path: string, expected: string, value: unknown): InvalidFieldError {
  let shown: string
  try {
    shown = JSON.stringify(value)?.slice(0, 80) ?? String(value)
  } catch {
    shown = typeof value
  }
  return new InvalidFieldError(`${path} must be ${expected}, got ${shown}`)
}

/** A value for an error message, whatever it is (an object whose toString throws or is no function too) */
function shownValue (value: unknown, max: number): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, max)) : `(a ${value === null ? 'null' : typeof value})`
}

function onlyKeys (obj: Obj, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new InvalidFieldError(`${path}.${key} is not a field of this record kind; remove it`)
    }
  }
}

/**
 * How a text field is shown decides what it may hold (text-rules.ts): `identity` text (names,
 * developer, license, categories, keywords, import source) may hold no control, bidirectional or
 * invisible character; `prose` (summary, description, reasons) may also hold the zero width
 * joiner and non-joiner, which scripts and emoji need; `plain` (update information) only no
 * control characters.
 */
type TextKind = 'identity' | 'prose' | 'plain'

function textProblem (value: string, kind: TextKind): string | undefined {
  if (kind === 'identity') return identityTextProblem(value)
  if (kind === 'prose') return proseTextProblem(value)
  return CONTROL.test(value) ? 'a control character' : undefined
}

function checkText (value: unknown, path: string, max: number, kind: TextKind): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw fieldError(path, `a non-empty string of at most ${max} characters`, value)
  }
  const problem = textProblem(value, kind)
  if (problem != null) {
    throw new InvalidFieldError(`${path} holds ${problem}, which could make it show as something it is not; remove it`)
  }
}

function text (obj: Obj, key: string, path: string, max: number, kind: TextKind, optional = false): void {
  const value = obj[key]
  if (value === undefined && optional) return
  checkText(value, `${path}.${key}`, max, kind)
}

function integer (obj: Obj, key: string, path: string, optional = false): void {
  const value = obj[key]
  if (value === undefined && optional) return
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw fieldError(`${path}.${key}`, 'a non-negative integer', value)
  }
}

function list (obj: Obj, key: string, path: string, max: number, optional: boolean, each: (v: unknown, p: string) => void): void {
  const value = obj[key]
  if (value === undefined && optional) return
  if (!Array.isArray(value) || value.length > max) {
    throw fieldError(`${path}.${key}`, `a list of at most ${max} items`, value)
  }
  value.forEach((v, i) => { each(v, `${path}.${key}[${i}]`) })
}

export function isHttpUrl (value: unknown): value is string {
  if (typeof value !== 'string' || value.length > LIMITS.url || CONTROL.test(value) || /\s/.test(value)) return false
  if (!/^https?:\/\//i.test(value)) return false
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

function httpUrl (value: unknown, path: string): void {
  if (!isHttpUrl(value)) throw fieldError(path, `an http(s) URL of at most ${LIMITS.url} characters`, value)
}

function cidOrHttpUrl (value: unknown, path: string): void {
  if (!isCidString(value) && !isHttpUrl(value)) throw fieldError(path, 'a CID or an http(s) URL', value)
}

function word (value: unknown, path: string): void {
  checkText(value, path, LIMITS.word, 'identity')
}

function did (obj: Obj, key: string, path: string): void {
  if (!isDidKey(obj[key])) throw fieldError(`${path}.${key}`, 'a did:key of an Ed25519 key (did:key:z6Mk…)', obj[key])
}

function recordId (obj: Obj, key: string, path: string, optional = false): void {
  const value = obj[key]
  if (value === undefined && optional) return
  if (!isRecordId(value)) throw fieldError(`${path}.${key}`, 'a record id (CIDv1 dag-cbor sha2-256, base32)', value)
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/

/**
 * AppStream component id rules (reverse DNS): ASCII letters, digits, `_` and `-` in at least three
 * dot-separated segments, none empty or starting with `-`, the top-level domain starting with a
 * letter, at most 255 characters. Segments after the first may start with a digit, because ids
 * derived from code hosts (`io.github.user.4kwall`) do.
 */
export function isValidAppId (appId: unknown): appId is string {
  if (typeof appId !== 'string' || appId.length < 5 || appId.length > LIMITS.appId) return false
  const segments = appId.split('.')
  if (segments.length < 3) return false
  if (!/^[A-Za-z]/.test(segments[0] ?? '')) return false
  return segments.every(s => SEGMENT.test(s))
}

export function assertAppId (appId: unknown, path = 'appId'): asserts appId is string {
  if (!isValidAppId(appId)) {
    throw new InvalidAppIdError(`${path} ${shownValue(appId, 80)} is not an AppStream reverse-DNS id: use at least three dot-separated parts of letters, digits, "_" or "-", such as org.example.App`)
  }
}

export function isChannel (value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value)
}

export function isRecordKind (value: unknown): value is RecordKind {
  return typeof value === 'string' && (RECORD_KINDS as readonly string[]).includes(value)
}

function version (obj: Obj, path: string): void {
  text(obj, 'version', path, LIMITS.version, 'plain')
  if (!isSafeVersion(obj.version)) {
    throw fieldError(`${path}.version`, 'printable ASCII without spaces, "/" or "\\", not starting with "." (it becomes part of a file name)', obj.version)
  }
}

const ARCH = /^[A-Za-z0-9_-]+$/
const SHA256 = /^[0-9a-f]{64}$/

function validateContent (value: unknown, path: string): void {
  if (!isObject(value)) throw fieldError(path, 'an object', value)
  onlyKeys(value, path, ['cid', 'sha256', 'size', 'urls', 'updateInformation'])
  if (value.cid !== undefined && !isCidString(value.cid)) throw fieldError(`${path}.cid`, 'a CID string in canonical form', value.cid)
  if (value.sha256 !== undefined && (typeof value.sha256 !== 'string' || !SHA256.test(value.sha256))) {
    throw fieldError(`${path}.sha256`, '64 lowercase hex characters', value.sha256)
  }
  integer(value, 'size', path, true)
  if (value.sha256 !== undefined && value.size === undefined) {
    throw new MissingSizeError(`${path} names a sha256 but no size: a release that names its hash must name its size in bytes too, so that a download can be cut off at that length; add content.size or drop content.sha256`)
  }
  list(value, 'urls', path, LIMITS.urls, false, httpUrl)
  if (value.cid === undefined && (value.urls as unknown[]).length === 0) {
    throw new InvalidFieldError(`${path} needs a cid or at least one URL, or nobody can fetch the release`)
  }
  text(value, 'updateInformation', path, LIMITS.updateInformation, 'plain', true)
}

function validateApp (value: unknown, path: string): void {
  if (!isObject(value)) throw fieldError(path, 'an object', value)
  onlyKeys(value, path, ['name', 'summary', 'description', 'categories', 'keywords', 'license', 'developer', 'homepage', 'icon', 'screenshots'])
  text(value, 'name', path, LIMITS.name, 'identity')
  text(value, 'summary', path, LIMITS.summary, 'prose', true)
  text(value, 'description', path, LIMITS.description, 'prose', true)
  list(value, 'categories', path, LIMITS.categories, true, word)
  list(value, 'keywords', path, LIMITS.keywords, true, word)
  text(value, 'license', path, LIMITS.license, 'identity', true)
  text(value, 'developer', path, LIMITS.shortText, 'identity', true)
  if (value.homepage !== undefined) httpUrl(value.homepage, `${path}.homepage`)
  if (value.icon !== undefined) cidOrHttpUrl(value.icon, `${path}.icon`)
  list(value, 'screenshots', path, LIMITS.screenshots, true, cidOrHttpUrl)
}

const BASE_KEYS = ['v', 'kind', 'publisher', 'time'] as const

/** appId, version, channel and arch: what names a build, in a release and in a witness alike */
function appVersionChannelArch (r: Obj): void {
  assertAppId(r.appId, 'record.appId')
  version(r, 'record')
  if (!isChannel(r.channel)) {
    throw new InvalidChannelError(`record.channel ${shownValue(r.channel, 40)} is not one of ${CHANNELS.join(', ')}`)
  }
  text(r, 'arch', 'record', LIMITS.arch, 'plain')
  if (!ARCH.test(r.arch as string)) throw fieldError('record.arch', 'letters, digits, "_" or "-" (x86_64, aarch64, …)', r.arch)
}

function validateRelease (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'appId', 'version', 'channel', 'arch', 'content', 'app', 'previous', 'imported'])
  appVersionChannelArch(r)
  validateContent(r.content, 'record.content')
  validateApp(r.app, 'record.app')
  recordId(r, 'previous', 'record', true)
  if (r.imported !== undefined) {
    if (!isObject(r.imported)) throw fieldError('record.imported', 'an object', r.imported)
    onlyKeys(r.imported, 'record.imported', ['source', 'sourceId'])
    text(r.imported, 'source', 'record.imported', LIMITS.word, 'identity')
    text(r.imported, 'sourceId', 'record.imported', LIMITS.shortText, 'identity')
  }
}

function validateYank (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'release', 'appId', 'version', 'reason'])
  recordId(r, 'release', 'record')
  assertAppId(r.appId, 'record.appId')
  version(r, 'record')
  text(r, 'reason', 'record', LIMITS.reason, 'prose')
}

function validateEndorse (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'subject', 'appIds', 'until'])
  did(r, 'subject', 'record')
  list(r, 'appIds', 'record', LIMITS.appIds, true, (v, p) => { assertAppId(v, p) })
  integer(r, 'until', 'record', true)
}

function validateUnendorse (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'subject'])
  did(r, 'subject', 'record')
}

function validateRotate (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'newKey'])
  did(r, 'newKey', 'record')
  if (r.newKey === r.publisher) throw new InvalidFieldError('record.newKey must differ from record.publisher')
}

function validateRevoke (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'since', 'reason'])
  integer(r, 'since', 'record')
  text(r, 'reason', 'record', LIMITS.reason, 'prose')
}

function validateWitness (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'appId', 'version', 'channel', 'arch', 'url', 'sha256', 'size', 'cid', 'release', 'updateInformation'])
  appVersionChannelArch(r)
  httpUrl(r.url, 'record.url')
  if (typeof r.sha256 !== 'string' || !SHA256.test(r.sha256)) throw fieldError('record.sha256', '64 lowercase hex characters', r.sha256)
  integer(r, 'size', 'record')
  if (!isCidString(r.cid)) throw fieldError('record.cid', 'a CID string in canonical form', r.cid)
  recordId(r, 'release', 'record', true)
  text(r, 'updateInformation', 'record', LIMITS.updateInformation, 'plain', true)
}

function validateMedia (r: Obj): void {
  onlyKeys(r, 'record', [...BASE_KEYS, 'appId', 'url', 'type', 'sha256', 'size', 'cid'])
  assertAppId(r.appId, 'record.appId')
  httpUrl(r.url, 'record.url')
  if (!(MEDIA_TYPES as readonly unknown[]).includes(r.type)) throw fieldError('record.type', `one of ${MEDIA_TYPES.join(', ')}`, r.type)
  if (typeof r.sha256 !== 'string' || !SHA256.test(r.sha256)) throw fieldError('record.sha256', '64 lowercase hex characters', r.sha256)
  integer(r, 'size', 'record')
  if ((r.size as number) > MAX_MEDIA_BYTES) throw fieldError('record.size', `at most ${MAX_MEDIA_BYTES} bytes (an image)`, r.size)
  if (!isCidString(r.cid)) throw fieldError('record.cid', 'a CID string in canonical form', r.cid)
}

const BY_KIND: Record<RecordKind, (r: Obj) => void> = {
  release: validateRelease,
  yank: validateYank,
  endorse: validateEndorse,
  unendorse: validateUnendorse,
  'rotate-key': validateRotate,
  'revoke-key': validateRevoke,
  witness: validateWitness,
  media: validateMedia
}

/** Check that `value` is a well-formed unsigned record of a known kind; throws a named error saying what is wrong */
export function validateRecord (value: unknown): UnsignedRecord {
  if (!isObject(value)) throw new MalformedRecordError('a record must be a map')
  // first, so that a lone surrogate anywhere gets its own error, not a field's
  assertWellFormedText(value)
  if (value.v !== RECORD_VERSION) {
    throw fieldError('record.v', `${RECORD_VERSION} (the record schema version this peer knows)`, value.v)
  }
  if (!isRecordKind(value.kind)) {
    throw new UnknownRecordKindError(`record.kind ${shownValue(value.kind, 40)} is not one of ${RECORD_KINDS.join(', ')}`)
  }
  did(value, 'publisher', 'record')
  integer(value, 'time', 'record')
  BY_KIND[value.kind](value)
  return value as unknown as UnsignedRecord
}
