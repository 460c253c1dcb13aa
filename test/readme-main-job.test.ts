/**
 * The README's first line, run as a new user runs it: in a fresh clone, verbatim, with only the
 * machine's own Node on the PATH (none of this checkout's node_modules/.bin). pnpm installs from
 * its store (`npm_config_offline`: the packages the outer install fetched, so no test reaches the
 * network), the install brings Node 24 itself, and the mirror comes up serving the storefront.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const mainJob = /```sh\n([^`]+?)\n```/.exec(readme)?.[1]?.trim() ?? ''

it('sets up and starts a mirror serving the storefront from a fresh clone, verbatim', { timeout: 300_000 }, async () => {
  assert.match(mainJob, / start$/)
  const dir = await mkdtemp(join(tmpdir(), 'hubless-readme-job-'))
  try {
    await run('git', ['clone', '--quiet', root, join(dir, 'clone')], { timeout: 60_000 })
    const path = (process.env.PATH ?? '').split(delimiter).filter(p => !p.includes('node_modules') && !p.includes('.ci/tools')).join(delimiter)
    const child = spawn('bash', ['-c', mainJob], {
      cwd: join(dir, 'clone'),
      env: { ...process.env, PATH: path, npm_config_offline: 'true', HUBLESS_DATA_DIR: join(dir, 'data'), DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    let out = ''
    child.stdout.on('data', chunk => { out += String(chunk) })
    child.stderr.on('data', chunk => { out += String(chunk) })
    const exited = new Promise<number | null>(resolve => { child.on('close', code => { resolve(code) }) })
    try {
      const storefront = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`no ready line within 240 s:\n${out.slice(-3000)}`)) }, 240_000)
        const check = (): void => {
          const match = /ready: storefront (http:\/\/\S+?)\/? /.exec(out)
          if (match?.[1] != null) { clearTimeout(timer); resolve(match[1]) }
        }
        child.stdout.on('data', check)
        child.stderr.on('data', check)
        void exited.then(code => { clearTimeout(timer); reject(new Error(`exited ${code} before its ready line:\n${out.slice(-3000)}`)) })
      })
      const page = await fetch(`${storefront}/`, { signal: AbortSignal.timeout(10_000) })
      assert.equal(page.status, 200)
      assert.match(await page.text(), /<title>[^<]*hubless/i)
      const apps = await (await fetch(`${storefront}/api/v1/apps?q=krita`, { signal: AbortSignal.timeout(10_000) })).json() as { total: number }
      assert.ok(apps.total >= 1, 'the embedded catalog was imported')
      assert.match(out, /event=seed:done .*appended=1669/)
    } finally {
      // the whole group: bash, npx, pnpm and the mirror
      try { process.kill(-child.pid!, 'SIGINT') } catch {}
      const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch {} }, 20_000)
      await exited
      clearTimeout(timer)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
