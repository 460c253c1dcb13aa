import { logger } from '@libp2p/logger'
import { isAlive, readDaemonFile } from './daemon/daemon-file.ts'
import { DaemonUnreachableError } from './errors.ts'
import { callOperation } from './local-api/client.ts'
import { operations } from './operations/index.ts'
import { openServices } from './services.ts'
import type { DataDirLayout } from './data-dir.ts'
import type { Operation, ProgressLine } from './operations/operation.ts'

const log = logger('hubless:cli:operation')

export interface RunOperationOptions {
  signal: AbortSignal
  onProgress?: (progress: ProgressLine) => void
}

/**
 * Runs an operation through the daemon that holds this data dir, or, when none runs, in this
 * process on a node opened just for it.
 */
export async function runOperation<Input, Output> (layout: DataDirLayout, operation: Operation<Input, Output>, input: Input, options: RunOperationOptions): Promise<Output> {
  if (operations.get(operation.name) !== operation) {
    // a command whose operation the daemon cannot serve would work only while no daemon runs
    throw new Error(`operation ${operation.name} is not registered in operations/index.ts`)
  }
  const daemon = await readDaemonFile(layout.daemonFile)
  if (daemon != null && isAlive(daemon.pid)) {
    try {
      return await callOperation<Output>(operation.name, input, { endpoint: daemon.api, tokenFile: layout.apiToken, ...options })
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) {
        throw err
      }
      log('daemon %d at %s did not answer, running locally: %e', daemon.pid, daemon.api, err)
    }
  }

  const services = await openServices(layout, {}, options)
  try {
    return await operation.run({ services, signal: options.signal, onProgress: options.onProgress }, input)
  } finally {
    await services.stop()
  }
}
