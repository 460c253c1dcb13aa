import { startDaemon } from '../daemon/run-daemon.ts'
import { parseHostPort } from '../daemon/http-server.ts'
import { collect, parseMultiaddrArg } from '../multiaddr-arg.ts'
import type { CommandContext } from '../context.ts'
import type { Command } from 'commander'

interface DaemonOptions {
  listen?: string[]
  peer?: string[]
  lan?: boolean
  http: string
}

export const DEFAULT_HTTP = '127.0.0.1:7420'
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

export function registerDaemonCommand (program: Command, context: (command: Command) => CommandContext): void {
  program.command('daemon')
    .description('run the node until SIGINT/SIGTERM: keeps named peers connected and serves the local API and gateway')
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable; default /ip4/127.0.0.1/tcp/0)', collect)
    .option('--peer <multiaddr>', 'a peer to dial and keep connected (repeatable)', collect)
    .option('--lan', 'discover peers on the local network by mDNS')
    .option('--http <host:port>', 'where the HTTP API and gateway listen', DEFAULT_HTTP)
    .action(async (options: DaemonOptions, command: Command) => {
      const { layout, out, signal } = context(command)
      const listen = (options.listen ?? DEFAULT_LISTEN).map(ma => parseMultiaddrArg(ma, '--listen').toString())
      const peers = (options.peer ?? []).map(ma => parseMultiaddrArg(ma, '--peer'))
      const http = parseHostPort(options.http)

      const daemon = await startDaemon({ layout, listen, peers, lan: options.lan === true, http, onNotice: line => { out.notice(line) } })
      out.result(
        { peerId: daemon.peerId, multiaddrs: daemon.multiaddrs, api: daemon.api },
        `hubless daemon ${daemon.peerId} ready: api ${daemon.api}, listening on ${daemon.multiaddrs.join(' ')}`
      )

      await new Promise<void>(resolve => {
        if (signal.aborted) {
          resolve()
        }
        signal.addEventListener('abort', () => { resolve() }, { once: true })
      })
      out.notice('stopping')
      await daemon.stop()
    })
}
