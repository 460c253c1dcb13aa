/**
 * @packageDocumentation
 *
 * Reads AppImages without running them and without reading more of the file than needed: the
 * ELF runtime (architecture, update information, embedded signature), the SquashFS 4.0 image
 * (files, directories, symlinks; gzip and zstd), the desktop entry, icon and AppStream metainfo,
 * and from them a release draft for hubless. Its chunker cuts an AppImage at the SquashFS block
 * boundaries so that IPFS deduplicates unchanged files between releases and between apps, and
 * it writes the zsync control files (`.zsync`) that AppImage updaters read.
 *
 * @example
 * ```ts
 * import { inspectAppImage, createSquashfsChunker } from '@hubless/appimage'
 *
 * const report = await inspectAppImage('/path/to/App-x86_64.AppImage')
 * const chunker = await createSquashfsChunker('/path/to/App-x86_64.AppImage')
 * // await unixfs(helia).addByteStream(stream, { chunker, rawLeaves: true })
 * ```
 */

export { type AppImage, type AppImageSource, openAppImage, type RuntimeSections } from './appimage.ts'
export type { AppStreamComponent, AppStreamRelease, ContentRating } from './appstream.ts'
export { CHUNKER_VERSION, type Chunker, type ChunkPlan, type ChunkPlanOptions, createSquashfsChunker, DEFAULT_MAX_CHUNK_SIZE, planChunks, readPlannedChunks, type SquashfsChunker } from './chunker.ts'
export type { FoundDesktopEntry, FoundIcon, FoundMetainfo } from './contents.ts'
export { type DesktopEntry, type DesktopGroup, parseDesktopEntry } from './desktop-entry.ts'
export type { ReleaseDraft } from './draft.ts'
export type { ElfInfo, ElfSection } from './elf.ts'
export * from './errors.ts'
export { type FastCdcOptions, fastCdc } from './fastcdc.ts'
export { type InspectOptions, type InspectProgressEvents, type InspectReport, inspectAppImage } from './inspect.ts'
export { createBytesReader, createFileReader, type RandomAccessReader } from './reader.ts'
export { type AppImageMetadata, readAppImageMetadata } from './release.ts'
export type { DigestOptions, DigestProgressEvents, SignatureStatus } from './signature.ts'
export { openSquashfs, type ReadFileOptions, type Squashfs, type SquashfsBlockMap, type SquashfsEntry, type Superblock, type CompressorName, type EntryType } from './squashfs/index.ts'
export type { AbortOptions } from './types.ts'
export { parseUpdateInformation, type UpdateInformation } from './update-info.ts'
export { parseAppStream } from './appstream.ts'
export { makeZsyncControlFile, md4, ZSYNC_VERSION, type ZsyncByteSource, type ZsyncInit, type ZsyncOptions, type ZsyncParameters, type ZsyncProgressEvents, zsyncParameters } from './zsync/index.ts'
