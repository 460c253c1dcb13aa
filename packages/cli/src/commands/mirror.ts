import { fileURLToPath } from 'node:url'
import { UsageError } from '../errors.ts'
import { collect } from '../collect.ts'
import { parseSizeArg } from '../size-arg.ts'
import { addNodeRunOptions, parseNodeRunOptions, untilAborted } from './daemon.ts'
import type { NodeRunOptions } from './daemon.ts'
import type { CommandContext } from '../context.ts'
import type { MirrorInit, PinPolicy } from '@hubless/mirror'
import type { Channel } from '@hubless/registry'
import type { Command } from 'commander'

/** The AppImageHub catalog the project ships, imported by `--seed default` */
export const EMBEDDED_CATALOG = fileURLToPath(new URL('../../../../data/appimagehub-apps.json', import.meta.url))

interface MirrorOptions extends NodeRunOptions {
  pin: string
  channels?: string
  maxBytes?: string
  gateway?: string[]
  seed?: string
  publicUrl?: string
  archive?: string
  archiveMaxFile?: string
  archiveTimeout?: string
  archiveRecheck?: string
  track?: string
  trackInterval?: string
  trackHostSpacing?: string
  githubApi?: string
}

export function registerMirrorCommand (program: Command, context: (command: Command) => CommandContext): void {
  addNodeRunOptions(program.command('mirror'))
    .description('run a mirror: a daemon that replicates the registry, keeps content alive, and serves the API, /feed.json and the storefront')
    .option('--pin <policy>', 'which release content to keep: all, trusted or none', 'all')
    .option('--channels <list>', 'only keep content of these channels (comma-separated)')
    .option('--max-bytes <size>', 'stop pinning past this much content (e.g. 500M, 20G)')
    .option('--gateway <url>', 'an IPFS trustless gateway to fetch from when no peer has the content (repeatable)', collect)
    .option('--seed <file>', 'import an AppImageHub catalog on the first run ("default": the one this project ships)')
    .option('--archive <mode>', 'fetch, verify, pin and witness the files imported releases only link to (all), or not (none); default all when --pin all is given, none otherwise')
    .option('--archive-max-file <size>', 'the largest file archiving fetches (default 4G); an origin sending more is cut there')
    .option('--archive-timeout <seconds>', 'how long an origin may take to answer, or stay silent during a transfer (default 30)')
    .option('--archive-recheck <seconds>', 'how often each archived origin is asked again whether it still serves the file (default 86400, a day)')
    .option('--track <mode>', 'look upstream for new releases of archived apps (update information, GitHub releases, changed URLs) and witness them (all, the default with archiving), or not (none)')
    .option('--track-interval <seconds>', 'how often each archived app is looked for upstream (default 86400, a day)')
    .option('--track-host-spacing <seconds>', 'the least time between two tracking requests to one host (default 2; 65 for the GitHub API without GITHUB_TOKEN)')
    .option('--github-api <url>', 'the GitHub API tracking asks (default https://api.github.com); GITHUB_TOKEN from the environment is sent as a Bearer token')
    .option('--public-url <url>', 'the URL users reach this mirror at (for absolute links in /feed.json)')
    .action(async (options: MirrorOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const pin = parsePin(options.pin)
      const [{ isChannel }, { startMirror }] = await Promise.all([import('@hubless/registry/records'), import('../daemon/run-mirror.ts')])
      const channels = options.channels?.split(',').map(c => c.trim()).filter(c => c !== '').map(c => {
        if (!isChannel(c)) throw new UsageError(`--channels: "${c}" is not one of release, beta, alpha, nightly, continuous`)
        return c as Channel
      })
      const seed = options.seed === 'default' ? EMBEDDED_CATALOG : options.seed
      // the plain `hubless mirror` (the README's first command) stays light: archiving fetches files
      // from every origin the catalog names, so it is on when the operator asked for --pin all
      const archive = options.archive ?? (pin === 'all' && command.getOptionValueSource('pin') === 'cli' ? 'all' : 'none')
      if (archive !== 'all' && archive !== 'none') throw new UsageError(`--archive "${archive}" is not one of all, none`)
      if (archive === 'all' && pin !== 'all') throw new UsageError('--archive all needs --pin all (archived files are pinned)')

      const log = (event: Record<string, unknown>): void => {
        const line = { time: new Date().toISOString(), ...event }
        out.notice(out.json ? JSON.stringify(line) : `${line.time} ${Object.entries(event).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}`)
      }
      if (seed != null) out.notice(`importing ${seed} if this is the first run (it takes a few seconds)`)
      const mirror = await startMirror({
        layout,
        ...await parseNodeRunOptions(options),
        gateways: options.gateway,
        pin,
        channels,
        maxBytes: options.maxBytes == null ? undefined : parseSizeArg(options.maxBytes, '--max-bytes'),
        seed,
        publicUrl: options.publicUrl,
        archive,
        archiving: archivingOptions(options),
        onNotice: line => { log({ event: 'notice', message: line }) },
        onEvent: log
      })
      out.result(
        { peerId: mirror.peerId, multiaddrs: mirror.multiaddrs, api: mirror.api, storefront: `${mirror.api}/` },
        `hubless mirror ${mirror.peerId} ready: storefront ${mirror.api}/ , listening on ${mirror.multiaddrs.join(' ')}`
      )
      await untilAborted(signal)
      out.notice('stopping')
      await mirror.stop()
    })
}

function parsePin (value: string): PinPolicy {
  if (value === 'all' || value === 'trusted' || value === 'none') return value
  throw new UsageError(`--pin "${value}" is not one of all, trusted, none`)
}

function seconds (value: string | undefined, flag: string): number | undefined {
  if (value == null) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} "${value}" is not a positive number of seconds`)
  return Math.round(n * 1000)
}

function archivingOptions (options: MirrorOptions): MirrorInit['archiving'] {
  const timeout = seconds(options.archiveTimeout, '--archive-timeout')
  const recheck = seconds(options.archiveRecheck, '--archive-recheck')
  if (options.track != null && options.track !== 'all' && options.track !== 'none') throw new UsageError(`--track "${options.track}" is not one of all, none`)
  const spacing = options.trackHostSpacing == null ? undefined : Number(options.trackHostSpacing)
  if (spacing != null && (!Number.isFinite(spacing) || spacing < 0)) throw new UsageError(`--track-host-spacing "${options.trackHostSpacing}" is not a number of seconds`)
  if (options.githubApi != null && !/^https?:\/\//.test(options.githubApi)) throw new UsageError(`--github-api "${options.githubApi}" is not an http(s) URL`)
  return {
    tracking: options.track === 'none'
      ? false
      : {
          interval: seconds(options.trackInterval, '--track-interval'),
          hostSpacing: spacing == null ? undefined : Math.round(spacing * 1000),
          githubApi: options.githubApi,
          githubToken: process.env.GITHUB_TOKEN
        },
    maxFileBytes: options.archiveMaxFile == null ? undefined : parseSizeArg(options.archiveMaxFile, '--archive-max-file'),
    fetch: timeout == null ? undefined : { headersTimeout: timeout, idleTimeout: timeout },
    recheckInterval: recheck
  }
}
