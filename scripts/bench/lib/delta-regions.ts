/**
 * Where an update's bytes go: the regions of an AppImage (runtime, compressed and uncompressed
 * data blocks, fragment blocks, inode and directory tables, lookup tables) and the bytes of a
 * list of fetched ranges that fall in each, so that two updaters can be compared region by region.
 */
import { openAppImage } from '../../../packages/appimage/src/index.ts'
import type { SquashfsImage } from '../../../packages/appimage/src/squashfs/filesystem.ts'

export interface Region { start: number, end: number, name: string }
export interface Range { start: number, end: number }

const UNCOMPRESSED = 1 << 24
const SIZE_MASK = UNCOMPRESSED - 1

/** The regions of an AppImage file, sorted, covering it from 0 to its size */
export async function appImageRegions (path: string): Promise<Region[]> {
  const app = await openAppImage(path)
  try {
    const base = app.runtimeSize
    const fs = app.squashfs as SquashfsImage
    const sb = fs.superblock
    const regions: Region[] = [{ start: 0, end: base, name: 'runtime' }]
    const read64 = async (pos: number): Promise<number> => {
      const b = await app.reader.read(base + pos, 8)
      return Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true))
    }
    const blocks: Region[] = []
    const fragments = new Map<number, Region>()
    for await (const entry of fs.walk()) {
      if (entry.type !== 'file') continue
      const inode = await fs.inode(entry.inodeRef)
      if (inode.type !== 'file') continue
      let pos = base + inode.blocksStart
      for (const word of inode.blockSizes) {
        const length = word & SIZE_MASK
        if (length > 0) blocks.push({ start: pos, end: pos + length, name: (word & UNCOMPRESSED) !== 0 ? 'data blocks, uncompressed' : 'data blocks, compressed' })
        pos += length
      }
      const extents = await fs.extents(inode)
      if (extents.fragment !== undefined && !fragments.has(extents.fragment.offset)) {
        const { offset, length } = extents.fragment
        fragments.set(offset, { start: offset, end: offset + length, name: 'fragment blocks' })
      }
    }
    // tables after the directory table, from where their first metadata block starts
    const tables: Array<{ at: number, name: string }> = []
    if (sb.fragmentTableStart !== undefined && sb.fragmentCount > 0) tables.push({ at: await read64(sb.fragmentTableStart), name: 'fragment table' })
    if (sb.exportTableStart !== undefined) tables.push({ at: await read64(sb.exportTableStart), name: 'export table' })
    tables.push({ at: await read64(sb.idTableStart), name: 'id table' })
    if (sb.xattrIdTableStart !== undefined) tables.push({ at: await read64(sb.xattrIdTableStart), name: 'xattr tables' })
    tables.sort((a, b) => a.at - b.at)
    const seen = new Set<number>()
    const data = [...blocks, ...fragments.values()].sort((a, b) => a.start - b.start).filter(r => !seen.has(r.start) && seen.add(r.start))
    let at = base
    const push = (start: number, end: number, name: string): void => {
      if (end > start) regions.push({ start, end, name })
    }
    push(base, base + 96, 'superblock')
    at = base + 96
    for (const r of data) {
      if (r.start < at) continue
      push(at, r.start, 'other (before tables)')
      regions.push(r)
      at = r.end
    }
    push(at, base + sb.inodeTableStart, 'other (before tables)')
    push(base + sb.inodeTableStart, base + sb.directoryTableStart, 'inode table')
    const firstTable = tables.length > 0 ? tables[0]!.at : sb.bytesUsed
    push(base + sb.directoryTableStart, base + firstTable, 'directory table')
    for (const [i, t] of tables.entries()) push(base + t.at, base + (tables[i + 1]?.at ?? sb.bytesUsed), t.name)
    push(base + sb.bytesUsed, app.size, 'padding')
    return regions
  } finally {
    await app.close()
  }
}

/** Bytes of `ranges` (half-open, any order, may overlap each other: counted as often as given) in each region */
export function bytesByRegion (regions: Region[], ranges: Range[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of ranges) {
    // the first region ending after r.start
    let lo = 0
    let hi = regions.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (regions[mid]!.end <= r.start) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < regions.length && regions[i]!.start < r.end; i++) {
      const g = regions[i]!
      const n = Math.min(g.end, r.end) - Math.max(g.start, r.start)
      if (n > 0) out[g.name] = (out[g.name] ?? 0) + n
    }
  }
  return out
}
