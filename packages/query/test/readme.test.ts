import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { after, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
// next to package.json, so that `import … from '@hubless/query'` resolves to this package
const example = `${packageDir}readme-example-${randomBytes(4).toString('hex')}.ts`

after(async () => { await rm(example, { force: true }) })

it('runs the first ts example of the README', async () => {
  const readme = await readFile(`${packageDir}README.md`, 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  assert.ok(code != null, 'README.md must contain a ```ts block')
  await writeFile(example, code)
  const { stdout } = await run(process.execPath, [example], { timeout: 60_000 })
  assert.match(stdout, /^Krita 5\.2\.0 trusted via root did:key:z6Mk\w+ -> did:key:z6Mk\w+$/m, 'the trusted author\'s release, with its path')
  assert.match(stdout, /^conflicting 99\.0$/m, 'the squatter is shown as conflicting, its inflated version not served')
  assert.match(stdout, /^beta reader gets 5\.3\.0-beta\.1$/m)
  assert.match(stdout, /^reloaded: org\.kde\.krita$/m)
})
