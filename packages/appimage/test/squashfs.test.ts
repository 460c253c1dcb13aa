import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { createBytesReader, createFileReader, openAppImage, openSquashfs, type Squashfs } from '../src/index.ts'
import { rejection, useFixtures } from './helpers.ts'

const run = promisify(execFile)

async function listTree (root: string, dir = root): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    out.push(relative(root, p))
    if (e.isDirectory()) out.push(...await listTree(root, p))
  }
  return out
}

describe('SquashFS reader', () => {
  const set = useFixtures()

  it('reads every entry of every fixture byte for byte as in the source tree', async () => {
    const expected = (await listTree(set.tree)).sort()
    for (const f of set.fixtures) {
      const app = await openAppImage(f.path)
      try {
        const fs = app.squashfs!
        assert.equal(fs.superblock.compressor, f.compressor, f.name)
        assert.equal(fs.superblock.blockSize, f.blockSize, f.name)
        assert.equal(fs.offset, f.runtimeSize, `${f.name}: the image starts where the runtime ends`)
        if (!f.fragments) assert.equal(fs.superblock.fragmentCount, 0, f.name)
        else assert.ok(fs.superblock.fragmentCount > 0, `${f.name} has fragments`)
        const seen: string[] = []
        for await (const entry of fs.walk()) {
          seen.push(entry.path)
          const source = join(set.tree, entry.path)
          const st = await lstat(source)
          if (entry.type === 'file') {
            assert.ok(st.isFile(), `${f.name}: ${entry.path} is a file`)
            assert.equal(entry.size, st.size, `${f.name}: size of ${entry.path}`)
            const data = await fs.readFile(entry.path)
            assert.ok(Buffer.from(data).equals(await readFile(source)), `${f.name}: contents of ${entry.path}`)
            assert.equal(entry.mode & 0o777, st.mode & 0o777, `${f.name}: mode of ${entry.path}`)
          } else if (entry.type === 'symlink') {
            assert.ok(st.isSymbolicLink(), `${f.name}: ${entry.path} is a symlink`)
            assert.equal(entry.target, await readlink(source))
          } else {
            assert.equal(entry.type, 'directory')
            assert.ok(st.isDirectory(), `${f.name}: ${entry.path} is a directory`)
          }
        }
        assert.deepEqual(seen.sort(), expected, `${f.name}: the same entries as the tree`)
      } finally {
        await app.close()
      }
    }
  })

  it('lists the same paths as unsquashfs -l', async () => {
    const f = set.fixtures[0]!
    const { stdout } = await run('unsquashfs', ['-l', '-d', '', f.squashfsPath], { maxBuffer: 16 * 1024 * 1024 })
    const theirs = stdout.split('\n').filter(l => l.startsWith('/')).map(l => l.slice(1)).sort()
    const reader = await createFileReader(f.squashfsPath)
    try {
      const fs = await openSquashfs(reader)
      const ours: string[] = []
      for await (const e of fs.walk()) ours.push(e.path)
      assert.deepEqual(ours.sort(), theirs)
    } finally {
      await reader.close()
    }
  })

  it('resolves symlinks, streams files and reports special cases with named errors', async () => {
    const f = set.fixtures.find(x => x.compressor === 'gzip' && x.fragments)!
    const fs: Squashfs = await openSquashfs(createBytesReader(await readFile(f.path)), f.runtimeSize)
    const lib = await readFile(join(set.tree, 'usr/lib/libfoo.so.1'))
    assert.ok(Buffer.from(await fs.readFile('usr/lib/libfoo.so')).equals(lib), 'relative symlink')
    assert.ok(Buffer.from(await fs.readFile('/usr/bin/abs-link')).equals(lib), 'absolute symlink')
    assert.equal(new TextDecoder().decode(await fs.readFile('usr/bin/dir-link/still/small.txt')), 'small file v1\n', 'symlink to a directory in the middle of a path')
    assert.equal((await fs.stat('usr/bin/dir-link')).type, 'symlink')
    assert.equal((await fs.stat('usr/bin/dir-link', { followSymlinks: true })).type, 'directory')
    assert.equal(await fs.readlink('.DirIcon'), 'org.example.MyApp.png')
    assert.equal((await rejection(fs.readFile('usr/bin/loop-a'))).name, 'SymlinkLoopError')
    assert.equal((await rejection(fs.readFile('usr/bin/dangling'))).name, 'FileNotFoundError')
    assert.equal((await rejection(fs.readFile('usr'))).name, 'NotAFileError')
    assert.equal((await rejection(fs.readdir('AppRun'))).name, 'NotAFileError')
    assert.equal((await rejection(fs.readlink('AppRun'))).name, 'NotAFileError')
    assert.equal((await rejection(fs.readFile('usr/lib/libfoo.so.1', { maxSize: 1000 }))).name, 'FileTooLargeError')
    assert.equal((await rejection(fs.stat('nope/deeper'))).name, 'FileNotFoundError')

    const sparse = await fs.readFile('usr/lib/sparse.bin')
    assert.equal(sparse.byteLength, 3 * 1024 * 1024 + 4)
    assert.ok(sparse.subarray(0, 3 * 1024 * 1024).every(b => b === 0), 'sparse blocks read as zeros')
    assert.equal(new TextDecoder().decode(sparse.subarray(-4)), 'tail')

    const parts: Uint8Array[] = []
    for await (const p of fs.createReadStream('usr/lib/libfoo.so.1')) parts.push(p)
    assert.ok(parts.length > 1, 'streams block by block')
    assert.ok(Buffer.concat(parts).equals(lib))

    const many = await fs.readdir('usr/share/many')
    assert.equal(many.length, 400, 'a directory spanning several headers and metadata blocks')
    assert.equal((await fs.stat('usr/lib/hardlink.txt')).inode, (await fs.stat('usr/lib/deep/er/still/small.txt')).inode, 'hard links share an inode')
    assert.equal((await fs.stat('')).type, 'directory')
    assert.equal(new TextDecoder().decode(await fs.readFile('usr/share/ünïcødé名前.txt')), 'unicode name\n')
  })

  it('reads a bare squashfs image (no runtime)', async () => {
    const f = set.fixtures[1]!
    const reader = await createFileReader(f.squashfsPath)
    try {
      const fs = await openSquashfs(reader)
      assert.equal(fs.offset, 0)
      assert.equal((await fs.readdir('')).length > 3, true)
    } finally {
      await reader.close()
    }
  })

  it('honours an aborted signal', async () => {
    const f = set.fixtures[0]!
    const app = await openAppImage(f.path)
    try {
      const err = await rejection(app.squashfs!.readFile('usr/lib/libfoo.so.1', { signal: AbortSignal.abort() }))
      assert.equal(err.name, 'AbortError')
    } finally {
      await app.close()
    }
  })
})
