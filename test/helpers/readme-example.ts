/** Runs the first ```ts block of a package README, as a user would paste it, and returns what it printed */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export async function runReadmeExample (packageDir: string, args: string[] = [], timeout = 60_000): Promise<string> {
  const readme = await readFile(join(packageDir, 'README.md'), 'utf8')
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  assert.ok(code != null, `${packageDir}/README.md must contain a \`\`\`ts block`)
  // next to package.json, so that `import … from '@hubless/<package>'` resolves to this package
  const example = join(packageDir, `readme-example-${randomBytes(4).toString('hex')}.ts`)
  await writeFile(example, code)
  try {
    const { stdout } = await run(process.execPath, [example, ...args], { timeout })
    return stdout
  } finally {
    await rm(example, { force: true })
  }
}
