import type { EndorseRecord, UnendorseRecord } from '@hubless/registry/records'
import type { Identities } from './identities.ts'

/**
 * The web of trust as the reader sees it: from the reader's roots, follow endorsements to a
 * depth limit. An endorsement counts when its signing key was valid when it signed (not revoked,
 * not rotated away), it has not expired by the reader's clock, it is not retracted by a later
 * unendorse of the same subject by the same publisher, and (when scoped) it names the app.
 * Every step works on identities, so trust given to an old key follows its rotations.
 */

export interface TrustStep {
  /** the key as the endorsement (or the reader's roots) named it */
  key: string
  /** the identity's current key, when a rotation moved it */
  rotatedTo?: string
  /** the endorsement's app scope, when it has one */
  appIds?: string[]
}

export interface TrustPath {
  depth: number
  /** from the root to the publisher */
  steps: TrustStep[]
}

interface Edge {
  id: string
  from: string
  to: string
  subjectKey: string
  time: number
  until?: number
  appIds?: Set<string>
  appIdList?: string[]
}

export interface TrustPolicyOptions {
  roots: string[]
  maxDepth: number
}

export class TrustGraph {
  private readonly endorsements = new Map<string, { id: string, record: EndorseRecord }>()
  private readonly unendorsements = new Map<string, UnendorseRecord>()
  private readonly identities: Identities
  private options: TrustPolicyOptions
  private edges: Edge[] | undefined
  private scopedApps = new Set<string>()
  private global: Map<string, TrustPath> | undefined
  private readonly perApp = new Map<string, Map<string, TrustPath>>()
  private computedAt = Number.NaN
  private expiresAt = Number.POSITIVE_INFINITY

  constructor (identities: Identities, options: TrustPolicyOptions) {
    this.identities = identities
    this.options = options
  }

  setPolicy (options: TrustPolicyOptions): void {
    this.options = options
    this.invalidate()
  }

  get policy (): TrustPolicyOptions {
    return this.options
  }

  addEndorsement (id: string, record: EndorseRecord): void {
    this.endorsements.set(id, { id, record })
    this.invalidate()
  }

  addUnendorsement (id: string, record: UnendorseRecord): void {
    this.unendorsements.set(id, record)
    this.invalidate()
  }

  /** forget every computed path (records, policy or key state changed) */
  invalidate (): void {
    this.edges = undefined
    this.global = undefined
    this.perApp.clear()
  }

  /**
   * Bring the cached paths up to `now`. Returns true when they had to be recomputed because an
   * endorsement expired (or the clock went back), so the caller re-evaluates what depends on them.
   */
  refresh (now: number): boolean {
    if (this.edges != null && now >= this.computedAt && now < this.expiresAt) return false
    const hadPaths = this.edges != null
    this.invalidate()
    this.build(now)
    return hadPaths
  }

  private build (now: number): void {
    const ids = this.identities
    const cuts = new Map<string, number>()
    for (const u of this.unendorsements.values()) {
      const pair = `${ids.identityOf(u.publisher)}\n${ids.identityOf(u.subject)}`
      cuts.set(pair, Math.max(cuts.get(pair) ?? Number.NEGATIVE_INFINITY, u.time))
    }
    const edges: Edge[] = []
    let expiresAt = Number.POSITIVE_INFINITY
    this.scopedApps = new Set()
    for (const { id, record } of this.endorsements.values()) {
      if (ids.invalidAt(record.publisher, record.time) != null) continue
      if (record.until != null) {
        if (record.until <= now) continue
        expiresAt = Math.min(expiresAt, record.until)
      }
      const from = ids.identityOf(record.publisher)
      const to = ids.identityOf(record.subject)
      if (from === to) continue
      const cut = cuts.get(`${from}\n${to}`)
      if (cut != null && cut >= record.time) continue
      const edge: Edge = { id, from, to, subjectKey: record.subject, time: record.time }
      if (record.until != null) edge.until = record.until
      if (record.appIds != null && record.appIds.length > 0) {
        edge.appIds = new Set(record.appIds)
        edge.appIdList = record.appIds
        for (const appId of record.appIds) this.scopedApps.add(appId)
      }
      edges.push(edge)
    }
    // deterministic paths: oldest endorsement first, then id
    edges.sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1))
    this.edges = edges
    this.computedAt = now
    this.expiresAt = expiresAt
  }

  private search (appId: string | undefined): Map<string, TrustPath> {
    const ids = this.identities
    const edges = this.edges ?? []
    const out = new Map<string, TrustPath>()
    let frontier: string[] = []
    for (const root of this.options.roots) {
      const identity = ids.identityOf(root)
      if (out.has(identity)) continue
      const step: TrustStep = { key: root }
      if (identity !== root) step.rotatedTo = identity
      out.set(identity, { depth: 0, steps: [step] })
      frontier.push(identity)
    }
    const byFrom = new Map<string, Edge[]>()
    for (const edge of edges) {
      if (edge.appIds != null && (appId == null || !edge.appIds.has(appId))) continue
      const list = byFrom.get(edge.from)
      if (list == null) byFrom.set(edge.from, [edge])
      else list.push(edge)
    }
    for (let depth = 1; depth <= this.options.maxDepth && frontier.length > 0; depth++) {
      const next: string[] = []
      for (const from of frontier) {
        const base = out.get(from)!
        for (const edge of byFrom.get(from) ?? []) {
          if (out.has(edge.to)) continue
          const step: TrustStep = { key: edge.subjectKey }
          if (edge.to !== edge.subjectKey) step.rotatedTo = edge.to
          if (edge.appIdList != null) step.appIds = edge.appIdList
          out.set(edge.to, { depth, steps: [...base.steps, step] })
          next.push(edge.to)
        }
      }
      frontier = next
    }
    return out
  }

  /** The path by which the reader trusts `identity` to publish `appId`, if any. Call refresh first */
  pathFor (identity: string, appId: string): TrustPath | undefined {
    if (this.edges == null) throw new Error('TrustGraph.refresh must run before pathFor')
    if (!this.scopedApps.has(appId)) {
      this.global ??= this.search(undefined)
      return this.global.get(identity)
    }
    let paths = this.perApp.get(appId)
    if (paths == null) {
      paths = this.search(appId)
      this.perApp.set(appId, paths)
    }
    return paths.get(identity)
  }

  /** identities trusted for every app (unscoped paths), for the trust listing */
  trustedIdentities (): Map<string, TrustPath> {
    if (this.edges == null) throw new Error('TrustGraph.refresh must run before trustedIdentities')
    this.global ??= this.search(undefined)
    return this.global
  }
}

/** "trusted via root X -> Y -> Z" */
export function explainPath (path: TrustPath): string {
  const parts = path.steps.map((step, i) => {
    let text = i === 0 ? `root ${step.key}` : step.key
    if (step.rotatedTo != null) text += ` (rotated to ${step.rotatedTo})`
    if (step.appIds != null) text += ` [for ${step.appIds.join(', ')}]`
    return text
  })
  return path.depth === 0 ? `trusted: ${parts[0]} is one of your roots` : `trusted via ${parts.join(' -> ')}`
}
