/**
 * One add of scripts/bench/add-throughput.ts in a process of its own, so that the RSS measured is
 * that of the process doing the add and nothing else (not the bench's other runs, not the page
 * cache it left): `add` is a mirror as an operator runs one (node, registry, catalog, HTTP server;
 * lib/mirror-node.ts) archiving the image with `addAppImageContent`; `stock` is a bare node adding
 * it through Helia's `blockstore` and `pins.add`. Prints one line of JSON (`AddRun`).
 */
import { spawn } from 'node:child_process'
import { createReadStream, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createSquashfsChunker } from '@hubless/appimage'
import { addAppImageContent } from '@hubless/mirror'
import { contentDefinedLayout, createNode } from '@hubless/net'
import { importer } from 'ipfs-unixfs-importer'
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../../packages/cli/bin/runtime.js'
import { startBenchMirror } from './mirror-node.ts'
import type { CID } from 'multiformats/cid'

export type AddMode = 'add' | 'stock'

/** Bytes, except `seconds` and `cpu` (user + system seconds of the process, every thread) */
export interface AddRun {
  cid: string
  seconds: number
  cpu: number
  /** RSS of the process, ready to add (node started), just before the add */
  rssBefore: number
  /** the most the process's RSS reached while it added (sampled every 10 ms, and the kernel's VmHWM) */
  peakRss: number
  peakRssAnon: number
  peakRssFile: number
  peakArrayBuffers: number
}

/** Current anonymous and file-backed resident memory and the peak RSS so far (Linux) */
function status (): { anon: number, file: number, hwm: number } {
  try {
    const text = readFileSync('/proc/self/status', 'utf8')
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) * 1024
    return { anon: kb('RssAnon'), file: kb('RssFile'), hwm: kb('VmHWM') }
  } catch {
    return { anon: 0, file: 0, hwm: 0 }
  }
}

async function measure (fn: () => Promise<CID>): Promise<AddRun> {
  globalThis.gc?.()
  const rssBefore = process.memoryUsage.rss()
  let peak = rssBefore
  let anon = 0
  let file = 0
  let buffers = 0
  let samples = 0
  const sampler = setInterval(() => {
    const parts = status()
    peak = Math.max(peak, process.memoryUsage.rss())
    anon = Math.max(anon, parts.anon)
    file = Math.max(file, parts.file)
    // the full memoryUsage() walks the heap; every 10th sample is enough for the JS side
    if (++samples % 10 === 0) buffers = Math.max(buffers, process.memoryUsage().arrayBuffers)
  }, 10)
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  try {
    const cid = await fn()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const used = process.cpuUsage(cpu)
    // VmHWM also counts the start before the add: a mirror's peak is its peak, whatever caused it
    const end = status()
    return {
      cid: cid.toString(),
      seconds,
      cpu: (used.user + used.system) / 1e6,
      rssBefore,
      peakRss: Math.max(peak, end.hwm),
      peakRssAnon: Math.max(anon, end.anon),
      peakRssFile: Math.max(file, end.file),
      peakArrayBuffers: buffers
    }
  } finally {
    clearInterval(sampler)
  }
}

async function run (mode: AddMode, file: string, given?: string): Promise<AddRun> {
  const directory = given ?? await mkdtemp(join(tmpdir(), 'hubless-bench-add-node-'))
  const signal = AbortSignal.timeout(3_600_000)
  try {
    if (mode === 'add') {
      const mirror = await startBenchMirror(directory)
      try {
        return await measure(async () => addAppImageContent(mirror, file, { signal, pin: true }))
      } finally {
        await mirror.stop()
      }
    }
    const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      return await measure(async () => {
        // what `unixfs.addByteStream` runs (hubless's DAG parameters, as `content.add`), then `pins.add`
        const chunker = await createSquashfsChunker(file, { signal })
        let cid: CID | undefined
        for await (const entry of importer([{ content: createReadStream(file, { highWaterMark: 1024 * 1024 }) }], node.helia.blockstore, {
          cidVersion: 1, rawLeaves: true, chunker, layout: contentDefinedLayout()
        })) cid = entry.cid
        for await (const _ of node.helia.pins.add(cid!, { signal })) { /* walk */ }
        return cid!
      })
    } finally {
      await node.stop()
    }
  } finally {
    if (given == null) await rm(directory, { recursive: true, force: true })
  }
}

/**
 * Runs one add in a new Node process (with `--expose-gc`) and returns what it measured. With
 * `directory`, the node's data goes there and is left for the caller to remove once every run is
 * done: ext4 looks through recently deleted inodes before it hands out a new one, and a run that
 * began right after the last one's hundreds of block files were deleted spent ~1 ms of system
 * time on each file it created (perf: `recently_deleted` under `ext4_create`), 0.6 s of a 64 MiB add.
 */
export async function addInChild (mode: AddMode, file: string, directory?: string): Promise<AddRun> {
  // the add runs with the Node flags and environment `hubless mirror` starts with
  const flags = mode === 'add' ? DAEMON_NODE_FLAGS : []
  const env = mode === 'add' ? { ...process.env, ...DAEMON_ENV } : process.env
  const child = spawn(process.execPath, ['--expose-gc', ...flags, import.meta.filename, mode, file, ...(directory == null ? [] : [directory])], { stdio: ['ignore', 'pipe', 'inherit'], env })
  const lines = createInterface({ input: child.stdout })
  let last: string | undefined
  lines.on('line', line => { last = line })
  const code = await new Promise<number | null>(resolve => { child.once('close', resolve) })
  if (code !== 0 || last == null) throw new Error(`the ${mode} process exited with ${code}`)
  return JSON.parse(last) as AddRun
}

if (import.meta.main) {
  const [mode, file, directory] = process.argv.slice(2) as [AddMode, string, string | undefined]
  process.stdout.write(`${JSON.stringify(await run(mode, file, directory))}\n`)
  // libp2p's and LevelDB's handles are closed; exit now rather than wait for stray timers
  process.exit(0)
}
