import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { collect } from '../collect.ts'
import { formatBytes } from '../output.ts'
import { runOperation } from '../run-operation.ts'
import { progressBar } from './progress.ts'
import type { CommandContext } from '../context.ts'
import type { UserDirs } from '../operations/install.ts'
import type { Command } from 'commander'

/** `$XDG_DATA_HOME/applications` and `$XDG_DATA_HOME/icons` (`~/.local/share/…`), read here: a daemon's environment is not the user's */
export function userDirs (env: NodeJS.ProcessEnv = process.env): UserDirs {
  const data = env.XDG_DATA_HOME != null && env.XDG_DATA_HOME !== '' ? resolve(env.XDG_DATA_HOME) : join(homedir(), '.local', 'share')
  return { applications: join(data, 'applications'), icons: join(data, 'icons') }
}

interface SourceOptions {
  gateway?: string[]
  allowUntrusted?: boolean
  mirror?: string
}

function sourceOf (options: SourceOptions): { gateways?: string[], allowUntrusted?: boolean, mirror?: string } {
  const fromEnv = (process.env.HUBLESS_GATEWAYS ?? '').split(/[\s,]+/).filter(g => g !== '')
  const gateways = options.gateway ?? (fromEnv.length > 0 ? fromEnv : undefined)
  return { gateways, allowUntrusted: options.allowUntrusted, mirror: options.mirror }
}

function sourceOptions (command: Command): Command {
  return command
    .option('--gateway <url>', 'an IPFS trustless gateway to fall back to (repeatable)', collect)
    .option('--allow-untrusted', 'also take releases whose publisher you do not trust')
    .option('--mirror <url>', 'read the catalog from this hubless mirror over HTTP(S) and download through it, all verified here')
}

/** What a user of installed apps does: install, list, update, rollback, remove */
export function registerInstallCommands (program: Command, context: (command: Command) => CommandContext): void {
  sourceOptions(program.command('install')
    .description('install the newest trusted release of an app into ~/Applications, with its desktop entry and icon')
    .argument('<app>', 'app id')
    .option('--channel <channel>', 'release, beta, alpha, nightly or continuous (default release); updates follow it')
    .option('--arch <arch>', 'architecture (default: any)')
    .option('--dir <dir>', 'where AppImages go (default ~/Applications)'))
    .action(async (appId: string, options: SourceOptions & { channel?: string, arch?: string, dir?: string }, command: Command) => {
      const { layout, out, signal } = context(command)
      const dir = resolve(options.dir ?? join(homedir(), 'Applications'))
      const result = await runOperation(layout, 'install', { appId, channel: options.channel, arch: options.arch, dir, ...userDirs(), ...sourceOf(options) }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, `installed ${appId} ${result.app.version} (${result.app.channel}, ${result.app.arch}) at ${result.app.path}, ${result.trust.status}; fetched ${formatBytes(result.bytesFetched)}${result.app.desktopFile == null ? '' : `\n  desktop entry ${result.app.desktopFile}`}`)
    })

  sourceOptions(program.command('list')
    .description('installed apps, and the updates the catalog has for them'))
    .action(async (options: SourceOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'list-installed', sourceOf(options), { signal })
      out.result(result, () => result.apps.length === 0
        ? 'nothing installed (hubless install APP)'
        : result.apps.map(app => {
          const note = app.error != null
            ? `  (cannot check for updates: ${app.error.message})`
            : app.update == null ? '' : `  -> ${app.update.version} available${app.update.signerChanged ? ` SIGNED BY ANOTHER KEY ${app.update.publisher}` : ''}`
          return `${app.appId} ${app.version} (${app.channel}, ${app.arch})  ${app.path}${note}`
        }).join('\n'))
    })

  sourceOptions(program.command('update')
    .description('update installed apps (default all) to their newest trusted release, fetching only the blocks that changed')
    .argument('[apps...]', 'app ids (default: every installed app)')
    .option('--check', 'only say what would be updated')
    .option('--allow-signer-change', 'take a release signed by another key than the installed one, with no key rotation linking them'))
    .action(async (appIds: string[], options: SourceOptions & { check?: boolean, allowSignerChange?: boolean }, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'update', { appIds, check: options.check, allowSignerChange: options.allowSignerChange, ...userDirs(), ...sourceOf(options) }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, () => result.results.length === 0
        ? 'nothing installed'
        : result.results.map(r => {
          switch (r.status) {
            case 'current': return `${r.appId} ${r.from} is the newest`
            case 'available': return `${r.appId} ${r.from} -> ${r.to} available`
            case 'updated': return `${r.appId} ${r.from} -> ${r.to}: fetched ${formatBytes(r.bytesFetched ?? 0)}, reused ${formatBytes(r.bytesReused ?? 0)}`
            default: return `${r.appId} ${r.from}: ${r.error?.message ?? 'failed'}`
          }
        }).join('\n'))
      if (result.results.some(r => r.status === 'failed')) process.exitCode = 1
    })

  program.command('rollback')
    .description('go back to the version before the last update (kept until the next one)')
    .argument('<app>', 'app id')
    .action(async (appId: string, _options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'rollback', { appId, ...userDirs() }, { signal })
      out.result(result, `${appId} ${result.from} -> ${result.app.version} at ${result.app.path}`)
    })

  program.command('remove')
    .description('remove an installed app: its AppImage, desktop entry and icon')
    .argument('<app>', 'app id')
    .option('--keep-file', 'keep the AppImage itself')
    .action(async (appId: string, options: { keepFile?: boolean }, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'remove', { appId, keepFile: options.keepFile, ...userDirs() }, { signal })
      out.result(result, `removed ${appId} ${result.version}${result.kept == null ? '' : `; kept ${result.kept}`}`)
    })
}
