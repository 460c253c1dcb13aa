import { formatBytes } from '../output.ts'
import type { CommandContext } from '../context.ts'
import type { InspectReport } from '@hubless/appimage'
import type { Command } from 'commander'

interface InspectCommandOptions {
  signature: boolean
}

export function registerInspectCommand (program: Command, context: (command: Command) => CommandContext): void {
  program.command('inspect')
    .description('read an AppImage: type, architecture, file system, update information, signature, release draft, chunks')
    .argument('<file>', 'the AppImage')
    .option('--no-signature', 'skip hashing the file to check the embedded signature')
    .action(async (file: string, options: InspectCommandOptions, command: Command) => {
      const { out, signal } = context(command)
      const { inspectAppImage } = await import('@hubless/appimage')
      const report = await inspectAppImage(file, {
        signal,
        verifySignature: options.signature,
        onProgress: event => {
          if (event.type === 'appimage:digest') {
            const { read, total } = event.detail as { read: number, total: number }
            out.progress(`hashing ${formatBytes(read)} of ${formatBytes(total)}`)
          }
        }
      })
      out.endProgress()
      out.result(report, () => formatInspectReport(file, report))
    })
}

export function formatInspectReport (file: string, report: InspectReport): string {
  const lines = [`${file}: AppImage type ${report.type}, ${report.architecture}, ${formatBytes(report.size)}`]
  lines.push(`  runtime       ${formatBytes(report.runtimeSize)} (ELF${report.elf.bits}, ${report.elf.endianness}-endian)`)
  if (report.squashfs != null) {
    const fs = report.squashfs
    lines.push(`  squashfs      at ${fs.offset}, ${formatBytes(fs.bytesUsed)}, ${fs.compressor}, ${formatBytes(fs.blockSize)} blocks, ${fs.inodeCount} inodes, ${fs.fragmentCount} fragments`)
  }
  const update = report.updateInformation
  lines.push(`  update info   ${update == null ? 'none' : `${update.raw}${update.deprecated ? ' (deprecated transport: it no longer works)' : ''}`}`)
  const sig = report.signature
  if (sig != null) {
    const state = !sig.present ? 'none' : sig.verified ? `verified (key ${sig.fingerprint ?? 'unknown'})` : `present, does NOT verify${sig.fingerprint == null ? '' : ` (key ${sig.fingerprint})`}`
    lines.push(`  signature     ${state}`)
  }
  const chunks = report.chunks
  lines.push(`  chunks        ${chunks.count ?? 'unknown'} (${chunks.kind === 'squashfs' ? 'cut at SquashFS block boundaries' : 'content-defined (FastCDC)'}, at most ${formatBytes(chunks.maxChunkSize)})`)
  const draft = report.draft
  if (draft != null) {
    lines.push('  release draft')
    lines.push(`    app id      ${draft.appId}${draft.derivedAppId ? ` (derived from the ${draft.appIdSource}: the image declares none)` : ''}`)
    lines.push(`    name        ${draft.name}`)
    lines.push(`    version     ${draft.version ?? 'none in the image (give --version when publishing)'}`)
    if (draft.summary != null) lines.push(`    summary     ${draft.summary}`)
    if (draft.categories.length > 0) lines.push(`    categories  ${draft.categories.join(', ')}`)
    if (draft.license != null) lines.push(`    license     ${draft.license}`)
    if (draft.developer != null) lines.push(`    developer   ${draft.developer}`)
    if (draft.homepage != null) lines.push(`    homepage    ${draft.homepage}`)
    if (draft.icon != null) lines.push(`    icon        ${draft.icon.path} (${draft.icon.mediaType}, ${formatBytes(draft.icon.size)})`)
  }
  return lines.join('\n')
}
