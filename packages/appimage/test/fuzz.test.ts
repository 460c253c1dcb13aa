import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { deflateSync, zstdCompressSync } from 'node:zlib'
import fc from 'fast-check'
import { createBytesReader, openAppImage, openSquashfs, planChunks } from '../src/index.ts'
import { createDecompressor } from '../src/squashfs/decompress.ts'
import { SquashfsImage } from '../src/squashfs/filesystem.ts'
import { BLOCK_UNCOMPRESSED } from '../src/squashfs/inode.ts'
import { assemble, buildRuntime } from './fixtures/build.ts'
import { useFixtures } from './helpers.ts'

const run = promisify(execFile)

const NAMED = new Set(['NotAnAppImageError', 'TruncatedFileError', 'CorruptElfError', 'CorruptSquashfsError', 'UnsupportedCompressorError', 'DecompressionBombError', 'DecompressionError', 'FileNotFoundError', 'NotAFileError', 'SymlinkLoopError', 'FileTooLargeError', 'MetadataParseError', 'UnsupportedAppImageTypeError'])

/** Opens, walks, reads every file and maps the blocks; returns the error name, or 'ok' */
async function exercise (bytes: Uint8Array): Promise<string> {
  const signal = AbortSignal.timeout(10_000)
  try {
    const app = await openAppImage(bytes, { signal })
    const fs = app.squashfs
    if (fs !== undefined) {
      for await (const e of fs.walk({ signal })) {
        if (e.type === 'file') await fs.readFile(e.path, { signal, maxSize: 8 * 1024 * 1024 })
      }
      await fs.blockMap({ signal })
    }
    await planChunks(bytes, { signal })
    return 'ok'
  } catch (err) {
    const name = (err as Error).name
    if (!NAMED.has(name)) {
      throw new Error(`unnamed failure ${name}: ${(err as Error).message}`, { cause: err })
    }
    return name
  }
}

describe('reader fuzzing', () => {
  const set = useFixtures([
    { compressor: 'gzip', blockSize: 131072, fragments: true },
    { compressor: 'zstd', blockSize: 131072, fragments: true }
  ], { manyEntries: 40 })
  const raw = { bytes: new Uint8Array(0), runtime: 0 }

  it('builds an image with uncompressed metadata so that mutations hit real fields', async () => {
    const sq = join(set.dir, 'raw.squashfs')
    await run('mksquashfs', [set.tree, sq, '-noappend', '-noI', '-noF', '-comp', 'gzip', '-all-root', '-mkfs-time', '0', '-all-time', '0', '-no-xattrs', '-quiet', '-no-progress'])
    const { bytes: runtime } = buildRuntime()
    await assemble(runtime, sq, join(set.dir, 'raw.AppImage'))
    raw.bytes = new Uint8Array(await readFile(join(set.dir, 'raw.AppImage')))
    raw.runtime = runtime.byteLength
    assert.equal(await exercise(raw.bytes), 'ok')
  })

  it('ends every truncation in a named error', async () => {
    const bytes = new Uint8Array(await readFile(set.fixtures[0]!.path))
    // mksquashfs pads the image to 4 KiB; cutting only padding leaves a complete image
    const { superblock } = await SquashfsImage.open(createBytesReader(bytes), set.fixtures[0]!.runtimeSize)
    const end = set.fixtures[0]!.runtimeSize + superblock.bytesUsed
    const outcomes: string[] = []
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: end - 1 }), async (length) => {
      const name = await exercise(bytes.subarray(0, length))
      assert.notEqual(name, 'ok', `a file cut at ${length} of ${bytes.byteLength} bytes must not read as complete`)
      // the same cut with a superblock that claims it is whole: tables and blocks now point past the end
      const lying = new Uint8Array(bytes.subarray(0, length))
      const sbAt = set.fixtures[0]!.runtimeSize
      if (length >= sbAt + 96) {
        new DataView(lying.buffer).setBigUint64(sbAt + 40, BigInt(length - sbAt), true)
        outcomes.push(await exercise(lying))
      }
    }), { numRuns: 80 })
    assert.ok(outcomes.some(o => o !== 'TruncatedFileError'), 'some lying cuts get past the superblock')
  })

  it('ends random mutations of metadata in a named error or a consistent read', async () => {
    const outcomes: string[] = []
    const targets = [raw.bytes, new Uint8Array(await readFile(set.fixtures[0]!.path)), new Uint8Array(await readFile(set.fixtures[1]!.path))]
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 2 }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 }), fc.constantFrom(1, 2, 4, 8)), { minLength: 1, maxLength: 6 }),
      async (which, edits) => {
        const original = targets[which]!
        const bytes = new Uint8Array(original)
        const fs = await SquashfsImage.open(createBytesReader(original), raw.runtime)
        // aim at the superblock and the tables, where offsets and sizes live
        const from = raw.runtime + (edits.length % 2 === 0 ? 0 : fs.superblock.inodeTableStart)
        for (const [where, value, width] of edits) {
          const at = Math.min(bytes.byteLength - width, from + Math.floor(where * (raw.runtime + fs.superblock.bytesUsed - from)))
          for (let i = 0; i < width; i++) bytes[at + i] = i === 0 ? value : value > 127 ? 0xff : 0
        }
        outcomes.push(await exercise(bytes))
      }
    ), { numRuns: 800 })
    const counts: Record<string, number> = {}
    for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1
    console.log('mutation outcomes', counts)
    assert.ok(Object.keys(counts).length >= 3, 'mutations reach several parts of the reader')
  })

  it('ends mutations of the ELF header and section table in a named error', async () => {
    const { bytes: runtime } = buildRuntime()
    const headerAndTable = [...Array.from({ length: 64 }, (_, i) => i), ...Array.from({ length: 7 * 64 }, (_, i) => runtime.byteLength - 7 * 64 + i)]
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...headerAndTable), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), async (edits) => {
      const bytes = new Uint8Array(raw.bytes)
      for (const [at, value] of edits) bytes[at] = value
      await exercise(bytes)
    }), { numRuns: 200 })
  })

  it('rejects absurd superblock values', async () => {
    const at = raw.runtime
    const cases: Array<[number, number, bigint | number, string]> = [
      [4, 4, 0xffffffff, 'CorruptSquashfsError'], // inode count
      [12, 4, 3000, 'CorruptSquashfsError'], // block size
      [20, 2, 3, 'UnsupportedCompressorError'], // lzo
      [20, 2, 4, 'UnsupportedCompressorError'], // xz
      [20, 2, 99, 'UnsupportedCompressorError'],
      [40, 8, 0xffffffffffn, 'TruncatedFileError'], // bytes used
      [64, 8, 0xfffffffn, 'CorruptSquashfsError'], // inode table
      [32, 8, 0xffff_ffff_ffffn, 'CorruptSquashfsError'], // root inode ref
      [0, 4, 0x12345678, 'CorruptSquashfsError'] // magic
    ]
    for (const [offset, width, value, expected] of cases) {
      const bytes = new Uint8Array(raw.bytes)
      const view = new DataView(bytes.buffer)
      if (width === 8) view.setBigUint64(at + offset, BigInt(value), true)
      else if (width === 4) view.setUint32(at + offset, Number(value), true)
      else view.setUint16(at + offset, Number(value), true)
      assert.equal(await exercise(bytes), expected, `superblock field at ${offset} = ${value}`)
    }
  })

  it('detects a directory that contains its own ancestor', async () => {
    const bytes = new Uint8Array(raw.bytes)
    const fs = await SquashfsImage.open(createBytesReader(bytes), raw.runtime)
    const sb = fs.superblock
    // make the entry for usr/lib/deep/er point back at the root directory
    const dirTable = raw.runtime + sb.directoryTableStart
    const name = new TextEncoder().encode('er')
    const region = bytes.subarray(dirTable, raw.runtime + sb.bytesUsed)
    let found = -1
    for (let i = 20; i < region.byteLength - name.byteLength; i++) {
      // a one-entry listing: 12-byte header, 8-byte entry, then the name
      if (region[i] === name[0] && region[i + 1] === name[1] && region[i - 2] === 1 && region[i - 1] === 0 && region[i - 20] === 0 && region[i - 19] === 0) {
        found = dirTable + i
        break
      }
    }
    assert.ok(found > 0, 'found the listing of usr/lib/deep')
    const view = new DataView(bytes.buffer)
    const rootBlock = Number(sb.rootInode >> 16n)
    const rootOffset = Number(sb.rootInode & 0xffffn)
    view.setUint32(found - 16, rootBlock, true) // header: start block
    view.setUint16(found - 8, rootOffset, true) // entry: offset
    const patched = await openSquashfs(createBytesReader(bytes), raw.runtime)
    assert.equal((await patched.stat('usr/lib/deep/er/usr/lib/deep/er')).type, 'directory', 'paths through the loop resolve, bounded by their length')
    assert.equal(await exercise(bytes), 'CorruptSquashfsError')
  })

  it('stops decompression bombs in data and metadata blocks', async () => {
    const bomb = deflateSync(new Uint8Array(64 * 1024 * 1024))
    assert.throws(() => createDecompressor(1)(bomb, 131072), { name: 'DecompressionBombError' })
    assert.throws(() => createDecompressor(1)(new Uint8Array([1, 2, 3, 4]), 8192), { name: 'DecompressionError' })
    assert.throws(() => createDecompressor(6)(zstdCompressSync(new Uint8Array(64 * 1024 * 1024)), 131072), { name: 'DecompressionBombError' })
    assert.throws(() => createDecompressor(6)(new Uint8Array([1, 2, 3, 4]), 8192), { name: 'DecompressionError' })

    const f = set.fixtures[0]!
    const bytes = new Uint8Array(await readFile(f.path))
    const fs = await SquashfsImage.open(createBytesReader(bytes), f.runtimeSize)
    const { inode } = await fs.resolve('usr/lib/libfoo.so.1', true)
    assert.equal(inode.type, 'file')
    if (inode.type !== 'file') return
    let pos = f.runtimeSize + inode.blocksStart
    let target = -1
    for (const word of inode.blockSizes) {
      const size = word & (BLOCK_UNCOMPRESSED - 1)
      if ((word & BLOCK_UNCOMPRESSED) === 0 && size > bomb.byteLength) target = pos
      pos += size
    }
    assert.ok(target > 0, 'a compressed block large enough to hold the bomb')
    bytes.set(bomb, target)
    assert.equal(await exercise(bytes), 'DecompressionBombError')

    const meta = new Uint8Array(await readFile(f.path))
    const inodeTable = f.runtimeSize + fs.superblock.inodeTableStart
    const small = deflateSync(new Uint8Array(64 * 1024))
    const header = meta[inodeTable]! | (meta[inodeTable + 1]! << 8)
    assert.ok((header & 0x7fff) >= small.byteLength, 'the first inode block can hold the bomb')
    meta.set(small, inodeTable + 2)
    assert.equal(await exercise(meta), 'DecompressionBombError')
  })
})
