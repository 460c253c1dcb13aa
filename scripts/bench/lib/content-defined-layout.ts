/**
 * A UnixFS file layout whose nodes end where a child's CID says so (on average every `fanout`
 * children, at most 1024), level by level: runs of leaves two versions of a file share give
 * shared parent nodes, where a balanced layout's groups shift with the first change. Not what
 * hubless uses; update-delta measures what it would save.
 */
import type { InProgressImportResult } from 'ipfs-unixfs-importer'
import type { FileLayout } from 'ipfs-unixfs-importer/layout'

const MAX_CHILDREN = 1024

export function contentDefinedLayout (fanout: number): FileLayout {
  const mask = fanout - 1
  const ends = (r: InProgressImportResult): boolean => {
    const d = r.cid.multihash.digest
    return ((d[d.length - 1]! | (d[d.length - 2]! << 8)) & mask) === 0
  }
  return async function layout (source, reduce) {
    let level: InProgressImportResult[] = []
    for await (const child of source) level.push(child)
    while (level.length > 1) {
      const next: InProgressImportResult[] = []
      let group: InProgressImportResult[] = []
      for (const child of level) {
        group.push(child)
        if (ends(child) || group.length === MAX_CHILDREN) {
          next.push(await reduce(group))
          group = []
        }
      }
      if (group.length > 0) next.push(await reduce(group))
      // no boundary on this level: one node over all of it
      level = next.length === level.length ? [await reduce(level)] : next
    }
    return level.length === 1 && level[0]!.cid.code !== 0x55 ? level[0]! : await reduce(level)
  }
}
