import { UsageError } from '../errors.ts'
import { collect } from '../collect.ts'
import type { CommandContext } from '../context.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Command } from 'commander'

/** Flags of every command that runs a node until stopped (daemon, mirror) */
export interface NodeRunOptions {
  listen?: string[]
  peer?: string[]
  lan?: boolean
  http: string
  saveIndex: string
}

export const DEFAULT_HTTP = '127.0.0.1:7420'
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']
export const DEFAULT_SAVE_INDEX_SECONDS = '30'

export function addNodeRunOptions (command: Command): Command {
  return command
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable; default /ip4/127.0.0.1/tcp/0)', collect)
    .option('--peer <multiaddr>', 'a peer to dial and keep connected (repeatable)', collect)
    .option('--lan', 'discover and be discovered by peers on the local network (mDNS)')
    .option('--http <host:port>', 'where the HTTP side listens (127.0.0.1 unless exposed, e.g. 0.0.0.0:7420)', DEFAULT_HTTP)
    .option('--save-index <seconds>', 'write the search index to the data dir this long after the catalog changes, so even a crashed node starts fast', DEFAULT_SAVE_INDEX_SECONDS)
}

/** Parses the node flags; errors name the flag */
export async function parseNodeRunOptions (options: NodeRunOptions): Promise<{ listen: string[], peers: Multiaddr[], lan: boolean, http: { host: string, port: number }, saveIndexAfter: number }> {
  // loaded when a node is about to start, so that other commands do not pay for it
  const [{ parseHostPort }, { parseMultiaddrArg }] = await Promise.all([import('../host-port-arg.ts'), import('../multiaddr-arg.ts')])
  return {
    listen: (options.listen ?? DEFAULT_LISTEN).map(ma => parseMultiaddrArg(ma, '--listen').toString()),
    peers: (options.peer ?? []).map(ma => parseMultiaddrArg(ma, '--peer')),
    lan: options.lan === true,
    http: parseHostPort(options.http),
    saveIndexAfter: parseSeconds(options.saveIndex ?? DEFAULT_SAVE_INDEX_SECONDS, '--save-index') * 1000
  }
}

function parseSeconds (value: string, flag: string): number {
  const seconds = Number(value)
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new UsageError(`${flag} "${value}" is not a number of seconds from 0.1 to 86400`)
  }
  return seconds
}

export function registerDaemonCommand (program: Command, context: (command: Command) => CommandContext): void {
  addNodeRunOptions(program.command('daemon'))
    .description('run the node until SIGINT/SIGTERM: replicates the registry, keeps named peers connected, serves the local API and gateway')
    .action(async (options: NodeRunOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const { startDaemon } = await import('../daemon/run-daemon.ts')
      // a mirror keeps its port (users and peers know it); a plain daemon may take a free one
      const httpFallback = command.getOptionValueSource('http') === 'default'
      const daemon = await startDaemon({ layout, ...await parseNodeRunOptions(options), httpFallback, onNotice: line => { out.notice(line) } })
      out.result(
        { peerId: daemon.peerId, multiaddrs: daemon.multiaddrs, api: daemon.api },
        `hubless daemon ${daemon.peerId} ready: api ${daemon.api}, listening on ${daemon.multiaddrs.join(' ')}`
      )

      await untilAborted(signal)
      out.notice('stopping')
      await daemon.stop()
    })
}

export async function untilAborted (signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    if (signal.aborted) resolve()
    signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
}
