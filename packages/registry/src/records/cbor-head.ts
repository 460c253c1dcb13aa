/**
 * The argument of the dag-cbor head at `pos` if it has major type `major`, is minimally encoded
 * (as dag-cbor's strict decoder demands) and is a safe integer: [argument, position after the
 * head]; otherwise undefined. For the fast paths that read canonical bytes without a decoder.
 */
export function readCborHead (b: Uint8Array, pos: number, major: number): [number, number] | undefined {
  const first = b[pos]
  if (first === undefined || first >> 5 !== major) return undefined
  const info = first & 0x1f
  if (info < 24) return [info, pos + 1]
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
  if (size === 0 || pos + 1 + size > b.length) return undefined
  let value = 0
  for (let i = 1; i <= size; i++) value = value * 256 + b[pos + i]!
  // the smallest value that needs this size; above 2^53 - 1 dag-cbor gives a bigint
  const least = size === 1 ? 24 : 2 ** (8 * size / 2)
  if (value < least || value > Number.MAX_SAFE_INTEGER) return undefined
  return [value, pos + 1 + size]
}
