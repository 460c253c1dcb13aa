const ALPHABET = Uint16Array.from('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', c => c.charCodeAt(0))
/** four base58 digits at a time: 58^4 * 2^24 stays below 2^53, so a limb division is exact in a double */
const DIVISOR = 58 ** 4
const Z = 'z'.charCodeAt(0)
const ONE = '1'.charCodeAt(0)

/** the limbs, digits and character codes of one encoding at a time (grown for longer input) */
let limbs = new Uint32Array(16)
let digits = new Uint8Array(64)
let chars = new Uint16Array(96)

/**
 * base58btc with its multibase prefix (`z…`), as multiformats' `base58btc.encode` gives it: the
 * form of an OrbitDB entry hash. multiformats divides the number by 58 one byte at a time (about
 * 4 µs for a 36-byte CID, paid for every entry of a snapshot); this divides 24-bit limbs by 58^4,
 * in arrays kept from one call to the next, and makes the string once.
 */
export function base58btcEncode (bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  // big-endian 24-bit limbs of the bytes after the leading zeros
  const rest = bytes.length - zeros
  const limbCount = Math.ceil(rest / 3)
  // 4 digits per limb division, at most 1.37 digits per byte, and 4 to spare
  const maxDigits = 4 * (limbCount + 1) + Math.ceil(rest * 1.37)
  if (limbCount > limbs.length) limbs = new Uint32Array(limbCount * 2)
  if (maxDigits > digits.length) digits = new Uint8Array(maxDigits * 2)
  let n = 0
  const head = rest % 3
  let i = zeros
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
      const q = Math.floor(value / DIVISOR)
      remainder = value - q * DIVISOR
      limbs[k] = q
    }
    while (start < n && limbs[start] === 0) start++
    // four digits, least significant first
    for (let k = 0; k < 4; k++) {
      digits[d++] = remainder % 58
      remainder = Math.floor(remainder / 58)
    }
  }
  // the last group's high digits may be zeros that are not part of the number
  while (d > 0 && digits[d - 1] === 0) d--
  const length = 1 + zeros + d
  if (length > chars.length) chars = new Uint16Array(length * 2)
  let o = 0
  chars[o++] = Z
  for (let k = 0; k < zeros; k++) chars[o++] = ONE
  for (let k = d - 1; k >= 0; k--) chars[o++] = ALPHABET[digits[k]!]!
  let text = ''
  // fromCharCode takes its codes as arguments: a few thousand at a time
  for (let s = 0; s < o; s += 4096) {
    text += String.fromCharCode.apply(null, chars.subarray(s, Math.min(o, s + 4096)) as unknown as number[])
  }
  return text
}
