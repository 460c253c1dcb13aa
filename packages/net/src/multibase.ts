/**
 * Multibase strings (prefix and digits) as multiformats gives them, made the fast way: every
 * entry of a snapshot is named in base58btc (OrbitDB's entry hash), its record in base32 (the
 * record id), its block in blockstore-level by base32 and its pin by base36, so a catch-up makes
 * these strings hundreds of thousands of times. multiformats builds them a character at a time and
 * divides the number by the base one byte at a time (base-x); these fill one array of character
 * codes and make the string once, and divide 24-bit limbs by a power of the base (base36: BigInt's
 * own conversion). Plain JavaScript: browsers use them too. A property test holds each to
 * multiformats' answers.
 */

/** character codes of one string at a time, grown for longer input */
let chars = new Uint16Array(128)

function room (length: number): Uint16Array {
  if (length > chars.length) chars = new Uint16Array(Math.max(length, chars.length * 2))
  return chars
}

/** the string of the first `length` codes of `codes` */
function stringOf (codes: Uint16Array, length: number): string {
  let text = ''
  // fromCharCode takes its codes as arguments: a few thousand at a time
  for (let start = 0; start < length; start += 4096) {
    text += String.fromCharCode.apply(null, codes.subarray(start, Math.min(length, start + 4096)) as unknown as number[])
  }
  return text
}

function codesOf (alphabet: string): Uint16Array {
  return Uint16Array.from(alphabet, c => c.charCodeAt(0))
}

/** RFC 4648 base32 without padding, after `prefix` */
function rfc4648 (bytes: Uint8Array, table: Uint16Array, prefix: number): string {
  const out = room(1 + Math.ceil(bytes.length * 8 / 5))
  out[0] = prefix
  let o = 1
  let buffer = 0
  let bits = 0
  for (let i = 0; i < bytes.length; i++) {
    buffer = ((buffer << 8) | bytes[i]!) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out[o++] = table[(buffer >>> bits) & 31]!
    }
  }
  if (bits > 0) out[o++] = table[(buffer << (5 - bits)) & 31]!
  return stringOf(out, o)
}

/**
 * A base-x encoder (leading zero bytes as the alphabet's first character, the rest as one big
 * number), after a multibase prefix. It divides 24-bit limbs by base^k, the largest power with
 * base^k * 2^24 below 2^53 so that a limb division is exact in a double, and takes k digits at once.
 */
function baseX (alphabet: string, prefix: string): (bytes: Uint8Array) => string {
  const table = codesOf(alphabet)
  const base = table.length
  let perDivision = 1
  while (base ** (perDivision + 1) * 2 ** 24 < 2 ** 53) perDivision++
  const divisor = base ** perDivision
  const prefixCode = prefix.charCodeAt(0)
  const zero = table[0]!
  const digitsPerByte = Math.log(256) / Math.log(base)
  let limbs = new Uint32Array(16)
  let digits = new Uint8Array(64)
  return bytes => {
    let zeros = 0
    while (zeros < bytes.length && bytes[zeros] === 0) zeros++
    const rest = bytes.length - zeros
    const limbCount = Math.ceil(rest / 3)
    const maxDigits = perDivision * (limbCount + 1) + Math.ceil(rest * digitsPerByte)
    if (limbCount > limbs.length) limbs = new Uint32Array(limbCount * 2)
    if (maxDigits > digits.length) digits = new Uint8Array(maxDigits * 2)
    // big-endian 24-bit limbs of the bytes after the leading zeros
    let n = 0
    let i = zeros
    const head = rest % 3
    if (head > 0) {
      let v = 0
      for (let k = 0; k < head; k++) v = v * 256 + bytes[i++]!
      limbs[n++] = v
    }
    while (i < bytes.length) {
      limbs[n++] = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
      i += 3
    }
    let d = 0
    let start = 0
    while (start < n) {
      let remainder = 0
      for (let k = start; k < n; k++) {
        const value = remainder * 0x1000000 + limbs[k]!
        const q = Math.floor(value / divisor)
        remainder = value - q * divisor
        limbs[k] = q
      }
      while (start < n && limbs[start] === 0) start++
      // perDivision digits, least significant first
      for (let k = 0; k < perDivision; k++) {
        digits[d++] = remainder % base
        remainder = Math.floor(remainder / base)
      }
    }
    // the last group's high digits may be zeros that are not part of the number
    while (d > 0 && digits[d - 1] === 0) d--
    const length = 1 + zeros + d
    const out = room(length)
    let o = 0
    out[o++] = prefixCode
    for (let k = 0; k < zeros; k++) out[o++] = zero
    for (let k = d - 1; k >= 0; k--) out[o++] = table[digits[k]!]!
    return stringOf(out, o)
  }
}

const BASE32_LOWER = codesOf('abcdefghijklmnopqrstuvwxyz234567')
const BASE32_UPPER = codesOf('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')

/** multiformats' `base32.encode(bytes)`: 'b' and lowercase base32 (a CIDv1's string) */
export function base32Encode (bytes: Uint8Array): string {
  return rfc4648(bytes, BASE32_LOWER, 0x62)
}

/** multiformats' `base32upper.encode(bytes)`: 'B' and uppercase base32 (blockstore-level's keys) */
export function base32UpperEncode (bytes: Uint8Array): string {
  return rfc4648(bytes, BASE32_UPPER, 0x42)
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** lowercase hex of `bytes` from `start` on, without a multibase prefix (keys of caches, BigInt literals) */
export function hexOf (bytes: Uint8Array, start = 0): string {
  let hex = ''
  for (let i = start; i < bytes.length; i++) hex += HEX[bytes[i]!]!
  return hex
}

/**
 * multiformats' `base36.encode(bytes)`: 'k' and lowercase base36 (Helia's pin keys, two for every
 * entry pinned). BigInt's own radix conversion (native) does a CID's 36 bytes in half the time of
 * the limb division below.
 */
export function base36Encode (bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  if (zeros === bytes.length) return 'k' + '0'.repeat(zeros)
  return 'k' + '0'.repeat(zeros) + BigInt(`0x${hexOf(bytes, zeros)}`).toString(36)
}

/** multiformats' `base58btc.encode(bytes)`: 'z' and base58btc (an OrbitDB entry hash) */
export const base58btcEncode = baseX('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', 'z')
