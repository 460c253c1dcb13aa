/**
 * Helia 6 vs Helia 7 under OrbitDB 4 writes (issue 2: "measure both, choose").
 *
 * Three set-ups run the same OrbitDB 4 events-db workload in one process, alternating order
 * every round so that warm-up and GC do not favour one:
 *   - helia6-memory (baseline): helia@6.1.4 (`helia6` alias), our libp2p 3 options, bitswap,
 *     libp2p routing only, Helia 6's in-memory stores
 *   - helia7-stock-memory: helia@7 from parts (createHeliaLight + withLibp2pLight + withBitswap),
 *     Helia 7's in-memory stores, Helia's own pin graph walker
 *   - helia7-memory: the same as @hubless/net builds it, i.e. with its queue-free pin walker
 *   - helia7-level: a real @hubless/net node (LevelDB blockstore and datastore on disk)
 * Figures: writes per second (higher is better) and median / p95 latency of one `db.add`.
 */
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
// net's internals (not its public surface) so that Helia 7 is built exactly as createNode builds it
import { startHelia } from '../../packages/net/src/helia.ts'
import { createNode } from '../../packages/net/src/index.ts'
import { libp2pOptions } from '../../packages/net/src/libp2p-options.ts'
import { percentile, report } from './lib/report.ts'
import type { Figure } from './lib/report.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const WRITES = Number(process.env.BENCH_WRITES ?? 400)
const WARMUP = 20
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

interface EventsDb { add: (value: unknown) => Promise<string>, close: () => Promise<void> }
interface OrbitDB { open: (name: string, options: { type: string }) => Promise<EventsDb>, stop: () => Promise<void> }
interface OrbitDBModule { createOrbitDB: (init: { ipfs: unknown, directory: string }) => Promise<OrbitDB> }

interface Setup {
  ipfs: unknown
  stop: () => Promise<void>
}

type SetupName = 'helia6-memory' | 'helia7-stock-memory' | 'helia7-memory' | 'helia7-level'

/** Imports the package installed at `packageDir` (pnpm keeps dependencies next to their dependents, not at the root). */
async function importPackage (packageDir: string): Promise<Record<string, unknown>> {
  const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { main?: string, exports?: { '.': { import: string } } }
  const entry = manifest.exports?.['.'].import ?? manifest.main ?? 'index.js'
  return import(pathToFileURL(join(packageDir, entry)).href) as Promise<Record<string, unknown>>
}

/** A dependency of the aliased helia6 package. */
async function importFromHelia6 (name: string): Promise<Record<string, unknown>> {
  return importPackage(join(await realpath(join(root, 'node_modules', 'helia6')), '..', name))
}

async function helia6 (): Promise<Setup> {
  const moduleName = 'helia6'
  const { createHelia } = await import(moduleName) as { createHelia: (init: unknown) => Promise<{ stop: () => Promise<void> }> }
  const brokers = await importFromHelia6('@helia/block-brokers') as { bitswap: () => unknown }
  const routers = await importFromHelia6('@helia/routers') as { libp2pRouting: (libp2p: unknown) => unknown }
  // the same libp2p 3 release as Helia 7 gets (pnpm resolves both to one copy)
  const { createLibp2p } = await importFromHelia6('libp2p') as { createLibp2p: (options: unknown) => Promise<{ stop: () => Promise<void> }> }
  const libp2p = await createLibp2p(libp2pOptions({ directory: '' }, {}))
  const helia = await createHelia({ libp2p, blockBrokers: [brokers.bitswap()], routers: [routers.libp2pRouting(libp2p)] })
  return { ipfs: helia, stop: async () => { await helia.stop(); await libp2p.stop() } }
}

async function helia7Stock (): Promise<Setup> {
  const netModules = join(root, 'packages', 'net', 'node_modules')
  const { createHeliaLight } = await importPackage(join(netModules, 'helia')) as { createHeliaLight: (init: unknown) => unknown }
  const { withLibp2pLight } = await importPackage(join(netModules, '@helia', 'libp2p')) as { withLibp2pLight: (helia: unknown, options: unknown) => unknown }
  const { withBitswap } = await importPackage(join(netModules, '@helia', 'bitswap')) as { withBitswap: (helia: unknown) => { start: () => Promise<unknown>, stop: () => Promise<unknown> } }
  const dagCbor = await importPackage(join(netModules, '@ipld', 'dag-cbor'))
  const helia = withBitswap(withLibp2pLight(createHeliaLight({ codecs: [dagCbor] }), libp2pOptions({ directory: '' }, {})))
  await helia.start()
  return { ipfs: helia, stop: async () => { await helia.stop() } }
}

async function helia7Memory (): Promise<Setup> {
  const helia = await startHelia({ directory: '' }, {})
  return { ipfs: helia, stop: async () => { await helia.stop() } }
}

async function helia7Level (directory: string): Promise<Setup> {
  const node = await createNode({ directory: join(directory, 'node') })
  return { ipfs: node.helia, stop: async () => { await node.stop() } }
}

interface Sample { opsPerSecond: number, latencies: number[] }

async function measure (name: SetupName, createOrbitDB: OrbitDBModule['createOrbitDB']): Promise<Sample> {
  const directory = await mkdtemp(join(tmpdir(), `hubless-bench-${name}-`))
  const setup = name === 'helia6-memory'
    ? await helia6()
    : name === 'helia7-stock-memory' ? await helia7Stock() : name === 'helia7-memory' ? await helia7Memory() : await helia7Level(directory)
  try {
    const orbitdb = await createOrbitDB({ ipfs: setup.ipfs, directory: join(directory, 'orbitdb') })
    try {
      const db = await orbitdb.open(`bench-${name}`, { type: 'events' })
      for (let i = 0; i < WARMUP; i++) await db.add({ warmup: i })
      const latencies: number[] = []
      const started = performance.now()
      for (let i = 0; i < WRITES; i++) {
        const t = performance.now()
        await db.add({ i, name: `app-${i}`, version: '1.0.0', cid: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi' })
        latencies.push(performance.now() - t)
      }
      const seconds = (performance.now() - started) / 1000
      await db.close()
      return { opsPerSecond: WRITES / seconds, latencies }
    } finally {
      await orbitdb.stop()
    }
  } finally {
    await setup.stop()
    await rm(directory, { recursive: true, force: true })
  }
}

const median = (values: number[]): number => percentile(values, 50)

// OrbitDB is a dev dependency of @hubless/net, which owns this comparison
const { createOrbitDB } = await importPackage(join(root, 'packages', 'net', 'node_modules', '@orbitdb', 'core')) as unknown as OrbitDBModule
const names: SetupName[] = ['helia6-memory', 'helia7-stock-memory', 'helia7-memory', 'helia7-level']
const samples = new Map<SetupName, Sample[]>(names.map(n => [n, []]))
let helia6Error: string | undefined
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]!)
  for (const name of order) {
    try {
      samples.get(name)!.push(await measure(name, createOrbitDB))
    } catch (err) {
      if (name !== 'helia6-memory') throw err
      helia6Error = `${(err as Error).name}: ${(err as Error).message}`
      console.log(`helia6 could not run: ${helia6Error}`)
    }
  }
}

const summary = Object.fromEntries(names.map((name) => {
  const runs = samples.get(name)!
  return [name, {
    opsPerSecond: median(runs.map(r => r.opsPerSecond)),
    p50ms: median(runs.flatMap(r => r.latencies)),
    p95ms: percentile(runs.flatMap(r => r.latencies), 95),
    rounds: runs.map(r => Math.round(r.opsPerSecond))
  }]
}))
const baseline = summary['helia6-memory']!.opsPerSecond
const figures: Figure[] = []
for (const name of names) {
  const s = summary[name]!
  if (Number.isNaN(s.opsPerSecond)) continue
  figures.push({ name: `${name} OrbitDB writes/s`, value: s.opsPerSecond, unit: 'writes/s', baseline: Number.isNaN(baseline) ? undefined : baseline })
  figures.push({ name: `${name} add latency p50`, value: s.p50ms, unit: 'ms' })
  figures.push({ name: `${name} add latency p95`, value: s.p95ms, unit: 'ms' })
}
report('helia-orbitdb', figures, { writes: WRITES, rounds: ROUNDS, summary, helia6Error })
