/**
 * RFC 4648 base32 without padding, with its multibase prefix, as multiformats' `base32.encode`
 * ('b', lowercase) and `base32upper.encode` ('B') give it: the form of a record id (a CIDv1) and
 * of a block's key in blockstore-level. multiformats builds the string a character at a time
 * (~1.5 KB of garbage for a 36-byte CID, paid for every entry of a snapshot, twice); this fills
 * one array of character codes and makes the string once. Plain JavaScript: browsers use it too.
 */
const LOWER = codes('abcdefghijklmnopqrstuvwxyz234567')
const UPPER = codes('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')
/** character codes of one string at a time (CIDs and multihashes fit, longer input gets its own) */
let scratch = new Uint16Array(128)

function codes (alphabet: string): Uint16Array {
  return Uint16Array.from(alphabet, c => c.charCodeAt(0))
}

function encode (bytes: Uint8Array, table: Uint16Array, prefix: string): string {
  const length = 1 + Math.ceil(bytes.length * 8 / 5)
  if (length > scratch.length) scratch = new Uint16Array(Math.max(length, scratch.length * 2))
  const out = scratch
  out[0] = prefix.charCodeAt(0)
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
  let text = ''
  // fromCharCode takes its codes as arguments: a few thousand at a time
  for (let start = 0; start < o; start += 4096) {
    text += String.fromCharCode.apply(null, out.subarray(start, Math.min(o, start + 4096)) as unknown as number[])
  }
  return text
}

/** multiformats' `base32.encode(bytes)`: 'b' and lowercase base32 */
export function base32Encode (bytes: Uint8Array): string {
  return encode(bytes, LOWER, 'b')
}

/** multiformats' `base32upper.encode(bytes)`: 'B' and uppercase base32 */
export function base32UpperEncode (bytes: Uint8Array): string {
  return encode(bytes, UPPER, 'B')
}
