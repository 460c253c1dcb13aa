import { Command, CommanderError } from 'commander'
import { registerCatalogCommands } from './commands/catalog.ts'
import { registerDaemonCommand } from './commands/daemon.ts'
import { registerIdCommand } from './commands/id.ts'
import { registerInitCommand } from './commands/init.ts'
import { registerImportCommand } from './commands/import.ts'
import { registerInspectCommand } from './commands/inspect.ts'
import { registerInstallCommands } from './commands/install.ts'
import { registerKeyCommands } from './commands/key.ts'
import { registerMirrorCommand } from './commands/mirror.ts'
import { registerPublisherCommands } from './commands/publisher.ts'
import { dataDirLayout, resolveDataDir } from './data-dir.ts'
import { describeError, exitCodeOf } from './describe-error.ts'
import { createOutput } from './output.ts'
import { VERSION } from './version.ts'
import type { CommandContext } from './context.ts'

/** Global options, on every command */
interface GlobalOptions {
  dataDir?: string
  json?: boolean
}

/** signals within this many ms of the first are the same request to stop */
const REPEATED_SIGNAL_MS = 1_000

/**
 * Runs the command line and returns the exit code. Errors a user can cause end in one line on
 * stderr (a stack trace only with DEBUG set) and a non-zero code.
 */
export async function main (argv: string[]): Promise<number> {
  const stop = new AbortController()
  let stopping = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping === 0) {
      stopping = Date.now()
      stop.abort(new Error('interrupted'))
      return
    }
    // a service manager signals every process of the unit, and the launcher passes the same signal
    // on: one stop, not a second. A signal repeated later (Ctrl-C again) ends the process at once
    if (Date.now() - stopping < REPEATED_SIGNAL_MS) return
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.kill(process.pid, signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  let json = argv.includes('--json')
  const program = new Command('hubless')
    .description('AppImageHub without the hub: a peer-to-peer registry of AppImages')
    // `--version` alone prints ours (below); after a command it is that command's, as in `publish --version 1.2`
    .version(VERSION, '-V', 'output the version number (also: hubless --version)')
    .option('--data-dir <dir>', 'where keys, content and the registry live (default: $HUBLESS_DATA_DIR or $XDG_DATA_HOME/hubless)')
    .option('--json', 'machine-readable output')
    .showHelpAfterError('(hubless --help lists the commands)')
    // every command's help lists --json and --data-dir too (subcommands inherit this setting)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: text => { process.stdout.write(text) },
      writeErr: text => { process.stderr.write(text) },
      outputError: (text, write) => { write(text) }
    })

  const context = (command: Command): CommandContext => {
    const options = command.optsWithGlobals<GlobalOptions>()
    json = options.json === true
    return {
      layout: dataDirLayout(resolveDataDir(options.dataDir)),
      out: createOutput({ json }),
      signal: stop.signal
    }
  }

  registerInitCommand(program, context)
  registerIdCommand(program, context)
  registerDaemonCommand(program, context)
  registerMirrorCommand(program, context)
  registerInspectCommand(program, context)
  registerPublisherCommands(program, context)
  registerKeyCommands(program, context)
  registerCatalogCommands(program, context)
  registerImportCommand(program, context)
  registerInstallCommands(program, context)

  try {
    await program.parseAsync(argv, { from: 'user' })
    // a command that printed its result but failed in part (`update` of several apps) sets the code
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help, the version or the usage error
      return err.exitCode
    }
    const line = describeError(err)
    if (json) {
      process.stdout.write(JSON.stringify({ error: { name: (err as Error).name, message: line } }) + '\n')
    }
    process.stderr.write(`hubless: ${line}\n`)
    if (process.env.DEBUG != null && process.env.DEBUG !== '') {
      process.stderr.write(`${(err as Error).stack ?? ''}\n`)
    }
    return exitCodeOf(err)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
