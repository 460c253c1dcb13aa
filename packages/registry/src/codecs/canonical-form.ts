import { cborHeadSize, cborHeadValue } from './cbor-head.ts'

/**
 * A conservative check that dag-cbor bytes are the one canonical encoding of what they hold,
 * without re-encoding them: minimal heads, definite lengths, maps with text keys in dag-cbor's
 * order (shorter first, then bytewise) and no repeats, text that is valid UTF-8 without a leading
 * BOM (what decodes to a string that encodes back to the same bytes), integers within the safe
 * range, and only false, true and null among the simple values. It answers false for anything
 * else (floats, tags such as CIDs, `__proto__` keys, very deep nesting), which is then checked by
 * re-encoding: true must mean canonical, false only "not shown here" (a property test holds it
 * to the re-encoding check). For bytes dag-cbor has already decoded.
 */
export function isPlainCanonical (bytes: Uint8Array): boolean {
  const end = item(bytes, 0, 0)
  return end === bytes.length
}

const MAX_DEPTH = 32
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]

/** the position after the item at `pos`, or -1 */
function item (b: Uint8Array, pos: number, depth: number): number {
  const first = b[pos]
  if (first === undefined || depth > MAX_DEPTH) return -1
  const major = first >> 5
  if (major === 7) return first >= 0xf4 && first <= 0xf6 ? pos + 1 : -1
  if (major === 6) return -1
  const arg = cborHeadValue(b, pos, major)
  if (arg < 0) return -1
  const next = pos + cborHeadSize(first)
  switch (major) {
    case 0: return next
    // -1 - arg must stay a safe integer
    case 1: return arg < Number.MAX_SAFE_INTEGER ? next : -1
    case 2: return next + arg <= b.length ? next + arg : -1
    case 3: return validText(b, next, next + arg) ? next + arg : -1
    case 4: {
      let at = next
      for (let i = 0; i < arg && at >= 0; i++) at = item(b, at, depth + 1)
      return at
    }
    case 5: {
      let at = next
      let previous = -1
      let previousLength = 0
      for (let i = 0; i < arg; i++) {
        const length = cborHeadValue(b, at, 3)
        if (length < 0) return -1
        const start = at + cborHeadSize(b[at]!)
        if (start + length > b.length || !validText(b, start, start + length) || isProto(b, start, length)) return -1
        if (previous >= 0 && compareKeys(b, previous, previousLength, start, length) >= 0) return -1
        previous = start
        previousLength = length
        at = item(b, start + length, depth + 1)
        if (at < 0) return -1
      }
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

/** well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF), not starting with a BOM */
function validText (b: Uint8Array, start: number, end: number): boolean {
  if (end > b.length) return false
  if (end - start >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) return false
  let i = start
  while (i < end) {
    const c = b[i]!
    if (c < 0x80) { i++; continue }
    let need: number
    let min: number
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80 } else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800 } else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000 } else return false
    if (i + need >= end) return false
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07)
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k]!
      if ((cc & 0xc0) !== 0x80) return false
      cp = (cp << 6) | (cc & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false
    i += need + 1
  }
  return true
}
