import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { brotliCompress, constants, createBrotliCompress, createGzip, gzip } from 'node:zlib'
import type { Transform } from 'node:stream'

const gzipAsync = promisify(gzip)
const brotliAsync = promisify(brotliCompress)

/**
 * Brotli's quality 11 (its default) costs seconds on a few MB; 5 compresses a JSON feed nearly as
 * well as gzip -9 at a fraction of the time. Both run on libuv's thread pool, off the event loop.
 */
const BROTLI_QUALITY = 5
const GZIP_LEVEL = 6
/** below this, compressing costs more than the bytes it saves */
const MIN_COMPRESS_BYTES = 1024

/** One answer body, encoded once in every form a client may ask for */
export interface EncodedAnswer {
  readonly type: string
  /** strong validator of the identity body; each encoding's ETag adds a suffix */
  readonly etag: string
  readonly identity: Buffer
  readonly gzip?: Buffer
  readonly br?: Buffer
}

export async function encodeAnswer (body: string | Buffer, type: string): Promise<EncodedAnswer> {
  const identity = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`
  if (identity.byteLength < MIN_COMPRESS_BYTES) return { type, etag, identity }
  const [gz, br] = await Promise.all([
    gzipAsync(identity, { level: GZIP_LEVEL }),
    brotliAsync(identity, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: identity.byteLength
      }
    })
  ])
  return { type, etag, identity, gzip: gz, br }
}

/** A compressing stream with the same settings, for an answer too large to hold (the record feed); none for identity */
export function streamCompressor (coding: 'br' | 'gzip' | 'identity'): Transform | undefined {
  if (coding === 'br') return createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } })
  if (coding === 'gzip') return createGzip({ level: GZIP_LEVEL })
  return undefined
}
