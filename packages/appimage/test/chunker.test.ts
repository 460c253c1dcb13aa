import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { importer } from 'ipfs-unixfs-importer'
import { createBytesReader, createFileReader, createSquashfsChunker, fastCdc, planChunks } from '../src/index.ts'
import { capChunks } from '../src/chunker.ts'
import { SquashfsImage } from '../src/squashfs/filesystem.ts'
import { assemble, buildRuntime, mksquashfs, pseudoRandom } from './fixtures/build.ts'
import { ofBytes, useFixtures } from './helpers.ts'

async function collect (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const c of chunks) out.push(c)
  return out
}

const hex = (c: Uint8Array): string => createHash('sha256').update(c).digest('hex')

describe('squashfs-aware chunker', () => {
  const set = useFixtures()

  it('cuts every fixture at its block boundaries, and the chunks concatenate to the file', async () => {
    for (const f of set.fixtures) {
      const bytes = new Uint8Array(await readFile(f.path))
      const chunker = await createSquashfsChunker(f.path)
      assert.equal(chunker.plan.kind, 'squashfs', f.name)
      const chunks = await collect(chunker(createReadStream(f.path, { highWaterMark: 100_000 })))
      assert.ok(Buffer.concat(chunks).equals(bytes), `${f.name}: chunks concatenate to the file`)
      assert.equal(chunks.length, chunker.plan.chunkCount)
      assert.ok(chunks.every(c => c.byteLength > 0 && c.byteLength <= 1024 * 1024), `${f.name}: chunks are 1..1 MiB`)
      const ends = new Set<number>([0])
      let at = 0
      for (const c of chunks) {
        at += c.byteLength
        ends.add(at)
      }
      assert.ok(ends.has(f.runtimeSize), `${f.name}: the runtime ends a chunk`)
      for (const s of ['.upd_info', '.sha256_sig', '.sig_key', '.digest_md5'].map(n => f.sections[n]!)) assert.ok(ends.has(s.offset) && ends.has(s.offset + s.size), `${f.name}: runtime sections are chunks of their own`)
      const reader = createBytesReader(bytes)
      const fs = await SquashfsImage.open(reader, f.runtimeSize)
      assert.ok(ends.has(f.runtimeSize + fs.superblock.inodeTableStart) && ends.has(f.runtimeSize + fs.superblock.directoryTableStart), `${f.name}: metadata tables start chunks`)
      for await (const entry of fs.walk()) {
        if (entry.type !== 'file') continue
        const inode = await fs.inode(entry.inodeRef)
        if (inode.type !== 'file') continue
        const extents = await fs.extents(inode)
        for (const b of extents.blocks) {
          assert.ok(ends.has(b.offset) && ends.has(b.offset + b.length), `${f.name}: a data block of ${entry.path} at ${b.offset} lies within one chunk`)
        }
        if (extents.fragment !== undefined) {
          assert.ok(ends.has(extents.fragment.offset) && ends.has(extents.fragment.offset + extents.fragment.length), `${f.name}: fragment block of ${entry.path}`)
        }
      }
    }
  })

  it('gives a byte-identical rebuild identical chunks and a re-timestamped rebuild mostly the same ones', async () => {
    const f = set.fixtures.find(x => x.compressor === 'zstd' && x.blockSize === 131072 && x.fragments)!
    const { bytes: runtime } = buildRuntime({ updateInformation: 'zsync|https://example.org/x.zsync' })
    const again = join(set.dir, 'again.squashfs')
    await mksquashfs(set.tree, again, f)
    await assemble(buildRuntime({ updateInformation: 'gh-releases-zsync|example|myapp|latest|MyApp-*x86_64.AppImage.zsync' }).bytes, again, join(set.dir, 'again.AppImage'))
    const a = await collect((await createSquashfsChunker(f.path))(createReadStream(f.path)))
    const b = await collect((await createSquashfsChunker(join(set.dir, 'again.AppImage')))(createReadStream(join(set.dir, 'again.AppImage'))))
    assert.deepEqual(b.map(hex), a.map(hex), 'a reproducible rebuild chunks identically')

    // a rebuild at another time with another update string: only metadata and the section chunk differ
    const { execFile } = await import('node:child_process')
    const { promisify } = await import('node:util')
    const later = join(set.dir, 'later.squashfs')
    await promisify(execFile)('mksquashfs', [set.tree, later, '-noappend', '-comp', 'zstd', '-b', '131072', '-all-root', '-mkfs-time', '1700000000', '-all-time', '1700000000', '-no-xattrs', '-processors', '1', '-quiet', '-no-progress', '-tailends'])
    await assemble(runtime, later, join(set.dir, 'later.AppImage'))
    const c = await collect((await createSquashfsChunker(join(set.dir, 'later.AppImage')))(createReadStream(join(set.dir, 'later.AppImage'))))
    const known = new Set(a.map(hex))
    const fresh = c.filter(x => !known.has(hex(x))).reduce((n, x) => n + x.byteLength, 0)
    const total = c.reduce((n, x) => n + x.byteLength, 0)
    assert.ok(fresh / total < 0.05, `only metadata is new: ${fresh} of ${total} bytes`)
  })

  it('cuts zstd blocks over 128 KiB at their frames\' blocks, so a change late in a block leaves its start shared', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises')
    // 1 MiB of text that compresses to several zstd blocks; v2 changes only its last 64 KiB
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${hex(Buffer.from(String(i))).slice(0, 40)}\n`).join('')
    const v1 = Buffer.from(lines).subarray(0, 1024 * 1024)
    const v2 = Buffer.from(v1)
    v2.fill(0x41, v2.byteLength - 65536, v2.byteLength - 65000)
    const images: Record<string, string> = {}
    for (const [name, data] of [['v1', v1], ['v2', v2]] as const) {
      const tree = join(set.dir, `zstd-frames-${name}`)
      await mkdir(tree, { recursive: true })
      await writeFile(join(tree, 'big.txt'), data)
      for (const blockSize of [1048576, 131072]) {
        const squashfs = join(set.dir, `zstd-frames-${name}-${blockSize}.squashfs`)
        await mksquashfs(tree, squashfs, { compressor: 'zstd', blockSize, fragments: false })
        images[`${name}-${blockSize}`] = join(set.dir, `zstd-frames-${name}-${blockSize}.AppImage`)
        await assemble(buildRuntime().bytes, squashfs, images[`${name}-${blockSize}`]!)
      }
    }
    const fresh = async (zstdBlocks: boolean): Promise<{ fresh: number, chunks: number }> => {
      const chunks = async (path: string): Promise<Uint8Array[]> => await collect((await createSquashfsChunker(path, { cuts: zstdBlocks ? 'zstd' : 'squashfs' }))(createReadStream(path)))
      const known = new Set((await chunks(images['v1-1048576']!)).map(hex))
      const b = await chunks(images['v2-1048576']!)
      return { fresh: b.filter(c => !known.has(hex(c))).reduce((n, c) => n + c.byteLength, 0), chunks: b.length }
    }
    const before = await fresh(false)
    const after = await fresh(true)
    assert.ok(before.fresh > 150_000, `cut at squashfs blocks only, the whole changed block is new (${before.fresh} bytes)`)
    assert.ok(after.fresh < before.fresh - 100_000, `cut at zstd blocks, the frame's blocks before the change are shared (${after.fresh} bytes new, ${before.fresh} before)`)
    assert.ok(after.chunks > before.chunks)
    // the same plan twice; version 2 cut 128 KiB images as version 1 did (version 3 cuts their
    // frames too, where pieces of 8 KiB are left: block-cuts.test.ts)
    assert.deepEqual((await planChunks(images['v2-1048576']!)).cuts, (await planChunks(images['v2-1048576']!)).cuts)
    assert.deepEqual((await planChunks(images['v2-131072']!, { cuts: 'zstd' })).cuts, (await planChunks(images['v2-131072']!, { cuts: 'squashfs' })).cuts)
  })

  it('falls back to FastCDC for files it cannot parse, and still returns the file', async () => {
    const data = pseudoRandom(3_000_000, 'not-an-appimage')
    const chunker = await createSquashfsChunker(data)
    assert.equal(chunker.plan.kind, 'fastcdc')
    assert.match(chunker.plan.reason ?? '', /ELF/)
    const chunks = await collect(chunker(ofBytes(data, [70_000, 1, 333_333])))
    assert.ok(Buffer.concat(chunks).equals(data))
    assert.ok(chunks.slice(0, -1).every(c => c.byteLength >= 16384 && c.byteLength <= 262144))
    // content-defined: inserting bytes at the front leaves later chunks alone
    const shifted = Buffer.concat([Buffer.from('inserted bytes'), data])
    const again = await collect(fastCdc()(ofBytes(shifted, [65536])))
    const known = new Set(chunks.map(hex))
    assert.ok(again.filter(c => known.has(hex(c))).length >= chunks.length - 2, 'all but the first chunks are shared')
  })

  it('falls back for a corrupt image found through a file path', async () => {
    const f = set.fixtures[0]!
    const bytes = new Uint8Array(await readFile(f.path))
    bytes.fill(0, f.runtimeSize, f.runtimeSize + 4)
    const plan = await planChunks(bytes)
    assert.equal(plan.kind, 'fastcdc')
    const reader = await createFileReader(f.path)
    try {
      assert.equal((await planChunks(reader, { maxChunkSize: 65536 })).kind, 'squashfs')
    } finally {
      await reader.close()
    }
  })

  it('plugs into the UnixFS importer: one raw leaf per distinct chunk', async () => {
    const f = set.fixtures.find(x => x.blockSize === 1048576 && !x.fragments)!
    const chunker = await createSquashfsChunker(f.path)
    const blocks = new Map<string, number>()
    const blockstore = {
      async put (cid: { toString: () => string }, bytes: Uint8Array) {
        blocks.set(cid.toString(), bytes.byteLength)
        return cid
      }
    }
    const distinct = new Set((await collect(chunker(createReadStream(f.path)))).map(hex))
    let root = ''
    // biome-ignore lint/suspicious/noExplicitAny: only put of the Blockstore interface is used
    for await (const entry of importer([{ content: createReadStream(f.path) }], blockstore as any, { chunker, rawLeaves: true, cidVersion: 1 })) root = entry.cid.toString()
    const leaves = [...blocks.keys()].filter(cid => cid.startsWith('bafkrei'))
    assert.equal(leaves.length, distinct.size)
    assert.ok(blocks.has(root))
    const leafBytes = [...blocks.entries()].filter(([cid]) => cid.startsWith('bafkrei')).reduce((n, [, size]) => n + size, 0)
    assert.ok(leafBytes <= f.runtimeSize + (await readFile(f.path)).byteLength)
  })

  it('caps chunks and keeps every boundary (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -10, max: 5_000_000 }), { maxLength: 50 }), fc.integer({ min: 1, max: 5_000_000 }), fc.integer({ min: 1024, max: 2_000_000 }), (boundaries, size, max) => {
      const cuts = capChunks(boundaries, size, max)
      let prev = 0
      for (const c of cuts) {
        if (!(c > prev && c - prev <= max)) return false
        prev = c
      }
      return prev === size && boundaries.filter(b => b > 0 && b < size).every(b => cuts.includes(b))
    }), { numRuns: 200 })
  })

  it('cuts the same way however the stream is split (property)', async () => {
    const f = set.fixtures[0]!
    const bytes = new Uint8Array(await readFile(f.path))
    const chunker = await createSquashfsChunker(bytes, { maxChunkSize: 4096 })
    const expected = (await collect(chunker(ofBytes(bytes, [bytes.byteLength])))).map(hex)
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 8 }), async (pieces) => {
      const got = (await collect(chunker(ofBytes(bytes, pieces)))).map(hex)
      assert.deepEqual(got, expected)
    }), { numRuns: 10 })
  })
})
