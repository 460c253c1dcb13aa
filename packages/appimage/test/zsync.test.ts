import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { createBytesReader, createFileReader, makeZsyncControlFile, md4, zsyncParameters } from '../src/index.ts'
import { pseudoRandom } from './fixtures/build.ts'
import { ofBytes, rejection } from './helpers.ts'

const run = promisify(execFile)
const hasZsyncmake = spawnSync('sh', ['-c', 'command -v zsyncmake'], { stdio: 'ignore' }).status === 0
const MTIME = new Date('2026-03-04T05:06:07Z')

describe('md4', () => {
  it('gives the test suite digests of RFC 1320 (appendix A.5)', () => {
    const vectors: Array<[string, string]> = [
      ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
      ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
      ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
      ['message digest', 'd9130a8164549fe818874806e1c7014b'],
      ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
      ['1234567890'.repeat(8), 'e33b4ddc9c38f2199c3e7b164fcc0536']
    ]
    for (const [input, digest] of vectors) {
      assert.equal(Buffer.from(md4(new TextEncoder().encode(input))).toString('hex'), digest, `MD4("${input}")`)
    }
  })

  it('reads a subarray as its own bytes, whatever its offset in the buffer', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 7 }), (bytes, pad) => {
      const shifted = new Uint8Array(bytes.byteLength + pad)
      shifted.set(bytes, pad)
      assert.deepEqual(md4(shifted.subarray(pad)), md4(bytes.slice()))
    }))
  })
})

describe('zsync control files', () => {
  let dir = ''
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'hubless-zsync-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('chooses zsyncmake\'s block size and hash lengths', () => {
    assert.deepEqual(zsyncParameters(0), { blocksize: 2048, seqMatches: 1, rsumBytes: 2, checksumBytes: 3 })
    assert.deepEqual(zsyncParameters(2048), { blocksize: 2048, seqMatches: 1, rsumBytes: 2, checksumBytes: 4 })
    assert.deepEqual(zsyncParameters(300_000), { blocksize: 2048, seqMatches: 2, rsumBytes: 2, checksumBytes: 4 })
    assert.equal(zsyncParameters(99_999_999).blocksize, 2048)
    assert.deepEqual(zsyncParameters(150_000_000), { blocksize: 4096, seqMatches: 2, rsumBytes: 2, checksumBytes: 5 })
    assert.equal(zsyncParameters(2 ** 31).rsumBytes, 3)
    assert.equal(zsyncParameters(1000, 1024).blocksize, 1024)
    assert.equal(rejectionSync(() => zsyncParameters(1000, 1000)).name, 'ZsyncInputError')
  })

  it('gives the same file from a random-access reader and from a stream cut anywhere', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 20_000 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 6 }), async (size, pieces) => {
      const bytes = pseudoRandom(size, `zsync ${size}`)
      const init = { filename: 'App.AppImage', urls: ['/ipfs/x'], mtime: MTIME }
      const whole = await makeZsyncControlFile(createBytesReader(bytes), init)
      const streamed = await makeZsyncControlFile({ size, bytes: ofBytes(bytes, pieces) }, init)
      assert.deepEqual(streamed, whole)
      const params = zsyncParameters(size)
      const text = Buffer.from(whole).toString('latin1')
      const body = text.indexOf('\n\n') + 2
      assert.equal(whole.byteLength - body, Math.ceil(size / params.blocksize) * (params.rsumBytes + params.checksumBytes))
    }), { numRuns: 40 })
  })

  it('refuses a source that is shorter or longer than it declared, and fields with line breaks', async () => {
    const bytes = pseudoRandom(5000, 'short')
    assert.equal((await rejection(makeZsyncControlFile({ size: 6000, bytes: ofBytes(bytes, [1000]) }, { filename: 'a', urls: [] }))).name, 'ZsyncInputError')
    assert.equal((await rejection(makeZsyncControlFile({ size: 4000, bytes: ofBytes(bytes, [1000]) }, { filename: 'a', urls: [] }))).name, 'ZsyncInputError')
    assert.equal((await rejection(makeZsyncControlFile(createBytesReader(bytes), { filename: 'a\nURL: http://evil', urls: [] }))).name, 'ZsyncInputError')
  })

  it('writes the bytes zsyncmake writes for the same file, name, time and URL', { skip: hasZsyncmake ? false : 'zsyncmake is missing (Debian: apt-get install zsync)' }, async () => {
    const cases: Array<{ size: number, blocksize?: number }> = [
      { size: 0 }, { size: 1 }, { size: 2047 }, { size: 2048 }, { size: 2049 }, { size: 300_001 },
      { size: 1_000_000, blocksize: 1024 }, { size: 1_000_000, blocksize: 65536 }, { size: 3_000_000 }
    ]
    for (const { size, blocksize } of cases) {
      const path = join(dir, `App-${size}.AppImage`)
      await writeFile(path, pseudoRandom(size, `zsyncmake ${size}`))
      await compareWithZsyncmake(path, blocksize)
    }
    // 100,000,000 bytes is where zsyncmake moves to blocks of 4096 (a sparse file: zeros, and a few bytes at the end)
    const large = join(dir, 'Large.AppImage')
    await writeFile(large, '')
    await truncate(large, 100_000_000 - 3)
    await writeFile(large, 'end', { flag: 'a' })
    await compareWithZsyncmake(large)
  })

  async function compareWithZsyncmake (path: string, blocksize?: number): Promise<void> {
    await utimes(path, MTIME, MTIME)
    const url = 'https://mirror.example/ipfs/bafy?filename=App.AppImage'
    const out = `${path}.zsync`
    await run('zsyncmake', ['-u', url, '-o', out, ...(blocksize == null ? [] : ['-b', String(blocksize)]), path])
    const expected = new Uint8Array(await readFile(out))
    const reader = await createFileReader(path)
    try {
      const mine = await makeZsyncControlFile(reader, { filename: path.slice(path.lastIndexOf('/') + 1), urls: [url], mtime: MTIME, blocksize })
      assert.ok(Buffer.from(mine).equals(expected), `${path} (blocksize ${blocksize ?? 'default'}): expected zsyncmake's bytes, got a different file; zsyncmake's header:\n${Buffer.from(expected.subarray(0, 300)).toString('latin1')}`)
    } finally {
      await reader.close()
    }
  }
})

function rejectionSync (fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw, the call succeeded')
}
