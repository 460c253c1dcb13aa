import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const shBlocks = [...readme.matchAll(/```sh\n([^`]+?)\n```/g)].map(m => (m[1] ?? '').trim())
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager: string, scripts: Record<string, string> }

describe('README command lines', () => {
  it('opens with two command lines: the main job and every test', () => {
    assert.ok(shBlocks.length >= 2, 'two sh blocks')
    assert.match(shBlocks[0] ?? '', / start$/)
    assert.match(shBlocks[1] ?? '', / test$/)
  })

  it('pins the same pnpm that package.json declares', () => {
    const version = pkg.packageManager.replace(/^pnpm@/, '')
    for (const block of shBlocks.slice(0, 2)) {
      for (const use of block.matchAll(/pnpm@([\d.]+)/g)) {
        assert.equal(use[1], version, `README uses pnpm@${use[1]}, package.json ${pkg.packageManager}`)
      }
    }
  })

  it('.ci/run ends with exactly the README test command', () => {
    const lines = readFileSync(join(root, '.ci', 'run'), 'utf8').trim().split('\n')
    assert.equal(lines.at(-1), shBlocks[1])
  })

  it('the scripts they call exist, and the test script runs lint, type-check and tests', () => {
    assert.ok(pkg.scripts.start != null)
    assert.match(pkg.scripts.test ?? '', /lint/)
    assert.match(pkg.scripts.test ?? '', /typecheck/)
    assert.match(pkg.scripts['test:only'] ?? '', /node --test/)
  })
})
