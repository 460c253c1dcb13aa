import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { CustomProgressEvent } from 'progress-events'
import { FileReadError } from './errors.ts'
import type { AddOptions, AddSource } from './index.ts'

export interface ByteSource {
  stream: AsyncIterable<Uint8Array>
  total?: number
}

async function * readFile (path: string, options: AddOptions): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path, { signal: options.signal, highWaterMark: 1024 * 1024 })) {
      yield chunk as Uint8Array
    }
  } catch (err) {
    options.signal?.throwIfAborted()
    throw new FileReadError(`Cannot read ${path}: ${(err as Error).message}`)
  }
}

async function * once (bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

async function * counted (source: ByteSource, options: AddOptions): AsyncGenerator<Uint8Array> {
  let bytes = 0
  for await (const chunk of source.stream) {
    options.signal?.throwIfAborted()
    bytes += chunk.byteLength
    options.onProgress?.(new CustomProgressEvent('hubless:content:bytes', { bytes, total: source.total }))
    yield chunk
  }
}

/** Turns any accepted input into one byte stream that reports how much has been read. */
export async function openAddSource (source: AddSource, options: AddOptions): Promise<AsyncIterable<Uint8Array>> {
  let opened: ByteSource
  if (typeof source === 'string') {
    let size: number
    try {
      const info = await stat(source)
      if (!info.isFile()) throw new Error('not a regular file')
      size = info.size
    } catch (err) {
      throw new FileReadError(`Cannot add ${source}: ${(err as Error).message}. Give the path of a readable file.`)
    }
    opened = { stream: readFile(source, options), total: size }
  } else if (source instanceof Uint8Array) {
    opened = { stream: once(source), total: source.byteLength }
  } else {
    opened = { stream: source }
  }
  return counted(opened, options)
}
