/**
 * Real AppImages for benchmarks, built from Debian packages (apt-get download, dpkg-deb) with
 * mksquashfs as an AppImage tool would, and a static HTTP server on 127.0.0.1 that counts the body
 * bytes it sends (single and multiple byte ranges, which Debian's zsync client needs).
 *
 * Needs root or a populated cache for `apt-get download`; downloads are cached in
 * tmp/appimage-dedup/debs (git-ignored), shared by the benchmarks that use this module.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdir, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { buildRuntime } from '../../../packages/appimage/test/fixtures/build.ts'

export const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..', '..')
export const DEB_CACHE = join(root, 'tmp', 'appimage-dedup', 'debs')
export const MiB = 1024 * 1024

/** VLC with its Qt, ICU and FFmpeg libraries: 3.0.23 in bookworm, 3.0.24 in bookworm-security */
export const VLC_PACKAGES = ['vlc', 'vlc-l10n', 'vlc-bin', 'libvlc5', 'libvlc-bin', 'libvlccore9', 'vlc-plugin-base', 'vlc-plugin-qt', 'vlc-plugin-video-output', 'vlc-data']
export const MEDIA_PACKAGES = ['libavcodec59', 'libavformat59', 'libavutil57', 'libswscale6', 'libswresample4', 'libdav1d6', 'libaom3', 'libx264-164', 'libx265-199']
export const QT_PACKAGES = ['libqt5core5a', 'libqt5gui5', 'libqt5widgets5', 'libqt5dbus5', 'libqt5svg5', 'libqt5network5', 'libqt5x11extras5', 'libicu72', 'libdouble-conversion3', 'libpcre2-16-0', 'libmd4c0']
export const VLC_DESKTOP = { desktop: 'usr/share/applications/vlc.desktop', icon: 'usr/share/icons/hicolor/128x128/apps/vlc.png' }

/** The oldest and newest version apt offers (bookworm vs bookworm-security/updates) */
export async function debianVersions (pkg: string): Promise<{ old: string, new: string }> {
  const { stdout } = await run('apt-cache', ['madison', pkg])
  const list = stdout.split('\n').map(l => l.split('|')[1]?.trim()).filter((v): v is string => v !== undefined && v !== '')
  if (list.length === 0) throw new Error(`apt knows no package ${pkg}; run apt-get update`)
  return { new: list[0]!, old: list[list.length - 1]! }
}

/** The .deb of a package version, from the cache or `apt-get download` */
export async function downloadDeb (pkg: string, version: string): Promise<string> {
  await mkdir(DEB_CACHE, { recursive: true })
  const file = `${pkg}_${version.replace(':', '%3a')}_`
  const have = (await readdir(DEB_CACHE)).find(f => f.startsWith(file) && f.endsWith('.deb'))
  if (have !== undefined) return join(DEB_CACHE, have)
  await run('apt-get', ['download', `${pkg}=${version}`], { cwd: DEB_CACHE, maxBuffer: 16 * MiB })
  const got = (await readdir(DEB_CACHE)).find(f => f.startsWith(file) && f.endsWith('.deb'))
  if (got === undefined) throw new Error(`apt-get download ${pkg}=${version} left no .deb`)
  return join(DEB_CACHE, got)
}

/** The .debs of the oldest and newest versions of packages, and the versions */
export async function debianPair (packages: string[]): Promise<{ old: string[], new: string[], versions: Record<string, { old: string, new: string }> }> {
  const out = { old: [] as string[], new: [] as string[], versions: {} as Record<string, { old: string, new: string }> }
  for (const pkg of packages) {
    const v = await debianVersions(pkg)
    out.versions[pkg] = v
    out.old.push(await downloadDeb(pkg, v.old))
    out.new.push(await downloadDeb(pkg, v.new))
  }
  return out
}

/** An AppDir from unpacked .debs, with an AppRun, the desktop entry and .DirIcon at its root */
export async function appDir (dir: string, debs: string[], links: { desktop: string, icon: string }): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const deb of debs) await run('dpkg-deb', ['-x', deb, dir])
  // AppDirs carry no documentation symlinks into /usr/share/doc of the host
  await rm(join(dir, 'usr/share/doc'), { recursive: true, force: true })
  await writeFile(join(dir, 'AppRun'), '#!/bin/sh\nexec "$APPDIR/usr/bin/$(basename "$ARGV0")" "$@"\n')
  await chmod(join(dir, 'AppRun'), 0o755)
  await symlink(links.desktop, join(dir, links.desktop.split('/').pop()!))
  await symlink(links.icon, join(dir, '.DirIcon'))
}

export interface SquashfsSettings {
  comp: 'zstd' | 'gzip'
  /** block size in bytes */
  block: number
  level?: number
  /**
   * `appimagetool`: the arguments appimagetool passes (`-comp -root-owned -noappend -b
   * -mkfs-time 0`; file times and xattrs as on disk); `fixed` (default): every time set to
   * `time` and no xattrs, for rebuilds that differ only where the bench means them to
   */
  style?: 'appimagetool' | 'fixed'
}

/** mksquashfs of a tree behind a runtime the size of AppImage's type 2 runtime (~190 KB) */
export async function buildAppImage (tree: string, out: string, s: SquashfsSettings, time = 1700000000): Promise<string> {
  const sq = `${out}.squashfs`
  const args = s.style === 'appimagetool'
    ? [tree, sq, '-comp', s.comp, '-root-owned', '-noappend', '-b', String(s.block), '-mkfs-time', '0', '-quiet', '-no-progress']
    : [tree, sq, '-noappend', '-comp', s.comp, '-b', String(s.block), '-all-root', '-mkfs-time', String(time), '-all-time', String(time), '-no-xattrs', '-quiet', '-no-progress']
  if (s.level !== undefined) args.push('-Xcompression-level', String(s.level))
  await run('mksquashfs', args, { maxBuffer: 16 * MiB })
  const { bytes } = buildRuntime({ textSize: 190_000, updateInformation: 'zsync|http://127.0.0.1/app.zsync' })
  const handle = await open(out, 'w')
  await handle.write(bytes)
  await handle.write(await readFile(sq))
  await handle.close()
  await rm(sq)
  return out
}

export interface StaticServer {
  start (): Promise<string>
  stop (): Promise<void>
  /** body bytes sent since the last reset */
  sent (): number
  /** requests answered since the last reset, by path */
  requests (): Record<string, number>
  /** byte ranges of files sent since the last reset (end exclusive), by path */
  ranges (): Record<string, Array<{ start: number, end: number }>>
  reset (): void
}

/** A static file server with single and multiple byte ranges, counting the body bytes it sends */
export function serveDirectory (dir: string): StaticServer {
  let sent = 0
  let requests: Record<string, number> = {}
  let ranges: Record<string, Array<{ start: number, end: number }>> = {}
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      const path = join(dir, pathname)
      if (relative(dir, path).startsWith('..')) return res.writeHead(403).end()
      requests[pathname] = (requests[pathname] ?? 0) + 1
      let data: Buffer
      try {
        data = await readFile(path)
      } catch {
        return res.writeHead(404).end()
      }
      const range = req.headers.range
      const served = (start: number, end: number): void => {
        const list = ranges[pathname] ?? []
        list.push({ start, end })
        ranges[pathname] = list
      }
      const write = (chunk: Buffer | string): void => {
        sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
        res.write(chunk)
      }
      if (range === undefined) {
        res.writeHead(200, { 'content-length': data.byteLength, 'accept-ranges': 'bytes' })
        served(0, data.byteLength)
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
        served(start, end + 1)
        write(data.subarray(start, end + 1))
        return res.end()
      }
      // one buffer with a content-length: zsync's HTTP client does not read chunked bodies
      const boundary = 'hubless-bench-boundary'
      const body: Buffer[] = []
      for (const { start, end } of parts) {
        served(start, end + 1)
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
    requests: () => requests,
    ranges: () => ranges,
    reset: () => {
      sent = 0
      requests = {}
      ranges = {}
    }
  }
}

export interface ZsyncRun {
  /** body bytes the server sent, the control file included */
  total: number
  /** bytes of the .zsync control file */
  control: number
  /** wall time of the zsync process, ms */
  ms: number
  /** the ranges of the target file the server sent (end exclusive) */
  ranges: Array<{ start: number, end: number }>
}

/**
 * `zsyncmake` for `target` (served as `url/NAME`, its control file as `url/NAME.zsync`), then
 * Debian's `zsync` updating `seed` to `out`; checks the result is byte-identical to `target`.
 * Pass `control` to reuse a control file made before.
 */
export async function zsyncUpdate (init: { served: string, url: string, server: StaticServer, seed: string, target: string, out: string, makeControl?: boolean }): Promise<ZsyncRun> {
  const name = init.target.split('/').pop()!
  const control = join(init.served, `${name}.zsync`)
  if (init.makeControl !== false) await run('zsyncmake', ['-u', `${init.url}/${name}`, '-o', control, init.target], { maxBuffer: 16 * MiB })
  await rm(init.out, { force: true })
  init.server.reset()
  const t = performance.now()
  await run('zsync', ['-q', '-i', init.seed, '-o', init.out, `${init.url}/${name}.zsync`], { cwd: join(init.out, '..'), maxBuffer: 16 * MiB, timeout: 600_000 })
  const ms = performance.now() - t
  const total = init.server.sent()
  const ranges = init.server.ranges()[`/${name}`] ?? []
  if (Buffer.compare(await readFile(init.out), await readFile(init.target)) !== 0) throw new Error('zsync produced a different file')
  await rm(`${init.out}.zs-old`, { force: true })
  return { total, control: (await readFile(control)).byteLength, ms, ranges }
}
