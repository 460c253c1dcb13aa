import { readFile } from 'node:fs/promises'
import { Gauge } from 'prom-client'
import type { Registry as MetricsRegistry } from 'prom-client'

/**
 * The process's anonymous memory (RSS less file-backed pages: LevelDB maps its tables, and the
 * kernel reclaims those as page cache), in bytes; Linux only (`/proc/self/smaps_rollup`)
 */
export async function anonymousBytes (): Promise<number> {
  const rollup = await readFile('/proc/self/smaps_rollup', 'utf8')
  const kb = /^Anonymous:\s+(\d+) kB/m.exec(rollup)?.[1]
  if (kb == null) throw new Error('/proc/self/smaps_rollup has no Anonymous line')
  return Number(kb) * 1024
}

/**
 * The process's memory on `/metrics`, under the names prom-client's default metrics and the
 * usual Node dashboards use, and the anonymous part a mirror's memory goals are about. Read at
 * each scrape; none of them keeps an observer or a timer running (prom-client's defaults would, for
 * every mirror a process creates). A part that cannot be read (not Linux) is left out, never an error.
 */
export function registerProcessMemoryMetrics (registry: MetricsRegistry): void {
  const registers = [registry]
  new Gauge({ name: 'process_resident_memory_bytes', help: 'resident memory size in bytes', registers, collect () { this.set(process.memoryUsage.rss()) } })
  new Gauge({
    name: 'hubless_anonymous_memory_bytes',
    help: 'resident memory less file-backed pages (memory-mapped LevelDB tables), in bytes',
    registers,
    async collect () {
      try {
        this.set(await anonymousBytes())
      } catch {
        this.reset()
      }
    }
  })
  const heap = (name: string, help: string, read: (usage: NodeJS.MemoryUsage) => number): void => {
    new Gauge({ name, help, registers, collect () { this.set(read(process.memoryUsage())) } })
  }
  heap('nodejs_heap_size_total_bytes', 'process heap size from Node.js in bytes', usage => usage.heapTotal)
  heap('nodejs_heap_size_used_bytes', 'process heap size used from Node.js in bytes', usage => usage.heapUsed)
  heap('nodejs_external_memory_bytes', 'Node.js external memory size in bytes', usage => usage.external)
}
