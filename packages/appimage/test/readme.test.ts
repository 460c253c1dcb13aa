import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { useFixtures } from './helpers.ts'

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
// next to package.json, so that `import … from '@hubless/appimage'` resolves to this package
const example = `${packageDir}readme-example-${randomBytes(4).toString('hex')}.ts`

describe('README', () => {
  const set = useFixtures([{ compressor: 'zstd', blockSize: 131072, fragments: true }])
  after(async () => { await rm(example, { force: true }) })

  it('runs the first ts example of the README on a fixture AppImage', async () => {
    const readme = await readFile(`${packageDir}README.md`, 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    assert.ok(code != null, 'README.md must contain a ```ts block')
    await writeFile(example, code)
    const { stdout } = await run(process.execPath, [example, set.fixtures[0]!.path], { timeout: 60_000 })
    assert.match(stdout, /type 2, x86_64, zstd 131072-byte blocks/)
    assert.match(stdout, /app id org\.example\.MyApp, signed: false, \d+ chunks/)
    assert.match(stdout, /My App 1\.1\.0: AppRun has \d+ bytes, icon image\/png/)
    assert.match(stdout, /\d+ chunks, as planned: true/)
  })
})
