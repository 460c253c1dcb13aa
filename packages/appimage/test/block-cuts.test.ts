import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { zstdCompressSync } from 'node:zlib'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { CHUNKER_VERSION, createBytesReader, createSquashfsChunker, planChunks, readPlannedChunks } from '../src/index.ts'
import { COMPRESSED_CDC, MIN_ZSTD_PIECE, STORED_CDC } from '../src/block-cuts.ts'
import { SquashfsImage } from '../src/squashfs/filesystem.ts'
import { zstdBlocks } from '../src/squashfs/zstd-frame.ts'
import { assemble, buildRuntime, mksquashfs, pseudoRandom } from './fixtures/build.ts'
import { ofBytes } from './helpers.ts'

const MiB = 1024 * 1024
const hex = (c: Uint8Array): string => createHash('sha256').update(c).digest('hex')

async function chunksOf (bytes: Uint8Array, options?: Parameters<typeof createSquashfsChunker>[1]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const c of (await createSquashfsChunker(bytes, options))(ofBytes(bytes, [65536]))) out.push(c)
  return out
}

/** Bytes of `b`'s chunks that `a` has no chunk for */
function fresh (a: Uint8Array[], b: Uint8Array[]): number {
  const known = new Set(a.map(hex))
  return b.filter(c => !known.has(hex(c))).reduce((n, c) => n + c.byteLength, 0)
}

function text (bytes: number, seed: string): Buffer {
  const lines = Array.from({ length: Math.ceil(bytes / 40) }, (_, i) => `${seed} line ${i} ${hex(Buffer.from(`${seed}${i}`)).slice(0, 20)}\n`)
  return Buffer.from(lines.join('')).subarray(0, bytes)
}

describe('cuts inside blocks (chunker versions 3 to 5)', () => {
  let dir = ''
  const images: Record<string, Uint8Array> = {}
  // one squashfs image of a file tree, behind a runtime
  const build = async (name: string, files: Record<string, Uint8Array>, blockSize: number, fragments = false): Promise<Uint8Array> => {
    const tree = join(dir, `${name}-tree`)
    await mkdir(tree, { recursive: true })
    for (const [file, data] of Object.entries(files)) await writeFile(join(tree, file), data)
    await mksquashfs(tree, join(dir, `${name}.squashfs`), { compressor: 'zstd', blockSize, fragments })
    await assemble(buildRuntime().bytes, join(dir, `${name}.squashfs`), join(dir, `${name}.AppImage`))
    return new Uint8Array(await readFile(join(dir, `${name}.AppImage`)))
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hubless-block-cuts-'))
    const noise = pseudoRandom(MiB, 'stored')
    const changed = Buffer.from(noise)
    changed.fill(0x41, 400_000, 400_100)
    // incompressible: mksquashfs stores the block as it is
    images['stored-v1'] = await build('stored-v1', { 'noise.bin': noise, 'a.txt': text(300_000, 'a') }, MiB)
    images['stored-v2'] = await build('stored-v2', { 'noise.bin': changed, 'a.txt': text(300_000, 'a') }, MiB)
    // half text, half noise in one block: zstd compresses the first half and stores the second in raw blocks
    const mixed = Buffer.concat([text(512 * 1024, 'm'), noise.subarray(0, 512 * 1024)])
    const mixed2 = Buffer.from(mixed)
    mixed2.fill(0x42, 800_000, 800_050)
    images['mixed-v1'] = await build('mixed-v1', { 'mixed.bin': mixed }, MiB)
    images['mixed-v2'] = await build('mixed-v2', { 'mixed.bin': mixed2 }, MiB)
    images['text-128k'] = await build('text-128k', { 'a.txt': text(2 * MiB, 't') }, 131072)
    images['text-1m'] = await build('text-1m', { 'a.txt': text(3 * MiB, 'u') }, MiB)
    // small files, packed into fragment blocks, beside a large one in data blocks
    const small: Record<string, Uint8Array> = { 'large.txt': text(2 * MiB, 'l') }
    for (let i = 0; i < 60; i++) small[`small-${i}.txt`] = text(30_000, `s${i}`)
    images['small-files-1m'] = await build('small-files-1m', small, MiB, true)
  })
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('is version 5 and cuts the same file the same way every time', async () => {
    for (const bytes of Object.values(images)) {
      const a = await planChunks(bytes)
      assert.equal(a.version, CHUNKER_VERSION)
      assert.equal(CHUNKER_VERSION, 5)
      assert.deepEqual((await planChunks(bytes)).cuts, a.cuts)
    }
    assert.equal((await planChunks(images['mixed-v1']!, { cuts: 'zstd' })).version, 2)
    assert.equal((await planChunks(images['mixed-v1']!, { cuts: 'stored' })).version, 3)
    assert.equal((await planChunks(images['mixed-v1']!, { cuts: 'compressed' })).version, 4)
    assert.deepEqual((await planChunks(images['mixed-v1']!, { cuts: 'fragments' })).cuts, (await planChunks(images['mixed-v1']!)).cuts)
  })

  it('keeps every block boundary of the image, and no chunk exceeds 1 MiB', async () => {
    for (const [name, bytes] of Object.entries(images)) {
      const plan = await planChunks(bytes)
      const cuts = new Set(plan.cuts)
      const fs = await SquashfsImage.open(createBytesReader(bytes), plan.runtimeSize!)
      const map = await fs.blockMap()
      for (const b of map.boundaries) assert.ok(b === 0 || cuts.has(b), `${name}: block boundary ${b} is a cut`)
      let prev = 0
      for (const c of plan.cuts!) {
        assert.ok(c - prev > 0 && c - prev <= MiB, `${name}: chunk ${prev}..${c} is 1 byte to 1 MiB`)
        prev = c
      }
      assert.equal(prev, bytes.byteLength)
    }
  })

  it('cuts a stored block content-defined: a change inside it leaves the rest of the block and the image shared', async () => {
    const v1 = await chunksOf(images['stored-v1']!)
    const v2 = await chunksOf(images['stored-v2']!)
    const before = fresh(await chunksOf(images['stored-v1']!, { cuts: 'zstd' }), await chunksOf(images['stored-v2']!, { cuts: 'zstd' }))
    const after = fresh(v1, v2)
    assert.ok(before >= MiB, `cut at blocks only, the whole stored block is new (${before} bytes)`)
    // the changed pieces, and the metadata blocks that hold the file's inode
    assert.ok(after < 3 * STORED_CDC.maxSize + 16_384, `cut content-defined, only the pieces around the change are new (${after} bytes)`)
    const plan = await planChunks(images['stored-v1']!)
    const fs = await SquashfsImage.open(createBytesReader(images['stored-v1']!), plan.runtimeSize!)
    const [stored] = (await fs.blockMap()).storedBlocks
    assert.ok(stored !== undefined && stored.length === MiB, 'the noise is stored uncompressed')
    let prev = stored.offset
    for (const c of plan.cuts!.filter(c => c > stored.offset && c <= stored.offset + stored.length)) {
      assert.ok(c - prev <= STORED_CDC.maxSize, `a piece of the stored block is at most ${STORED_CDC.maxSize} bytes`)
      prev = c
    }
  })

  it('finds the raw blocks of a zstd frame and cuts inside them, so a change there leaves the compressed half shared', async () => {
    const bytes = images['mixed-v1']!
    const plan = await planChunks(bytes)
    const fs = await SquashfsImage.open(createBytesReader(bytes), plan.runtimeSize!)
    const [block] = (await fs.blockMap()).compressedBlocks
    const blocks = await zstdBlocks(createBytesReader(bytes), block!.offset, block!.length)
    assert.ok(blocks.some(b => b.type === 'raw' && b.stored !== undefined), `the frame has raw blocks (${blocks.map(b => b.type).join(', ')})`)
    assert.ok(blocks.some(b => b.type === 'compressed'))
    const after = fresh(await chunksOf(bytes), await chunksOf(images['mixed-v2']!))
    const before = fresh(await chunksOf(bytes, { cuts: 'zstd' }), await chunksOf(images['mixed-v2']!, { cuts: 'zstd' }))
    assert.ok(before > 100_000, `cut at zstd blocks only, the whole 128 KiB raw block is new (${before} bytes)`)
    assert.ok(after < before / 2, `cut inside raw blocks, only pieces around the change are new (${after} bytes)`)
  })

  it('cuts zstd frames of 128 KiB blocks at their blocks, leaving pieces of at least 8 KiB', async () => {
    const bytes = images['text-128k']!
    const plan = await planChunks(bytes)
    const reader = createBytesReader(bytes)
    const fs = await SquashfsImage.open(reader, plan.runtimeSize!)
    for (const { offset, length } of (await fs.blockMap()).compressedBlocks) {
      const starts = new Set((await zstdBlocks(reader, offset, length)).map(b => b.start))
      let prev = offset
      for (const c of plan.cuts!.filter(c => c > offset && c < offset + length)) {
        assert.ok(starts.has(c), `a cut inside a compressed block (${c}) is where a zstd block starts`)
        assert.ok(c - prev >= MIN_ZSTD_PIECE, `the piece before the cut at ${c} has ${c - prev} bytes`)
        prev = c
      }
    }
    assert.ok((plan.cuts?.length ?? 0) >= (await planChunks(bytes, { cuts: 'squashfs' })).cuts!.length)
  })

  it('cuts compressed zstd blocks of 1 MiB images content-defined (version 4), those of 128 KiB images only at their blocks', async () => {
    const bytes = images['text-1m']!
    const plan = await planChunks(bytes, { cuts: 'compressed' })
    const reader = createBytesReader(bytes)
    const fs = await SquashfsImage.open(reader, plan.runtimeSize!)
    let inside = 0
    for (const { offset, length } of (await fs.blockMap()).compressedBlocks) {
      for (const block of await zstdBlocks(reader, offset, length)) {
        if (block.type !== 'compressed') continue
        const from = block.stored?.end ?? block.start
        const cuts = plan.cuts!.filter(c => c > from && c < block.end)
        inside += cuts.length
        let prev = from
        for (const c of [...cuts, block.end]) {
          assert.ok(c - prev <= COMPRESSED_CDC.maxSize, `a piece of a compressed zstd block (${prev}..${c}) is at most ${COMPRESSED_CDC.maxSize} bytes`)
          prev = c
        }
      }
    }
    assert.ok(inside > 0, 'a 1 MiB image of text has cuts inside its compressed zstd blocks')
    const v3 = new Set((await planChunks(bytes, { cuts: 'stored' })).cuts)
    assert.ok(plan.cuts!.length > v3.size && [...v3].every(c => plan.cuts!.includes(c)), 'version 4 keeps version 3\'s cuts and adds more')
  })

  it('cuts compressed zstd blocks content-defined in fragment blocks of 1 MiB images only (version 5)', async () => {
    const bytes = images['small-files-1m']!
    const plan = await planChunks(bytes)
    const reader = createBytesReader(bytes)
    const fs = await SquashfsImage.open(reader, plan.runtimeSize!)
    const map = await fs.blockMap()
    const cuts = new Set(plan.cuts)
    let inFragments = 0
    let inData = 0
    for (const { offset, length, fragment } of map.compressedBlocks) {
      for (const block of await zstdBlocks(reader, offset, length)) {
        if (block.type !== 'compressed') continue
        const from = block.stored?.end ?? block.start
        const inside = [...cuts].filter(c => c > from && c < block.end).length
        if (fragment === true) inFragments += inside
        else inData += inside
      }
    }
    assert.ok(map.compressedBlocks.some(b => b.fragment === true), 'the image has compressed fragment blocks')
    assert.ok(inFragments > 0, 'compressed zstd blocks of fragment blocks are cut inside')
    assert.equal(inData, 0, 'those of data blocks are not')
    // a 1 MiB image without fragments is cut as version 3 cuts it
    assert.deepEqual((await planChunks(images['text-1m']!)).cuts, (await planChunks(images['text-1m']!, { cuts: 'stored' })).cuts)
  })

  it('reads a planned file chunk by chunk as the chunker cuts its stream, and refuses a file that changed size', async () => {
    const bytes = images['small-files-1m']!
    const path = join(dir, 'planned.AppImage')
    await writeFile(path, bytes)
    const chunker = await createSquashfsChunker(path)
    const streamed: Uint8Array[] = []
    for await (const c of chunker((async function * () { yield bytes })())) streamed.push(new Uint8Array(c))
    const read: Uint8Array[] = []
    for await (const c of readPlannedChunks(path, chunker.plan.cuts!)) read.push(c)
    assert.deepEqual(read, streamed)
    await writeFile(path, bytes.subarray(0, bytes.byteLength - 1))
    await assert.rejects(async () => { for await (const _ of readPlannedChunks(path, chunker.plan.cuts!)) { /* read */ } }, (err: Error) => err.name === 'FileChangedError')
  })

  it('reads any bytes as a zstd frame without throwing, and gives blocks only inside the range (fuzz)', async () => {
    const frame = zstdCompressSync(Buffer.concat([text(200_000, 'f'), pseudoRandom(150_000, 'f')]))
    const whole = await zstdBlocks(createBytesReader(frame), 0, frame.byteLength)
    assert.ok(whole.length > 1, 'a real frame of 350 KB input has several blocks')
    assert.ok([frame.byteLength, frame.byteLength - 4].includes(whole.at(-1)!.end), 'the last block ends the frame (or its checksum follows)')
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: frame.byteLength - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: frame.byteLength }), async (at, value, cut) => {
      const bytes = new Uint8Array(frame.subarray(0, Math.max(cut, at + 1)))
      bytes[at] = value
      const blocks = await zstdBlocks(createBytesReader(bytes), 0, bytes.byteLength)
      let prev = 0
      for (const b of blocks) {
        assert.ok(b.start >= prev && b.end > b.start && b.end <= bytes.byteLength)
        if (b.stored !== undefined) assert.ok(b.stored.start > b.start && b.stored.end <= b.end)
        prev = b.end
      }
    }), { numRuns: 300 })
  })

  it('cuts the same way however the stream is split (property)', async () => {
    const bytes = images['mixed-v2']!
    const chunker = await createSquashfsChunker(bytes)
    const expected: string[] = []
    for await (const c of chunker(ofBytes(bytes, [bytes.byteLength]))) expected.push(hex(c))
    assert.equal(expected.length, chunker.plan.chunkCount)
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 8 }), async (pieces) => {
      const got: string[] = []
      for await (const c of chunker(ofBytes(bytes, pieces))) got.push(hex(c))
      assert.deepEqual(got, expected)
    }), { numRuns: 10 })
  })
})
