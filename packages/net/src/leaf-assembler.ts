import type { RangeBytes } from './multipart.ts'
import type { CID } from 'multiformats/cid'

/** A raw leaf still wanted, with every offset at which the file holds it */
export interface LeafGroup {
  cid: CID
  size: number
  offsets: number[]
}

/** The key of a leaf among those wanted: its multihash, in hex (as `scanSeed` spells a chunk's sha2-256) */
export function leafKey (cid: CID): string {
  return Buffer.from(cid.multihash.bytes).toString('hex')
}

/** Writes a verified leaf at each of its offsets and counts it as coming from `source` */
export type Place = (group: LeafGroup, bytes: Uint8Array, source: string) => Promise<void>

/** One place of a wanted leaf in the file, the one asked for */
export interface WantedPiece {
  offset: number
  group: LeafGroup
}

export interface LeafAssembler {
  /** Takes bytes of the file at their offset; returns the leaves they complete (not yet verified) */
  push (part: RangeBytes): Array<{ group: LeafGroup, bytes: Uint8Array }>
  /** leaves begun but not complete */
  readonly partial: number
}

interface Slot {
  piece: WantedPiece
  buffer?: Uint8Array
  filled: number
  done: boolean
}

/**
 * Gathers the leaves `pieces` (sorted by offset, not overlapping) from bytes of the file that
 * arrive in any order of parts, each part in order. A leaf's bytes must arrive from its start
 * onwards; bytes that would leave a gap, fall outside every piece, or repeat what is there, are
 * dropped, so a leaf is never complete unless every byte of it came once. Memory: the leaves
 * being filled, each of its `size`.
 */
export function createLeafAssembler (pieces: WantedPiece[]): LeafAssembler {
  const slots: Slot[] = pieces.map(piece => ({ piece, filled: 0, done: false }))
  let partial = 0

  /** The first slot whose leaf ends after `offset` */
  function firstEndingAfter (offset: number): number {
    let lo = 0
    let hi = slots.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const { piece } = slots[mid]!
      if (piece.offset + piece.group.size <= offset) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  return {
    get partial () { return partial },
    push ({ offset, bytes }) {
      const complete: Array<{ group: LeafGroup, bytes: Uint8Array }> = []
      const end = offset + bytes.byteLength
      for (let i = firstEndingAfter(offset); i < slots.length; i++) {
        const slot = slots[i]!
        const { piece } = slot
        if (piece.offset >= end) break
        if (slot.done) continue
        const at = piece.offset + slot.filled
        // only bytes that continue the leaf from where it stands
        if (at < offset || at >= end) continue
        const size = piece.group.size
        const n = Math.min(piece.offset + size, end) - at
        const from = at - offset
        if (slot.filled === 0 && n === size) {
          slot.done = true
          complete.push({ group: piece.group, bytes: bytes.subarray(from, from + n) })
          continue
        }
        if (slot.buffer == null) {
          slot.buffer = new Uint8Array(size)
          partial++
        }
        slot.buffer.set(bytes.subarray(from, from + n), slot.filled)
        slot.filled += n
        if (slot.filled === size) {
          slot.done = true
          partial--
          complete.push({ group: piece.group, bytes: slot.buffer })
          slot.buffer = undefined
        }
      }
      return complete
    }
  }
}
