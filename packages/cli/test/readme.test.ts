import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, readFile, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { buildFixtures } from '../../appimage/test/fixtures/build.ts'
import { HUBLESS_BIN, cliEnv, tempDir } from '../../../test/helpers/cli.ts'

const run = promisify(execFile)
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
let dir: Awaited<ReturnType<typeof tempDir>>
before(async () => { dir = await tempDir('hubless-readme-') })
after(async () => { await dir.remove() })

it('runs the sh example of the README', async () => {
  const readme = await readFile(join(packageDir, 'README.md'), 'utf8')
  const script = /```sh\n([\s\S]*?)```/.exec(readme)?.[1]
  assert.ok(script != null, 'README.md must contain a ```sh block')
  const appImage = (await buildFixtures(join(dir.path, 'fx'), [{ compressor: 'zstd', blockSize: 131072, fragments: true }])).fixtures[0]!.path
  // `hubless` on PATH, as the README tells a user to install it; node is this test's node
  const bin = join(dir.path, 'bin')
  await mkdir(bin)
  await symlink(HUBLESS_BIN, join(bin, 'hubless'))
  await symlink(process.execPath, join(bin, 'node'))
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
    timeout: 120_000,
    env: cliEnv({ PATH: `${bin}:${process.env.PATH ?? ''}`, APPIMAGE: appImage, TMP: dir.path })
  })
  assert.match(stdout, /published org\.example\.MyApp 1\.1\.0 \(release, x86_64\)/)
  assert.match(stdout, /held by\s+12D3Koo/, 'the mirror took the release')
  assert.match(stdout, /My App 1\.1\.0\s+org\.example\.MyApp\s+\[unverified\]/, 'and lists it')
})
