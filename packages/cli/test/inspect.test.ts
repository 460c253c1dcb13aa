import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildFixtures } from '../../appimage/test/fixtures/build.ts'
import { runCli, tempDir } from '../../../test/helpers/cli.ts'
import type { AppImageFixture } from '../../appimage/test/fixtures/build.ts'

describe('hubless inspect', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let fixture: AppImageFixture
  before(async () => {
    dir = await tempDir()
    const built = await buildFixtures(dir.path, [{ compressor: 'zstd', blockSize: 131072, fragments: true }])
    fixture = built.fixtures[0]!
  })
  after(async () => { await dir.remove() })

  it('reports an AppImage as JSON', async () => {
    const result = await runCli(['--json', 'inspect', fixture.path])
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout) as { type: number, architecture: string, squashfs: { compressor: string, blockSize: number }, draft: { appId: string }, chunks: { kind: string, count: number }, signature: { present: boolean } }
    assert.equal(report.type, 2)
    assert.equal(report.architecture, 'x86_64')
    assert.equal(report.squashfs.compressor, 'zstd')
    assert.equal(report.squashfs.blockSize, 131072)
    assert.equal(report.chunks.kind, 'squashfs')
    assert.ok(report.chunks.count > 1)
    assert.equal(report.signature.present, false)
    assert.match(report.draft.appId, /^[a-z]+\.[a-z]/i)
  })

  it('reports it for a person', async () => {
    const result = await runCli(['inspect', fixture.path])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /AppImage type 2, x86_64/)
    assert.match(result.stdout, /squashfs\s+at \d+, .*zstd, 128\.0 KiB blocks/)
    assert.match(result.stdout, /app id\s+\S+/)
  })

  it('rejects a file that is not an AppImage with one line', async () => {
    const path = join(dir.path, 'not.AppImage')
    await writeFile(path, 'just some text, not an ELF file at all\n')
    const result = await runCli(['inspect', path])
    assert.equal(result.code, 1)
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    assert.match(result.stderr, /^hubless: /)
  })

  it('a missing file', async () => {
    const result = await runCli(['inspect', join(dir.path, 'missing.AppImage')])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^hubless: no such file or directory/)
  })
})
