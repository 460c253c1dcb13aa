import type { Architecture, Channel, ReleaseRecord, YankRecord } from '@hubless/registry/records'
import { CHANNEL_LADDER, channelVisible } from './channels.ts'
import type { ForkReport } from './forks.ts'
import type { Identities } from './identities.ts'
import type { AppView, Claimant, LatestRelease, ReleaseView, TrustStatus, TrustVerdict } from './index.ts'
import { classifyLicense } from './licenses.ts'
import type { LicenseClass } from './licenses.ts'
import type { TrustGraph, TrustPath } from './trust.ts'
import { explainPath } from './trust.ts'
import { compareReleases } from './version.ts'
import type { ParsedVersion } from './version.ts'

/**
 * One app's view, computed from its releases and the reader's trust. The newest release is a
 * maximum over the set of the owner's usable releases, so it does not depend on arrival order:
 * replaying an old release can never displace a newer one.
 */

/** a release as the catalog holds it: a `ParsedRelease` (its version parsed once, its time), so `newestFirst` orders entries as they are */
export interface ReleaseEntry {
  id: string
  record: ReleaseRecord
  time: number
  parsed: ParsedVersion
}

/** what search filters, facets and sorts read about an app, precomputed */
export interface AppFacts {
  appId: string
  name: string
  /** lowercased, accents removed, for exact-match and A–Z */
  nameKey: string
  categories: string[]
  /** lowercased, for the category filter */
  categoryKeys: string[]
  license: LicenseClass
  status: TrustStatus
  publisher: string
  updated: number
  /** reader channels with a usable release */
  channels: Set<Channel>
  archs: Set<Architecture>
  /** `${readerChannel}\n${arch}` pairs with a usable release */
  pairs: Set<string>
  /** the release whose metadata is indexed */
  metadataRelease: string
  /** the facet counter's interned ids for this app, filled on first use */
  facetCache?: unknown
}

export interface ComputedApp {
  view: AppView
  facts: AppFacts
  /** a string that changes whenever the view does */
  fingerprint: string
}

export interface AppContext {
  identities: Identities
  trust: TrustGraph
  yanksOf: (releaseId: string) => Array<{ id: string, record: YankRecord }> | undefined
  chainDepth: (releaseId: string) => number
  forksOf: (appId: string) => ForkReport[]
  /** a bounded catalog dropped releases of the app */
  partial: (appId: string) => boolean
}

export function nameKey (name: string): string {
  return name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().trim().replace(/\s+/g, ' ')
}

interface Group {
  identity: string
  entries: ReleaseEntry[]
  valid: ReleaseEntry[]
  first: { time: number, id: string }
  imported: boolean
  path?: TrustPath
}

/** a release as the view of its app shows it, the publisher identity of whose claim it is part */
export function releaseView (entry: ReleaseEntry, ctx: AppContext, identity: string): ReleaseView {
  const r = entry.record
  const view: ReleaseView = {
    id: entry.id,
    appId: r.appId,
    version: r.version,
    channel: r.channel,
    arch: r.arch,
    time: r.time,
    publisher: r.publisher,
    content: r.content,
    app: r.app,
    state: 'ok'
  }
  if (r.previous != null) view.previous = r.previous
  if (r.imported != null) view.imported = r.imported
  const invalid = ctx.identities.invalidAt(r.publisher, r.time)
  if (invalid != null) {
    view.state = 'revoked'
    view.reason = invalid === 'revoked'
      ? `signed at or after ${new Date(ctx.identities.revokedSince(r.publisher) ?? 0).toISOString()}, when its key was revoked`
      : `signed after its key was rotated to ${ctx.identities.rotationOf(r.publisher)?.newKey ?? '?'}`
    return view
  }
  for (const yank of ctx.yanksOf(entry.id) ?? []) {
    // only the release's own publisher (any key of it, while that key was valid) may withdraw it
    if (ctx.identities.identityOf(yank.record.publisher) !== identity) continue
    if (ctx.identities.invalidAt(yank.record.publisher, yank.record.time) != null) continue
    view.state = 'yanked'
    view.reason = yank.record.reason
    break
  }
  return view
}

function compareEntries (ctx: AppContext, a: ReleaseEntry, b: ReleaseEntry): number {
  return compareReleases(
    { id: a.id, version: a.record.version, time: a.record.time, chainDepth: a.record.previous == null ? 0 : ctx.chainDepth(a.id) },
    { id: b.id, version: b.record.version, time: b.record.time, chainDepth: b.record.previous == null ? 0 : ctx.chainDepth(b.id) },
    r => r.id === a.id ? a.parsed : b.parsed
  )
}

function firstOf (a: { time: number, id: string }, b: { time: number, id: string }): number {
  return a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

function verdictFor (appId: string, group: Group, owner: Group | undefined, ctx: AppContext): TrustVerdict {
  const path = group.path?.steps.map(step => step.key) ?? []
  if (owner != null && owner !== group) {
    const how = owner.path != null ? 'trusted' : 'first claimant'
    return {
      status: 'conflicting',
      publisher: group.identity,
      path,
      explanation: `conflicting: ${group.identity} also publishes ${appId}, which ${owner.identity} owns (${how})` +
        (group.path != null ? `; this key is ${explainPath(group.path)}` : '')
    }
  }
  if (group.path != null) {
    return { status: 'trusted', publisher: group.identity, path, explanation: explainPath(group.path) }
  }
  if (group.imported) {
    const source = group.entries[0]?.record.imported?.source ?? 'another catalog'
    return {
      status: 'imported',
      publisher: group.identity,
      path,
      explanation: `imported from ${source} by ${group.identity}; no root of yours endorses that key`
    }
  }
  const roots = ctx.trust.policy.roots.length
  return {
    status: 'unverified',
    publisher: group.identity,
    path,
    explanation: `unverified: ${roots === 0 ? 'you have no trust roots' : 'no key you trust publishes ' + appId}; ` +
      `${group.identity} published it first`
  }
}

/** compute an app's view; `entries` are every release record of the app */
export function computeApp (appId: string, entries: Iterable<ReleaseEntry>, ctx: AppContext): ComputedApp | undefined {
  const groups = new Map<string, Group>()
  for (const entry of entries) {
    const identity = ctx.identities.identityOf(entry.record.publisher)
    let group = groups.get(identity)
    if (group == null) {
      group = { identity, entries: [], valid: [], first: { time: entry.record.time, id: entry.id }, imported: true }
      groups.set(identity, group)
    }
    group.entries.push(entry)
    if (ctx.identities.invalidAt(entry.record.publisher, entry.record.time) == null) group.valid.push(entry)
    if (entry.record.imported == null) group.imported = false
    if (firstOf({ time: entry.record.time, id: entry.id }, group.first) < 0) group.first = { time: entry.record.time, id: entry.id }
  }
  if (groups.size === 0) return undefined
  for (const group of groups.values()) {
    const path = ctx.trust.pathFor(group.identity, appId)
    if (path != null) group.path = path
  }
  // a claim needs a release its key could still sign; keys with only revoked signatures claim nothing
  const claiming = [...groups.values()].filter(g => g.valid.length > 0)
  const candidates = claiming.length > 0 ? claiming : [...groups.values()]
  const trusted = candidates.filter(g => g.path != null)
  const pool = trusted.length > 0 ? trusted : candidates
  // at the same trust, an author's own releases rank above an import of the app (witnessed or not), whoever came first
  pool.sort((a, b) => (a.path?.depth ?? 0) - (b.path?.depth ?? 0) || Number(a.imported) - Number(b.imported) || firstOf(a.first, b.first))
  const owner = pool[0]!

  const sorted = [...owner.entries].sort((a, b) => compareEntries(ctx, b, a))
  const history = sorted.map(entry => releaseView(entry, ctx, owner.identity))
  const usable = history.filter(r => r.state === 'ok')

  const latest: LatestRelease[] = []
  const archs = new Set<Architecture>()
  for (const r of usable) archs.add(r.arch)
  const channels = new Set<Channel>()
  const pairs = new Set<string>()
  for (const arch of [...archs].sort()) {
    for (const channel of CHANNEL_LADDER) {
      const release = usable.find(r => r.arch === arch && channelVisible(channel, r.channel))
      if (release == null) continue
      latest.push({ channel, arch, release })
      channels.add(channel)
      pairs.add(`${channel}\n${arch}`)
    }
  }
  // metadata from the most stable rung that has a release, else from whatever there is
  let source: ReleaseView | undefined
  for (const channel of CHANNEL_LADDER) {
    source = usable.find(r => channelVisible(channel, r.channel))
    if (source != null) break
  }
  source ??= history[0]!
  const metadata = source.app
  let updated = 0
  for (const r of usable.length > 0 ? usable : history) updated = Math.max(updated, r.time)

  const claimants: Claimant[] = []
  for (const group of groups.values()) {
    if (group === owner) continue
    const newest = [...group.entries].sort((a, b) => compareEntries(ctx, b, a))[0]!
    claimants.push({
      trust: verdictFor(appId, group, owner, ctx),
      newest: releaseView(newest, ctx, group.identity),
      releases: group.entries.length
    })
  }
  claimants.sort((a, b) => a.trust.publisher < b.trust.publisher ? -1 : 1)

  const trust = verdictFor(appId, owner, undefined, ctx)
  const license = classifyLicense(metadata.license)
  const view: AppView = {
    appId,
    name: metadata.name,
    metadata,
    license,
    trust,
    latest,
    history,
    claimants,
    forks: ctx.forksOf(appId),
    updated
  }
  if (ctx.partial(appId)) view.historyPartial = true
  const facts: AppFacts = {
    appId,
    name: metadata.name,
    nameKey: nameKey(metadata.name),
    categories: metadata.categories ?? [],
    categoryKeys: (metadata.categories ?? []).map(c => c.toLowerCase()),
    license,
    status: trust.status,
    publisher: owner.identity,
    updated: view.updated,
    channels,
    archs,
    pairs,
    metadataRelease: source.id
  }
  const fingerprint = [
    trust.status, trust.publisher, trust.explanation, source.id,
    history.map(r => r.id + r.state).join(','),
    claimants.map(c => c.trust.publisher + c.newest.id).join(','),
    view.forks.length
  ].join('|')
  return { view, facts, fingerprint }
}
