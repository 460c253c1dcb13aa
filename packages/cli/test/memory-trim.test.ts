/**
 * The memory trim of a mirror (src/daemon/memory-trim.ts): a real Node under --expose-gc hands
 * back the pages a burst left pooled; the trim looks at the anonymous memory outside the JS heap
 * and collects only when it grew by its threshold (the first look always does), and never where
 * Node does not expose gc; glibc hands back the pages freed outside the heap, after a collection
 * or alone.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { loadReleaseFreePages } from '../src/daemon/free-pages.ts'
import { startMemoryTrim } from '../src/daemon/memory-trim.ts'

const run = promisify(execFile)
const MB = 1024 * 1024

/**
 * Runs `body` as a module in a real Node under --expose-gc, with `anonymousBytes` and
 * `startMemoryTrim` imported and `waitForTrim(trim)` (until its first collection, then stops it);
 * returns what its last line prints, as JSON
 */
async function inNode<T> (body: string): Promise<T> {
  const script = `
    import { anonymousBytes } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'mirror', 'src', 'process-memory.ts'))}
    import { startMemoryTrim } from ${JSON.stringify(join(import.meta.dirname, '..', 'src', 'daemon', 'memory-trim.ts'))}
    const waitForTrim = async trim => {
      while (trim.count === 0) await new Promise(resolve => setTimeout(resolve, 20))
      trim.stop()
    }
    ${body}
  `
  const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { timeout: 60_000 })
  return JSON.parse(stdout) as T
}

/** runs `test` with `globalThis.gc` as `gc` (absent when undefined), and puts the real one back */
async function withGc (gc: ((options: unknown) => void) | undefined, test: () => Promise<void>): Promise<void> {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'gc')
  if (gc == null) delete (globalThis as { gc?: unknown }).gc
  else Object.defineProperty(globalThis, 'gc', { value: gc, configurable: true, writable: true })
  try {
    await test()
  } finally {
    if (had == null) delete (globalThis as { gc?: unknown }).gc
    else Object.defineProperty(globalThis, 'gc', had)
  }
}

/** a few of the trims' 20 ms looks */
const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 120)) }

describe('memory trim', () => {
  it('hands back what a burst left pooled, in a real Node under --expose-gc', async () => {
    // a burst of ~400 MB of objects, dropped, then a regular collection: the heap shrinks, the
    // process does not (V8 pools the pages); then one look of the trim
    const { pooled, trimmed, trims } = await inNode<{ pooled: number, trimmed: number, trims: number }>(`
      let burst = []
      for (let i = 0; i < 3_000_000; i++) burst.push({ i, s: 'x' + i, a: [i] })
      burst = null
      globalThis.gc({ type: 'major', execution: 'sync', flavor: 'regular' })
      const pooled = await anonymousBytes()
      const trim = startMemoryTrim({ interval: 50 })
      await waitForTrim(trim)
      console.log(JSON.stringify({ pooled, trimmed: await anonymousBytes(), trims: trim.count }))
    `)
    assert.equal(trims, 1)
    assert.ok(pooled - trimmed > 100 * MB, `the trim handed back ${Math.round((pooled - trimmed) / MB)} MB of ${Math.round(pooled / MB)} MB`)
  })

  it('has glibc hand back the pages freed outside the heap that its main arena keeps', async () => {
    // ~200 MB of buffers (malloc'ed by the main thread, in glibc's main arena), one in 64 kept, the
    // rest dropped: a collection frees them, but the arena can shrink only from its top
    const trimmed = async (release: 'default' | 'none'): Promise<{ fragmented: number, trimmed: number }> => await inNode(`
      const kept = []
      let burst = []
      for (let i = 0; i < 100_000; i++) (i % 64 === 0 ? kept : burst).push(new Uint8Array(2000).fill(1))
      burst = null
      globalThis.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
      const fragmented = await anonymousBytes()
      const trim = startMemoryTrim({ interval: 50, ${release === 'none' ? 'releaseFreePages: null' : ''} })
      await waitForTrim(trim)
      console.log(JSON.stringify({ fragmented, trimmed: await anonymousBytes(), kept: kept.length }))
    `)
    const without = await trimmed('none')
    assert.ok(without.fragmented - without.trimmed < 50 * MB, `a collection alone handed back ${Math.round((without.fragmented - without.trimmed) / MB)} MB: the test no longer leaves the arena fragmented`)
    const withRelease = await trimmed('default')
    assert.ok(withRelease.fragmented - withRelease.trimmed > 150 * MB, `the trim handed back ${Math.round((withRelease.fragmented - withRelease.trimmed) / MB)} MB of ${Math.round(withRelease.fragmented / MB)} MB`)
  })

  it('finds malloc_trim on Linux with glibc', async () => {
    const release = await loadReleaseFreePages()
    assert.equal(typeof release, 'function')
    assert.equal(typeof release!(), 'boolean')
  })

  it('collects on its first look, then only when memory outside the heap grew by the threshold', async () => {
    const collections: unknown[] = []
    await withGc(options => { collections.push(options) }, async () => {
      const heap = process.memoryUsage().heapTotal
      let anonymous = heap + 500 * MB
      const trim = startMemoryTrim({ interval: 20, growth: 100 * MB, anonymous: async () => anonymous, releaseFreePages: null })
      assert.ok(trim != null)
      await settle()
      assert.deepEqual(collections, [{ type: 'major', execution: 'sync', flavor: 'last-resort' }], 'the first look collects')
      anonymous += 60 * MB
      await settle()
      assert.equal(collections.length, 1, 'growth under the threshold: no collection')
      anonymous += 60 * MB
      await settle()
      assert.equal(collections.length, 2, 'past the threshold: one more')
      trim.stop()
      anonymous += 500 * MB
      await settle()
      assert.equal(collections.length, 2, 'stopped')
    })
  })

  it('looks when asked, without waiting for its interval', async () => {
    const collections: unknown[] = []
    await withGc(options => { collections.push(options) }, async () => {
      const anonymous = process.memoryUsage().heapTotal + 500 * MB
      const trim = startMemoryTrim({ interval: 60_000, growth: 100 * MB, anonymous: async () => anonymous, releaseFreePages: null })
      assert.ok(trim != null)
      await trim.lookNow()
      assert.equal(collections.length, 1, 'the first look collects')
      await trim.lookNow()
      assert.equal(collections.length, 1, 'no growth since: no collection')
      trim.stop()
    })
  })

  it('between trims, asks the allocator alone for its free pages when memory outside the heap grew by less than a trim waits for', async () => {
    const collections: unknown[] = []
    let asked = 0
    await withGc(options => { collections.push(options) }, async () => {
      const heap = process.memoryUsage().heapTotal
      let anonymous = heap + 500 * MB
      const releaseFreePages = (): boolean => { asked++; anonymous -= 5 * MB; return true }
      const trim = startMemoryTrim({ interval: 20, growth: 100 * MB, releaseGrowth: 40 * MB, anonymous: async () => anonymous, releaseFreePages })
      assert.ok(trim != null)
      await settle()
      assert.equal(collections.length, 1, 'the first look collects')
      assert.equal(asked, 1, 'and then asks the allocator')
      anonymous += 10 * MB
      await settle()
      assert.deepEqual([collections.length, asked, trim.releases], [1, 1, 0], 'growth under both thresholds: nothing')
      anonymous += 40 * MB
      await settle()
      assert.deepEqual([collections.length, asked, trim.releases], [1, 2, 1], 'past the allocator\'s threshold: the allocator alone, once')
      trim.stop()
    })
  })

  it('where Node does not expose gc, asks only the allocator, and stays off without one', async () => {
    await withGc(undefined, async () => {
      assert.equal(startMemoryTrim({ releaseFreePages: null }), undefined)
      let asked = 0
      let anonymous = process.memoryUsage().heapTotal + 500 * MB
      const trim = startMemoryTrim({ interval: 20, growth: 100 * MB, releaseGrowth: 40 * MB, anonymous: async () => anonymous, releaseFreePages: () => { asked++; return true } })
      assert.ok(trim != null)
      await settle()
      assert.deepEqual([trim.count, asked], [0, 1], 'the first look asks the allocator, and collects nothing')
      anonymous += 200 * MB
      await settle()
      assert.deepEqual([trim.count, asked], [0, 2], 'past both thresholds: the allocator again, still no collection')
      trim.stop()
    })
  })
})
