const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** four base58 digits at a time: 58^4 * 2^24 stays below 2^53, so a limb division is exact in a double */
const DIVISOR = 58 ** 4

/**
 * base58btc with its multibase prefix (`z…`), as multiformats' `base58btc.encode` gives it: the
 * form of an OrbitDB entry hash. multiformats divides the number by 58 one byte at a time (about
 * 4 µs for a 36-byte CID, paid for every entry of a snapshot); this divides 24-bit limbs by 58^4.
 */
export function base58btcEncode (bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  // big-endian 24-bit limbs of the bytes after the leading zeros
  const rest = bytes.length - zeros
  const limbs: number[] = []
  const head = rest % 3
  let i = zeros
  if (head > 0) {
    let v = 0
    for (let k = 0; k < head; k++) v = v * 256 + bytes[i++]!
    limbs.push(v)
  }
  while (i < bytes.length) {
    limbs.push((bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!)
    i += 3
  }
  const digits: number[] = []
  let start = 0
  while (start < limbs.length) {
    let remainder = 0
    for (let k = start; k < limbs.length; k++) {
      const value = remainder * 0x1000000 + limbs[k]!
      const q = Math.floor(value / DIVISOR)
      remainder = value - q * DIVISOR
      limbs[k] = q
    }
    while (start < limbs.length && limbs[start] === 0) start++
    // four digits, least significant first
    for (let d = 0; d < 4; d++) {
      digits.push(remainder % 58)
      remainder = Math.floor(remainder / 58)
    }
  }
  // the last group's high digits may be zeros that are not part of the number
  while (digits.length > 0 && digits[digits.length - 1] === 0) digits.pop()
  let out = 'z' + '1'.repeat(zeros)
  for (let k = digits.length - 1; k >= 0; k--) out += ALPHABET[digits[k]!]
  return out
}
