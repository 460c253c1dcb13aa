import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { DaemonUnreachableError, LocalApiRefusedError, RemoteOperationError } from '../errors.ts'
import { TOKEN_HEADER } from './guard.ts'
import type { ProgressLine } from '../operations/operation.ts'
import type { IncomingMessage } from 'node:http'

export interface LocalApiCall {
  /** the daemon's endpoint from daemon.json: `unix:PATH` or `http://127.0.0.1:PORT` */
  endpoint: string
  tokenFile: string
  signal: AbortSignal
  onProgress?: (progress: ProgressLine) => void
}

/** Runs the named operation in the daemon and returns its result, or throws the daemon's error under its own name */
export async function callOperation<Output> (name: string, input: unknown, call: LocalApiCall): Promise<Output> {
  const token = (await readFile(call.tokenFile, 'utf8').catch(() => '')).trim()
  if (token === '') throw new DaemonUnreachableError(`no token in ${call.tokenFile}`)
  const response = await post(`/api/v1/op/${name}`, JSON.stringify(input ?? {}), token, call)
  if (response.statusCode !== 200) {
    const text = await readAll(response)
    let error: { name?: string, message?: string } = {}
    try { error = (JSON.parse(text) as { error?: typeof error }).error ?? {} } catch {}
    throw new LocalApiRefusedError(`the daemon at ${call.endpoint} refused ${name} (${response.statusCode} ${error.name ?? ''}): ${error.message ?? text.slice(0, 200)}`)
  }
  for await (const line of readLines(response)) {
    const message = JSON.parse(line) as { progress?: ProgressLine, result?: Output, error?: { name: string, message: string } }
    if (message.progress != null) {
      call.onProgress?.(message.progress)
    } else if (message.error != null) {
      throw new RemoteOperationError(message.error.message, message.error.name)
    } else if ('result' in message) {
      return message.result as Output
    }
  }
  call.signal.throwIfAborted()
  throw new DaemonUnreachableError(`the daemon at ${call.endpoint} closed the answer to ${name} without a result`)
}

async function post (path: string, body: string, token: string, call: LocalApiCall): Promise<IncomingMessage> {
  const socketPath = call.endpoint.startsWith('unix:') ? call.endpoint.slice('unix:'.length) : undefined
  const url = socketPath == null ? new URL(call.endpoint) : undefined
  return await new Promise((resolve, reject) => {
    const req = request({
      socketPath,
      host: url?.hostname,
      port: url?.port,
      path,
      method: 'POST',
      // the Host the guard expects: `localhost` on the socket, the literal address on TCP
      headers: {
        host: url?.host ?? 'localhost',
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        [TOKEN_HEADER]: `Bearer ${token}`
      },
      signal: call.signal
    }, resolve)
    req.once('error', err => {
      if (call.signal.aborted) reject(call.signal.reason)
      else reject(new DaemonUnreachableError(`the daemon at ${call.endpoint} does not answer: ${err.message}`))
    })
    req.end(body)
  })
}

async function readAll (stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

async function * readLines (stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true })
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim()
      buffered = buffered.slice(newline + 1)
      if (line !== '') yield line
      newline = buffered.indexOf('\n')
    }
  }
  if (buffered.trim() !== '') yield buffered.trim()
}
