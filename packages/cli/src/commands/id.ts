import { runOperation } from '../run-operation.ts'
import type { CommandContext } from '../context.ts'
import type { Command } from 'commander'

export function registerIdCommand (program: Command, context: (command: Command) => CommandContext): void {
  program.command('id')
    .description('show the peer id and listen addresses (those of the running daemon, if any)')
    .action(async (_options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const info = await runOperation(layout, 'node-info', {}, { signal })
      out.result(info, () => [
        `peer id: ${info.peerId}`,
        ...(info.multiaddrs.length === 0 ? ['not listening (no daemon running)'] : info.multiaddrs.map(ma => `listening: ${ma}`))
      ].join('\n'))
    })
}
