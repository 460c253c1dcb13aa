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
 * Downloads are cached in tmp/appimage-dedup/ (git-ignored). `node scripts/bench/appimage-dedup.ts`
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, cp, mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize, rabin } from 'ipfs-unixfs-importer/chunker'
import { createSquashfsChunker, fastCdc, openAppImage, readAppImageMetadata } from '../../packages/appimage/src/index.ts'
import { SquashfsImage } from '../../packages/appimage/src/squashfs/filesystem.ts'
import { createFileReader } from '../../packages/appimage/src/reader.ts'
import { buildRuntime } from '../../packages/appimage/test/fixtures/build.ts'
import { type Figure, report } from './lib/report.ts'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const cache = join(root, 'tmp', 'appimage-dedup')
const MiB = 1024 * 1024

const VLC = ['vlc', 'vlc-l10n', 'vlc-bin', 'libvlc5', 'libvlc-bin', 'libvlccore9', 'vlc-plugin-base', 'vlc-plugin-qt', 'vlc-plugin-video-output', 'vlc-data']
const MEDIA = ['libavcodec59', 'libavformat59', 'libavutil57', 'libswscale6', 'libswresample4', 'libdav1d6', 'libaom3', 'libx264-164', 'libx265-199']
const QT = ['libqt5core5a', 'libqt5gui5', 'libqt5widgets5', 'libqt5dbus5', 'libqt5svg5', 'libqt5network5', 'libqt5x11extras5', 'libicu72', 'libdouble-conversion3', 'libpcre2-16-0', 'libmd4c0']
const KEEPASSXC = ['keepassxc', 'libbotan-2-19', 'libqrencode4', 'libqt5concurrent5']

function log (msg: string): void {
  console.log(`[appimage-dedup] ${msg}`)
}

/** The oldest and newest version apt offers (bookworm vs bookworm-security/updates) */
async function versions (pkg: string): Promise<{ old: string, new: string }> {
  const { stdout } = await run('apt-cache', ['madison', pkg])
  const list = stdout.split('\n').map(l => l.split('|')[1]?.trim()).filter((v): v is string => v !== undefined && v !== '')
  if (list.length === 0) throw new Error(`apt knows no package ${pkg}; run apt-get update`)
  return { new: list[0]!, old: list[list.length - 1]! }
}

async function download (pkg: string, version: string): Promise<string> {
  const dir = join(cache, 'debs')
  await mkdir(dir, { recursive: true })
  const file = `${pkg}_${version.replace(':', '%3a')}_`
  const have = (await readdir(dir)).find(f => f.startsWith(file) && f.endsWith('.deb'))
  if (have !== undefined) return join(dir, have)
  await run('apt-get', ['download', `${pkg}=${version}`], { cwd: dir, maxBuffer: 16 * MiB })
  const got = (await readdir(dir)).find(f => f.startsWith(file) && f.endsWith('.deb'))
  if (got === undefined) throw new Error(`apt-get download ${pkg}=${version} left no .deb`)
  return join(dir, got)
}

async function appDir (dir: string, debs: string[], desktop: string, icon: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const deb of debs) await run('dpkg-deb', ['-x', deb, dir])
  // AppDirs carry no documentation symlinks into /usr/share/doc of the host
  await rm(join(dir, 'usr/share/doc'), { recursive: true, force: true })
  await writeFile(join(dir, 'AppRun'), '#!/bin/sh\nexec "$APPDIR/usr/bin/$(basename "$ARGV0")" "$@"\n')
  await chmod(join(dir, 'AppRun'), 0o755)
  await symlink(desktop, join(dir, desktop.split('/').pop()!))
  await symlink(icon, join(dir, '.DirIcon'))
}

interface Settings { comp: 'zstd' | 'gzip', block: number, level?: number }

async function appImage (tree: string, out: string, s: Settings, time = 1700000000): Promise<string> {
  const sq = `${out}.squashfs`
  const args = [tree, sq, '-noappend', '-comp', s.comp, '-b', String(s.block), '-all-root', '-mkfs-time', String(time), '-all-time', String(time), '-no-xattrs', '-quiet', '-no-progress']
  if (s.level !== undefined) args.push('-Xcompression-level', String(s.level))
  await run('mksquashfs', args, { maxBuffer: 16 * MiB })
  // a runtime of the size of AppImage's type 2 runtime (~190 KB), with update information
  const { bytes } = buildRuntime({ textSize: 190_000, updateInformation: 'zsync|http://127.0.0.1/app.zsync' })
  const handle = await open(out, 'w')
  await handle.write(bytes)
  await handle.write(await readFile(sq))
  await handle.close()
  await rm(sq)
  return out
}

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

type Chunker = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>

/** Imports a file with the real UnixFS importer; returns its blocks (CID → size) */
async function importBlocks (path: string, chunker: Chunker): Promise<Map<string, number>> {
  const blocks = new Map<string, number>()
  const blockstore = {
    async put (cid: { toString: () => string }, bytes: Uint8Array) {
      blocks.set(cid.toString(), bytes.byteLength)
      return cid
    }
  }
  // biome-ignore lint/suspicious/noExplicitAny: the importer's blockstore type wants a full Blockstore; only put is used
  for await (const _ of importer([{ content: createReadStream(path, { highWaterMark: MiB }) }], blockstore as any, { chunker, rawLeaves: true, cidVersion: 1 })) { /* drain */ }
  return blocks
}

function fetchBytes (have: Map<string, number>, want: Map<string, number>): number {
  let n = 0
  for (const [cid, size] of want) if (!have.has(cid)) n += size
  return n
}

function total (blocks: Map<string, number>): number {
  let n = 0
  for (const size of blocks.values()) n += size
  return n
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

/** A static file server with single and multiple byte ranges, counting the body bytes it sends */
function serve (dir: string): { start: () => Promise<string>, stop: () => Promise<void>, sent: () => number, reset: () => void } {
  let sent = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
      if (relative(dir, path).startsWith('..')) return res.writeHead(403).end()
      let data: Buffer
      try {
        data = await readFile(path)
      } catch {
        return res.writeHead(404).end()
      }
      const range = req.headers.range
      const write = (chunk: Buffer | string): void => {
        sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
        res.write(chunk)
      }
      if (range === undefined) {
        res.writeHead(200, { 'content-length': data.byteLength, 'accept-ranges': 'bytes' })
        write(data)
        return res.end()
      }
      const parts = range.replace(/^bytes=/, '').split(',').map(r => {
        const [a, b] = r.trim().split('-')
        const start = a === '' ? data.byteLength - Number(b) : Number(a)
        const end = a === '' || b === '' ? data.byteLength - 1 : Math.min(Number(b), data.byteLength - 1)
        return { start, end }
      })
      if (parts.length === 1) {
        const { start, end } = parts[0]!
        res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.byteLength}`, 'content-length': end - start + 1 })
        write(data.subarray(start, end + 1))
        return res.end()
      }
      // one buffer with a content-length: zsync's HTTP client does not read chunked bodies
      const boundary = 'hubless-bench-boundary'
      const body: Buffer[] = []
      for (const { start, end } of parts) {
        body.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${start}-${end}/${data.byteLength}\r\n\r\n`))
        body.push(data.subarray(start, end + 1))
      }
      body.push(Buffer.from(`\r\n--${boundary}--\r\n`))
      const all = Buffer.concat(body)
      res.writeHead(206, { 'content-type': `multipart/byteranges; boundary=${boundary}`, 'content-length': all.byteLength })
      write(all)
      res.end()
    })()
  })
  return {
    start: async () => await new Promise<string>((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
    }),
    stop: async () => await new Promise<void>((resolve) => { server.close(() => resolve()) }),
    sent: () => sent,
    reset: () => { sent = 0 }
  }
}

async function zsyncBytes (work: string, url: string, server: ReturnType<typeof serve>, seed: string, target: string): Promise<{ total: number, control: number }> {
  const name = target.split('/').pop()!
  const control = join(work, 'http', `${name}.zsync`)
  await run('zsyncmake', ['-u', `${url}/${name}`, '-o', control, target], { maxBuffer: 16 * MiB })
  server.reset()
  const out = join(work, 'zsync-out')
  await rm(out, { force: true })
  await run('zsync', ['-q', '-i', seed, '-o', out, `${url}/${name}.zsync`], { cwd: work, maxBuffer: 16 * MiB, timeout: 600_000 })
  const ok = Buffer.compare(await readFile(out), await readFile(target)) === 0
  if (!ok) throw new Error('zsync produced a different file')
  await rm(`${out}.zs-old`, { force: true })
  return { total: server.sent(), control: (await stat(control)).size }
}

async function casyncBytes (work: string, url: string, server: ReturnType<typeof serve>, seed: string, target: string): Promise<number> {
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
    for (const pkg of [...VLC, ...MEDIA, ...QT]) {
      const v = await versions(pkg)
      pkgVersions[pkg] = v
      oldDebs.push(await download(pkg, v.old))
      newDebs.push(await download(pkg, v.new))
    }
    const keepassDebs: string[] = []
    for (const pkg of [...KEEPASSXC, ...QT]) {
      const v = await versions(pkg)
      keepassDebs.push(await download(pkg, v.new))
    }
    extra['packages'] = pkgVersions

    log('building AppDirs')
    await appDir(join(work, 'A'), oldDebs, 'usr/share/applications/vlc.desktop', 'usr/share/icons/hicolor/128x128/apps/vlc.png')
    await appDir(join(work, 'B'), newDebs, 'usr/share/applications/vlc.desktop', 'usr/share/icons/hicolor/128x128/apps/vlc.png')
    await cp(join(work, 'A'), join(work, 'A5'), { recursive: true, verbatimSymlinks: true })
    const changed = await changeFivePercent(join(work, 'A5'))
    await appDir(join(work, 'K'), keepassDebs, 'usr/share/applications/org.keepassxc.KeePassXC.desktop', 'usr/share/icons/hicolor/256x256/apps/keepassxc.png')

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
          extra['dagOverhead'] = (total(blocks) - size) / size
          extra['squashfsChunks'] = blocks.size
        }
      }
    }

    log('zsync and casync through a local HTTP server')
    const server = serve(http)
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
