import { CorruptElfError, NotAnAppImageError } from './errors.ts'
import type { RandomAccessReader } from './reader.ts'
import type { AbortOptions } from './types.ts'

export interface ElfSection {
  name: string
  type: number
  offset: number
  size: number
}

export interface ElfInfo {
  bits: 32 | 64
  endianness: 'little' | 'big'
  /** `e_machine` */
  machine: number
  /** AppImage architecture name (`x86_64`, `aarch64`, `armhf`, `i686`, …), `unknown-<n>` otherwise */
  architecture: string
  /** AppImage type from the magic at byte 8 (`AI` 0x01 or 0x02), 0 when the magic is absent */
  appImageType: 0 | 1 | 2
  sections: ElfSection[]
  /** where the ELF ends: the larger of the end of the section header table and the end of the last section */
  end: number
}

const SHT_NOBITS = 8
const MAX_SECTIONS = 4096

const ARCHITECTURES: Record<number, string> = {
  3: 'i686',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390x',
  40: 'armhf',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv64',
  258: 'loongarch64'
}

export function architectureName (machine: number): string {
  return ARCHITECTURES[machine] ?? `unknown-${machine}`
}

/** Reads the ELF header and section table of an AppImage runtime */
export async function readElf (reader: RandomAccessReader, options?: AbortOptions): Promise<ElfInfo> {
  if (reader.size < 52) {
    throw new NotAnAppImageError(`the file has ${reader.size} bytes, fewer than an ELF header; not an AppImage`)
  }
  const ident = await reader.read(0, 16, options)
  if (ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) {
    throw new NotAnAppImageError('the file does not start with an ELF header (\\x7fELF); not an AppImage')
  }
  const bits = ident[4] === 1 ? 32 : ident[4] === 2 ? 64 : 0
  const little = ident[5] === 1 ? true : ident[5] === 2 ? false : undefined
  if (bits === 0 || little === undefined) {
    throw new CorruptElfError(`ELF class ${ident[4]} / data encoding ${ident[5]} is not valid`)
  }
  const appImageType = ident[8] === 0x41 && ident[9] === 0x49 && (ident[10] === 1 || ident[10] === 2) ? ident[10] : 0
  const headerSize = bits === 64 ? 64 : 52
  if (reader.size < headerSize) {
    throw new CorruptElfError(`the file has ${reader.size} bytes, fewer than an ELF${bits} header`)
  }
  const header = await reader.read(0, headerSize, options)
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
  const machine = view.getUint16(18, little)
  const shoff = bits === 64 ? Number(view.getBigUint64(0x28, little)) : view.getUint32(0x20, little)
  const shentsize = view.getUint16(bits === 64 ? 0x3a : 0x2e, little)
  const shnum = view.getUint16(bits === 64 ? 0x3c : 0x30, little)
  const shstrndx = view.getUint16(bits === 64 ? 0x3e : 0x32, little)

  const info: ElfInfo = {
    bits,
    endianness: little ? 'little' : 'big',
    machine,
    architecture: architectureName(machine),
    appImageType: appImageType as 0 | 1 | 2,
    sections: [],
    end: headerSize
  }
  if (shnum === 0 || shoff === 0) {
    return info
  }
  const minEntry = bits === 64 ? 64 : 40
  if (shentsize < minEntry || shnum > MAX_SECTIONS) {
    throw new CorruptElfError(`ELF section header table has entry size ${shentsize} and ${shnum} entries; not a valid runtime`)
  }
  const tableEnd = shoff + shentsize * shnum
  if (!Number.isSafeInteger(tableEnd) || tableEnd > reader.size) {
    throw new CorruptElfError(`ELF section header table (${shnum} × ${shentsize} bytes at ${shoff}) lies outside the ${reader.size}-byte file`)
  }
  const table = await reader.read(shoff, shentsize * shnum, options)
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength)
  const raw: Array<{ nameOffset: number, type: number, offset: number, size: number }> = []
  let end = Math.max(headerSize, tableEnd)
  for (let i = 0; i < shnum; i++) {
    const base = i * shentsize
    const nameOffset = tv.getUint32(base, little)
    const type = tv.getUint32(base + 4, little)
    const offset = bits === 64 ? Number(tv.getBigUint64(base + 24, little)) : tv.getUint32(base + 16, little)
    const size = bits === 64 ? Number(tv.getBigUint64(base + 32, little)) : tv.getUint32(base + 20, little)
    if (type !== SHT_NOBITS && type !== 0) {
      if (!Number.isSafeInteger(offset + size) || offset + size > reader.size) {
        throw new CorruptElfError(`ELF section ${i} (${size} bytes at ${offset}) lies outside the ${reader.size}-byte file`)
      }
      end = Math.max(end, offset + size)
    }
    raw.push({ nameOffset, type, offset, size })
  }
  const strtab = raw[shstrndx]
  let names: Uint8Array | undefined
  if (strtab !== undefined && strtab.type !== SHT_NOBITS && strtab.size > 0 && strtab.size < 1 << 20) {
    names = await reader.read(strtab.offset, strtab.size, options)
  }
  const decoder = new TextDecoder()
  for (const s of raw) {
    let name = ''
    if (names !== undefined && s.nameOffset < names.byteLength) {
      let stop = names.indexOf(0, s.nameOffset)
      if (stop < 0) stop = names.byteLength
      name = decoder.decode(names.subarray(s.nameOffset, stop))
    }
    info.sections.push({ name, type: s.type, offset: s.offset, size: s.type === SHT_NOBITS ? 0 : s.size })
  }
  info.end = end
  return info
}

export function findSection (elf: ElfInfo, name: string): ElfSection | undefined {
  return elf.sections.find(s => s.name === name)
}
