import { logger } from '@libp2p/logger'

const log = logger('hubless:cli:memory')

/** Hands the pages the C allocator holds free back to the system; true if it handed back any */
export type ReleaseFreePages = () => boolean

/**
 * glibc's `malloc_trim(0)`, called through koffi (Node has no way to ask for it). glibc's main
 * arena grows by `brk` and gives back only its top, so one live allocation high up keeps every
 * freed page below it resident: 45 s after catching up with 100,000 records (its memory trim had
 * run), a mirror's main arena held 123 MB, of which `malloc_trim` handed back 62, and 83 MB of
 * anonymous memory in all with the other arenas; after a restart the main arena held 9 MB.
 * Undefined where there is no glibc (musl, macOS) or no koffi that loads; the daemon goes on.
 */
export async function loadReleaseFreePages (): Promise<ReleaseFreePages | undefined> {
  if (process.platform !== 'linux') return undefined
  try {
    const { default: koffi } = await import('koffi')
    const mallocTrim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number
    return () => mallocTrim(0) === 1
  } catch (err) {
    log('the allocator keeps its free pages: no malloc_trim here (%s)', (err as Error).message)
    return undefined
  }
}
