import { cborHeadSize, cborHeadValue } from './cbor-head.ts'

/** what {@link decodePlainCanonical} gives for bytes it does not show canonical */
export const NOT_PLAIN: unique symbol = Symbol('not plain canonical')

/**
 * A conservative check that dag-cbor bytes are the one canonical encoding of what they hold,
 * without re-encoding them: minimal heads, definite lengths, maps with text keys in dag-cbor's
 * order (shorter first, then bytewise) and no repeats, text that is valid UTF-8 without a leading
 * BOM (what decodes to a string that encodes back to the same bytes), integers within the safe
 * range, and only false, true and null among the simple values. It answers false for anything
 * else (floats, tags such as CIDs, `__proto__` keys, very deep nesting), which is then checked by
 * re-encoding: true must mean canonical, false only "not shown here" (a property test holds it
 * to the re-encoding check).
 */
export function isPlainCanonical (bytes: Uint8Array): boolean {
  return decodePlainCanonical(bytes) !== NOT_PLAIN
}

/**
 * The value of bytes {@link isPlainCanonical} shows canonical, as dag-cbor's decoder gives it
 * (plain objects, arrays, numbers, strings, copies of byte strings, booleans, null), read in the
 * same pass that checks them; `NOT_PLAIN` for any other bytes, which the caller decodes the generic
 * way. Every record of a snapshot is read here: dag-cbor's decoder makes a token per item and
 * builds short strings a character at a time, most of a catch-up's garbage (a property test holds
 * both to the same answers).
 */
export function decodePlainCanonical (bytes: Uint8Array): unknown {
  const end = item(bytes, 0, 0)
  const value = current
  current = undefined
  return end === bytes.length ? value : NOT_PLAIN
}

/** the value of the item `item` read last */
let current: unknown
const textDecoder = new TextDecoder()

const MAX_DEPTH = 32
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]

/** the position after the item at `pos`, or -1; its value in `current` */
function item (b: Uint8Array, pos: number, depth: number): number {
  const first = b[pos]
  if (first === undefined || depth > MAX_DEPTH) return -1
  const major = first >> 5
  if (major === 7) {
    if (first < 0xf4 || first > 0xf6) return -1
    current = first === 0xf6 ? null : first === 0xf5
    return pos + 1
  }
  if (major === 6) return -1
  const arg = cborHeadValue(b, pos, major)
  if (arg < 0) return -1
  const next = pos + cborHeadSize(first)
  switch (major) {
    case 0:
      current = arg
      return next
    // -1 - arg must stay a safe integer
    case 1:
      if (arg >= Number.MAX_SAFE_INTEGER) return -1
      current = -1 - arg
      return next
    case 2:
      if (next + arg > b.length) return -1
      current = copyOf(b, next, next + arg)
      return next + arg
    case 3: {
      const kind = textKind(b, next, next + arg)
      if (kind === INVALID) return -1
      current = text(b, next, next + arg, kind)
      return next + arg
    }
    case 4: {
      // every item takes a byte at least: a longer count is not these bytes
      if (arg > b.length - next) return -1
      const list: unknown[] = []
      let at = next
      for (let i = 0; i < arg; i++) {
        at = item(b, at, depth + 1)
        if (at < 0) return -1
        list.push(current)
      }
      current = list
      return at
    }
    case 5: {
      if (arg > b.length - next) return -1
      const map: Record<string, unknown> = {}
      let at = next
      let previous = -1
      let previousLength = 0
      for (let i = 0; i < arg; i++) {
        const length = cborHeadValue(b, at, 3)
        if (length < 0) return -1
        const start = at + cborHeadSize(b[at]!)
        if (start + length > b.length || isProto(b, start, length)) return -1
        const kind = textKind(b, start, start + length)
        if (kind === INVALID) return -1
        if (previous >= 0 && compareKeys(b, previous, previousLength, start, length) >= 0) return -1
        previous = start
        previousLength = length
        at = item(b, start + length, depth + 1)
        if (at < 0) return -1
        map[text(b, start, start + length, kind)] = current
      }
      current = map
      return at
    }
  }
  return -1
}

/** dag-cbor's map key order: shorter first, then bytewise */
function compareKeys (b: Uint8Array, a: number, aLength: number, c: number, cLength: number): number {
  if (aLength !== cLength) return aLength - cLength
  for (let i = 0; i < aLength; i++) {
    const d = b[a + i]! - b[c + i]!
    if (d !== 0) return d
  }
  return 0
}

function isProto (b: Uint8Array, start: number, length: number): boolean {
  if (length !== PROTO.length) return false
  for (let i = 0; i < length; i++) if (b[start + i] !== PROTO[i]) return false
  return true
}

const INVALID = 0
const ASCII = 1
const UTF8 = 2

/** whether text is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) not starting with a BOM, and ASCII */
function textKind (b: Uint8Array, start: number, end: number): number {
  if (end > b.length) return INVALID
  if (end - start >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) return INVALID
  let kind = ASCII
  let i = start
  while (i < end) {
    const c = b[i]!
    if (c < 0x80) { i++; continue }
    kind = UTF8
    let need: number
    let min: number
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80 } else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800 } else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000 } else return INVALID
    if (i + need >= end) return INVALID
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07)
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k]!
      if ((cc & 0xc0) !== 0x80) return INVALID
      cp = (cp << 6) | (cc & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return INVALID
    i += need + 1
  }
  return kind
}

/** checked text as a string: short ASCII (field names, channels, kinds) from a table of those met before, the rest made */
function text (b: Uint8Array, start: number, end: number, kind: number): string {
  if (kind !== ASCII || end - start > 4096) return textDecoder.decode(b.subarray(start, end))
  const length = end - start
  if (length > MAX_INTERNED) return asciiString(b, start, end)
  // FNV-1a of the bytes picks the slot; the string there is used only if its codes are the bytes
  let hash = 0x811c9dc5
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ b[i]!, 0x01000193)
  const slot = (hash >>> 0) & (INTERNED_SLOTS - 1)
  const known = interned[slot]
  if (known !== undefined && known.length === length) {
    let same = true
    for (let i = 0; i < length && same; i++) same = known.charCodeAt(i) === b[start + i]
    if (same) return known
  }
  const made = asciiString(b, start, end)
  interned[slot] = made
  return made
}

/** ASCII bytes (at most a few thousand: fromCharCode takes them as arguments) as a string, made at once */
function asciiString (b: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[])
}

/**
 * Short ASCII strings met before, by a hash of their bytes: a record's field names and most of its
 * values repeat from record to record, and each `subarray` to make one again is ~150 bytes of garbage
 */
const MAX_INTERNED = 24
const INTERNED_SLOTS = 2048
const interned: Array<string | undefined> = new Array(INTERNED_SLOTS)

/** a copy of bytes, and a plain Uint8Array even when `b` is a Buffer, as dag-cbor's decoder gives */
function copyOf (b: Uint8Array, start: number, end: number): Uint8Array {
  const copy = new Uint8Array(end - start)
  if (end - start > 64) copy.set(b.subarray(start, end))
  else for (let i = start; i < end; i++) copy[i - start] = b[i]!
  return copy
}
