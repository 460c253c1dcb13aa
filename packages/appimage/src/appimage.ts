import { logger } from '@libp2p/logger'
import { type ElfInfo, findSection, readElf, type ElfSection } from './elf.ts'
import { NotAnAppImageError, UnsupportedAppImageTypeError } from './errors.ts'
import { createBytesReader, createFileReader, type RandomAccessReader } from './reader.ts'
import { type DigestOptions, digestWithZeroedSections, type SignatureStatus, sectionText, verifyEmbeddedSignature } from './signature.ts'
import { type Squashfs, openSquashfs } from './squashfs/index.ts'
import { SQUASHFS_MAGIC } from './squashfs/superblock.ts'
import type { AbortOptions } from './types.ts'
import { parseUpdateInformation, type UpdateInformation } from './update-info.ts'

const log = logger('hubless:appimage:appimage')

/** The AppImage-specific sections of the runtime */
export interface RuntimeSections {
  updateInformation?: ElfSection
  signature?: ElfSection
  signingKey?: ElfSection
  digestMd5?: ElfSection
}

/** An opened AppImage: the runtime's facts and, for type 2, its SquashFS image */
export interface AppImage {
  /** 1 (ISO 9660) or 2 (SquashFS) */
  readonly type: 1 | 2
  readonly size: number
  readonly elf: ElfInfo
  /** AppImage architecture name from the ELF header (`x86_64`, `aarch64`, `armhf`, `i686`) */
  readonly architecture: string
  /** where the runtime ends and the file system image starts */
  readonly runtimeSize: number
  readonly sections: RuntimeSections
  /** parsed `.upd_info`; undefined when empty */
  readonly updateInformation?: UpdateInformation
  /** hex of `.digest_md5` when set */
  readonly digestMd5?: string
  /** type 1 only: an ISO 9660 volume descriptor (`CD001` at 32769) is present */
  readonly iso9660?: boolean
  /** the SquashFS image (type 2 only) */
  readonly squashfs?: Squashfs
  /** the random-access reader the AppImage is read through */
  readonly reader: RandomAccessReader
  /** checks the embedded signature (reads the whole file to hash it) */
  verifySignature (options?: DigestOptions): Promise<SignatureStatus>
  /** hex SHA-256 of the whole file */
  sha256 (options?: DigestOptions): Promise<string>
  /** closes the file if `openAppImage` opened it */
  close (): Promise<void>
}

export type AppImageSource = string | Uint8Array | RandomAccessReader

async function toReader (source: AppImageSource, options?: AbortOptions): Promise<{ reader: RandomAccessReader, owned: boolean }> {
  if (typeof source === 'string') return { reader: await createFileReader(source, options), owned: true }
  if (source instanceof Uint8Array) return { reader: createBytesReader(source), owned: false }
  return { reader: source, owned: false }
}

async function sectionBytes (reader: RandomAccessReader, section: ElfSection | undefined, options?: AbortOptions): Promise<Uint8Array | undefined> {
  if (section === undefined || section.size === 0) return undefined
  // sections are small in every real runtime; a huge one is not worth reading
  if (section.size > 1024 * 1024) return undefined
  return await reader.read(section.offset, section.size, options)
}

/**
 * Opens an AppImage from a path, bytes or a reader. Reads only headers and tables; the SquashFS
 * image is parsed lazily as its files are asked for.
 */
export async function openAppImage (source: AppImageSource, options?: AbortOptions): Promise<AppImage> {
  const { reader, owned } = await toReader(source, options)
  try {
    const elf = await readElf(reader, options)
    if (elf.appImageType === 0) {
      throw new NotAnAppImageError('the ELF file has no AppImage magic ("AI" and a type byte at offset 8); not an AppImage')
    }
    const sections: RuntimeSections = {}
    const put = (key: keyof RuntimeSections, name: string): void => {
      const s = findSection(elf, name)
      if (s !== undefined) sections[key] = s
    }
    put('updateInformation', '.upd_info')
    put('signature', '.sha256_sig')
    put('signingKey', '.sig_key')
    put('digestMd5', '.digest_md5')
    const updateText = sectionText(await sectionBytes(reader, sections.updateInformation, options))
    const updateInformation = updateText === undefined ? undefined : parseUpdateInformation(updateText)
    const md5Bytes = await sectionBytes(reader, sections.digestMd5, options)
    const digestMd5 = md5Bytes === undefined || md5Bytes.every(b => b === 0) ? undefined : Buffer.from(md5Bytes).toString('hex')

    let squashfs: Squashfs | undefined
    let iso9660: boolean | undefined
    if (elf.appImageType === 2) {
      squashfs = await openSquashfs(reader, elf.end, options)
    } else {
      iso9660 = reader.size >= 32774 && new TextDecoder().decode(await reader.read(32769, 5, options)) === 'CD001'
    }
    log('opened type %d AppImage, %s, runtime %d bytes', elf.appImageType, elf.architecture, elf.end)
    const appImage: AppImage = {
      type: elf.appImageType === 1 ? 1 : 2,
      size: reader.size,
      elf,
      architecture: elf.architecture,
      runtimeSize: elf.end,
      sections,
      reader,
      async verifySignature (opts) {
        return await verifyEmbeddedSignature({ reader, signatureSection: sections.signature, keySection: sections.signingKey }, opts)
      },
      async sha256 (opts) {
        return await digestWithZeroedSections(reader, [], 'sha256', opts)
      },
      async close () {
        if (owned) await reader.close()
      }
    }
    return Object.assign(appImage, {
      ...(updateInformation !== undefined ? { updateInformation } : {}),
      ...(digestMd5 !== undefined ? { digestMd5 } : {}),
      ...(squashfs !== undefined ? { squashfs } : {}),
      ...(iso9660 !== undefined ? { iso9660 } : {})
    })
  } catch (err) {
    if (owned) await reader.close()
    throw err
  }
}

/** True when the bytes start with a SquashFS superblock magic (a bare image, no runtime) */
export function isSquashfsMagic (bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === SQUASHFS_MAGIC
}

export function requireType2 (appImage: AppImage): Squashfs {
  if (appImage.squashfs === undefined) {
    throw new UnsupportedAppImageTypeError('this is a type 1 (ISO 9660) AppImage; only type 2 (SquashFS) images can be read. Rebuild it with a current appimagetool')
  }
  return appImage.squashfs
}
