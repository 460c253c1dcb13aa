import { CorruptSquashfsError } from '../errors.ts'
import type { AbortOptions } from '../types.ts'
import type { MetadataStore } from './metadata.ts'

/**
 * A SquashFS lookup table (fragments, ids, export): fixed-size entries in metadata blocks, found
 * through a list of 64-bit block positions at `start`.
 */
export interface LookupTable {
  /** image-relative positions of the metadata blocks holding the entries */
  blocks: number[]
  /** where the list of positions starts and how long it is */
  indexStart: number
  indexLength: number
}

export async function readLookupIndex (
  read: (pos: number, length: number) => Promise<Uint8Array>,
  start: number,
  entries: number,
  entrySize: number,
  limit: number,
  name: string
): Promise<LookupTable> {
  const blockCount = Math.ceil(entries * entrySize / 8192)
  const indexLength = blockCount * 8
  if (start + indexLength > limit) {
    throw new CorruptSquashfsError(`the ${name} table index (${blockCount} entries at ${start}) runs past the image end ${limit}`)
  }
  const bytes = blockCount === 0 ? new Uint8Array(0) : await read(start, indexLength)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const blocks: number[] = []
  for (let i = 0; i < blockCount; i++) {
    const pos = view.getBigUint64(i * 8, true)
    if (pos >= BigInt(limit)) {
      throw new CorruptSquashfsError(`the ${name} table points to a block at ${pos}, outside the image`)
    }
    blocks.push(Number(pos))
  }
  return { blocks, indexStart: start, indexLength }
}

/** Reads entry `index` (of `entrySize` bytes) from a lookup table */
export async function readLookupEntry (store: MetadataStore, table: LookupTable, index: number, entrySize: number, options?: AbortOptions): Promise<Uint8Array> {
  const perBlock = 8192 / entrySize
  const blockPos = table.blocks[Math.floor(index / perBlock)]
  if (blockPos === undefined) {
    throw new CorruptSquashfsError(`lookup table entry ${index} is past the table's end`)
  }
  const block = await store.block(blockPos, options)
  const at = (index % perBlock) * entrySize
  if (at + entrySize > block.data.byteLength) {
    throw new CorruptSquashfsError(`lookup table entry ${index} is past the end of its metadata block`)
  }
  return block.data.subarray(at, at + entrySize)
}
