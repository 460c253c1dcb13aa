import type { Services } from '../services.ts'

/** A progress report of a long operation, as the terminal shows it and the daemon streams it */
export interface ProgressLine {
  /** what is being done ("adding content", "waiting for peers") */
  phase: string
  done?: number
  total?: number
  /** what done/total count; default bytes */
  unit?: 'bytes' | 'items'
}

export interface OperationContext {
  services: Services
  signal: AbortSignal
  onProgress?: (progress: ProgressLine) => void
}

/**
 * One thing the command line can ask of a node. The same operation runs in this process (when no
 * daemon holds the data dir) or inside the running daemon (through its local API), so a command
 * works the same either way and never fights the daemon for the LevelDB lock.
 * Inputs and outputs are plain JSON.
 */
export interface Operation<Input = unknown, Output = unknown> {
  readonly name: string
  run (context: OperationContext, input: Input): Promise<Output>
}

export function defineOperation<Input, Output> (name: string, run: (context: OperationContext, input: Input) => Promise<Output>): Operation<Input, Output> {
  return { name, run }
}
