import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { unixfs } from '@helia/unixfs'
import { ifRangeAllows, parseRange } from './byte-ranges.ts'
import { notFound } from './not-found.ts'
import { openLayoutFile } from './layout-file.ts'
import type { LeafReader } from './layout-file.ts'
import type { ByteRange } from './byte-ranges.ts'
import type { NodeHelia } from './index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** A file whose size is known and whose bytes can be read from any offset */
export interface RangedFile {
  readonly size: number
  read (offset: number, length: number, options?: AbortOptions): AsyncIterable<Uint8Array>
}

export interface FileResponseInit {
  /** headers of every answer but a 416: content-type, cache-control, content-disposition… */
  headers: Record<string, string>
  /** the representation's strong entity tag, quoted (`"bafy…"`): sent as ETag, matched against If-Range */
  etag: string
}

/**
 * A UnixFS file (or raw block) the node holds, read from local blocks only: its size is the root
 * block's, and a range reads only the leaves under it, through the file's layout (one walk of
 * its nodes for many ranges, `openLayoutFile`) or, for DAGs that keep data in their nodes, the
 * UnixFS exporter. `readLeaf` reads leaves past Helia's blockstore (`content.openFile` passes the
 * node's own store).
 */
export async function openUnixfsFile (helia: NodeHelia, cid: CID, options: AbortOptions = {}, readLeaf?: LeafReader): Promise<RangedFile> {
  try {
    const file = await openLayoutFile(helia, cid, options, readLeaf)
    if (file != null) {
      return {
        size: file.size,
        async * read (offset, length, opts = {}) {
          try {
            yield * file.read(offset, length, opts)
          } catch (err) {
            throw notFound(cid, err)
          }
        }
      }
    }
  } catch (err) {
    throw notFound(cid, err)
  }
  const fs = unixfs(helia)
  let size: number
  try {
    size = Number((await fs.stat(cid, { signal: options.signal, offline: true })).size)
  } catch (err) {
    throw notFound(cid, err)
  }
  return {
    size,
    async * read (offset, length, opts = {}) {
      if (length === 0) return
      try {
        yield * fs.cat(cid, { offset, length, offline: true, signal: opts.signal })
      } catch (err) {
        throw notFound(cid, err)
      }
    }
  }
}

/**
 * Answers a GET or HEAD for `file` with HTTP range support: 200 with the whole file, 206 with one
 * range (`Content-Range`) or several (`multipart/byteranges`, as zsync asks for them), 416 when
 * no range fits. Every answer has a Content-Length (zsync 0.6 cannot read a chunked body), and
 * `Accept-Ranges: bytes`. A failure after the status line breaks the connection, so that the
 * client sees the body is incomplete.
 */
export async function sendRangedFile (req: IncomingMessage, res: ServerResponse, file: RangedFile, init: FileResponseInit): Promise<void> {
  const controller = new AbortController()
  const onClose = (): void => { controller.abort() }
  res.once('close', onClose)
  const signal = controller.signal
  const head = req.method === 'HEAD'
  const headers = { ...init.headers, 'accept-ranges': 'bytes', etag: init.etag }
  const rangeHeader = ifRangeAllows(headerValue(req.headers['if-range']), init.etag) ? headerValue(req.headers.range) : undefined
  const ranges = parseRange(rangeHeader, file.size)
  try {
    if (ranges === 'unsatisfiable') {
      const text = `RangeNotSatisfiable: the file has ${file.size} bytes; ask for ranges inside it\n`
      res.writeHead(416, { 'accept-ranges': 'bytes', 'content-range': `bytes */${file.size}`, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) })
      res.end(head ? undefined : text)
      return
    }
    if (ranges == null) {
      res.writeHead(200, { ...headers, 'content-length': String(file.size) })
      if (!head) await copy(res, file.read(0, file.size, { signal }), signal)
    } else if (ranges.length === 1) {
      const { start, end } = ranges[0]!
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${file.size}`, 'content-length': String(end - start + 1) })
      if (!head) await copy(res, file.read(start, end - start + 1, { signal }), signal)
    } else {
      await sendMultipart(res, file, ranges, { headers, head, signal })
    }
    res.end()
  } catch (err) {
    if (!res.headersSent) throw err
    res.destroy(err as Error)
  } finally {
    res.off('close', onClose)
  }
}

async function sendMultipart (res: ServerResponse, file: RangedFile, ranges: ByteRange[], opts: { headers: Record<string, string>, head: boolean, signal: AbortSignal }): Promise<void> {
  const boundary = `hubless-${randomBytes(12).toString('hex')}`
  const type = opts.headers['content-type'] ?? 'application/octet-stream'
  const partHeads = ranges.map(({ start, end }) => Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${start}-${end}/${file.size}\r\n\r\n`))
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  let length = tail.byteLength
  for (const [i, { start, end }] of ranges.entries()) length += partHeads[i]!.byteLength + end - start + 1
  const { 'content-type': _, ...rest } = opts.headers
  res.writeHead(206, { ...rest, 'content-type': `multipart/byteranges; boundary=${boundary}`, 'content-length': String(length) })
  if (opts.head) return
  for (const [i, { start, end }] of ranges.entries()) {
    await write(res, partHeads[i]!, opts.signal)
    await copy(res, file.read(start, end - start + 1, { signal: opts.signal }), opts.signal)
  }
  await write(res, tail, opts.signal)
}

async function copy (res: ServerResponse, chunks: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
  for await (const chunk of chunks) await write(res, chunk, signal)
}

async function write (res: ServerResponse, chunk: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!res.write(chunk)) await once(res, 'drain', { signal })
}

function headerValue (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value
}
