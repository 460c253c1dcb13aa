/**
 * What an update costs a user, in one run: `hubless update`'s delta (the installed file's blocks
 * local, the new release's DAG fetched from a mirror on 127.0.0.1) against Debian's real `zsync`
 * client updating the same old file from a control file made by `zsyncmake`, and a full download.
 *
 * The pair is VLC 3.0.23 → 3.0.24 with its Qt, ICU and FFmpeg libraries, from Debian's packages,
 * built as appimagetool runs mksquashfs (`-comp zstd -root-owned -noappend -b SIZE -mkfs-time 0`)
 * at 1 MiB blocks (go-appimage's appimagetool, and AppImage's appimagetool from June 2023 to
 * August 2024) and at 128 KiB blocks (AppImage's appimagetool 1.9 and later).
 *
 * hubless: `deliver()`, the code `hubless install` and `hubless update` run, on a data dir
 * holding what `hubless install` of the old release left (its DAG's nodes, not its leaves) and a
 * node with no peers, with the mirror (a process of its own, as zsync's HTTP server is
 * apart from the zsync process) as its gateway; bytes are those of the blocks fetched
 * (DAG nodes included, and apart). zsync: body bytes the HTTP server sent, the control file counted
 * apart. The goal (<= 1.0x zsync) is read like for like: each tool's list of the file's blocks (the
 * DAG's nodes; the control file) counted apart from the data; the strict figure is printed too.
 * Times are wall times of the update alone (zsyncmake and publishing are the publisher's work),
 * the median of `UPDATE_DELTA_RUNS` (default 5) runs, hubless and zsync alternating.
 *
 * It also compares the chunker's versions offline (the same importer and DAG parameters, blocks the
 * old file's DAG lacks), in the same run, and says where each one's bytes and zsync's go, by
 * region of the image (`regions` in the JSON).
 *
 * `node scripts/bench/update-delta.ts` (needs apt-get download or tmp/appimage-dedup/debs, and
 * squashfs-tools and zsync); `UPDATE_DELTA_TIMED=0` skips the timed end-to-end part (hubless's
 * live update, the full download, repeated runs) and runs zsync once, for bytes only;
 * `UPDATE_DELTA_BLOCKS=131072` measures one block size.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { balanced, type FileLayout } from 'ipfs-unixfs-importer/layout'
import { createSquashfsChunker } from '../../packages/appimage/src/index.ts'
import { dataDirLayout } from '../../packages/cli/src/data-dir.ts'
import { deliver } from '../../packages/cli/src/install/deliver.ts'
import type { ProgressLine } from '../../packages/cli/src/operations/operation.ts'
import { openServices } from '../../packages/cli/src/services.ts'
import { contentDefinedLayout } from '../../packages/net/src/dag-layout.ts'
import { appDir, buildAppImage, debianPair, MEDIA_PACKAGES, MiB, QT_PACKAGES, serveDirectory, VLC_DESKTOP, VLC_PACKAGES, zsyncUpdate } from './lib/debian-appimage.ts'
import { appImageRegions, bytesByRegion, type Range } from './lib/delta-regions.ts'
import { get } from './lib/http-get.ts'
import { type MirrorProcess, startMirrorProcess } from './lib/mirror-process.ts'
import { type Figure, report } from './lib/report.ts'
import { type Chunker, fetchParts, importBlocks, installedNodes } from './lib/unixfs-blocks.ts'

const RUNS = Number(process.env.UPDATE_DELTA_RUNS ?? 5)
const TIMED = process.env.UPDATE_DELTA_TIMED !== '0'
const BLOCK_SIZES = [MiB, 128 * 1024]

function log (msg: string): void {
  console.log(`[update-delta] ${msg}`)
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function pct (part: number, whole: number): number {
  return Math.round(part / whole * 10000) / 100
}

async function sha256 (path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex')
}

interface Chunking { chunker: (path: string) => Promise<Chunker>, layout: FileLayout }

const CONTENT_DEFINED = contentDefinedLayout()
/** The DAG of chunker versions 1 to 3 (DAG layout version 1) */
const BALANCED = balanced({ maxChildrenPerNode: 1024 })

/**
 * The chunkings and DAG layouts compared offline: the first is what publish and update use
 * (chunker version 5); the others are the versions before it and version 3's cuts under the
 * content-defined DAG, measured in the same run. Version 4 (finer cuts in every compressed zstd
 * block of 1 MiB images) fetched a little less but cut seven times the blocks, which took adding
 * an image to 0.17x `ipfs-cid`'s throughput (scripts/bench/add-throughput.ts); version 5 makes
 * those cuts in fragment blocks only. Tried
 * and left out: FastCDC (8 KiB) inside every chunk under the balanced DAG (five times the blocks,
 * whose links cost more than they saved); 8/16/64 KiB cuts inside compressed zstd blocks of
 * 128 KiB images (1.0029x against 1.0021x); 512 B/1/4 KiB in stored bytes (1.0016x at
 * 128 KiB, 0.9952x at 1 MiB, for a fifth more blocks, and 5% of an incompressible image in
 * DAG nodes; 256 B/512 B/2 KiB: 1.0008x and 0.9945x); 4 to 64 links a node on average (16
 * fetched least at both sizes, by under 0.1%).
 */
const CHUNKINGS: Record<string, Chunking> = {
  'v5: v3 + content-defined cuts in compressed zstd blocks of fragment blocks of 1 MiB images; content-defined DAG (publish and update)': { chunker: async (path) => await createSquashfsChunker(path), layout: CONTENT_DEFINED },
  'v3 cuts, content-defined DAG': { chunker: async (path) => await createSquashfsChunker(path, { cuts: 'stored' }), layout: CONTENT_DEFINED },
  'v4: v3 + content-defined cuts in every compressed zstd block of 1 MiB images; content-defined DAG': { chunker: async (path) => await createSquashfsChunker(path, { cuts: 'compressed' }), layout: CONTENT_DEFINED },
  'v3: + zstd blocks at any block size (8 KiB pieces), content-defined in stored bytes; balanced DAG': { chunker: async (path) => await createSquashfsChunker(path, { cuts: 'stored' }), layout: BALANCED },
  'v2: squashfs blocks + zstd blocks of blocks over 128 KiB; balanced DAG': { chunker: async (path) => await createSquashfsChunker(path, { cuts: 'zstd' }), layout: BALANCED },
  'v1: squashfs blocks only; balanced DAG': { chunker: async (path) => await createSquashfsChunker(path, { cuts: 'squashfs' }), layout: BALANCED }
}

/** Where the chunks of `newFile` that `oldFile`'s chunks lack lie (each distinct chunk once) */
async function freshRanges (make: Chunking['chunker'], oldFile: string, newFile: string): Promise<Range[]> {
  const { createReadStream } = await import('node:fs')
  const hash = (c: Uint8Array): string => createHash('sha256').update(c).digest('hex')
  const have = new Set<string>()
  for await (const c of (await make(oldFile))(createReadStream(oldFile, { highWaterMark: MiB }))) have.add(hash(c))
  const ranges: Range[] = []
  let at = 0
  for await (const c of (await make(newFile))(createReadStream(newFile, { highWaterMark: MiB }))) {
    const h = hash(c)
    if (!have.has(h)) ranges.push({ start: at, end: at + c.byteLength })
    have.add(h)
    at += c.byteLength
  }
  return ranges
}

interface Measured { bytes: number, ms: number }

/** One `hubless update`: a data dir that installed the old release (its DAG nodes), the installed old file, the new release from the mirror */
async function hublessUpdate (work: string, mirror: MirrorProcess, content: { cid: string, size: number, sha256: string }, old: string, run: number): Promise<Measured & { nodes: number, reused: number, phases: Record<string, number> }> {
  const dir = join(work, `client-${run}`)
  const installed = join(dir, 'app.AppImage')
  await mkdir(dir, { recursive: true })
  await copyFile(old, installed)
  const services = await openServices(dataDirLayout(join(dir, 'data')), { gateways: [] })
  try {
    const signal = AbortSignal.timeout(600_000)
    // the node installed the old release with `hubless install`, which keeps its DAG's nodes
    // (small; never its leaves): the new DAG's nodes that did not change are local
    const installedDag = await installedNodes(old, await createSquashfsChunker(old))
    await services.node.content.putBlocks(installedDag.nodes, { signal })
    // where the time goes, by the phases deliver reports
    const phases: Record<string, number> = {}
    let phase = 'starting'
    const t = performance.now()
    let since = t
    const onProgress = (p: ProgressLine): void => {
      const name = p.phase.replace(/ \(.*\)$/, '')
      if (name === phase) return
      phases[phase] = (phases[phase] ?? 0) + performance.now() - since
      since = performance.now()
      phase = name
    }
    const delivery = await deliver({ services, signal, onProgress }, { content: { ...content, urls: [] }, target: installed, installed, installedCid: installedDag.root.toString(), gateways: [mirror.url] })
    const ms = performance.now() - t
    phases[phase] = (phases[phase] ?? 0) + performance.now() - since
    if (delivery.sha256 !== content.sha256) throw new Error('hubless delivered a different file')
    return { bytes: delivery.bytesFetched, nodes: delivery.nodeBytesFetched, reused: delivery.bytesReused, ms, phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)])) }
  } finally {
    await services.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

async function fullDownload (mirror: MirrorProcess, cid: string): Promise<Measured> {
  const t = performance.now()
  const answer = await get(`${mirror.url}/ipfs/${cid}?filename=app.AppImage`)
  const ms = performance.now() - t
  if (answer.status !== 200) throw new Error(`full download answered ${answer.status}`)
  return { bytes: answer.bytes, ms }
}

async function measureBlockSize (work: string, trees: { old: string, new: string }, block: number, figures: Figure[], extra: Record<string, unknown>): Promise<void> {
  const label = block >= MiB ? `${block / MiB} MiB` : `${block / 1024} KiB`
  log(`${label}: building the pair as appimagetool does`)
  const served = join(work, `http-${block}`)
  await mkdir(served, { recursive: true })
  const settings = { comp: 'zstd', block, style: 'appimagetool' } as const
  const oldFile = await buildAppImage(trees.old, join(served, 'vlc-old.AppImage'), settings)
  const newFile = await buildAppImage(trees.new, join(served, 'vlc-new.AppImage'), settings)
  const size = (await stat(newFile)).size
  const info: Record<string, unknown> = { oldSize: (await stat(oldFile)).size, newSize: size }

  log(`${label}: chunkings offline`)
  const offline: Record<string, number> = {}
  const dagNodes: Record<string, number> = {}
  const blockCounts: Record<string, number> = {}
  const regions = await appImageRegions(newFile)
  const byRegion: Record<string, Record<string, number>> = {}
  for (const [name, { chunker: make, layout }] of Object.entries(CHUNKINGS)) {
    const blocks = await importBlocks(newFile, await make(newFile), layout)
    const parts = fetchParts(await importBlocks(oldFile, await make(oldFile), layout), blocks)
    offline[name] = parts.bytes
    dagNodes[name] = parts.nodes
    blockCounts[name] = blocks.size
    byRegion[name] = { ...bytesByRegion(regions, await freshRanges(make, oldFile, newFile)), 'DAG nodes': parts.nodes }
  }
  Object.assign(info, { offline, dagNodes, blockCounts })
  const regionSizes: Record<string, number> = {}
  for (const r of regions) regionSizes[r.name] = (regionSizes[r.name] ?? 0) + r.end - r.start

  const server = serveDirectory(served)
  const url = await server.start()
  const mirror = TIMED ? await startMirrorProcess(join(work, `mirror-${block}`), newFile) : undefined
  try {
    const hubless: Array<Measured & { nodes: number, reused: number, phases: Record<string, number> }> = []
    const zsync: Array<Measured & { control: number, ranges: Range[] }> = []
    const full: Measured[] = []
    const content = mirror === undefined ? undefined : { cid: mirror.cid, size, sha256: await sha256(newFile) }
    for (let i = 0; i < (TIMED ? RUNS : 1); i++) {
      // alternate the order, so that neither always runs on a warm page cache
      const order = i % 2 === 0 ? ['hubless', 'zsync'] : ['zsync', 'hubless']
      for (const what of order) {
        if (what === 'hubless') {
          if (mirror !== undefined && content !== undefined) hubless.push(await hublessUpdate(work, mirror, content, oldFile, i))
        } else {
          const z = await zsyncUpdate({ served, url, server, seed: oldFile, target: newFile, out: join(work, 'zsync-out.AppImage'), makeControl: i === 0 })
          zsync.push({ bytes: z.total - z.control, control: z.control, ms: z.ms, ranges: z.ranges })
        }
      }
      if (mirror !== undefined) full.push(await fullDownload(mirror, mirror.cid))
      log(`${label} run ${i + 1}: hubless ${hubless.at(-1)?.bytes ?? '-'} B ${hubless.at(-1)?.ms.toFixed(0) ?? '-'} ms ${JSON.stringify(hubless.at(-1)?.phases ?? {})}, zsync ${zsync.at(-1)!.bytes}+${zsync.at(-1)!.control} B ${zsync.at(-1)!.ms.toFixed(0)} ms, full ${full.at(-1)?.ms.toFixed(0) ?? '-'} ms`)
    }
    const z = { bytes: zsync[0]!.bytes, control: zsync[0]!.control, ms: median(zsync.map(r => r.ms)) }
    const zTotal = z.bytes + z.control
    byRegion['zsync'] = bytesByRegion(regions, zsync[0]!.ranges)
    Object.assign(info, { zsync: zsync.map(({ ranges, ...r }) => r), regions: { size: regionSizes, ...byRegion } })
    const base = Object.values(offline)[0]!
    if (mirror !== undefined) {
      const h = { bytes: hubless[0]!.bytes, nodes: hubless[0]!.nodes, reused: hubless[0]!.reused, ms: median(hubless.map(r => r.ms)) }
      const f = { bytes: full[0]!.bytes, ms: median(full.map(r => r.ms)) }
      Object.assign(info, { cid: mirror.cid, hubless, full })
      // strict: everything hubless fetched against zsync's data alone
      figures.push({ name: `${label}: hubless update, fetched (DAG nodes in, zsync's control file apart)`, value: pct(h.bytes, size), unit: '% of new', baseline: pct(z.bytes, size) })
      // like for like: hubless's DAG nodes are its list of blocks, as zsync's control file is zsync's
      figures.push({ name: `${label}: hubless update, leaves (its ${h.nodes} B of DAG nodes apart, as zsync's control file is)`, value: pct(h.bytes - h.nodes, size), unit: '% of new', baseline: pct(z.bytes, size), goal: '<= 1.0x zsync' })
      figures.push({ name: `${label}: hubless / zsync, each with its block list`, value: pct(h.bytes, size), unit: '% of new', baseline: pct(zTotal, size) })
      figures.push({ name: `${label}: full download`, value: pct(f.bytes, size), unit: '% of new' })
      figures.push({ name: `${label}: hubless update, wall time`, value: Math.round(h.ms), unit: 'ms', baseline: Math.round(z.ms), goal: '<= 1.2x zsync' })
      figures.push({ name: `${label}: full download, wall time`, value: Math.round(f.ms), unit: 'ms', baseline: Math.round(z.ms) })
    }
    figures.push({ name: `${label}: zsync, with its control file`, value: pct(zTotal, size), unit: '% of new', baseline: 100 })
    // the offline figures against zsync's bytes: the goal applies to the first (what update fetches)
    for (const [name, bytes] of Object.entries(offline)) {
      figures.push({ name: `${label}: offline ${name}, ${blockCounts[name]} blocks`, value: pct(bytes, size), unit: '% of new', baseline: pct(z.bytes, size), ...(bytes === base ? { goal: '<= 1.0x zsync' } : {}) })
      log(`${label}: ${name}: ${bytes} B (${dagNodes[name]} B of DAG nodes), zsync ${z.bytes} B (+${z.control} B control file): ${(bytes / z.bytes).toFixed(4)}x; new file ${size} B`)
    }
    extra[label] = info
  } finally {
    await server.stop()
    await mirror?.stop()
  }
}

async function main (): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'hubless-update-delta-'))
  const figures: Figure[] = []
  const extra: Record<string, unknown> = { runs: TIMED ? RUNS : 1, timed: TIMED }
  try {
    log('Debian packages (cached in tmp/appimage-dedup/debs)')
    const pair = await debianPair([...VLC_PACKAGES, ...MEDIA_PACKAGES, ...QT_PACKAGES])
    extra['packages'] = pair.versions
    const trees = { old: join(work, 'old'), new: join(work, 'new') }
    await appDir(trees.old, pair.old, VLC_DESKTOP)
    await appDir(trees.new, pair.new, VLC_DESKTOP)
    for (const block of (process.env.UPDATE_DELTA_BLOCKS?.split(',').map(Number) ?? BLOCK_SIZES)) {
      await measureBlockSize(work, trees, block, figures, extra)
    }
  } catch (err) {
    // whatever was measured before the failure is still reported
    extra['error'] = (err as Error).stack ?? String(err)
    process.exitCode = 1
    console.error(err)
  } finally {
    report('update-delta', figures, extra)
    await rm(work, { recursive: true, force: true })
  }
}

await main()
