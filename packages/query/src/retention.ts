import type { ReleaseEntry } from './app-view.ts'
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

const earlier = (a: ReleaseEntry, b: ReleaseEntry): boolean =>
  a.time < b.time || (a.time === b.time && a.id < b.id)

/** one key's releases of one app: its first, and its slots (channel, then arch) */
interface Group {
  first: ReleaseEntry | undefined
  slots: Map<string, Map<string, ReleaseEntry[]>>
}

export class Retention {
  readonly perSlot: number
  /**
   * app → key → its group. Maps of the records' own strings, not keys joined from them: a join
   * per release was a third of a catalog's load from its saved index
   */
  private readonly groups = new Map<string, Map<string, Group>>()
  /**
   * Apps whose releases came from a saved index this retention kept already: their groups are
   * built when the app gets its next release, from what the catalog holds (`held`), not on load
   * (a third of a million-record mirror's catalog load, where most apps get none for a while)
   */
  private readonly unbuilt = new Set<string>()
  private readonly held: (appId: string) => Iterable<ReleaseEntry>

  constructor (perSlot: number, held: (appId: string) => Iterable<ReleaseEntry> = () => NONE) {
    this.perSlot = perSlot
    this.held = held
  }

  /** the app's releases the catalog holds are a set this retention kept: its group waits for its next release */
  kept (appId: string): void {
    if (!this.groups.has(appId)) this.unbuilt.add(appId)
  }

  /**
   * Take in a release the catalog now holds; returns the held releases to drop (the new one among
   * them when it is too old to keep). `yanked(id)` says whether a yank names a release.
   */
  admit (entry: ReleaseEntry, yanked: (id: string) => boolean): ReleaseEntry[] {
    const { appId, publisher, channel, arch } = entry.record
    if (this.unbuilt.delete(appId)) this.build(appId, entry)
    const group = entryOf(entryOf(this.groups, appId, newMap<Group>), publisher, newGroup)
    let dropped: ReleaseEntry[] = []
    const first = group.first
    if (first == null || earlier(entry, first)) {
      group.first = entry
      // the former first is an ordinary release now: its slot decides
      if (first != null) dropped = this.trim(group, slotOf(group, first.record.channel, first.record.arch), yanked)
    }
    const slot = slotOf(group, channel, arch)
    insert(slot, entry)
    const trimmed = this.trim(group, slot, yanked)
    return trimmed.length === 0 ? dropped : dropped.concat(trimmed)
  }

  /** an app's groups from releases kept before (no trims: they are what a trim left), but `entry`, which comes in now */
  private build (appId: string, entry: ReleaseEntry): void {
    const keys = entryOf(this.groups, appId, newMap<Group>)
    for (const held of this.held(appId)) {
      if (held === entry) continue
      const { publisher, channel, arch } = held.record
      const group = entryOf(keys, publisher, newGroup)
      if (group.first == null || earlier(held, group.first)) group.first = held
      insert(slotOf(group, channel, arch), held)
    }
  }

  /** the releases of a slot past its newest `perSlot` not yanked, except the group's first */
  private trim (group: Group, slot: ReleaseEntry[], yanked: (id: string) => boolean): ReleaseEntry[] {
    if (slot.length <= this.perSlot) return NONE
    const dropped: ReleaseEntry[] = []
    let kept = 0
    for (let i = 0; i < slot.length; i++) {
      const entry = slot[i]!
      if (kept < this.perSlot) {
        if (!yanked(entry.id)) kept++
        continue
      }
      if (group.first === entry) continue
      dropped.push(entry)
      slot.splice(i--, 1)
    }
    return dropped
  }
}

const NONE: ReleaseEntry[] = []

/** `map`'s value at `key`, made (by `make`, a function of its own: nothing is allocated a call) when missing */
function entryOf<K, V> (map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key)
  if (value == null) {
    value = make()
    map.set(key, value)
  }
  return value
}

const newMap = <V>(): Map<string, V> => new Map()
const newGroup = (): Group => ({ first: undefined, slots: new Map() })
const newSlot = (): ReleaseEntry[] => []

/** a group's releases of one channel and arch, newest first (made empty when it has none) */
function slotOf (group: Group, channel: string, arch: string): ReleaseEntry[] {
  return entryOf(entryOf(group.slots, channel, newMap<ReleaseEntry[]>), arch, newSlot)
}

/** `entry` into its slot, newest first */
function insert (slot: ReleaseEntry[], entry: ReleaseEntry): void {
  let at = slot.length
  while (at > 0 && newestFirst(entry, slot[at - 1]!) < 0) at--
  slot.splice(at, 0, entry)
}
