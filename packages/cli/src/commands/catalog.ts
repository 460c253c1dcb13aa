import { resolve } from 'node:path'
import { AppNotFoundError, UsageError } from '../errors.ts'
import { collect } from '../collect.ts'
import { runOperation } from '../run-operation.ts'
import { parseSizeArg } from '../size-arg.ts'
import { progressBar } from './progress.ts'
import type { CommandContext } from '../context.ts'
import type { ApiRelease, ApiSearchAnswer } from '@hubless/mirror/api'
import type { WitnessSummary } from '@hubless/query'
import type { ShownApp } from '../operations/catalog.ts'
import type { Command } from 'commander'

interface SearchOptions {
  category?: string[]
  channel?: string
  arch?: string
  free?: boolean
  trustedOnly?: boolean
  publisher?: string
  sort?: 'relevance' | 'updated' | 'name'
  limit: string
  page: string
  mirror?: string
}

/** What a user of the catalog does: search, show, trust, get, status */
export function registerCatalogCommands (program: Command, context: (command: Command) => CommandContext): void {
  program.command('search')
    .description('search the registry (no query: browse it)')
    .argument('[query...]', 'words to look for')
    .option('--category <category>', 'only this category (repeatable: any of them)', collect)
    .option('--channel <channel>', 'your channel: release, beta, alpha, nightly or continuous (default release)')
    .option('--arch <arch>', 'only releases for this architecture (x86_64, aarch64, …)')
    .option('--free', 'only free (libre) licenses')
    .option('--trusted-only', 'only apps whose publisher you trust')
    .option('--publisher <key>', 'only this publisher (did:key)')
    .option('--sort <order>', 'relevance, updated or name')
    .option('--limit <n>', 'results per page', '20')
    .option('--page <n>', 'page number', '1')
    .option('--mirror <url>', 'read the catalog from this hubless mirror over HTTP(S), every record verified here (where peer-to-peer is blocked)')
    .action(async (words: string[], options: SearchOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const limit = wholeNumber(options.limit, '--limit')
      const page = wholeNumber(options.page, '--page')
      const results = await runOperation(layout, 'search', {
        query: words.join(' '),
        category: options.category,
        channel: options.channel,
        arch: options.arch,
        free: options.free,
        trustedOnly: options.trustedOnly,
        publisher: options.publisher,
        sort: options.sort,
        limit,
        offset: (page - 1) * limit,
        mirror: options.mirror
      }, { signal })
      out.result(results, () => formatSearch(results, { browsing: words.length === 0 && options.category == null && options.publisher == null, limit }))
    })

  program.command('show')
    .description('an app: versions per channel and architecture, publisher, trust path, content CID, SHA-256, URLs')
    .argument('<app>', 'app id')
    .option('--mirror <url>', 'read the catalog from this hubless mirror over HTTP(S), every record verified here (where peer-to-peer is blocked)')
    .action(async (appId: string, options: { mirror?: string }, command: Command) => {
      const { layout, out, signal } = context(command)
      const app = await runOperation(layout, 'show', { appId, mirror: options.mirror }, { signal })
      if (app == null) throw new AppNotFoundError(`no app ${appId} in the registry (try \`hubless search\`)`)
      out.result(app, () => formatApp(app))
    })

  const trustCommand = program.command('trust').description('your trust roots: the publisher keys you trust, and whom they endorse')
  for (const action of ['add', 'remove'] as const) {
    trustCommand.command(action)
      .description(action === 'add' ? 'trust a publisher key (and those it endorses)' : 'stop trusting a key as a root')
      .argument('<key>', 'did:key of the publisher')
      .option('--witness', 'as a witness only: believe what this mirror key witnessed a URL served (imported releases then download by CID), nothing else')
      .action(async (key: string, options: { witness?: boolean }, command: Command) => {
        const { layout, out, signal } = context(command)
        const result = await runOperation(layout, 'trust', { action, key, witness: options.witness }, { signal })
        out.result(result, options.witness === true
          ? `${action === 'add' ? 'trusting' : 'no longer trusting'} ${key} as a witness; ${result.witnesses.length} witness key(s)`
          : `${action === 'add' ? 'trusting' : 'no longer trusting'} ${key}; ${result.roots.length} root(s)`)
      })
  }
  trustCommand.command('list')
    .description('your roots and every key they reach, with the path')
    .action(async (_options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'trust', { action: 'list' }, { signal })
      out.result(result, () => [
        ...result.roots.map(root => `root     ${root}`),
        ...result.trusted.filter(t => t.depth > 0).map(t => `trusted  ${t.key}  (${t.explanation})`),
        ...result.witnesses.map(w => `witness  ${w}`),
        ...(result.roots.length === 0 ? ['no roots: nothing is trusted (hubless trust add KEY)'] : [])
      ].join('\n'))
    })

  program.command('get')
    .description('download the newest release of an app, verified (libp2p, then gateways, then the record\'s URLs)')
    .argument('<app>', 'app id, or APP@VERSION for one version (a release\'s, or one mirrors you trust witnessed upstream)')
    .option('--channel <channel>', 'release, beta, alpha, nightly or continuous (default release)')
    .option('--arch <arch>', 'architecture (default: any)')
    .option('-o, --output <path>', 'where to write it (default: ./APP-VERSION-ARCH.AppImage)')
    .option('--gateway <url>', 'an IPFS trustless gateway to fall back to (repeatable)', collect)
    .option('--allow-untrusted', 'also get apps whose publisher you do not trust')
    .option('--mirror <url>', 'read the catalog from this hubless mirror over HTTP(S) and download through it, all verified here (where peer-to-peer is blocked)')
    .option('--max-size <size>', 'stop a download past this size when the record names none (older records; default 8G; e.g. 512M, 16G)')
    .action(async (app: string, options: { channel?: string, arch?: string, output?: string, gateway?: string[], allowUntrusted?: boolean, mirror?: string, maxSize?: string }, command: Command) => {
      const { layout, out, signal } = context(command)
      const at = app.indexOf('@')
      const appId = at < 0 ? app : app.slice(0, at)
      const version = at < 0 ? undefined : app.slice(at + 1)
      if (version === '') throw new UsageError(`"${app}" names no version after "@" (APP@VERSION)`)
      const maxBytes = options.maxSize == null ? undefined : parseSizeArg(options.maxSize, '--max-size')
      const gateways = options.gateway ?? (process.env.HUBLESS_GATEWAYS ?? '').split(/[\s,]+/).filter(g => g !== '')
      const output = resolve(options.output ?? `${appId}.AppImage`)
      const result = await runOperation(layout, 'get', {
        appId, version, channel: options.channel, arch: options.arch, output, gateways, allowUntrusted: options.allowUntrusted, mirror: options.mirror, maxBytes
      }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, `${result.path}: ${appId} ${result.version} (${result.channel}, ${result.arch}), sha256 ${result.sha256} ${result.verified ? 'verified' : 'NOT verified (the record names no hash)'}; ${result.witnessedBy == null ? '' : `${result.tracked === true ? 'a version tracked upstream, ' : ''}witnessed by ${result.witnessedBy.join(', ')}; `}publisher ${result.trust.status === 'trusted' ? 'trusted' : `not trusted (${result.trust.status})`}`)
    })

  program.command('status')
    .description('the node and the registry: records, heads, peers, last sync')
    .action(async (_options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'status', {}, { signal })
      out.result(result, () => [
        `peer id    ${result.peerId}`,
        `registry   ${result.registry.name} ${result.registry.address}`,
        `records    ${result.registry.records}${result.registry.live == null ? '' : ` (and ${result.registry.live} of a neighbour's live set, shown while their history arrives)`}`,
        `heads      ${result.registry.heads.length}`,
        `peers      ${result.peers.length} connected, ${result.registry.peers.length} replicating`,
        `last sync  ${result.registry.lastSync ?? 'never'}`,
        ...(result.registry.rejected === 0 ? [] : [`rejected   ${result.registry.rejected} entries refused since opening (DEBUG=hubless:*:error shows why)`]),
        ...(result.publisher == null ? [] : [`publisher  ${result.publisher}`]),
        ...(result.savedAt == null ? [] : [`(no daemon running: as the node saved it at ${result.savedAt})`])
      ].join('\n'))
    })
}

function wholeNumber (value: string, flag: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1`)
  return n
}

/** A search for a person; an empty registry says where data comes from */
function formatSearch (answer: ApiSearchAnswer, context: { browsing: boolean, limit: number }): string {
  if (answer.results.length === 0) {
    if (answer.total === 0 && answer.query === '' && context.browsing) {
      return 'the registry on this node is empty: connect to a peer that has it (`hubless daemon --peer MULTIADDR`), or read a mirror over HTTP (`hubless search --mirror https://MIRROR`)'
    }
    return answer.total > 0 ? `no apps on page ${answer.page} (${answer.total} in all)` : 'no apps match'
  }
  const first = (answer.page - 1) * context.limit + 1
  return [
    ...answer.results.map(app => `${app.name} ${app.version === '' ? '(withdrawn)' : app.version}  ${app.appId}  [${app.trust.status}]${app.summary == null ? '' : `\n    ${app.summary}`}`),
    `(${first}–${first + answer.results.length - 1} of ${answer.total})`
  ].join('\n')
}

function formatRelease (r: ApiRelease): string {
  const state = r.yanked == null ? '' : ` [yanked${r.yanked.reason === '' ? '' : `: ${r.yanked.reason}`}]`
  return `${r.version} (${r.channel}, ${r.arch}) ${r.published.slice(0, 10)}${state}`
}

function formatWitnesses (w: WitnessSummary | undefined): string[] {
  if (w == null) return []
  const lines = [`      witnessed by ${w.mirrors} mirror(s)${w.trustedMirrors > 0 ? `, ${w.trustedMirrors} you trust` : ''}: ${w.agree ? 'they agree' : 'they DISAGREE'}`]
  const seen = w.witnesses[0]
  if (w.vouched != null) lines.push(`      witnessed sha256 ${w.vouched.sha256}, cid ${w.vouched.cid}, version ${w.vouched.version}`)
  else if (seen != null) lines.push(`      newest witness: ${seen.url} served sha256 ${seen.sha256} (${seen.size} bytes) on ${new Date(seen.time).toISOString()}`)
  for (const c of w.conflicts) lines.push(`      CONFLICT: ${c.url} at version ${c.version} served different bytes to different mirrors: ${c.sha256.join(' vs ')}`)
  return lines
}

export function formatApp (app: ShownApp): string {
  const lines = [`${app.name}  ${app.appId}`]
  if (app.summary != null) lines.push(`  ${app.summary}`)
  lines.push(`  publisher  ${app.owner.publisher}`, `  trust      ${app.owner.trust.explanation}`)
  if (app.license != null) lines.push(`  license    ${app.license}`)
  if (app.homepage != null) lines.push(`  homepage   ${app.homepage}`)
  lines.push('  newest per channel and architecture:')
  for (const [key, release] of Object.entries(app.latest)) {
    const c = release.content
    lines.push(`    ${key}: ${formatRelease(release)}`)
    if (c.cid != null) lines.push(`      cid     ${c.cid}`)
    if (c.sha256 != null) lines.push(`      sha256  ${c.sha256}`)
    for (const url of c.urls) lines.push(`      url     ${url}`)
    lines.push(...formatWitnesses(app.witnesses?.[release.id]))
  }
  if (app.trackedVersions != null && app.trackedVersions.length > 0) {
    lines.push('  tracked versions (witnessed upstream by mirrors, no release record yet):')
    for (const t of app.trackedVersions) {
      const w = t.witnesses[0]
      lines.push(`    ${t.version} (${t.channel}, ${t.arch}) witnessed by ${t.mirrors} mirror(s)${t.trustedMirrors > 0 ? `, ${t.trustedMirrors} you trust` : ''}: ${t.agree ? 'they agree' : 'they DISAGREE'}`)
      if (w != null) lines.push(`      ${w.url} served sha256 ${w.sha256} (${w.size} bytes), cid ${w.cid}, on ${new Date(w.time).toISOString()}`)
    }
  }
  // a daemon's catalog keeps the newest releases per channel and arch; the registry has the rest
  lines.push(app.historyPartial === true ? `  history (${app.history.length} kept: the newest per channel and architecture, and the first; every release: a mirror's /api/v1/apps/${app.appId}/releases):` : `  history (${app.history.length}):`)
  for (const r of app.history.slice(0, 10)) lines.push(`    ${formatRelease(r)}`)
  for (const claimant of app.conflicting) lines.push(`  ALSO CLAIMED BY ${claimant} (conflicting)`)
  return lines.join('\n')
}
