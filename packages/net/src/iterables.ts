import { concat } from 'uint8arrays/concat'

/** Blockstores stream a block as chunks; most callers want it whole. */
export async function toBytes (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let length = 0
  for await (const chunk of source) {
    chunks.push(chunk)
    length += chunk.byteLength
  }
  if (chunks.length === 1 && chunks[0] != null) return chunks[0]
  return concat(chunks, length)
}

/** Runs a generator to its end for its side effects (Helia's pin add/rm). */
export async function drain (source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) {
    // nothing to keep
  }
}
