/**
 * The Debian tools the tests use, installed when missing: mksquashfs/unsquashfs build and check
 * AppImage fixtures, chromium runs the browser tests, ip makes the mDNS test's network namespace,
 * zsyncmake and zsync check the mirror's zsync control files and range requests against the real
 * zsync 0.6 client; libjemalloc2 is the allocator a mirror preloads when asked, which the launcher's test checks.
 * As root (CI, these machines) it installs them with apt-get; otherwise it says what to install.
 * Part of `pnpm test`, so the README's test command works on a fresh machine.
 */
import { execFileSync, spawnSync } from 'node:child_process'

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
const installed = (pkg: string): boolean => spawnSync('dpkg', ['-s', pkg], { stdio: 'ignore' }).status === 0

const tools: Array<{ pkg: string, present: () => boolean }> = [
  ...[
    { command: 'mksquashfs', pkg: 'squashfs-tools' },
    { command: 'unsquashfs', pkg: 'squashfs-tools' },
    { command: 'chromium', pkg: 'chromium' },
    { command: 'ip', pkg: 'iproute2' },
    { command: 'zsync', pkg: 'zsync' },
    { command: 'zsyncmake', pkg: 'zsync' }
  ].map(({ command, pkg }) => ({ pkg, present: () => has(command) })),
  // the allocator a mirror preloads with HUBLESS_ALLOCATOR=jemalloc (bin/runtime.js); a library, not a command
  ...(has('dpkg') ? [{ pkg: 'libjemalloc2', present: () => installed('libjemalloc2') }] : [])
]

const missing = [...new Set(tools.filter(t => !t.present()).map(t => t.pkg))]

if (missing.length > 0) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log(`test tools: apt-get install ${missing.join(' ')}`)
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    })
  } else {
    console.error(`test tools missing: install ${missing.join(', ')} (Debian: sudo apt-get install ${missing.join(' ')}), then run the tests again`)
    process.exit(1)
  }
}
