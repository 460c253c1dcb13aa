import { MalformedTextError } from '../errors.ts'

/**
 * What a record's strings may hold, beyond their length. These rules run in the access
 * controller on every peer, so they read nothing but the string: a fixed character set, no
 * Unicode property tables whose content changes with the JavaScript engine's Unicode version
 * (a peer on a newer engine must not reject what an older one accepted).
 */

// printable, no control characters (C0, DEL, C1) so that no record can smuggle terminal escapes
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
export const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

/**
 * Bidirectional formatting characters: they reorder what a terminal or a web page shows
 * ("Trojan Source"), so that a name reads as another one. U+061C ALM, U+200E LRM, U+200F RLM,
 * U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates.
 */
export const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/**
 * Invisible characters (Unicode default-ignorables with no visible form) that let a name look
 * like another app's while being a different string: U+00AD soft hyphen, U+034F combining
 * grapheme joiner, U+115F/U+1160/U+3164/U+FFA0 Hangul fillers, U+17B4/U+17B5 Khmer inherent
 * vowels, U+180B–U+180F Mongolian selectors and vowel separator, U+200B zero width space,
 * U+2060–U+2065 word joiner and invisible operators, U+206A–U+206F deprecated format
 * characters, U+FEFF zero width no-break space (BOM), U+FFF9–U+FFFB interlinear annotation,
 * U+1BCA0–U+1BCA3 shorthand format controls, U+E0000–U+E0FFF tags and their reserved block.
 * Variation selectors (U+FE00–U+FE0F) stay: emoji need U+FE0F, and a selector only changes the
 * look of the character before it.
 */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each (combining) character is matched on its own, which is the point
export const INVISIBLE = /[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u2060-\u2065\u206a-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\u{1bca0}-\u{1bca3}\u{e0000}-\u{e0fff}]/u

/**
 * U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER: invisible too, but prose needs them
 * (Persian and Indic scripts, emoji sequences such as 👩‍💻). They are refused in names and the
 * other short identifying fields, and allowed in summaries, descriptions and reasons.
 */
export const JOINERS = /[\u200c\u200d]/

/** Why `value` may not be shown as a name (undefined when it may) */
export function identityTextProblem (value: string): string | undefined {
  return proseTextProblem(value) ?? (JOINERS.test(value) ? 'a zero width joiner or non-joiner (U+200C, U+200D)' : undefined)
}

/** Why `value` may not be shown as prose (undefined when it may) */
export function proseTextProblem (value: string): string | undefined {
  if (CONTROL.test(value)) return 'a control character'
  if (BIDI.test(value)) return 'a bidirectional formatting character (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)'
  if (INVISIBLE.test(value)) return 'an invisible character (zero width space, word joiner, BOM, tag, filler, …)'
  return undefined
}

/**
 * Versions end up in file names (`APP-VERSION-ARCH.AppImage`) and URLs: printable ASCII without
 * spaces, no `/` or `\` (a path separator on some system) and no leading `.` (`..`, hidden files).
 */
export function isSafeVersion (value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7e]+$/.test(value) && !/[/\\]/.test(value) && !value.startsWith('.')
}

/** `String#isWellFormed`, which older browsers (and this project's TypeScript lib) lack */
export function isWellFormed (value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i)
    if (unit < 0xd800 || unit > 0xdfff) continue
    // a high surrogate followed by a low one is one character; anything else is half of one
    const next = value.charCodeAt(i + 1)
    if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false
    i++
  }
  return true
}

/**
 * Refuse any string (map keys included) that is not well-formed UTF-16: the UTF-8 encoder would
 * silently turn a lone surrogate into U+FFFD, and the publisher would sign something other than
 * what they gave. Bytes decoded from the wire cannot hold one (UTF-8 has no surrogates, and a
 * surrogate's 3-byte form fails the canonical re-encoding check), so this guards every record
 * built in memory: before it is encoded to be signed, and in validateRecord.
 */
export function assertWellFormedText (value: unknown, path = 'record'): void {
  // the walk that names where the broken character is runs only when there is one (a record
  // decoded from the wire is walked on every check, and the names would be its garbage)
  if (!allWellFormed(value)) throwAtBrokenText(value, path)
}

/** every string in `value` (field names too) is well-formed UTF-16 */
function allWellFormed (value: unknown): boolean {
  if (typeof value === 'string') return isWellFormed(value)
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return true
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!allWellFormed(value[i])) return false
    return true
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue
    if (!isWellFormed(k) || !allWellFormed((value as Record<string, unknown>)[k])) return false
  }
  return true
}

function throwAtBrokenText (value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (!isWellFormed(value)) {
      throw new MalformedTextError(`${path} holds a lone UTF-16 surrogate (half of a character, such as "\\ud800"), which cannot be encoded as UTF-8; fix or remove the broken character`)
    }
    return
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return
  if (Array.isArray(value)) {
    value.forEach((v, i) => { throwAtBrokenText(v, `${path}[${i}]`) })
    return
  }
  for (const [k, v] of Object.entries(value)) {
    throwAtBrokenText(k, `${path} (a field name)`)
    throwAtBrokenText(v, `${path}.${k}`)
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const STRIP_PROSE = new RegExp(`${BIDI.source}|${INVISIBLE.source}`, 'gu')
const STRIP_IDENTITY = new RegExp(`${BIDI.source}|${INVISIBLE.source}|${JOINERS.source}`, 'gu')

/**
 * For importers of outside text (catalogs, AppStream files): what a record accepts as prose,
 * made from it by dropping lone surrogates, bidirectional formatting and invisible characters.
 * Control characters are the caller's (it knows whether a newline is a space or a paragraph).
 */
export function cleanProseText (value: string): string {
  return value.replace(LONE_SURROGATE, '').replace(STRIP_PROSE, '')
}

/** As {@link cleanProseText}, for names and other identifying text: the joiners go too */
export function cleanIdentityText (value: string): string {
  return value.replace(LONE_SURROGATE, '').replace(STRIP_IDENTITY, '')
}

/** For importers: a version {@link isSafeVersion} accepts, when only separators and leading dots were wrong (`/` and `\` become `-`) */
export function cleanVersion (value: string): string {
  return value.trim().replace(/[/\\]/g, '-').replace(/^\.+/, '')
}
