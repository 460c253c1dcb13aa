/**
 * Importing a catalog (issue 16: "a batched append runs at >= 2,000 records/s"), on a synthetic
 * AppImageHub catalog of BENCH_APPS apps (default 10,000, capped by BENCH_MAX): the hub's own
 * entries repeated under new ids. Both in the same run, each into a fresh registry on its own
 * @hubless/net node (LevelDB on disk):
 *   - baseline: what the importer did before, one `registry.publish` per draft, the previous
 *     release found by a scan of what was appended (the first BENCH_BASELINE drafts, default 2,000)
 *   - `importAppImageHub`: records built once, `registry.publishMany` in batches
 * Pins of batch entries settle in the background; the figure with them is printed too.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../packages/net/src/index.ts'
import { importAppImageHub } from '../../packages/mirror/src/index.ts'
import { mapAppImageHubCatalog } from '../../packages/mirror/src/import/appimagehub.ts'
import { buildReleaseRecord, createRegistry, findPreviousRelease, publisherKeyFromSecret } from '../../packages/registry/src/index.ts'
import type { ReleaseRecord, SignedRecord } from '../../packages/registry/src/index.ts'
import { report } from './lib/report.ts'

const root = join(import.meta.dirname, '..', '..')
const cap = Number(process.env.BENCH_MAX ?? Number.POSITIVE_INFINITY)
const APPS = Math.min(Number(process.env.BENCH_APPS ?? 10_000), cap)
const BASELINE = Math.min(Number(process.env.BENCH_BASELINE ?? 2_000), APPS)

const dirs: string[] = []
async function tempDir (label: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `hubless-bench-${label}-`))
  dirs.push(d)
  return d
}

/** the hub's entries, repeated under new ids until there are `n` */
async function syntheticCatalog (n: number): Promise<string> {
  const hub = JSON.parse(await readFile(join(root, 'data', 'appimagehub-apps.json'), 'utf8')) as Array<Record<string, unknown>>
  const out: Array<Record<string, unknown>> = []
  for (let i = 0; out.length < n; i++) {
    const { appstreamId: _a, githubRepo: _g, ...entry } = hub[i % hub.length]!
    out.push({ ...entry, id: `${String(entry.id)}x${Math.floor(i / hub.length)}` })
  }
  const file = join(await tempDir('catalog'), 'catalog.json')
  await writeFile(file, JSON.stringify(out))
  return file
}

async function fresh (label: string) {
  const directory = await tempDir(label)
  const node = await createNode({ directory: join(directory, 'node') })
  const registry = await createRegistry({ node }, { name: 'bench-import', announceInterval: 0 })
  return { node, registry }
}

const key = publisherKeyFromSecret(new Uint8Array(32).fill(9))
const file = await syntheticCatalog(APPS)
const drafts = mapAppImageHubCatalog(JSON.parse(await readFile(file, 'utf8'))).drafts
console.log(`synthetic catalog: ${APPS} entries, ${drafts.length} drafts; baseline on the first ${BASELINE}`)

// baseline: the importer's loop before publishMany
const before = await fresh('before')
let started = performance.now()
const mine: Array<Pick<SignedRecord<ReleaseRecord>, 'id' | 'record'>> = []
for (const draft of drafts.slice(0, BASELINE)) {
  const previous = findPreviousRelease(mine, { publisher: key.did, appId: draft.appId, channel: draft.channel })
  mine.push(await before.registry.publish(buildReleaseRecord(draft, { publisher: key.did, previous: previous?.id }), key) as SignedRecord<ReleaseRecord>)
}
const beforeRate = BASELINE / ((performance.now() - started) / 1000)
await before.registry.stop()
await before.node.stop()

const after = await fresh('after')
started = performance.now()
const result = await importAppImageHub({ registry: after.registry, catalog: { releases: () => [] } }, { file, key })
const appended = performance.now()
await after.registry.pinsSettled()
const settled = performance.now()
const status = await after.registry.status()
if (status.records !== result.appended || status.heads.length !== 1) throw new Error(`expected ${result.appended} records on one head, got ${status.records} on ${status.heads.length}`)
const afterRate = result.appended / ((appended - started) / 1000)
const settledRate = result.appended / ((settled - started) / 1000)
const rss = process.memoryUsage().rss / 2 ** 20
await after.registry.stop()
await after.node.stop()

report('registry-import', [
  { name: `import ${result.appended} apps (publishMany)`, value: afterRate, unit: 'records/s', baseline: beforeRate, goal: '>= 2,000/s' },
  { name: 'the same, until every entry is pinned', value: settledRate, unit: 'records/s', baseline: beforeRate },
  { name: 'RSS after the import', value: rss, unit: 'MB' }
], { apps: APPS, baselineRecords: BASELINE })
for (const d of dirs) await rm(d, { recursive: true, force: true })
