import { readFile, writeFile } from 'node:fs/promises'
import { registerKeyRecordCommands } from './publisher.ts'
import type { CommandContext } from '../context.ts'
import type { KeyStore } from '@hubless/registry'
import type { Command } from 'commander'

/**
 * `hubless key …`: the publisher key file. show/export/import touch only the file (no node, no
 * daemon needed); rotate and revoke write records, through the daemon when one runs.
 * HUBLESS_KEY_PASSPHRASE unlocks (and, on import, seals) the key at rest.
 */
export function registerKeyCommands (program: Command, context: (command: Command) => CommandContext): void {
  const key = program.command('key').description('your publisher key: show, export, import, rotate, revoke')
  const passphrase = (): string | undefined => process.env.HUBLESS_KEY_PASSPHRASE

  key.command('show')
    .description('the publisher key (did:key) of this data dir')
    .action(async (_options: unknown, command: Command) => {
      const { layout, out, signal } = context(command)
      const store = await keyStoreOf(layout.keys)
      const loaded = await store.load({ passphrase: passphrase(), signal })
      out.result({ publisher: loaded.did, file: store.path, encrypted: await store.isEncrypted() }, loaded.did)
    })

  key.command('export')
    .description('write the key as portable text (to stdout, or -o FILE); --seal encrypts it with HUBLESS_EXPORT_PASSPHRASE')
    .option('-o, --output <file>', 'write here (mode 0600) instead of stdout')
    .option('--seal', 'encrypt the export with HUBLESS_EXPORT_PASSPHRASE')
    .action(async (options: { output?: string, seal?: boolean }, command: Command) => {
      const { layout, out, signal } = context(command)
      const store = await keyStoreOf(layout.keys)
      const text = await store.export({ passphrase: passphrase(), exportPassphrase: options.seal === true ? process.env.HUBLESS_EXPORT_PASSPHRASE : undefined, signal })
      if (options.output != null) {
        await writeFile(options.output, text, { mode: 0o600 })
        out.result({ file: options.output }, `exported to ${options.output}`)
      } else {
        out.result({ key: text }, text)
      }
    })

  key.command('import')
    .description('make an exported key this data dir\'s publisher key (HUBLESS_EXPORT_PASSPHRASE opens a sealed export)')
    .argument('<file>', 'the exported key, or - for stdin')
    .option('--force', 'replace the existing key')
    .action(async (file: string, options: { force?: boolean }, command: Command) => {
      const { layout, out, signal } = context(command)
      const store = await keyStoreOf(layout.keys)
      const text = file === '-' ? await readStdin() : await readFile(file, 'utf8')
      const imported = await store.import(text, {
        importPassphrase: process.env.HUBLESS_EXPORT_PASSPHRASE,
        passphrase: passphrase(),
        overwrite: options.force === true,
        signal
      })
      out.result({ publisher: imported.did }, `imported ${imported.did}`)
    })

  registerKeyRecordCommands(key, context)
}

/** the key store, loaded when a key command runs (it brings the registry's crypto) */
async function keyStoreOf (directory: string): Promise<KeyStore> {
  const { createKeyStore } = await import('@hubless/registry')
  return createKeyStore({ directory })
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
