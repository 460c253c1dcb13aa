/**
 * MD4 (RFC 1320), the strong block checksum of the zsync format. Node's crypto does not offer it
 * under OpenSSL 3 (it lives in the legacy provider), so it is computed here; MD4 is broken as a
 * cryptographic hash and zsync uses it only to tell blocks apart, with the whole file checked by
 * SHA-1 (and by hubless against its CID and SHA-256).
 */

const S1 = [3, 7, 11, 19]
const S2 = [3, 5, 9, 13]
const S3 = [3, 9, 11, 15]
const ORDER3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15]

function rotl (x: number, n: number): number {
  return (x << n) | (x >>> (32 - n))
}

/** The digest of `bytes` (16 bytes) */
export function md4 (bytes: Uint8Array): Uint8Array {
  const state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476])
  const whole = bytes.byteLength - (bytes.byteLength % 64)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const x = new Int32Array(16)
  for (let offset = 0; offset < whole; offset += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getInt32(offset + i * 4, true)
    compress(state, x)
  }
  // the tail: the remaining bytes, 0x80, zeros, and the length in bits as 64-bit little-endian
  const tailLength = bytes.byteLength - whole < 56 ? 64 : 128
  const tail = new Uint8Array(tailLength)
  tail.set(bytes.subarray(whole))
  tail[bytes.byteLength - whole] = 0x80
  const tailView = new DataView(tail.buffer)
  const bits = bytes.byteLength * 8
  tailView.setUint32(tailLength - 8, bits >>> 0, true)
  tailView.setUint32(tailLength - 4, Math.floor(bits / 0x100000000), true)
  for (let offset = 0; offset < tailLength; offset += 64) {
    for (let i = 0; i < 16; i++) x[i] = tailView.getInt32(offset + i * 4, true)
    compress(state, x)
  }
  const out = new Uint8Array(16)
  const outView = new DataView(out.buffer)
  for (let i = 0; i < 4; i++) outView.setInt32(i * 4, state[i]!, true)
  return out
}

function compress (state: Int32Array, x: Int32Array): void {
  let a = state[0]!
  let b = state[1]!
  let c = state[2]!
  let d = state[3]!
  // round 1: F(x,y,z) = (x & y) | (~x & z)
  for (let i = 0; i < 16; i += 4) {
    a = rotl((a + ((b & c) | (~b & d)) + x[i]!) | 0, S1[0]!)
    d = rotl((d + ((a & b) | (~a & c)) + x[i + 1]!) | 0, S1[1]!)
    c = rotl((c + ((d & a) | (~d & b)) + x[i + 2]!) | 0, S1[2]!)
    b = rotl((b + ((c & d) | (~c & a)) + x[i + 3]!) | 0, S1[3]!)
  }
  // round 2: G(x,y,z) = (x & y) | (x & z) | (y & z), plus 0x5a827999
  for (let i = 0; i < 4; i++) {
    a = rotl((a + ((b & c) | (b & d) | (c & d)) + x[i]! + 0x5a827999) | 0, S2[0]!)
    d = rotl((d + ((a & b) | (a & c) | (b & c)) + x[i + 4]! + 0x5a827999) | 0, S2[1]!)
    c = rotl((c + ((d & a) | (d & b) | (a & b)) + x[i + 8]! + 0x5a827999) | 0, S2[2]!)
    b = rotl((b + ((c & d) | (c & a) | (d & a)) + x[i + 12]! + 0x5a827999) | 0, S2[3]!)
  }
  // round 3: H(x,y,z) = x ^ y ^ z, plus 0x6ed9eba1
  for (let i = 0; i < 16; i += 4) {
    a = rotl((a + (b ^ c ^ d) + x[ORDER3[i]!]! + 0x6ed9eba1) | 0, S3[0]!)
    d = rotl((d + (a ^ b ^ c) + x[ORDER3[i + 1]!]! + 0x6ed9eba1) | 0, S3[1]!)
    c = rotl((c + (d ^ a ^ b) + x[ORDER3[i + 2]!]! + 0x6ed9eba1) | 0, S3[2]!)
    b = rotl((b + (c ^ d ^ a) + x[ORDER3[i + 3]!]! + 0x6ed9eba1) | 0, S3[3]!)
  }
  state[0] = (state[0]! + a) | 0
  state[1] = (state[1]! + b) | 0
  state[2] = (state[2]! + c) | 0
  state[3] = (state[3]! + d) | 0
}
