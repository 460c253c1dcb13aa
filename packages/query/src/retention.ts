import type { ReleaseEntry } from './app-view.ts'
import type { ParsedRelease } from './version.ts'
import { newestFirst } from './version.ts'

/**
 * Which releases a bounded catalog keeps (`CatalogInit.retain`): per app, signing key, channel
 * and arch the newest `perSlot` that no yank names, the yanked ones newer than those, and each
 * key's first release of each app, which ownership is decided by. Everything else is dropped:
 * a registry that grows by a nightly a day per app must not grow its readers' memory with it.
 *
 * The order is `newestFirst` (version, time, id): the set kept never depends on the order
 * releases arrived in, nor on which others are held (the chain depth the views break ties with would).
 */

const ordered = (e: ReleaseEntry): ParsedRelease => ({ id: e.id, time: e.record.time, parsed: e.parsed })

const earlier = (a: ReleaseEntry, b: ReleaseEntry): boolean =>
  a.record.time < b.record.time || (a.record.time === b.record.time && a.id < b.id)

export class Retention {
  readonly perSlot: number
  /** slot → its held releases, newest first */
  private readonly slots = new Map<string, ReleaseEntry[]>()
  /** app and key → the key's first release of the app (held whatever its slot says) */
  private readonly firsts = new Map<string, ReleaseEntry>()

  constructor (perSlot: number) {
    this.perSlot = perSlot
  }

  /**
   * Take in a release the catalog now holds; returns the held releases to drop (the new one among
   * them when it is too old to keep). `yanked(id)` says whether a yank names a release.
   */
  admit (entry: ReleaseEntry, yanked: (id: string) => boolean): ReleaseEntry[] {
    const { appId, publisher, channel, arch } = entry.record
    const groupKey = `${appId}\n${publisher}`
    const slotKey = `${groupKey}\n${channel}\n${arch}`
    const dropped: ReleaseEntry[] = []
    const first = this.firsts.get(groupKey)
    if (first == null || earlier(entry, first)) {
      this.firsts.set(groupKey, entry)
      // the former first is an ordinary release now: its slot decides
      if (first != null) dropped.push(...this.trim(`${groupKey}\n${first.record.channel}\n${first.record.arch}`, yanked))
    }
    let slot = this.slots.get(slotKey)
    if (slot == null) {
      slot = []
      this.slots.set(slotKey, slot)
    }
    let at = slot.length
    while (at > 0 && newestFirst(ordered(entry), ordered(slot[at - 1]!)) < 0) at--
    slot.splice(at, 0, entry)
    dropped.push(...this.trim(slotKey, yanked))
    return dropped
  }

  /** the releases of a slot past its newest `perSlot` not yanked, except a first release */
  private trim (slotKey: string, yanked: (id: string) => boolean): ReleaseEntry[] {
    const slot = this.slots.get(slotKey)
    if (slot == null) return []
    const dropped: ReleaseEntry[] = []
    let kept = 0
    for (let i = 0; i < slot.length; i++) {
      const entry = slot[i]!
      if (kept < this.perSlot) {
        if (!yanked(entry.id)) kept++
        continue
      }
      if (this.firsts.get(`${entry.record.appId}\n${entry.record.publisher}`) === entry) continue
      dropped.push(entry)
      slot.splice(i--, 1)
    }
    return dropped
  }
}
