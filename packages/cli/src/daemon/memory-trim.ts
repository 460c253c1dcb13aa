import { anonymousBytes } from '@hubless/mirror'
import { logger } from '@libp2p/logger'
import { loadReleaseFreePages } from './free-pages.ts'
import type { ReleaseFreePages } from './free-pages.ts'

const log = logger('hubless:cli:memory')

const DEFAULT_INTERVAL = 30_000
const DEFAULT_GROWTH = 128 * 1024 * 1024
const DEFAULT_RELEASE_GROWTH = 16 * 1024 * 1024

/** `gc` as Node exposes it under --expose-gc (a daemon's Node flags, bin/runtime.js) */
type ExposedGc = (options: { type: 'major', execution: 'sync', flavor: 'last-resort' }) => void

export interface MemoryTrimInit {
  /** ms between two looks at the process's memory; default 30 000 */
  interval?: number
  /** bytes the anonymous memory outside the JS heap may grow by before a trim; default 128 MiB */
  growth?: number
  /** the process's anonymous memory in bytes (default: /proc/self/smaps_rollup) */
  anonymous?: () => Promise<number>
  /** hands the C allocator's free pages back (default: glibc's malloc_trim, where there is one); null: none */
  releaseFreePages?: ReleaseFreePages | null
  /** bytes the anonymous memory outside the JS heap may grow by before the allocator alone is asked to hand back its free pages; default 16 MiB */
  releaseGrowth?: number
}

export interface MemoryTrim {
  /** trims run so far (collections) */
  readonly count: number
  /** times the allocator alone was asked for its free pages, between trims */
  readonly releases: number
  /** what the last trim returned: the anonymous memory outside the JS heap before and after, and how long it took */
  readonly last: { before: number, after: number, ms: number } | undefined
  /** look now, not at the next interval: a burst just ended (a restart's load) */
  lookNow (): Promise<void>
  stop (): void
}

/**
 * V8 keeps the pages its collections free in a pool, resident, for reuse, and returns them to
 * the system only in a last-resort collection, which nothing in Node runs by itself: a mirror
 * that caught up with a 100,000-record registry held ~160 MB of pooled pages a minute later, with
 * 215 MB of live heap (`--trace-gc`). So a daemon (a mirror too) looks every `interval`, and when
 * its anonymous memory outside the JS heap has grown by `growth` since the last look that trimmed
 * (the first look always does: a start leaves a pool too), it runs that collection once, then has the C
 * allocator hand back the pages freed outside the heap (free-pages.ts says why glibc keeps them).
 * The allocator alone, without the collection (tens of ms, not hundreds), is asked at a look
 * where that memory grew by `releaseGrowth` since it was last asked: what a burst that ended
 * between two trims freed goes back too. Where Node does not expose `gc` (a daemon started
 * without the launcher's flags, as tests start one), only the allocator is asked (a daemon so
 * started, 30 s after catching up with 100,000 records: 578 MB of anonymous memory, 495 after
 * `malloc_trim`); absent where there is neither.
 */
export function startMemoryTrim (init: MemoryTrimInit = {}): MemoryTrim | undefined {
  const exposed = (globalThis as { gc?: ExposedGc }).gc
  const gc = typeof exposed === 'function' ? exposed : undefined
  if (gc == null && (init.releaseFreePages === null || process.platform !== 'linux')) return undefined
  const interval = init.interval ?? DEFAULT_INTERVAL
  const growth = init.growth ?? DEFAULT_GROWTH
  const releaseGrowth = init.releaseGrowth ?? DEFAULT_RELEASE_GROWTH
  const anonymous = init.anonymous ?? anonymousBytes
  const outside = async (): Promise<number> => await anonymous() - process.memoryUsage().heapTotal
  const releaser: Promise<ReleaseFreePages | undefined> = init.releaseFreePages !== undefined
    ? Promise.resolve(init.releaseFreePages ?? undefined)
    : loadReleaseFreePages()
  let count = 0
  let releases = 0
  let last: MemoryTrim['last']
  let baseline = -Infinity
  /** memory outside the heap when the allocator last handed back its free pages, or less since (the first look asks) */
  let released = -Infinity
  let looking = false
  const look = async (): Promise<void> => {
    if (looking) return
    looking = true
    try {
      const before = await outside()
      released = Math.min(released, before)
      const releaseFreePages = await releaser
      if (gc == null && releaseFreePages == null) {
        clearInterval(timer)
        return
      }
      if (gc != null && before - baseline >= growth) {
        const started = performance.now()
        gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
        // after the collection, which freed the buffers it found dead
        releaseFreePages?.()
        const ms = performance.now() - started
        baseline = released = await outside()
        count++
        last = { before, after: baseline, ms }
        log('returned %d MB of pooled and free pages in %d ms', Math.round((before - baseline) / 1e6), Math.round(ms))
      } else if (releaseFreePages != null && before - released >= releaseGrowth) {
        const started = performance.now()
        releaseFreePages()
        const ms = performance.now() - started
        released = await outside()
        releases++
        log('the allocator returned %d MB of free pages in %d ms', Math.round((before - released) / 1e6), Math.round(ms))
      }
    } catch (err) {
      log.error('could not look at the memory: %e', err)
    } finally {
      looking = false
    }
  }
  const timer = setInterval(() => { void look() }, interval)
  timer.unref()
  return {
    get count () { return count },
    get releases () { return releases },
    get last () { return last },
    lookNow: look,
    stop () { clearInterval(timer) }
  }
}
