/** Bytes of the head that starts with `first` (its argument's size + 1), or 0 for none dag-cbor allows */
export function cborHeadSize (first: number): number {
  const info = first & 0x1f
  return info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : info === 26 ? 5 : info === 27 ? 9 : 0
}

/**
 * The argument of the dag-cbor head at `pos` if it has major type `major`, is minimally encoded
 * (as dag-cbor's strict decoder demands) and is a safe integer; otherwise -1. The head is
 * {@link cborHeadSize} bytes long. For the fast paths that read canonical bytes without a decoder
 * (no allocation: they run for every field of every snapshot entry).
 */
export function cborHeadValue (b: Uint8Array, pos: number, major: number): number {
  const first = b[pos]
  if (first === undefined || first >> 5 !== major) return -1
  const info = first & 0x1f
  if (info < 24) return info
  const size = cborHeadSize(first) - 1
  if (size <= 0 || pos + 1 + size > b.length) return -1
  let value = 0
  for (let i = 1; i <= size; i++) value = value * 256 + b[pos + i]!
  // the smallest value that needs this size; above 2^53 - 1 dag-cbor gives a bigint
  const least = size === 1 ? 24 : 2 ** (8 * size / 2)
  return value < least || value > Number.MAX_SAFE_INTEGER ? -1 : value
}

/** {@link cborHeadValue} and the position after the head, or undefined */
export function readCborHead (b: Uint8Array, pos: number, major: number): [number, number] | undefined {
  const value = cborHeadValue(b, pos, major)
  return value < 0 ? undefined : [value, pos + cborHeadSize(b[pos]!)]
}
