import { inflateSync, zstdDecompressSync } from 'node:zlib'
import { DecompressionBombError, DecompressionError, UnsupportedCompressorError } from '../errors.ts'

export type CompressorName = 'gzip' | 'lzma' | 'lzo' | 'xz' | 'lz4' | 'zstd'

const NAMES: Record<number, CompressorName> = { 1: 'gzip', 2: 'lzma', 3: 'lzo', 4: 'xz', 5: 'lz4', 6: 'zstd' }

export function compressorName (id: number): CompressorName | undefined {
  return NAMES[id]
}

/** Decodes one compressed block; `limit` is the most it may inflate to (block size or 8 KiB) */
export type Decompressor = (input: Uint8Array, limit: number) => Uint8Array

function isTooLarge (err: unknown): boolean {
  return err instanceof RangeError || (err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE'
}

function wrap (name: string, fn: (input: Uint8Array, limit: number) => Uint8Array): Decompressor {
  return (input, limit) => {
    let out: Uint8Array
    try {
      out = fn(input, limit)
    } catch (err) {
      if (isTooLarge(err)) {
        throw new DecompressionBombError(`a ${name} block of ${input.byteLength} bytes inflates beyond the ${limit} bytes a block may hold`)
      }
      throw new DecompressionError(`a ${name} block of ${input.byteLength} bytes does not decode: ${(err as Error).message}`)
    }
    if (out.byteLength > limit) {
      throw new DecompressionBombError(`a ${name} block of ${input.byteLength} bytes inflates to ${out.byteLength}, beyond the ${limit} bytes a block may hold`)
    }
    return out
  }
}

/** The decoder for a SquashFS compressor id, or UnsupportedCompressorError */
export function createDecompressor (id: number): Decompressor {
  const name = NAMES[id]
  switch (name) {
    case 'gzip':
      // maxOutputLength makes zlib stop at the limit instead of allocating whatever a bomb asks for
      return wrap(name, (input, limit) => inflateSync(input, { maxOutputLength: Math.max(limit, 1) }))
    case 'zstd':
      if (typeof zstdDecompressSync !== 'function') {
        throw new UnsupportedCompressorError('zstd SquashFS images need Node >= 22.15 (node:zlib zstdDecompressSync); upgrade Node', name)
      }
      return wrap(name, (input, limit) => zstdDecompressSync(input, { maxOutputLength: Math.max(limit, 1) }))
    case undefined:
      throw new UnsupportedCompressorError(`SquashFS compressor id ${id} is not a known compressor; the image is corrupt or from a newer squashfs`, `id-${id}`)
    default:
      throw new UnsupportedCompressorError(`SquashFS compressor ${name} is not supported (gzip and zstd are); rebuild the AppImage with appimagetool's default zstd`, name)
  }
}
