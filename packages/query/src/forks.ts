import type { ReleaseRecord } from '@hubless/registry/records'

/**
 * Forks in a publisher's hash chain: two releases of the same app and channel, by the same key,
 * that name the same `previous`. Honest publishing never does that (each release names the
 * newest one before it), so a fork means a stolen key, a replayed branch or a broken publisher.
 */

export interface ForkReport {
  appId: string
  /** the key that signed both branches */
  publisher: string
  channel: string
  /** the release id both branches name as `previous` */
  previous: string
  /** ids of the releases that claim it, sorted */
  releases: string[]
}

export class ForkDetector {
  private readonly successors = new Map<string, Set<string>>()
  private readonly byApp = new Map<string, Set<string>>()

  private static keyOf (record: ReleaseRecord): string | undefined {
    if (record.previous == null) return undefined
    return `${record.publisher}\n${record.appId}\n${record.channel}\n${record.previous}`
  }

  /** record a release; returns the fork it creates or extends, if any */
  add (id: string, record: ReleaseRecord): ForkReport | undefined {
    const key = ForkDetector.keyOf(record)
    if (key == null) return undefined
    let set = this.successors.get(key)
    if (set == null) {
      set = new Set()
      this.successors.set(key, set)
    }
    if (set.has(id)) return undefined
    set.add(id)
    if (set.size < 2) return undefined
    let keys = this.byApp.get(record.appId)
    if (keys == null) {
      keys = new Set()
      this.byApp.set(record.appId, keys)
    }
    keys.add(key)
    return this.report(key)
  }

  /** forget a release a bounded catalog drops; a fork it is part of stays, as evidence */
  remove (id: string, record: ReleaseRecord): void {
    const key = ForkDetector.keyOf(record)
    if (key == null) return
    const set = this.successors.get(key)
    if (set == null || set.size > 1) return
    set.delete(id)
    if (set.size === 0) this.successors.delete(key)
  }

  private report (key: string): ForkReport {
    const [publisher, appId, channel, previous] = key.split('\n') as [string, string, string, string]
    return { appId, publisher, channel, previous, releases: [...(this.successors.get(key) ?? [])].sort() }
  }

  forksOf (appId: string): ForkReport[] {
    return [...(this.byApp.get(appId) ?? [])].sort().map(key => this.report(key))
  }

  all (): ForkReport[] {
    return [...this.byApp.keys()].sort().flatMap(appId => this.forksOf(appId))
  }
}
