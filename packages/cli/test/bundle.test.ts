/**
 * The one-file bundle long-running commands start from (bin/bundle.js): made once, used while
 * every file it was made from and the bundle itself are unchanged, made again when one changed
 * or Node did, and the sources run where no bundle can be had. What the bundle runs is checked by every test that
 * starts a mirror or a daemon through the command line.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { tempDir } from '../../../test/helpers/cli.ts'
import { eventually } from '../../../test/helpers/eventually.ts'
import { bundledMain } from '../bin/bundle.js'

const run = promisify(execFile)

describe('the bundle of long-running commands', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let cache: string
  let first: string
  before(async () => {
    dir = await tempDir()
    cache = join(dir.path, 'cache')
  })
  after(async () => { await dir.remove() })

  it('is made from src/main.ts, and runs the command line with its files found next to the sources', async () => {
    first = (await bundledMain({ directory: cache, env: {} }))!
    assert.ok(first?.startsWith(cache), `a bundle in the cache, got ${first}`)
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }
    // --version reads package.json through the module's own import.meta.url, kept in the bundle
    const script = `const { main } = await import(${JSON.stringify(pathToFileURL(first).href)}); process.exitCode = await main(['--version'])`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 })
    assert.equal(stdout.trim(), pkg.version)
    const dataDir = join(dir.path, 'data')
    const init = `const { main } = await import(${JSON.stringify(pathToFileURL(first).href)}); process.exitCode = await main(['--data-dir', ${JSON.stringify(dataDir)}, '--json', 'init'])`
    const made = await run(process.execPath, ['--input-type=module', '-e', init], { timeout: 60_000 })
    assert.match(JSON.parse(made.stdout).publisher, /^did:key:z6Mk/, 'a publisher key made by the bundled code')
  })

  it('leaves no esbuild service running beside the process that made it', async () => {
    const esbuildChildren = async (): Promise<string[]> => {
      const { stdout } = await run('ps', ['-o', 'args=', '--ppid', String(process.pid)]).catch(() => ({ stdout: '' }))
      return stdout.split('\n').filter(line => line.includes('esbuild'))
    }
    await eventually('the esbuild service to end', async () => (await esbuildChildren()).length === 0 ? true : undefined, 10_000)
  })

  it('is used again while nothing it was made from changed', async () => {
    assert.equal(await bundledMain({ directory: cache, env: {} }), first)
    assert.equal((await readdir(cache)).filter(name => name.endsWith('.mjs')).length, 1)
  })

  it('is made again when a file it was made from changed, or Node did', async () => {
    const manifestPath = join(cache, 'bundle.json')
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { node: string, inputs: Array<[string, number, number]> }
    assert.ok(manifest.inputs.some(([path]) => path.endsWith(join('packages', 'registry', 'src', 'index.ts'))), 'the packages\' sources are among its inputs')
    assert.ok(manifest.inputs.some(([path]) => path.includes('node_modules')), 'and the installed packages')
    // a source edited since: its recorded size no longer matches
    manifest.inputs[0]![2] += 1
    await writeFile(manifestPath, JSON.stringify(manifest))
    const second = await bundledMain({ directory: cache, env: {} })
    assert.ok(second != null && second !== first, 'a new bundle')
    assert.ok((await readdir(cache)).includes(first.slice(cache.length + 1)), 'the one before is kept while another process may still be loading it')

    const rebuilt = JSON.parse(await readFile(manifestPath, 'utf8')) as { node: string }
    rebuilt.node = 'v22.0.0'
    await writeFile(manifestPath, JSON.stringify(rebuilt))
    const third = await bundledMain({ directory: cache, env: {} })
    assert.ok(third != null && third !== second, 'made again for this Node')
  })

  it('is made again when the bundle itself is not as it was written', async () => {
    const current = (await bundledMain({ directory: cache, env: {} }))!
    await truncate(current, 1000)
    const again = await bundledMain({ directory: cache, env: {} })
    assert.ok(again != null && again !== current, 'a torn bundle is not loaded')
  })

  it('is not used with HUBLESS_BUNDLE=0, nor where it cannot be made: the sources run', async () => {
    assert.equal(await bundledMain({ directory: cache, env: { HUBLESS_BUNDLE: '0' } }), undefined)
    // a file where the cache directory would be
    const blocked = join(dir.path, 'blocked')
    await writeFile(blocked, '')
    assert.equal(await bundledMain({ directory: join(blocked, 'cache'), env: {} }), undefined)
  })
})
