/**
 * @hubless/registry against raw OrbitDB 4 (issue 4, "Speed: the crux"), both in the same run on
 * the same @hubless/net nodes (LevelDB on disk, TCP on 127.0.0.1; the mirror in a process of its
 * own, as another machine would be):
 *   - write: appending N records on a mirror (raw: db.add of the same wire bytes, stock
 *     IPFSAccessController with write ['*'])
 *   - catch-up: a fresh peer dials the mirror and takes in all N records (goal >= 5,000/s, >= 25x raw)
 *   - 2-hop latency: A - B - C in a line, a record published on A reaches C (goal p50 <= 300 ms)
 *   - reopen + list: reopening the mirror's database and listing every record (goal <= 300 ms)
 *   - RSS: a fresh process opening the mirror's data dir and listing it (goal <= 250 MB)
 * Records are written with `publish` (the publisher's key writes the entry, whose signature is the
 * record's: one signature per record; raw OrbitDB writes the same records with their own
 * signatures as well). BENCH_RECORDS (default 10000), BENCH_HOPS (default 30 samples).
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createNode } from '../../packages/net/src/index.ts'
import type { HublessNode } from '../../packages/net/src/index.ts'
import { createRegistry, decodeSignedRecord, publisherKeyFromSecret, encodeSignedRecord, signRecord } from '../../packages/registry/src/index.ts'
import type { SignedRecord } from '../../packages/registry/src/index.ts'
import { encodePiece } from '../../packages/registry/src/log/snapshot-wire.ts'
import { releaseRecord } from '../../packages/registry/test/fixtures.ts'
import { percentile, report } from './lib/report.ts'
import type { Figure } from './lib/report.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const N = Number(process.env.BENCH_RECORDS ?? 10_000)
const HOPS = Number(process.env.BENCH_HOPS ?? 30)
const TIMEOUT = 20 * 60_000

interface RawDb {
  address: string
  add: (value: unknown) => Promise<string>
  log: { heads: () => Promise<Array<{ hash: string }>>, iterator: () => AsyncIterable<{ hash: string, payload: { value: Uint8Array } }> }
  events: { on: (event: 'update', fn: (entry: { hash: string }) => void) => void }
  close: () => Promise<void>
}
interface RawOrbit { open: (address: string, options?: Record<string, unknown>) => Promise<RawDb>, stop: () => Promise<void> }
interface OrbitModule {
  createOrbitDB: (init: { ipfs: unknown, directory: string, id?: string }) => Promise<RawOrbit>
  IPFSAccessController: (init: { write: string[] }) => unknown
}
const orbit = await import(pathToFileURL(join(root, 'packages', 'registry', 'node_modules', '@orbitdb', 'core', 'src', 'index.js')).href) as OrbitModule

const cleanup: Array<() => Promise<void>> = []
async function tempDir (label: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `hubless-bench-${label}-`))
  cleanup.push(async () => { await rm(d, { recursive: true, force: true }) })
  return d
}

async function startNode (directory: string): Promise<HublessNode> {
  return createNode({ directory: join(directory, 'node'), listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
}

async function dial (a: HublessNode, b: HublessNode): Promise<void> {
  await a.libp2p.dial(b.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
}

function rss (): number { return process.memoryUsage().rss / 2 ** 20 }

async function until (check: () => boolean, what: string, ms = TIMEOUT): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** Generic operations over either implementation */
interface Store {
  address: string
  /** returns a token that `seen` reports once this store took in that write */
  add (signed: SignedRecord): Promise<string>
  /** raw: hashes of entries OrbitDB emitted 'update' for (one per joined head); ours: ids of records emitted */
  seen (token: string): boolean
  /** ours: records taken in since open */
  received (): number
  list (): Promise<number>
  close (): Promise<void>
}

async function openRaw (node: HublessNode, directory: string, address: string): Promise<Store> {
  const o = await orbit.createOrbitDB({ ipfs: node.helia, directory: join(directory, 'orbitdb'), id: 'bench' })
  const db = await o.open(address, { type: 'events', AccessController: orbit.IPFSAccessController({ write: ['*'] }) })
  const updates = new Set<string>()
  db.events.on('update', (entry: { hash: string }) => { updates.add(entry.hash) })
  return {
    address: db.address,
    add: async signed => db.add(encodeSignedRecord(signed)),
    seen: token => updates.has(token),
    received: () => updates.size,
    async list () { let n = 0; for await (const _ of db.log.iterator()) n++; return n },
    async close () { await db.close(); await o.stop() }
  }
}

/** One publisher for every record, so that `publish` can write with the publisher's key; the same in the mirror process */
const publisher = publisherKeyFromSecret(new Uint8Array(32).fill(7))

/** `ours` publishes: the publisher's key writes the entry */
async function openOurs (node: HublessNode, directory: string, name: string): Promise<Store> {
  const registry = await createRegistry({ node }, { name, directory: join(directory, 'registry') })
  const ids = new Set<string>()
  registry.addEventListener('record', e => { ids.add(e.detail.id) })
  return {
    address: registry.address,
    add: async signed => (await registry.publish(signed.record, publisher)).id,
    seen: token => ids.has(token),
    received: () => ids.size,
    async list () { let n = 0; for await (const _ of registry.records()) n++; return n },
    async close () { await registry.stop() }
  }
}

type Kind = 'raw' | 'ours'
const open = async (kind: Kind, node: HublessNode, directory: string, name: string): Promise<Store> =>
  kind === 'raw' ? openRaw(node, directory, name) : openOurs(node, directory, name)

async function makeRecords (n: number): Promise<SignedRecord[]> {
  const out: SignedRecord[] = []
  for (let i = 0; i < n; i++) out.push(await signRecord(releaseRecord(publisher, { time: Date.now() }, i), publisher))
  return out
}

/** records as length-prefixed wire bytes, so the mirror process writes exactly these */
function encodeRecordList (records: SignedRecord[]): Uint8Array {
  // the snapshot's framing of entries (u32 length + bytes), used here for records
  return encodePiece(records.map(encodeSignedRecord))
}

async function decodeRecordList (bytes: Uint8Array): Promise<SignedRecord[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: SignedRecord[] = []
  for (let at = 0; at < bytes.byteLength;) {
    const length = view.getUint32(at)
    out.push(await decodeSignedRecord(bytes.subarray(at + 4, at + 4 + length)))
    at += 4 + length
  }
  return out
}

interface MirrorProcess {
  multiaddr: string
  address: string
  /** raw: the hash of the last entry written */
  last: string
  writePerSec: number
  /** the mirror process's CPU time so far, µs */
  cpu (): Promise<number>
  /** close the store and the node, and wait for the process to exit */
  stop (): Promise<void>
}

/** A mirror in a child process (`--mirror`): writes the records, then answers `cpu` and `stop` on stdin */
async function startMirrorProcess (kind: Kind, directory: string, name: string, recordsFile: string): Promise<MirrorProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--mirror', kind, directory, name, recordsFile], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await Promise.race([lines.next(), new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error('the mirror process did not answer')) }, TIMEOUT).unref())])
    if (line.done === true) throw new Error('the mirror process exited')
    return JSON.parse(line.value) as Record<string, unknown>
  }
  cleanup.push(async () => { child.kill('SIGKILL') })
  const ready = await next()
  return {
    multiaddr: ready.multiaddr as string,
    address: ready.address as string,
    last: ready.last as string,
    writePerSec: ready.writePerSec as number,
    async cpu () {
      child.stdin.write('cpu\n')
      return (await next()).cpu as number
    },
    async stop () {
      const exited = once(child, 'exit')
      child.stdin.write('stop\n')
      await exited
    }
  }
}

async function mirrorChild (kind: Kind, directory: string, name: string, recordsFile: string): Promise<void> {
  const records = await decodeRecordList(await readFile(recordsFile))
  const node = await startNode(directory)
  const store = await open(kind, node, directory, name)
  const t = performance.now()
  let last = ''
  for (const r of records) last = await store.add(r)
  const writePerSec = records.length / ((performance.now() - t) / 1000)
  process.stdout.write(`${JSON.stringify({ multiaddr: node.libp2p.getMultiaddrs()[0]!.toString(), address: store.address, last, writePerSec })}\n`)
  for await (const command of createInterface({ input: process.stdin })) {
    if (command === 'cpu') {
      const used = process.cpuUsage()
      process.stdout.write(`${JSON.stringify({ cpu: used.user + used.system })}\n`)
    } else if (command === 'stop') {
      break
    }
  }
  // the open stdin would keep the process alive
  process.stdin.destroy()
  await store.close()
  await node.stop()
}

interface Result { writePerSec: number, catchUpPerSec: number, catchUpMs: number, catchUpCpuUs: number, reopenListMs: number, hopP50: number, hopP95: number, rssMb: number }

async function run (kind: Kind, records: SignedRecord[]): Promise<Result> {
  const name = `bench-${kind}-${Date.now()}`
  const mDir = await tempDir(`${kind}-mirror`)
  // the mirror is its own process, as it is another machine in the field: in one process the
  // mirror's serving and the fresh peer's checking would share one JavaScript thread
  const recordsFile = join(mDir, 'records.bin')
  await writeFile(recordsFile, encodeRecordList(records))
  const mirror = await startMirrorProcess(kind, mDir, name, recordsFile)
  console.log(`${kind}: wrote ${records.length} at ${mirror.writePerSec.toFixed(0)}/s`)
  const writePerSec = mirror.writePerSec

  // fresh-peer catch-up
  const fDir = await tempDir(`${kind}-fresh`)
  const freshNode = await startNode(fDir)
  // connected first: raw OrbitDB opening by address fetches the manifest from the mirror
  await freshNode.dial(mirror.multiaddr, { signal: AbortSignal.timeout(10_000) })
  const mirrorCpu0 = await mirror.cpu()
  let t = performance.now()
  const cpu = process.cpuUsage()
  const fresh = await open(kind, freshNode, fDir, kind === 'raw' ? mirror.address : name)
  // raw: the mirror's last entry joined (OrbitDB joins the whole chain behind it first); ours: every record emitted
  await until(() => kind === 'raw' ? fresh.seen(mirror.last) : fresh.received() >= records.length, `${kind} catch-up`)
  const catchUpMs = performance.now() - t
  const used = process.cpuUsage(cpu)
  const mirrorUsed = (await mirror.cpu()) - mirrorCpu0
  // CPU time of both processes (mirror and fresh peer, all threads): the work, whatever else runs on the machine
  const catchUpCpuUs = (used.user + used.system + mirrorUsed) / records.length
  console.log(`${kind}: fresh peer caught up ${records.length} in ${catchUpMs.toFixed(0)} ms, ${catchUpCpuUs.toFixed(0)} µs CPU per record (fresh peer ${((used.user + used.system) / records.length).toFixed(0)}, mirror ${(mirrorUsed / records.length).toFixed(0)})`)
  await fresh.close()
  await freshNode.stop()

  const address = mirror.address
  await mirror.stop()
  t = performance.now()

  // reopen + list, and RSS, in a fresh process (a restarted mirror): the process's heap holds nothing else
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--rss', kind, mDir, kind === 'raw' ? address : name], { encoding: 'utf8', timeout: 5 * 60_000 })
  const rssMb = Number(/rss=([\d.]+)/.exec(child.stdout)?.[1] ?? Number.NaN)
  console.log(`${kind}: mirror process ${child.stdout.trim()}`)
  const reopenListMs = Number(/reopenList=([\d.]+)/.exec(child.stdout)?.[1] ?? Number.NaN)
  if (Number.isNaN(rssMb)) console.log(child.stdout, child.stderr)
  const listed = Number(/listed=(\d+)/.exec(child.stdout)?.[1] ?? Number.NaN)
  if (listed !== records.length) throw new Error(`${kind}: the reopened mirror listed ${listed} of ${records.length}`)

  // 2-hop latency on a small registry: A - B - C
  const hops = await twoHops(kind)
  return { writePerSec, catchUpPerSec: records.length / (catchUpMs / 1000), catchUpMs, catchUpCpuUs, reopenListMs, hopP50: percentile(hops, 50), hopP95: percentile(hops, 95), rssMb }
}

async function twoHops (kind: Kind): Promise<number[]> {
  const name = `bench-hops-${kind}-${Date.now()}`
  const dirs = [await tempDir('a'), await tempDir('b'), await tempDir('c')]
  const nodes = await Promise.all(dirs.map(startNode))
  const a = await open(kind, nodes[0]!, dirs[0]!, name)
  const address = a.address
  await dial(nodes[0]!, nodes[1]!)
  await dial(nodes[1]!, nodes[2]!)
  const b = await open(kind, nodes[1]!, dirs[1]!, kind === 'raw' ? address : name)
  const c = await open(kind, nodes[2]!, dirs[2]!, kind === 'raw' ? address : name)
  await new Promise(resolve => setTimeout(resolve, 1500))
  const records = await makeRecords(HOPS)
  const samples: number[] = []
  for (const r of records) {
    const t = performance.now()
    const token = await a.add(r)
    try {
      await until(() => c.seen(token), 'two hops', 10_000)
      samples.push(performance.now() - t)
    } catch {
      samples.push(10_000)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  for (const s of [a, b, c]) await s.close()
  for (const n of nodes) await n.stop()
  return samples
}

async function rssChild (kind: Kind | 'node', directory: string, nameOrAddress: string): Promise<void> {
  const node = await startNode(directory)
  const t = performance.now()
  const store = kind === 'node' ? undefined : await open(kind, node, directory, nameOrAddress)
  const listed = await store?.list()
  const reopenList = performance.now() - t
  globalThis.gc?.()
  const m = process.memoryUsage()
  process.stdout.write(`reopenList=${reopenList.toFixed(1)} listed=${listed ?? 0} rss=${rss().toFixed(1)} heapUsed=${(m.heapUsed / 2 ** 20).toFixed(1)} external=${(m.external / 2 ** 20).toFixed(1)}\n`)
  await store?.close()
  await node.stop()
}

if (process.argv[2] === '--rss') {
  await rssChild(process.argv[3] as Kind | 'node', process.argv[4]!, process.argv[5]!)
} else if (process.argv[2] === '--mirror') {
  await mirrorChild(process.argv[3] as Kind, process.argv[4]!, process.argv[5]!, process.argv[6]!)
} else {
  try {
    console.log(`signing ${N} records`)
    const records = await makeRecords(N)
    // what a node with no database costs, for scale
    const nodeOnly = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--rss', 'node', await tempDir('node-only'), ''], { encoding: 'utf8', timeout: 60_000 })
    const nodeRssMb = Number(/rss=([\d.]+)/.exec(nodeOnly.stdout)?.[1] ?? Number.NaN)
    console.log(`a node alone: ${nodeOnly.stdout.trim()}`)
    const raw = await run('raw', records)
    const ours = await run('ours', records)
    const figures: Figure[] = [
      { name: 'fresh-peer catch-up', value: ours.catchUpPerSec, unit: 'records/s', baseline: raw.catchUpPerSec, goal: '>= 5000 records/s and >= 25x raw' },
      { name: 'two-hop latency p50', value: ours.hopP50, unit: 'ms', baseline: raw.hopP50, goal: '<= 300 ms' },
      { name: 'two-hop latency p95', value: ours.hopP95, unit: 'ms', baseline: raw.hopP95 },
      { name: `reopen + list ${N}`, value: ours.reopenListMs, unit: 'ms', baseline: raw.reopenListMs, goal: '<= 300 ms' },
      { name: `mirror RSS holding ${N}`, value: ours.rssMb, unit: 'MB', baseline: raw.rssMb, goal: '<= 250 MB' },
      { name: 'publish (append as the publisher)', value: ours.writePerSec, unit: 'records/s', baseline: raw.writePerSec },
      { name: 'catch-up CPU per record', value: ours.catchUpCpuUs, unit: 'µs', baseline: raw.catchUpCpuUs }
    ]
    report('registry-sync', figures, { records: N, hops: HOPS, nodeRssMb, raw, ours })
  } finally {
    for (const fn of cleanup.reverse()) await fn().catch(() => {})
  }
}
