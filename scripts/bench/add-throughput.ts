/**
 * How fast an AppImage is added to IPFS the way `publish` and the mirror's archiver do it
 * (`addAppImageContent`: read, squashfs-aware chunks, sha2-256, blockstore, pin) on a real node,
 * against Debian's `ipfs-cid` (Rust; reads and hashes the same file into a UnixFS DAG without
 * storing it) in the same run. Also in the same run: Helia's stock `addByteStream` + `pins.add`
 * with the same chunker on a fresh node (the add path as it was before it was tuned), which must
 * give the same CID.
 *
 * Figures: MB/s (10^6 bytes/s) of each, the ratio to `ipfs-cid` (goal >= 0.5x), and the RSS the
 * process grows by while adding (sampled every 10 ms; goal: a mirror stays <= 300 MB while it
 * archives a 2 GB image), split into anonymous memory and file-backed pages (LevelDB maps the
 * table files it compacts; the kernel reclaims those as page cache). On a shared machine wall time varies from run to run, so the fastest of
 * RUNS counts, and MB per CPU second (user + system, every thread) is shown beside it. `ipfs-cid` cuts 256 KiB chunks into dag-pb leaves (CIDv0); its CID is
 * checked against `ipfs-unixfs-importer` with those parameters, since hubless's own CIDs (squashfs
 * cuts, raw leaves, CIDv1) are not comparable with it.
 *
 * Needs squashfs-tools and ipfs-cid (`apt-get install squashfs-tools ipfs-cid`). Images are built
 * once into tmp/add-throughput/ (git-ignored): 64 MiB at 1 MiB and at 128 KiB blocks, and with
 * BENCH_LARGE=1 one of ~2 GB (1.9 GiB) at 1 MiB blocks. RUNS=N sets the runs of each path (default 3, best
 * counts). `node scripts/bench/add-throughput.ts` (or `pnpm bench add-throughput`)
 */
import { execFile } from 'node:child_process'
import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { createSquashfsChunker } from '@hubless/appimage'
import { addAppImageContent } from '@hubless/mirror'
import { createNode } from '@hubless/net'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { buildRuntime, pseudoRandom } from '../../packages/appimage/test/fixtures/build.ts'
import { type Figure, ratio, report } from './lib/report.ts'
import type { CID } from 'multiformats/cid'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const cache = join(root, 'tmp', 'add-throughput')
const MiB = 1024 * 1024
const RUNS = Number(process.env.RUNS ?? 3)
const LARGE = process.env.BENCH_LARGE === '1'

function log (msg: string): void {
  console.log(`[add-throughput] ${msg}`)
}

/** A file of `size` bytes, half random and half 6-bit noise: zstd keeps about 90% of it */
function fileBytes (size: number, seed: string): Uint8Array {
  const bytes = pseudoRandom(size, seed)
  for (let at = 0; at < size; at += 64 * 1024) {
    const end = Math.min(size, at + 32 * 1024)
    for (let i = at; i < end; i++) bytes[i]! &= 0x3f
  }
  return bytes
}

/** An AppDir of ~`bytes` in files of 4 KiB to 12 MiB (small ones end up in fragments) */
async function buildTree (dir: string, bytes: number): Promise<void> {
  await mkdir(join(dir, 'usr/lib'), { recursive: true })
  await writeFile(join(dir, 'AppRun'), '#!/bin/sh\nexec "$APPDIR/usr/bin/app" "$@"\n', { mode: 0o755 })
  let written = 0
  for (let i = 0; written < bytes; i++) {
    const size = i % 4 === 0 ? 4096 + ((i * 7919) % 60_000) : Math.min(bytes - written, MiB + ((i * 104_729) % (11 * MiB)))
    await writeFile(join(dir, 'usr/lib', `lib${i}.so`), fileBytes(size, `file-${i}`))
    written += size
  }
}

/** Builds (once) an AppImage of about `bytes` with SquashFS blocks of `block` bytes */
async function image (bytes: number, block: number): Promise<string> {
  const out = join(cache, `app-${bytes / MiB}m-${block / 1024}k.AppImage`)
  if (await stat(out).then(() => true, () => false)) return out
  log(`building ${out}`)
  const work = await mkdtemp(join(tmpdir(), 'hubless-bench-add-'))
  try {
    const tree = join(work, 'AppDir')
    await buildTree(tree, Math.round(bytes / 0.9))
    const squashfs = join(work, 'app.squashfs')
    await run('mksquashfs', [tree, squashfs, '-noappend', '-comp', 'zstd', '-Xcompression-level', '3', '-b', String(block), '-all-root',
      '-mkfs-time', '0', '-all-time', '0', '-no-xattrs', '-quiet', '-no-progress'], { maxBuffer: 16 * MiB })
    await mkdir(cache, { recursive: true })
    // the runtime, then the image streamed after it (the fixtures' assemble reads it whole, < 2 GiB)
    await writeFile(`${out}.part`, buildRuntime({ updateInformation: 'zsync|https://example.invalid/app.zsync' }).bytes, { mode: 0o755 })
    await pipeline(createReadStream(squashfs), createWriteStream(`${out}.part`, { flags: 'a' }))
    await rename(`${out}.part`, out)
    return out
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

async function readThrough (file: string): Promise<void> {
  for await (const _ of createReadStream(file, { highWaterMark: 4 * MiB })) { /* into the page cache */ }
}

/** `cpu`: user + system seconds of the process (every thread) or of the child */
interface Timed<T> { seconds: number, cpu: number, value: T, peakRss: number, peakArrayBuffers: number, peakRssAnon: number, peakRssFile: number }

/** Anonymous and file-backed resident memory (Linux); LevelDB maps the table files it reads */
function rssParts (): { anon: number, file: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    return { anon: Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024, file: Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024 }
  } catch {
    return { anon: 0, file: 0 }
  }
}

/** Runs `fn`, sampling RSS every 10 ms; `peakRss` is the growth over RSS just before */
async function timed<T> (fn: () => Promise<T>): Promise<Timed<T>> {
  globalThis.gc?.()
  const before = process.memoryUsage.rss()
  const partsBefore = rssParts()
  let peak = before
  let buffers = 0
  let samples = 0
  let anon = partsBefore.anon
  let file = partsBefore.file
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
    const parts = rssParts()
    anon = Math.max(anon, parts.anon)
    file = Math.max(file, parts.file)
    // the full memoryUsage() walks the heap; every 10th sample is enough for the JS side
    if (++samples % 10 === 0) buffers = Math.max(buffers, process.memoryUsage().arrayBuffers)
  }, 10)
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  try {
    const value = await fn()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const used = process.cpuUsage(cpu)
    peak = Math.max(peak, process.memoryUsage.rss())
    return { seconds, cpu: (used.user + used.system) / 1e6, value, peakRss: peak - before, peakArrayBuffers: buffers, peakRssAnon: anon - partsBefore.anon, peakRssFile: file - partsBefore.file }
  } finally {
    clearInterval(sampler)
  }
}

/** `ipfs_cid FILE` under bash, whose `times` gives the child's CPU time */
async function ipfsCid (file: string): Promise<Timed<string>> {
  let childCpu = 0
  const t = await timed(async () => {
    const { stdout } = await run('bash', ['-c', 'ipfs_cid "$1" 2>/dev/null; echo; times', '_', file], { maxBuffer: MiB })
    const times = stdout.trim().split('\n').at(-1)!.match(/(\d+)m([\d.]+)s/g) ?? []
    childCpu = times.map(x => { const [, m, sec] = /(\d+)m([\d.]+)s/.exec(x)!; return Number(m) * 60 + Number(sec) }).reduce((a, b) => a + b, 0)
    return (JSON.parse(stdout.slice(0, stdout.indexOf('}') + 1)) as { CIDv0: string }).CIDv0
  })
  return { ...t, cpu: childCpu }
}

/** What `ipfs-cid` computes, with the JS importer: 256 KiB chunks, dag-pb leaves, 174 links a node, CIDv0 */
async function ipfsCidParameters (file: string): Promise<string> {
  const discard = { put: async (cid: CID) => cid }
  let cid: CID | undefined
  for await (const entry of importer([{ content: createReadStream(file) }], discard as never, {
    cidVersion: 0, rawLeaves: false, leafType: 'file', reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 256 * 1024 }), layout: balanced({ maxChildrenPerNode: 174 })
  })) cid = entry.cid
  return String(cid)
}

async function withNode<T> (fn: (node: Awaited<ReturnType<typeof createNode>>) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), 'hubless-bench-add-node-'))
  const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'] })
  try {
    return await fn(node)
  } finally {
    await node.stop()
    await rm(directory, { recursive: true, force: true })
  }
}

/** The add path: `addAppImageContent` on a fresh node */
async function addPath (file: string): Promise<Timed<string>> {
  return withNode(async node => timed(async () => String(await addAppImageContent({ node }, file, { signal: AbortSignal.timeout(3_600_000), pin: true }))))
}

/** Helia's stock path with the same chunker: what `unixfs.addByteStream` runs (its defaults), then `pins.add` */
async function stockPath (file: string): Promise<Timed<string>> {
  return withNode(async node => timed(async () => {
    const chunker = await createSquashfsChunker(file)
    let cid: CID | undefined
    for await (const entry of importer([{ content: createReadStream(file, { highWaterMark: MiB }) }], node.helia.blockstore, {
      cidVersion: 1, rawLeaves: true, chunker, layout: balanced({ maxChildrenPerNode: 1024 })
    })) cid = entry.cid
    for await (const _ of node.helia.pins.add(cid!)) { /* walk */ }
    return String(cid)
  }))
}

function describe (t: Timed<unknown>): string {
  return `${t.seconds.toFixed(2)} s, ${t.cpu.toFixed(2)} CPU s, RSS +${(t.peakRss / 1e6).toFixed(0)} MB (anonymous +${(t.peakRssAnon / 1e6).toFixed(0)}, file-backed +${(t.peakRssFile / 1e6).toFixed(0)}, ArrayBuffers up to ${(t.peakArrayBuffers / 1e6).toFixed(0)} MB)`
}

function best<T> (runs: Array<Timed<T>>): Timed<T> {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a))
}

async function repeat<T> (label: string, fn: () => Promise<Timed<T>>): Promise<Array<Timed<T>>> {
  const runs: Array<Timed<T>> = []
  for (let i = 0; i < RUNS; i++) {
    runs.push(await fn())
    log(`${label} run ${i + 1}: ${describe(runs[i]!)}`)
  }
  return runs
}

const figures: Figure[] = []
const results: Record<string, unknown> = {}
const images: Array<{ name: string, bytes: number, block: number, runs: number }> = [
  { name: '64 MiB, 1 MiB blocks', bytes: 64 * MiB, block: MiB, runs: RUNS },
  { name: '64 MiB, 128 KiB blocks', bytes: 64 * MiB, block: 128 * 1024, runs: RUNS }
]
// under 2 GiB: ipfs-unixfs 13.1.1 encodes a fileSize or blockSize from 2^31 to 2^32 as a broken
// varint (bytes from its writer's pool), so a larger file's root CID varies from run to run
if (LARGE) images.push({ name: '1.9 GiB, 1 MiB blocks', bytes: 1900 * MiB, block: MiB, runs: 1 })

for (const spec of images) {
  const file = await image(spec.bytes, spec.block)
  const size = (await stat(file)).size
  await readThrough(file)
  const mbps = (t: Timed<unknown>): number => size / 1e6 / t.seconds
  const perCpu = (runs: Array<Timed<unknown>>): number => size / 1e6 / Math.min(...runs.map(r => r.cpu))
  const baselines = await repeat(`${spec.name}: ipfs-cid`, async () => ipfsCid(file))
  const baseline = best(baselines)
  const runsOf = spec.runs
  const stock: Array<Timed<string>> = []
  const add: Array<Timed<string>> = []
  // alternate the two paths so that both see the same machine
  for (let i = 0; i < runsOf; i++) {
    stock.push(await stockPath(file))
    log(`${spec.name}: stock run ${i + 1}: ${describe(stock[i]!)}`)
    add.push(await addPath(file))
    log(`${spec.name}: add run ${i + 1}: ${describe(add[i]!)}`)
  }
  const s = best(stock)
  const a = best(add)
  const cids = new Set([...stock, ...add].map(r => r.value))
  if (cids.size !== 1) throw new Error(`${spec.name}: the add path and Helia's stock path gave different CIDs: ${[...cids].join(', ')}`)
  const peak = Math.max(...add.map(r => r.peakRss))
  figures.push(
    { name: `${spec.name}: ipfs-cid MB/s`, value: mbps(baseline), unit: 'MB/s' },
    { name: `${spec.name}: stock Helia add+pin MB/s`, value: mbps(s), unit: 'MB/s', baseline: mbps(baseline) },
    { name: `${spec.name}: add path MB/s`, value: mbps(a), unit: 'MB/s', baseline: mbps(baseline), goal: '>= 0.5x ipfs-cid' },
    { name: `${spec.name}: add path vs stock`, value: ratio(mbps(a), mbps(s)), unit: 'x' },
    { name: `${spec.name}: ipfs-cid MB per CPU second`, value: perCpu(baselines), unit: 'MB/cpu-s' },
    { name: `${spec.name}: stock MB per CPU second`, value: perCpu(stock), unit: 'MB/cpu-s', baseline: perCpu(baselines) },
    { name: `${spec.name}: add path MB per CPU second`, value: perCpu(add), unit: 'MB/cpu-s', baseline: perCpu(baselines) },
    { name: `${spec.name}: add path RSS growth`, value: peak / 1e6, unit: 'MB', baseline: Math.max(...stock.map(r => r.peakRss)) / 1e6, goal: spec.bytes > MiB * 1024 ? '<= 300 MB' : undefined },
    { name: `${spec.name}: add path anonymous RSS growth`, value: Math.max(...add.map(r => r.peakRssAnon)) / 1e6, unit: 'MB', baseline: Math.max(...stock.map(r => r.peakRssAnon)) / 1e6 },
    { name: `${spec.name}: add path file-backed RSS growth`, value: Math.max(...add.map(r => r.peakRssFile)) / 1e6, unit: 'MB', baseline: Math.max(...stock.map(r => r.peakRssFile)) / 1e6 }
  )
  const entry: Record<string, unknown> = { file: file.slice(root.length + 1), size, cid: a.value, ipfsCidCid: baseline.value }
  if (spec.bytes <= 64 * MiB) {
    const expected = await ipfsCidParameters(file)
    entry.ipfsCidMatchesImporter = expected === baseline.value
    log(`${spec.name}: ipfs-cid ${baseline.value}, JS importer with its parameters ${expected}: ${expected === baseline.value ? 'same' : 'DIFFERENT'}`)
  }
  results[spec.name] = entry
}

report('add-throughput', figures, { images: results })
