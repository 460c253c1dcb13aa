import { logger } from '@libp2p/logger'
import { isAlive, readDaemonFile } from './daemon/daemon-file.ts'
import { DaemonUnreachableError, RemoteOperationError } from './errors.ts'
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
      return await runRemote(daemon.api, operation, input, options)
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

async function runRemote<Input, Output> (api: string, operation: Operation<Input, Output>, input: Input, options: RunOperationOptions): Promise<Output> {
  let response: Response
  try {
    response = await fetch(new URL(`/api/v1/op/${operation.name}`, api), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
      signal: options.signal
    })
  } catch (err) {
    options.signal.throwIfAborted()
    throw new DaemonUnreachableError(`the daemon at ${api} does not answer: ${(err as Error).message}`)
  }
  if (response.body == null) {
    throw new DaemonUnreachableError(`the daemon at ${api} sent no body`)
  }

  for await (const line of readLines(response.body)) {
    const message = JSON.parse(line) as { progress?: ProgressLine, result?: Output, error?: { name: string, message: string } }
    if (message.progress != null) {
      options.onProgress?.(message.progress)
    } else if (message.error != null) {
      throw new RemoteOperationError(message.error.message, message.error.name)
    } else if ('result' in message) {
      return message.result as Output
    }
  }
  throw new DaemonUnreachableError(`the daemon at ${api} closed the answer to ${operation.name} without a result`)
}

async function * readLines (body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true })
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim()
      buffered = buffered.slice(newline + 1)
      if (line !== '') {
        yield line
      }
      newline = buffered.indexOf('\n')
    }
  }
  if (buffered.trim() !== '') {
    yield buffered.trim()
  }
}
