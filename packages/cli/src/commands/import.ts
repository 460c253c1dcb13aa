import { resolve } from 'node:path'
import { runOperation } from '../run-operation.ts'
import { progressBar } from './progress.ts'
import type { CommandContext } from '../context.ts'
import type { Command } from 'commander'

export function registerImportCommand (program: Command, context: (command: Command) => CommandContext): void {
  const importCommand = program.command('import').description('restate another catalog in the registry, as imported (never trusted unless you endorse the importing key)')
  importCommand.command('appimagehub')
    .description('import AppImageHub\'s catalog (the format of data/appimagehub-apps.json); running it again appends only what changed')
    .argument('<file>', 'the catalog JSON')
    .action(async (file: string, _options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const result = await runOperation(layout, 'import-appimagehub', { file: resolve(file) }, { signal, onProgress: progressBar(out) })
      out.endProgress()
      out.result(result, () => [
        `imported ${result.appended} new record(s) from ${result.total} entries (${result.unchanged} unchanged), signed by ${result.importer}`,
        `  ${result.skipped.length} skipped${result.skipped.length === 0 ? '' : ': ' + result.skipped.map(s => `${s.sourceId} (${s.reason})`).join('; ')}`,
        `  ${result.renamed.length} renamed because another entry has the same app id`,
        `  defaults: ${result.defaults.version} without a version ("unknown"), ${result.defaults.arch} without an architecture (x86_64)`,
        `  these records are labelled imported; to trust them: hubless endorse ${result.importer}`
      ].join('\n'))
    })
}
