/**
 * Walks the README as a new user would: the `hubless …` lines of the ```sh blocks of "For mirror
 * operators", "For app authors" and "For users", in that order, each run as a real process with its
 * own HOME and XDG_DATA_HOME (so each role's data dir is the default `$XDG_DATA_HOME/hubless`).
 *
 * A line is changed only where it names something that cannot exist here, by one fixed mapping
 * (SUBSTITUTIONS); a line this test does not recognise, or a recognised one that is missing, fails
 * it, so the README and this walk cannot drift apart silently.
 *
 * Besides the README's lines the walk runs only what a person in each role would do between them:
 * a second mirror for the operator's `--peer <another mirror>`, the author's `hubless init` (which
 * the section's prose names) and `hubless key show --json` (the key the users' `trust add` takes),
 * and, after the users' install, the author's next release (`publish … --version 2.0.0`) that
 * `list`, `update` and `rollback` then act on.
 */
import assert from 'node:assert/strict'
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { dirname, join } from 'node:path'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { buildFixtures } from '../packages/appimage/test/fixtures/build.ts'
import { runCli, startCli, tempDir } from './helpers/cli.ts'
import type { CliResult, RunningCli } from './helpers/cli.ts'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const APP = 'org.example.MyApp'
/** the order a newcomer meets them in: a mirror to publish to, an author who publishes, a user who installs */
const WALK = ['For mirror operators', 'For app authors', 'For users'] as const
/** README lines that cannot run here, and what the walk checks instead */
const SKIPPED: Array<{ line: RegExp, why: string }> = [
  { line: /^appimagetool -u "zsync\|(https:\/\/mirror\.example\.org\/\S+\.zsync)" MyApp\.AppDir$/, why: 'appimagetool is not installed here; the zsync URL it embeds is fetched from the operator\'s mirror instead' }
]

/** The sh lines of one README section: `\`-continuations joined, `# comments` and blank lines dropped */
function sectionCommands (readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`)
  assert.ok(start >= 0, `README.md has a "## ${heading}" section`)
  const end = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, end < 0 ? undefined : end)
  const lines: string[] = []
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = (block[1] ?? '').replace(/\\\n\s*/g, '')
    for (const line of joined.split('\n')) {
      const command = line.replace(/(^|\s)#.*$/, '').trim()
      if (command !== '') lines.push(command)
    }
  }
  return lines
}

/** Shell words of a line: whitespace-separated, double or single quotes kept together */
function words (line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(m => m[1] ?? m[2] ?? m[3] ?? '')
}

let dir: Awaited<ReturnType<typeof tempDir>>
let otherMirror: RunningCli | undefined
let mirror: RunningCli | undefined
let files: Server | undefined
const images = { v1: '', v2: '' }
/** what the substitutions need, filled in as the walk gets there */
const here = { otherMirror: '', mirror: '', mirrorUrl: '', mirrorPeerId: '', download: '', author: '' }

/**
 * The fixed mapping from what the README names to what exists in this test. Each line is run with
 * these and no other changes; longer patterns come first so that a URL is replaced before the file
 * name inside it.
 */
const SUBSTITUTIONS: Array<[string, () => string]> = [
  ['--listen /ip4/0.0.0.0/tcp/4001', () => '--listen /ip4/127.0.0.1/tcp/0'],
  ['--http 0.0.0.0:7420', () => '--http 127.0.0.1:0'],
  ['<another mirror>', () => here.otherMirror],
  ['/dns4/mirror.example.org/tcp/4001/p2p/12D3Koo…', () => here.mirror],
  ['https://mirror.example.org', () => here.mirrorUrl],
  ['https://example.org/MyApp-x86_64.AppImage', () => here.download],
  ['MyApp-x86_64.AppImage', () => images.v1],
  ['did:key:z6Mk…', () => here.author]
]

function substitute (line: string): string {
  let out = line
  for (const [from, to] of SUBSTITUTIONS) {
    if (out.includes(from)) out = out.split(from).join(to())
  }
  return out
}

/** Each role is a person with a home of their own: HOME and XDG_DATA_HOME are temp dirs */
type Role = 'operator' | 'other' | 'author' | 'user'
function home (role: Role): string { return join(dir.path, role) }
function roleEnv (role: Role): Record<string, string> {
  return { HOME: home(role), XDG_DATA_HOME: join(home(role), '.local', 'share') }
}
const userShare = (): string => roleEnv('user').XDG_DATA_HOME!
const installedPath = (): string => join(home('user'), 'Applications', `${APP}.AppImage`)

async function hubless (role: Role, args: string[]): Promise<CliResult> {
  const result = await runCli(args, { timeout: 150_000, env: roleEnv(role) })
  assert.equal(result.code, 0, `hubless ${args.join(' ')} (${role}) exits 0\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
  return result
}

/** Parses `12.3 MiB` as formatBytes writes it; the upper bound of what it can mean */
function parseBytes (text: string): number {
  const match = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(text)
  assert.ok(match != null, `a size as formatBytes writes it: "${text}"`)
  return Math.ceil((Number(match[1]) + (match[2] === 'B' ? 0 : 0.05)) * 1024 ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(match[2]!))
}

async function startMirror (role: Role, args: string[]): Promise<{ running: RunningCli, peerId: string, url: string, multiaddr: string }> {
  const running = await startCli(args, { timeout: 90_000, env: roleEnv(role) })
  const ready = /^hubless mirror (12D3Koo\w+) ready: storefront (http:\/\/127\.0\.0\.1:\d+)\/ , listening on (.+)$/.exec(running.readyLine)
  const multiaddr = ready?.[3]?.split(' ').find(ma => ma.startsWith('/ip4/127.0.0.1/tcp/'))
  if (ready == null || multiaddr == null) {
    await running.stop()
    assert.fail(`the mirror prints its peer id, storefront URL and a 127.0.0.1 address: ${running.readyLine}`)
  }
  return { running, peerId: ready[1]!, url: ready[2]!, multiaddr: multiaddr.includes('/p2p/') ? multiaddr : `${multiaddr}/p2p/${ready[1]}` }
}

/** Polls until `check` holds, at most `timeout` ms */
async function eventually (what: string, check: () => Promise<boolean>, timeout = 60_000): Promise<void> {
  const signal = AbortSignal.timeout(timeout)
  while (!signal.aborted) {
    if (await check().catch(() => false)) return
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  assert.fail(`${what} within ${timeout} ms`)
}

/** The README's lines, each with what runs it here and what it must print */
interface Step { line: RegExp, run: (line: string) => Promise<void> }

const STEPS: Record<typeof WALK[number], Step[]> = {
  'For mirror operators': [{
    line: /^hubless mirror --listen \S+ --peer <another mirror> --pin all --max-bytes 200G --http \S+$/,
    async run (line) {
      const started = await startMirror('operator', words(substitute(line)).slice(1))
      mirror = started.running
      here.mirror = started.multiaddr
      here.mirrorUrl = started.url
      here.mirrorPeerId = started.peerId
      const ready = await fetch(`${started.url}/readyz`, { signal: AbortSignal.timeout(10_000) })
      assert.equal(ready.status, 200, '/readyz answers 200')
      const storefront = await fetch(`${started.url}/`, { signal: AbortSignal.timeout(10_000) })
      assert.equal(storefront.status, 200, 'the storefront is served at /')
      assert.match(storefront.headers.get('content-type') ?? '', /text\/html/)
    }
  }],
  'For app authors': [{
    line: /^hubless inspect MyApp-x86_64\.AppImage$/,
    async run (line) {
      const { stdout } = await hubless('author', words(substitute(line)).slice(1))
      assert.ok(stdout.includes(APP), `inspect names the app id from the AppStream metainfo:\n${stdout}`)
      assert.ok(stdout.includes('1.1.0'), `and its version:\n${stdout}`)
      assert.match(stdout, /x86_64/, 'and the architecture')
    }
  }, {
    line: /^hubless publish MyApp-x86_64\.AppImage --channel release --url https:\/\/example\.org\/MyApp-x86_64\.AppImage --peer \/dns4\/mirror\.example\.org\/\S+$/,
    async run (line) {
      const { stdout } = await hubless('author', words(substitute(line)).slice(1))
      assert.match(stdout, /^published org\.example\.MyApp 1\.1\.0 \(release, x86_64\)$/m, stdout)
      assert.match(stdout, new RegExp(`held by\\s+${here.mirrorPeerId}`), `the operator's mirror holds the record and keeps the content:\n${stdout}`)
      // the operator's `--peer <another mirror>`: the record replicates on to the other mirror
      const otherUrl = /storefront (http:\/\/127\.0\.0\.1:\d+)\//.exec(otherMirror!.readyLine)![1]!
      await eventually('the other mirror replicates the release from the operator\'s mirror', async () => {
        const response = await fetch(`${otherUrl}/api/v1/apps/${APP}`, { signal: AbortSignal.timeout(5_000) })
        return response.ok && JSON.stringify(await response.json()).includes('"1.1.0"')
      })
    }
  }],
  'For users': [{
    line: /^hubless trust add did:key:z6Mk…$/,
    async run (line) {
      const { stdout } = await hubless('user', words(substitute(line)).slice(1))
      assert.match(stdout, new RegExp(`^trusting ${here.author}; 1 root\\(s\\)$`, 'm'), stdout)
    }
  }, {
    line: /^hubless install org\.example\.MyApp --mirror https:\/\/mirror\.example\.org$/,
    async run (line) {
      const { stdout } = await hubless('user', words(substitute(line)).slice(1))
      assert.ok(stdout.includes(`installed ${APP} 1.1.0 (release, x86_64) at ${installedPath()}, trusted`), `install says what it put where:\n${stdout}`)
      assert.deepEqual(await readFile(installedPath()), await readFile(images.v1), 'into ~/Applications, the published file byte for byte')
      assert.equal((await stat(installedPath())).mode & 0o777, 0o755, 'executable')
      const desktop = await readFile(join(userShare(), 'applications', `hubless-${APP}.desktop`), 'utf8')
      assert.match(desktop, new RegExp(`^Exec=${installedPath()} %F$`, 'm'), 'with a menu entry that runs it')
      assert.ok((await stat(join(userShare(), 'icons', 'hicolor', '16x16', 'apps', `hubless-${APP}.png`))).size > 0, 'and its icon')
      // the author's next release, which the users' section then lists, updates and rolls back
      const published = await hubless('author', ['publish', images.v2, '--channel', 'release', '--version', '2.0.0', '--peer', here.mirror])
      assert.match(published.stdout, /^published org\.example\.MyApp 2\.0\.0 \(release, x86_64\)$/m)
    }
  }, {
    line: /^hubless list$/,
    async run (line) {
      const { stdout } = await hubless('user', words(substitute(line)).slice(1))
      assert.ok(stdout.includes(`${APP} 1.1.0 (release, x86_64)  ${installedPath()}  -> 2.0.0 available`), `list shows the installed app and its update:\n${stdout}`)
    }
  }, {
    line: /^hubless update$/,
    async run (line) {
      const { stdout } = await hubless('user', words(substitute(line)).slice(1))
      const updated = new RegExp(`^${APP.replaceAll('.', '\\.')} 1\\.1\\.0 -> 2\\.0\\.0: fetched (.+), reused (.+)$`, 'm').exec(stdout)
      assert.ok(updated != null, `update says what it fetched and reused:\n${stdout}`)
      const size = (await stat(images.v2)).size
      const fetched = parseBytes(updated[1]!)
      assert.ok(fetched < size / 2, `only the blocks that changed: fetched ${updated[1]} of a ${size}-byte file`)
      assert.ok(parseBytes(updated[2]!) > size / 2, `most of it reused from the installed file: ${updated[2]}`)
      assert.deepEqual(await readFile(installedPath()), await readFile(images.v2), 'the installed file is now 2.0.0')
      assert.equal((await stat(installedPath())).mode & 0o777, 0o755)
    }
  }, {
    line: /^hubless rollback org\.example\.MyApp$/,
    async run (line) {
      const { stdout } = await hubless('user', words(substitute(line)).slice(1))
      assert.ok(stdout.includes(`${APP} 2.0.0 -> 1.1.0 at ${installedPath()}`), `rollback says where it went back to:\n${stdout}`)
      assert.deepEqual(await readFile(installedPath()), await readFile(images.v1), 'the first version, byte for byte')
      assert.equal((await stat(installedPath())).mode & 0o777, 0o755)
    }
  }]
}

before(async () => {
  dir = await tempDir('hubless-readme-walk-')
  // the author's AppImage, and its next version: the program differs, the rest is shared
  for (const seed of ['v1', 'v2'] as const) {
    images[seed] = (await buildFixtures(join(dir.path, `build-${seed}`), [{ compressor: 'zstd', blockSize: 131072, fragments: true }], { seed })).fixtures[0]!.path
  }
  // https://example.org/MyApp-x86_64.AppImage: the author's own download, here a local server
  files = createServer((request, response) => {
    if (request.url !== '/MyApp-x86_64.AppImage') {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': 'application/vnd.appimage' })
    createReadStream(images.v1).pipe(response)
  })
  await new Promise<void>(resolve => { files!.listen(0, '127.0.0.1', resolve) })
  here.download = `http://127.0.0.1:${(files.address() as AddressInfo).port}/MyApp-x86_64.AppImage`
  // <another mirror>: the one the operator's mirror peers with
  const other = await startMirror('other', ['mirror', '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0'])
  otherMirror = other.running
  here.otherMirror = other.multiaddr
})

after(async () => {
  await mirror?.stop()
  await otherMirror?.stop()
  files?.closeAllConnections()
  await new Promise(resolve => { files?.close(resolve) ?? resolve(undefined) })
  await dir?.remove()
})

it('runs every hubless line of the operators\', authors\' and users\' sections as written', { timeout: 600_000 }, async (t) => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  for (const heading of WALK) {
    const lines = sectionCommands(readme, heading)
    const steps = [...STEPS[heading]]
    if (heading === 'For app authors') {
      // "`hubless init` creates it": the prose before the block, run before it
      assert.match(readme, /`hubless init` creates it/, 'the authors\' section tells them to run hubless init')
      await hubless('author', ['init'])
      here.author = JSON.parse((await hubless('author', ['key', 'show', '--json'])).stdout).publisher
      assert.match(here.author, /^did:key:z6Mk/)
    }
    for (const line of lines) {
      const skipped = SKIPPED.find(s => s.line.test(line))
      if (skipped != null) {
        t.diagnostic(`skipped: ${line} (${skipped.why})`)
        const url = skipped.line.exec(line)?.[1]
        if (url != null) {
          const response = await fetch(substitute(url), { signal: AbortSignal.timeout(30_000) })
          const body = await response.text()
          assert.equal(response.status, 200, `${url} is served by the operator's mirror: ${body.slice(0, 200)}`)
          assert.match(body, /^zsync: /m, 'a zsync control file')
        }
        continue
      }
      const step = steps.shift()
      if (step == null || !step.line.test(line)) {
        assert.fail(`${heading}: the walk does not know the README line "${line}"; expected ${step?.line ?? 'no more lines'}`)
      }
      t.diagnostic(`${heading}: ${line}`)
      await step.run(line)
    }
    assert.deepEqual(steps.map(s => s.line.source), [], `${heading}: README lines the walk expected but did not find`)
  }
})
