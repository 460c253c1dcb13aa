import type { DataDirLayout } from './data-dir.ts'
import type { Output } from './output.ts'

/** What every command receives: where its data lives, how to print, and when to give up */
export interface CommandContext {
  layout: DataDirLayout
  out: Output
  /** aborted on SIGINT/SIGTERM */
  signal: AbortSignal
}
