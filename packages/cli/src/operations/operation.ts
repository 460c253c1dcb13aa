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
export interface Operation<Input = unknown, Output = unknown, Name extends string = string> {
  readonly name: Name
  run (context: OperationContext, input: Input): Promise<Output>
}

export function defineOperation<Input, Output, Name extends string = string> (name: Name, run: (context: OperationContext, input: Input) => Promise<Output>): Operation<Input, Output, Name> {
  return { name, run }
}

/** What an operation takes and gives, for a caller that names it without loading it */
export type InputOf<O> = O extends Operation<infer Input, unknown, string> ? Input : never
export type OutputOf<O> = O extends Operation<never, infer Output, string> ? Output : never
