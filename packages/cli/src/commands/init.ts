import { runOperation } from '../run-operation.ts'
import type { CommandContext } from '../context.ts'
import type { Command } from 'commander'

export function registerInitCommand (program: Command, context: (command: Command) => CommandContext): void {
  program.command('init')
    .description('create the data dir, the node key and your publisher key (safe to run again: keeps what exists)')
    .addHelpText('after', '\nSet HUBLESS_KEY_PASSPHRASE to encrypt the publisher key at rest (and to unlock it later).')
    .action(async (_options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'init', {}, { signal })
      out.result(result, [
        `data dir   ${result.dataDir}`,
        `peer id    ${result.peerId}`,
        `publisher  ${result.publisher}${result.createdKey ? ' (new key: keep a copy with `hubless key export`)' : ''}`
      ].join('\n'))
    })
}
