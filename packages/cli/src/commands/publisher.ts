import { resolve } from 'node:path'
import { UsageError } from '../errors.ts'
import { collect } from '../collect.ts'
import { runOperation } from '../run-operation.ts'
import { progressBar } from './progress.ts'
import type { CommandContext } from '../context.ts'
import type { Command } from 'commander'

interface PublishOptions {
  channel: string
  version?: string
  url?: string[]
  appId?: string
  peer?: string[]
  wait: string
}

/** What an author does: publish, yank, endorse, unendorse */
export function registerPublisherCommands (program: Command, context: (command: Command) => CommandContext): void {
  program.command('publish')
    .description('read an AppImage, add it to IPFS with the squashfs-aware chunker, sign a release record and append it')
    .argument('<file>', 'the AppImage')
    .requiredOption('--channel <channel>', '(required) release, beta, alpha, nightly or continuous')
    .option('--version <version>', 'the version (default: the newest AppStream <release> in the image)')
    .option('--url <url>', 'an HTTP(S) URL serving the same file, as a fallback (repeatable)', collect)
    .option('--app-id <id>', 'override the AppStream id the image declares')
    .option('--peer <multiaddr>', 'wait until this peer holds the record and the content (repeatable)', collect)
    .option('--wait <seconds>', 'how long to wait for peers to take the release', '120')
    .action(async (file: string, options: PublishOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'publish', {
        file: resolve(file),
        channel: options.channel,
        version: options.version,
        urls: options.url,
        appId: options.appId,
        peers: options.peer,
        waitSeconds: parseSeconds(options.wait)
      }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, () => [
        `published ${result.appId} ${result.version} (${result.channel}, ${result.arch})`,
        `  record   ${result.id}`,
        `  content  ${result.cid} (${result.size} bytes, sha256 ${result.sha256})`,
        `  key      ${result.publisher}`,
        ...(result.derivedAppId ? [`  note     the image declares no AppStream id; "${result.appId}" was derived (set one with --app-id)`] : [])
      ].join('\n') + heldByLine(result))
    })

  handOverOptions(program.command('yank'))
    .description('withdraw one of your releases (a broken or dangerous build)')
    .argument('<app>', 'app id')
    .argument('<version>', 'version')
    .requiredOption('--reason <reason>', 'why it is withdrawn')
    .action(async (appId: string, version: string, options: HandOverOptions & { reason: string }, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'yank', { appId, version, reason: options.reason, ...handOverInput(options) }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, `yanked ${appId} ${version}: record ${result.id}${heldByLine(result)}`)
    })

  handOverOptions(program.command('endorse'))
    .description('vouch for another publisher key (the web of trust)')
    .argument('<key>', 'did:key of the publisher')
    .option('--app <id>', 'only for this app id (repeatable)', collect)
    .option('--until <date>', 'the endorsement expires then (ISO 8601 date)')
    .action(async (subject: string, options: HandOverOptions & { app?: string[], until?: string }, command: Command) => {
      const { layout, out, signal } = context(command)
      const until = options.until == null ? undefined : parseDate(options.until, '--until')
      const result = await runOperation(layout, 'endorse', { subject, appIds: options.app, until, ...handOverInput(options) }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, `endorsed ${subject}${options.app == null ? '' : ` for ${options.app.join(', ')}`}${options.until == null ? '' : ` until ${options.until}`}: record ${result.id}${heldByLine(result)}`)
    })

  handOverOptions(program.command('unendorse'))
    .description('withdraw your endorsement of a key')
    .argument('<key>', 'did:key of the publisher')
    .action(async (subject: string, options: HandOverOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'unendorse', { subject, ...handOverInput(options) }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, `withdrew the endorsement of ${subject}: record ${result.id}${heldByLine(result)}`)
    })
}

interface HandOverOptions {
  peer?: string[]
  wait: string
}

/** `--peer` and `--wait` of a command that writes a record others must hold (a yank nobody holds protects nobody) */
function handOverOptions (command: Command): Command {
  return command
    .option('--peer <multiaddr>', 'wait until this peer holds the record (repeatable)', collect)
    .option('--wait <seconds>', 'how long to wait for peers to take the record', '120')
}

function handOverInput (options: HandOverOptions): { peers?: string[], waitSeconds: number } {
  return { peers: options.peer, waitSeconds: parseSeconds(options.wait) }
}

function heldByLine (result: { heldBy?: string[] }): string {
  if (result.heldBy == null) return ''
  return result.heldBy.length > 0 ? `\n  held by  ${result.heldBy.join(', ')}` : '\n  held by  no peer yet'
}

export function registerKeyRecordCommands (key: Command, context: (command: Command) => CommandContext): void {
  handOverOptions(key.command('rotate'))
    .description('hand your identity over to a new key (both sign); the old key is kept in the keys folder')
    .action(async (options: HandOverOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'key-rotate', handOverInput(options), { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, `rotated ${result.publisher} -> ${result.newKey}: record ${result.id}\nold key kept in ${result.retiredKeyFile}${heldByLine(result)}`)
    })

  handOverOptions(key.command('revoke'))
    .description('declare your key compromised: releases it signed from --since on are untrusted')
    .requiredOption('--reason <reason>', 'what happened')
    .option('--since <date>', 'from when (ISO 8601; default now)')
    .action(async (options: HandOverOptions & { reason: string, since?: string }, command: Command) => {
      const { layout, out, signal } = context(command)
      const since = options.since == null ? undefined : parseDate(options.since, '--since')
      const result = await runOperation(layout, 'key-revoke', { reason: options.reason, since, ...handOverInput(options) }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, `revoked ${result.publisher} from ${new Date(result.since).toISOString()}: record ${result.id}${heldByLine(result)}`)
    })
}

export function parseDate (value: string, flag: string): number {
  const time = Date.parse(value)
  if (!Number.isFinite(time)) throw new UsageError(`${flag} "${value}" is not a date (use ISO 8601, e.g. 2027-01-31)`)
  return time
}

function parseSeconds (value: string): number {
  const seconds = Number(value)
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--wait "${value}" is not a number of seconds`)
  return seconds
}
