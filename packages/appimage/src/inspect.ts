import { CustomProgressEvent, type ProgressEvent } from 'progress-events'
import { type AppImageSource, openAppImage } from './appimage.ts'
import { type ChunkPlanOptions, planChunks } from './chunker.ts'
import type { ReleaseDraft } from './draft.ts'
import { readAppImageMetadata } from './release.ts'
import { FLAGS } from './squashfs/superblock.ts'
import type { DigestProgressEvents, SignatureStatus } from './signature.ts'
import type { UpdateInformation } from './update-info.ts'

export type InspectProgressEvents =
  | DigestProgressEvents
  | ProgressEvent<'appimage:inspect:metadata'>
  | ProgressEvent<'appimage:inspect:chunks'>
  | ProgressEvent<'appimage:inspect:signature'>

export interface InspectOptions extends ChunkPlanOptions {
  /** hash the file and check the embedded signature (default true; reads the whole file) */
  verifySignature?: boolean
  onProgress?: (evt: InspectProgressEvents) => void
}

/** Everything `hubless inspect` shows; plain JSON data */
export interface InspectReport {
  size: number
  type: 1 | 2
  architecture: string
  elf: { bits: 32 | 64, endianness: 'little' | 'big', machine: number }
  /** bytes of runtime = offset of the SquashFS image */
  runtimeSize: number
  /** type 1 only: whether the ISO 9660 volume descriptor is there */
  iso9660?: boolean
  sections: Record<string, { offset: number, size: number }>
  squashfs?: {
    offset: number
    bytesUsed: number
    compressor: string
    blockSize: number
    inodeCount: number
    fragmentCount: number
    /** seconds since the epoch */
    modificationTime: number
    flags: string[]
  }
  updateInformation?: UpdateInformation
  digestMd5?: string
  /** omitted when verification was not asked for */
  signature?: SignatureStatus
  draft?: ReleaseDraft
  chunks: { kind: 'squashfs' | 'fastcdc', count?: number, maxChunkSize: number }
}

function flagNames (flags: number): string[] {
  return Object.entries(FLAGS).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name.toLowerCase().replaceAll('_', '-'))
}

/** Reads an AppImage's runtime, file system, metadata and signature into one report */
export async function inspectAppImage (source: AppImageSource, options?: InspectOptions): Promise<InspectReport> {
  const appImage = await openAppImage(source, options)
  try {
    const sections: InspectReport['sections'] = {}
    for (const s of appImage.elf.sections) {
      if (s.name.startsWith('.') && ['.upd_info', '.sha256_sig', '.sig_key', '.digest_md5'].includes(s.name)) {
        sections[s.name] = { offset: s.offset, size: s.size }
      }
    }
    const report: InspectReport = {
      size: appImage.size,
      type: appImage.type,
      architecture: appImage.architecture,
      elf: { bits: appImage.elf.bits, endianness: appImage.elf.endianness, machine: appImage.elf.machine },
      runtimeSize: appImage.runtimeSize,
      sections,
      chunks: { kind: 'fastcdc', maxChunkSize: options?.maxChunkSize ?? 1024 * 1024 }
    }
    if (appImage.updateInformation !== undefined) report.updateInformation = appImage.updateInformation
    if (appImage.digestMd5 !== undefined) report.digestMd5 = appImage.digestMd5
    if (appImage.iso9660 !== undefined) report.iso9660 = appImage.iso9660
    const fs = appImage.squashfs
    if (fs !== undefined) {
      const sb = fs.superblock
      report.squashfs = {
        offset: fs.offset,
        bytesUsed: sb.bytesUsed,
        compressor: sb.compressor,
        blockSize: sb.blockSize,
        inodeCount: sb.inodeCount,
        fragmentCount: sb.fragmentCount,
        modificationTime: sb.modificationTime,
        flags: flagNames(sb.flags)
      }
      options?.onProgress?.(new CustomProgressEvent('appimage:inspect:metadata'))
      report.draft = (await readAppImageMetadata(appImage, options)).draft
    }
    options?.onProgress?.(new CustomProgressEvent('appimage:inspect:chunks'))
    const plan = await planChunks(appImage.reader, options)
    report.chunks = { kind: plan.kind, maxChunkSize: plan.maxChunkSize, ...(plan.chunkCount !== undefined ? { count: plan.chunkCount } : {}) }
    if (options?.verifySignature !== false) {
      options?.onProgress?.(new CustomProgressEvent('appimage:inspect:signature'))
      report.signature = await appImage.verifySignature(options)
    }
    return report
  } finally {
    await appImage.close()
  }
}
