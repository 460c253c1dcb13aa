import { nodeInfo } from '../operations/node-info.ts'
import { runOperation } from '../run-operation.ts'
import type { CommandContext } from '../context.ts'
import type { Command } from 'commander'

export function registerInitCommand (program: Command, context: (command: Command) => CommandContext): void {
  program.command('init')
    .description('create the data dir and the node key (safe to run again: keeps what exists)')
    .action(async (_options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const info = await runOperation(layout, nodeInfo, {}, { signal })
      out.result({ dataDir: layout.root, peerId: info.peerId }, `data dir ${layout.root}\npeer id  ${info.peerId}`)
    })
}
