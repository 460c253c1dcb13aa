import { decodeSignedHeads } from '@hubless/registry/records'
import type { HeadsAnnouncement } from '@hubless/registry/records'
import { InvalidRecordError, InvalidTrustRootError, UntrustedMirrorError } from './errors.ts'
import { shown } from './shown.ts'
import type { FreshnessComponents, FreshnessInit, FreshnessStatus, FreshnessTracker } from './index.ts'

const DEFAULT_MAX_SKEW = 5 * 60_000

/**
 * Against indefinite freeze: a reader counts only signed heads announcements from the mirrors it
 * trusts, and only by the time the mirror signed (not by when they arrived), so replaying an old
 * announcement or relaying a frozen mirror's stale one never makes a view look fresh. An
 * announcement dated beyond the allowed clock skew is refused, so that a mirror cannot buy itself
 * a far-future freshness once and then go quiet.
 */
class Freshness implements FreshnessTracker {
  readonly #clock: () => number
  readonly #mirrors: Set<string>
  readonly #maxAge: number
  readonly #maxSkew: number
  readonly #registry: string | undefined
  readonly #newest = new Map<string, HeadsAnnouncement>()

  constructor (components: FreshnessComponents, init: FreshnessInit) {
    this.#clock = components.clock ?? Date.now
    for (const m of init.mirrors) {
      if (typeof m !== 'string' || !m.startsWith('did:key:z')) throw new InvalidTrustRootError(`trusted mirror "${shown(m)}" is not a did:key`)
    }
    if (!(init.maxAge > 0)) throw new InvalidRecordError('maxAge must be a positive number of ms')
    this.#mirrors = new Set(init.mirrors)
    this.#maxAge = init.maxAge
    this.#maxSkew = init.maxSkew ?? DEFAULT_MAX_SKEW
    this.#registry = init.registry
  }

  async observe (wire: Uint8Array, options?: { signal?: AbortSignal }): Promise<HeadsAnnouncement> {
    options?.signal?.throwIfAborted()
    const { announcement } = await decodeSignedHeads(wire)
    if (this.#registry != null && announcement.registry !== this.#registry) {
      throw new InvalidRecordError(`the heads announcement is for ${announcement.registry}, not ${this.#registry}`)
    }
    if (!this.#mirrors.has(announcement.mirror)) {
      throw new UntrustedMirrorError(`${announcement.mirror} is not one of the reader's trusted mirrors; its heads say nothing about freshness`)
    }
    if (announcement.time > this.#clock() + this.#maxSkew) {
      throw new InvalidRecordError(`the heads announcement of ${announcement.mirror} is dated ${announcement.time - this.#clock()} ms in the future; the allowed skew is ${this.#maxSkew} ms`)
    }
    const known = this.#newest.get(announcement.mirror)
    if (known == null || announcement.time > known.time) this.#newest.set(announcement.mirror, announcement)
    return announcement
  }

  status (): FreshnessStatus {
    const now = this.#clock()
    let newest: HeadsAnnouncement | undefined
    for (const a of this.#newest.values()) if (newest == null || a.time > newest.time) newest = a
    if (newest == null) {
      return { stale: true, maxAge: this.#maxAge, explanation: 'no signed heads from any trusted mirror yet: the view may be stale' }
    }
    const age = now - newest.time
    const stale = age > this.#maxAge
    return {
      stale,
      maxAge: this.#maxAge,
      age,
      newest: { mirror: newest.mirror, time: newest.time, records: newest.records, heads: newest.heads },
      explanation: stale
        ? `the freshest trusted mirror (${newest.mirror}) last vouched ${age} ms ago, more than ${this.#maxAge} ms: the view may be stale`
        : `fresh: ${newest.mirror} vouched for ${newest.records} records ${age} ms ago`
    }
  }
}

export function createFreshness (components: FreshnessComponents, init: FreshnessInit): FreshnessTracker {
  return new Freshness(components, init)
}
