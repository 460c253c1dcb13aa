/**
 * How much of an AppImage update a peer that holds the previous version must download, by chunker.
 *
 * Builds AppImages from Debian packages it downloads with apt (VLC with its Qt/ICU/FFmpeg
 * libraries in the bookworm and bookworm-security versions, a 5%-changed variant, a rebuild with
 * other timestamps, KeePassXC sharing the Qt/ICU libraries, and the update built with other
 * squashfs settings), then compares the bytes to fetch for B given A for fixed 256 KiB and 1 MiB
 * chunks, Helia's rabin, FastCDC and the squashfs-aware chunker (all through the real UnixFS
 * importer, DAG nodes included), and Debian's zsync and casync served from a local HTTP server on
 * 127.0.0.1. It also times reading an image's metadata against reading the whole file.
 *
 * Needs root or a populated cache for `apt-get download`, and squashfs-tools, zsync, casync.
 * Downloads are cached in tmp/appimage-dedup/debs (git-ignored). `node scripts/bench/appimage-dedup.ts`
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixedSize, rabin } from 'ipfs-unixfs-importer/chunker'
import { createSquashfsChunker, fastCdc, openAppImage, readAppImageMetadata } from '../../packages/appimage/src/index.ts'
import { SquashfsImage } from '../../packages/appimage/src/squashfs/filesystem.ts'
import { createFileReader } from '../../packages/appimage/src/reader.ts'
import { appDir, buildAppImage, debianPair, debianVersions, downloadDeb, MEDIA_PACKAGES, QT_PACKAGES, run, type SquashfsSettings, serveDirectory, type StaticServer, VLC_DESKTOP, VLC_PACKAGES, zsyncUpdate } from './lib/debian-appimage.ts'
import { type Figure, report } from './lib/report.ts'
import { type Chunker, fetchBytes, importBlocks, totalBytes } from './lib/unixfs-blocks.ts'

const MiB = 1024 * 1024

const KEEPASSXC = ['keepassxc', 'libbotan-2-19', 'libqrencode4', 'libqt5concurrent5']

function log (msg: string): void {
  console.log(`[appimage-dedup] ${msg}`)
}

const appImage = buildAppImage
type Settings = SquashfsSettings

async function filesOf (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name))
  }
  return out.sort()
}

/** Changes a few bytes in every 20th file (5% of the files), deterministically */
async function changeFivePercent (dir: string): Promise<number> {
  const files = (await filesOf(dir)).filter((_, i) => i % 20 === 7)
  for (const f of files) {
    const data = await readFile(f)
    if (data.byteLength === 0) continue
    const at = Math.floor(data.byteLength / 2)
    data.set(createHash('sha256').update(f).digest().subarray(0, Math.min(16, data.byteLength - at)), at)
    await writeFile(f, data)
  }
  return files.length
}

const CHUNKERS: Record<string, (path: string) => Promise<Chunker>> = {
  'fixed 256 KiB': async () => fixedSize({ chunkSize: 256 * 1024 }),
  'fixed 1 MiB': async () => fixedSize({ chunkSize: MiB }),
  // rabin() without options has min = avg = max = 256 KiB, i.e. fixed-size chunks; avg alone gives
  // Kubo's `rabin-262144` (min avg/3, max 1.5 avg)
  'rabin avg 256 KiB': async () => rabin({ avgChunkSize: 262144 }),
  'FastCDC 16/64/256 KiB': async () => fastCdc(),
  'squashfs-aware': async (path) => await createSquashfsChunker(path)
}

async function zsyncBytes (work: string, url: string, server: StaticServer, seed: string, target: string): Promise<{ total: number, control: number }> {
  return await zsyncUpdate({ served: join(work, 'http'), url, server, seed, target, out: join(work, 'zsync-out') })
}

async function casyncBytes (work: string, url: string, server: StaticServer, seed: string, target: string): Promise<number> {
  const name = target.split('/').pop()!
  const store = join(work, 'http', 'store.castr')
  await run('casync', ['make', `--store=${store}`, join(work, 'http', `${name}.caibx`), target], { maxBuffer: 16 * MiB, timeout: 600_000 })
  server.reset()
  const out = join(work, 'casync-out')
  await rm(out, { force: true })
  await run('casync', ['extract', `--store=${url}/store.castr`, `--seed=${seed}`, `${url}/${name}.caibx`, out], { maxBuffer: 16 * MiB, timeout: 600_000 })
  if (Buffer.compare(await readFile(out), await readFile(target)) !== 0) throw new Error('casync produced a different file')
  return server.sent()
}

async function median (n: number, fn: () => Promise<void>): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

/** Compressed bytes of the full data blocks of files K shares (same path, same content) with B, and how many of them K's chunks share with B's */
async function sharedLibraryDedup (k: string, b: string, kChunks: Set<string>, bChunks: Set<string>): Promise<{ shareable: number, deduplicated: number }> {
  const rk = await createFileReader(k)
  const rb = await createFileReader(b)
  try {
    const fk = await SquashfsImage.open(rk, (await openAppImage(rk)).runtimeSize)
    const fb = await SquashfsImage.open(rb, (await openAppImage(rb)).runtimeSize)
    const hashes = new Map<string, string>()
    for await (const e of fb.walk()) {
      if (e.type === 'file') hashes.set(e.path, createHash('sha256').update(await fb.readFile(e.path, { maxSize: 512 * MiB })).digest('hex'))
    }
    let shareable = 0
    let deduplicated = 0
    for await (const e of fk.walk()) {
      if (e.type !== 'file' || hashes.get(e.path) === undefined) continue
      if (createHash('sha256').update(await fk.readFile(e.path, { maxSize: 512 * MiB })).digest('hex') !== hashes.get(e.path)) continue
      const inode = await fk.inode(e.inodeRef)
      if (inode.type !== 'file') continue
      for (const block of (await fk.extents(inode)).blocks) {
        if (block.sparse) continue
        shareable += block.length
        const bytes = await rk.read(block.offset, block.length)
        const h = createHash('sha256').update(bytes).digest('hex')
        if (kChunks.has(h) && bChunks.has(h)) deduplicated += block.length
      }
    }
    return { shareable, deduplicated }
  } finally {
    await rk.close()
    await rb.close()
  }
}

async function chunkHashes (path: string): Promise<Set<string>> {
  const out = new Set<string>()
  const chunker = await createSquashfsChunker(path)
  for await (const c of chunker(createReadStream(path, { highWaterMark: MiB }))) out.add(createHash('sha256').update(c).digest('hex'))
  return out
}

async function main (): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'hubless-appimage-dedup-'))
  const figures: Figure[] = []
  const extra: Record<string, unknown> = {}
  try {
    log('downloading Debian packages (cached in tmp/appimage-dedup)')
    const oldDebs: string[] = []
    const newDebs: string[] = []
    const pkgVersions: Record<string, { old: string, new: string }> = {}
    const pair = await debianPair([...VLC_PACKAGES, ...MEDIA_PACKAGES, ...QT_PACKAGES])
    oldDebs.push(...pair.old)
    newDebs.push(...pair.new)
    Object.assign(pkgVersions, pair.versions)
    const keepassDebs: string[] = []
    for (const pkg of [...KEEPASSXC, ...QT_PACKAGES]) {
      const v = await debianVersions(pkg)
      keepassDebs.push(await downloadDeb(pkg, v.new))
    }
    extra['packages'] = pkgVersions

    log('building AppDirs')
    await appDir(join(work, 'A'), oldDebs, VLC_DESKTOP)
    await appDir(join(work, 'B'), newDebs, VLC_DESKTOP)
    await cp(join(work, 'A'), join(work, 'A5'), { recursive: true, verbatimSymlinks: true })
    const changed = await changeFivePercent(join(work, 'A5'))
    await appDir(join(work, 'K'), keepassDebs, { desktop: 'usr/share/applications/org.keepassxc.KeePassXC.desktop', icon: 'usr/share/icons/hicolor/256x256/apps/keepassxc.png' })

    log('building AppImages with mksquashfs (zstd, 128 KiB blocks: appimagetool\'s defaults)')
    const http = join(work, 'http')
    await mkdir(http)
    const std: Settings = { comp: 'zstd', block: 131072 }
    const A = await appImage(join(work, 'A'), join(http, 'vlc-old.AppImage'), std)
    const B = await appImage(join(work, 'B'), join(http, 'vlc-new.AppImage'), std)
    const A5 = await appImage(join(work, 'A5'), join(http, 'vlc-5pct.AppImage'), std)
    const R = await appImage(join(work, 'A'), join(http, 'vlc-rebuild.AppImage'), std, 1800000000)
    const K = await appImage(join(work, 'K'), join(http, 'keepassxc.AppImage'), std)
    const sizes = { A: (await stat(A)).size, B: (await stat(B)).size, A5: (await stat(A5)).size, R: (await stat(R)).size, K: (await stat(K)).size }
    extra['sizes'] = sizes
    extra['filesChangedIn5pct'] = changed
    log(`sizes: ${JSON.stringify(sizes)}`)

    const pairs: Array<[string, string, string, number]> = [
      ['update (VLC 3.0.23 → 3.0.24)', A, B, sizes.B],
      ['5% of files changed', A, A5, sizes.A5],
      ['content-identical rebuild', A, R, sizes.R]
    ]
    const results: Record<string, Record<string, number>> = {}
    for (const [name, make] of Object.entries(CHUNKERS)) {
      log(`chunking with ${name}`)
      const blocksA = await importBlocks(A, await make(A))
      for (const [pair, , target, size] of pairs) {
        const blocks = await importBlocks(target, await make(target))
        results[pair] ??= {}
        results[pair]![name] = fetchBytes(blocksA, blocks) / size
        if (name === 'squashfs-aware' && pair.startsWith('update')) {
          extra['dagOverhead'] = (totalBytes(blocks) - size) / size
          extra['squashfsChunks'] = blocks.size
        }
      }
    }

    log('zsync and casync through a local HTTP server')
    const server = serveDirectory(http)
    const url = await server.start()
    try {
      for (const [pair, seed, target, size] of pairs.slice(0, 2)) {
        const z = await zsyncBytes(work, url, server, seed, target)
        results[pair]!['zsync'] = z.total / size
        results[pair]!['zsync (without .zsync file)'] = (z.total - z.control) / size
        results[pair]!['casync'] = await casyncBytes(work, url, server, seed, target) / size
      }
    } finally {
      await server.stop()
    }

    for (const [pair, byMethod] of Object.entries(results)) {
      const zsync = byMethod['zsync']
      for (const [method, fraction] of Object.entries(byMethod)) {
        figures.push({
          name: `${pair}: ${method}`,
          value: Math.round(fraction * 10000) / 100,
          unit: '% of B',
          ...(zsync !== undefined ? { baseline: Math.round(zsync * 10000) / 100 } : {}),
          ...(method === 'squashfs-aware' && pair.startsWith('update') ? { goal: '<= 1.05x zsync' } : {}),
          ...(method === 'squashfs-aware' && pair.startsWith('content') ? { goal: '<= 0.5%' } : {})
        })
      }
    }
    figures.push({ name: 'UnixFS DAG overhead (squashfs-aware, B)', value: Math.round((extra['dagOverhead'] as number) * 100000) / 1000, unit: '%', goal: '<= 0.5%' })

    log('shared libraries: KeePassXC given VLC (same Qt/ICU packages, same settings)')
    const shared = await sharedLibraryDedup(K, B, await chunkHashes(K), await chunkHashes(B))
    extra['sharedLibraries'] = shared
    const kBlocks = await importBlocks(K, await createSquashfsChunker(K))
    const bBlocks = await importBlocks(B, await createSquashfsChunker(B))
    figures.push({ name: 'shared libraries deduplicated (squashfs-aware)', value: Math.round(shared.deduplicated / shared.shareable * 10000) / 100, unit: '% of shareable', goal: '>= 95%' })
    figures.push({ name: 'KeePassXC given VLC: squashfs-aware', value: Math.round(fetchBytes(bBlocks, kBlocks) / sizes.K * 10000) / 100, unit: '% of K', baseline: 100 })

    log('the update built with other squashfs settings (dedup needs the same compressor, level and block size)')
    for (const [label, s] of [['gzip 128 KiB', { comp: 'gzip', block: 131072 }], ['zstd 1 MiB', { comp: 'zstd', block: MiB }], ['zstd level 19, 128 KiB', { comp: 'zstd', block: 131072, level: 19 }]] as Array<[string, Settings]>) {
      const other = await appImage(join(work, 'B'), join(work, `vlc-new-${label.replace(/\W+/g, '-')}.AppImage`), s)
      const blocks = await importBlocks(other, await createSquashfsChunker(other))
      const blocksA = await importBlocks(A, await createSquashfsChunker(A))
      figures.push({ name: `update built as ${label} (A is zstd-15 128 KiB)`, value: Math.round(fetchBytes(blocksA, blocks) / (await stat(other)).size * 10000) / 100, unit: '% of B', baseline: Math.round((results[pairs[0]![0]]!['squashfs-aware'] ?? 0) * 10000) / 100 })
      await rm(other)
    }

    log('metadata read time vs reading the whole file')
    const whole = await median(5, async () => { await readFile(A) })
    const meta = await median(21, async () => {
      const app = await openAppImage(A)
      await readAppImageMetadata(app)
      await app.close()
    })
    const plan = await median(5, async () => { await createSquashfsChunker(A) })
    figures.push({ name: `metadata + release draft of a ${(sizes.A / MiB).toFixed(0)} MiB image`, value: Math.round(meta * 100) / 100, unit: 'ms', baseline: Math.round(whole * 100) / 100, goal: '< 100 ms' })
    figures.push({ name: 'chunk plan (block map) of the same image', value: Math.round(plan * 100) / 100, unit: 'ms', baseline: Math.round(whole * 100) / 100 })
    extra['results'] = results
  } catch (err) {
    // whatever was measured before the failure is still reported
    extra['error'] = (err as Error).stack ?? String(err)
    process.exitCode = 1
    console.error(err)
  } finally {
    report('appimage-dedup', figures, extra)
    await rm(work, { recursive: true, force: true })
  }
}

await main()
