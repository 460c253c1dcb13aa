/**
 * The record index alone (issue 16), at 10,000, 100,000 and 1,000,000 entries (BENCH_MAX caps
 * the sizes, default 1,000,000): what a registry's index costs apart from OrbitDB, the network
 * and signatures. Each size in processes of its own, on LevelDB on disk:
 *   - writing: entries committed as a snapshot or a batch commits them (1,000 at a time), CPU per entry
 *   - RSS of the writer once done (after a garbage collection; it generated its input too, which
 *     is most of it)
 *   - reopen: a new process opens the index and answers `get(id)` of the first record, then an
 *     app's newest releases; its RSS after both
 * The records are unsigned stand-ins (the index does not verify; the access controller did): a
 * mix of 5,000 apps on four channels, one endorsement in 1,000. The baseline is the smallest
 * size, measured in the same run: flat cost per entry means ratios near 1.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as dagCbor from '@ipld/dag-cbor'
import { openIndexStorage } from '../../packages/registry/src/log/index-storage.ts'
import { RecordIndex } from '../../packages/registry/src/log/record-index.ts'
import { RecordStore } from '../../packages/registry/src/log/record-store.ts'
import { buildEndorseRecord, buildReleaseRecord, recordIdOf } from '../../packages/registry/src/index.ts'
import type { Candidate } from '../../packages/registry/src/log/record-index.ts'
import type { SignedRecord, UnsignedRecord } from '../../packages/registry/src/index.ts'
import { report } from './lib/report.ts'
import type { Figure } from './lib/report.ts'

const here = fileURLToPath(import.meta.url)
const MAX = Number(process.env.BENCH_MAX ?? 1_000_000)
const SIZES = [10_000, 100_000, 1_000_000].filter(n => n <= MAX)
if (SIZES.length === 0) SIZES.push(MAX)
const CHANNELS = ['nightly', 'continuous', 'beta', 'release'] as const
const PUBLISHER = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'
const IDENTITY = 'zdpuAnoXSJjQgUNWFZZ86Mx7NqoDuRNTt3yWpnnRSdGWbpEHr'

function record (i: number): UnsignedRecord {
  const time = 1_767_225_600_000 + i
  if (i % 1_000 === 999) return buildEndorseRecord(PUBLISHER, { appIds: [`org.example.App${i % 5_000}`] }, { publisher: PUBLISHER, time })
  const app = i % 5_000
  return buildReleaseRecord({
    appId: `org.example.App${app}`,
    version: `1.${Math.floor(i / 5_000)}.0`,
    channel: CHANNELS[Math.floor(i / 5_000) % CHANNELS.length]!,
    arch: 'x86_64',
    content: { urls: [`https://example.org/App${app}-${i}-x86_64.AppImage`] },
    app: { name: `App ${app}`, summary: 'an app of the record index bench' }
  }, { publisher: PUBLISHER, time })
}

/** anonymous and file-backed RSS in MB (LevelDB maps the table files it reads; those pages are the kernel's to drop) */
function rssParts (): { anonMb: number, fileMb: number } {
  const status = readFileSync('/proc/self/status', 'utf8')
  return { anonMb: Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024, fileMb: Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024 }
}

const entryHash = (i: number): string => `zdpu${i.toString(36).padStart(45, '0')}`

async function candidate (i: number): Promise<Candidate> {
  const r = record(i)
  const bytes = dagCbor.encode(r)
  const signed: SignedRecord = { id: await recordIdOf(bytes), record: r, bytes, signature: new Uint8Array(64).fill(i % 251) }
  // an entry's size and its writer identity; its other fields are no business of the index
  const entry = dagCbor.encode({ identity: IDENTITY, next: i === 0 ? [] : [entryHash(i - 1)], payload: bytes, sig: 'f'.repeat(128) })
  return { entryHash: entryHash(i), signed, entry, deps: i === 0 ? [] : [entryHash(i - 1)] }
}

async function open (directory: string, last: number) {
  const storage = await openIndexStorage(join(directory, '_index'), join(directory, '_frames'))
  const stub = {
    has: async () => true,
    heads: async () => last < 0 ? [] : [{ hash: entryHash(last) }],
    get: async () => undefined,
    storage: { get: async () => undefined }
  }
  const index = new RecordIndex({ store: new RecordStore(storage.records, storage.frames), legacyFile: join(directory, 'none.records'), stopped: () => false, onRecord: () => {}, onReplicated: () => {} })
  await index.load(stub as never, { check: async () => { throw new Error('nothing to check') } })
  return { storage, index }
}

async function writeChild (directory: string, n: number): Promise<void> {
  const { storage, index } = await open(directory, -1)
  let first = ''
  let cpuUs = 0
  for (let i = 0; i < n; i += 1_000) {
    const batch: Candidate[] = []
    for (let j = i; j < Math.min(n, i + 1_000); j++) batch.push(await candidate(j))
    first ||= batch[0]!.signed.id
    const cpu = process.cpuUsage()
    await index.serial.run(async () => index.commit(batch))
    const used = process.cpuUsage(cpu)
    cpuUs += used.user + used.system
  }
  globalThis.gc?.()
  const memory = process.memoryUsage()
  process.stdout.write(`${JSON.stringify({ first, writeCpuUs: cpuUs / n, rssMb: memory.rss / 2 ** 20, ...rssParts(), heapMb: memory.heapUsed / 2 ** 20, externalMb: memory.external / 2 ** 20, entries: index.entries })}\n`)
  await storage.close()
}

async function reopenChild (directory: string, n: number, id: string): Promise<void> {
  const started = performance.now()
  const { storage, index } = await open(directory, n - 1)
  const found = await index.get(id)
  const ms = performance.now() - started
  if (found?.record.kind !== 'release') throw new Error(`the reopened index lacks ${id}`)
  const asked = performance.now()
  let latest = 0
  for await (const _ of index.latest({ appId: found.record.appId })) latest++
  const latestMs = performance.now() - asked
  globalThis.gc?.()
  process.stdout.write(`${JSON.stringify({ reopenQueryMs: ms, latestMs, latest, rssMb: process.memoryUsage().rss / 2 ** 20, ...rssParts(), records: index.size })}\n`)
  await storage.close()
}

function runChild (args: string[]): Record<string, number | string> {
  const result = spawnSync(process.execPath, ['--expose-gc', here, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 60 * 60_000 })
  if (result.status !== 0) throw new Error(`${args[0]} exited with ${result.status}`)
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, number | string>
}

if (process.argv[2] === '--write') {
  await writeChild(process.argv[3]!, Number(process.argv[4]))
} else if (process.argv[2] === '--reopen') {
  await reopenChild(process.argv[3]!, Number(process.argv[4]), process.argv[5]!)
} else {
  const figures: Figure[] = []
  const results: Record<string, unknown> = {}
  let base: { writeCpuUs: number, reopenQueryMs: number, reopenRssMb: number } | undefined
  for (const n of SIZES) {
    const dir = await mkdtemp(join(tmpdir(), 'hubless-bench-index-'))
    try {
      const written = runChild(['--write', dir, String(n)])
      const reopened = runChild(['--reopen', dir, String(n), String(written.first)])
      const r = { writeCpuUs: Number(written.writeCpuUs), writerRssMb: Number(written.rssMb), writerAnonMb: Number(written.anonMb), writerFileMb: Number(written.fileMb), reopenQueryMs: Number(reopened.reopenQueryMs), latestMs: Number(reopened.latestMs), reopenRssMb: Number(reopened.rssMb) }
      console.log(`${n}: written at ${r.writeCpuUs.toFixed(1)} µs CPU an entry (writer RSS ${r.writerRssMb.toFixed(0)} MB: anonymous ${r.writerAnonMb.toFixed(0)}, file-backed ${r.writerFileMb.toFixed(0)}; heap ${Number(written.heapMb).toFixed(0)} MB, external ${Number(written.externalMb).toFixed(0)} MB); reopen + get ${r.reopenQueryMs.toFixed(1)} ms, latest ${r.latestMs.toFixed(1)} ms (${reopened.latest}), RSS ${r.reopenRssMb.toFixed(0)} MB`)
      base ??= r
      results[n] = r
      figures.push(
        { name: `${n}: write CPU per entry`, value: r.writeCpuUs, unit: 'µs', baseline: base.writeCpuUs, goal: 'flat (ratio ~1)' },
        // the writer also generated its input: at 100,000 it holds ~330 MB anonymous RSS without committing anything (measured)
        { name: `${n}: writer RSS, input generation included`, value: r.writerRssMb, unit: 'MB' },
        { name: `${n}: writer RSS, anonymous`, value: r.writerAnonMb, unit: 'MB' },
        { name: `${n}: writer RSS, file-backed (mapped tables)`, value: r.writerFileMb, unit: 'MB' },
        { name: `${n}: reopen + first query`, value: r.reopenQueryMs, unit: 'ms', baseline: base.reopenQueryMs, goal: '<= 300 ms' },
        { name: `${n}: then an app's newest releases`, value: r.latestMs, unit: 'ms' },
        { name: `${n}: RSS after reopening`, value: r.reopenRssMb, unit: 'MB', baseline: base.reopenRssMb, goal: '<= 300 MB' }
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  report('record-index-scale', figures, { sizes: SIZES, results })
}
