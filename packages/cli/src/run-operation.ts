import { isAlive, readDaemonFile } from './daemon/daemon-file.ts'
import { DaemonUnreachableError } from './errors.ts'
import { callOperation } from './local-api/client.ts'
import type { DataDirLayout } from './data-dir.ts'
import type { OperationMap, OperationName } from './operations/index.ts'
import type { InputOf, OutputOf, ProgressLine } from './operations/operation.ts'

export interface RunOperationOptions {
  signal: AbortSignal
  onProgress?: (progress: ProgressLine) => void
}

/**
 * Runs an operation through the daemon that holds this data dir, or, when none runs, in this
 * process: from the saved index when the operation can be answered from it (search, show,
 * status; see saved-answers.ts), otherwise on a node opened just for it. The operation is named,
 * not imported, so a command loads the node's code only when it opens one.
 */
export async function runOperation<Name extends OperationName> (layout: DataDirLayout, name: Name, input: InputOf<OperationMap[Name]>, options: RunOperationOptions): Promise<OutputOf<OperationMap[Name]>> {
  type Output = OutputOf<OperationMap[Name]>
  const daemon = await readDaemonFile(layout.daemonFile)
  if (daemon != null && isAlive(daemon.pid)) {
    try {
      return await callOperation<Output>(name, input, { endpoint: daemon.api, tokenFile: layout.apiToken, ...options })
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) {
        throw err
      }
      const { logger } = await import('@libp2p/logger')
      logger('hubless:cli:operation')('daemon %d at %s did not answer, running locally: %e', daemon.pid, daemon.api, err)
    }
  }

  const { answerFromSavedIndex } = await import('./saved-answers.ts')
  const saved = await answerFromSavedIndex(layout, name, input)
  if (saved != null) return saved.value as Output

  const [{ operations }, { openServices }] = await Promise.all([import('./operations/index.ts'), import('./services.ts')])
  const operation = operations.get(name)
  if (operation == null) throw new Error(`operation ${name} is not registered in operations/index.ts`)
  const services = await openServices(layout, {}, options)
  try {
    return await operation.run({ services, signal: options.signal, onProgress: options.onProgress }, input) as Output
  } finally {
    await services.stop()
  }
}
