/**
 * The HTTP range behaviour every file URL of a node or mirror must have, as one reusable check:
 * the net tests run it on `sendRangedFile`, the mirror tests on `/ipfs/{cid}` and the stable
 * `latest.AppImage` URLs.
 */
import assert from 'node:assert/strict'

export interface Part {
  range: string
  bytes: Uint8Array
}

/** The parts of a `multipart/byteranges` body (RFC 9110, 14.6) */
export function parseMultipart (body: Uint8Array, contentType: string): Part[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2]
  assert.ok(boundary != null, `expected a boundary in ${contentType}`)
  const text = Buffer.from(body).toString('latin1')
  const parts: Part[] = []
  let at = text.indexOf(`--${boundary}`)
  while (at >= 0 && !text.startsWith(`--${boundary}--`, at)) {
    const headEnd = text.indexOf('\r\n\r\n', at)
    const head = text.slice(at, headEnd)
    const next = text.indexOf(`\r\n--${boundary}`, headEnd)
    assert.ok(headEnd > 0 && next > 0, 'expected every part to end with a boundary')
    parts.push({ range: /content-range: (.*)/i.exec(head)?.[1]?.trim() ?? '', bytes: body.subarray(headEnd + 4, next) })
    at = next + 2
  }
  return parts
}

/** Checks single, multiple, suffix, open-ended and unsatisfiable ranges, HEAD and If-Range on `url`, whose bytes are `expected` */
export async function checkRanges (url: string, expected: Uint8Array): Promise<void> {
  const size = expected.byteLength
  const whole = await fetch(url)
  assert.equal(whole.status, 200, `GET ${url}`)
  assert.equal(whole.headers.get('accept-ranges'), 'bytes')
  assert.equal(whole.headers.get('content-length'), String(size))
  const etag = whole.headers.get('etag') ?? ''
  assert.ok(etag.startsWith('"'), 'expected a strong ETag')
  assert.ok(Buffer.from(await whole.arrayBuffer()).equals(expected), 'expected the whole file')

  const single = await fetch(url, { headers: { range: 'bytes=100-1099' } })
  assert.equal(single.status, 206)
  assert.equal(single.headers.get('content-range'), `bytes 100-1099/${size}`)
  assert.equal(single.headers.get('content-length'), '1000')
  assert.ok(Buffer.from(await single.arrayBuffer()).equals(expected.subarray(100, 1100)), 'expected bytes 100-1099')

  const suffix = await fetch(url, { headers: { range: 'bytes=-500' } })
  assert.equal(suffix.status, 206)
  assert.equal(suffix.headers.get('content-range'), `bytes ${size - 500}-${size - 1}/${size}`)
  assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(expected.subarray(size - 500)), 'expected the last 500 bytes')

  const open = await fetch(url, { headers: { range: `bytes=${size - 10}-` } })
  assert.equal(open.status, 206)
  assert.ok(Buffer.from(await open.arrayBuffer()).equals(expected.subarray(size - 10)), 'expected the last 10 bytes')

  // as zsync 0.6 asks: several ranges in one request, across leaves, one running past the end
  const asked = [[0, 9], [70_000, 140_000], [size - 3, size + 100]] as const
  const multi = await fetch(url, { headers: { range: `bytes=${asked.map(([a, b]) => `${a}-${b}`).join(',')}` } })
  assert.equal(multi.status, 206)
  const type = multi.headers.get('content-type') ?? ''
  assert.match(type, /^multipart\/byteranges; boundary=/)
  const body = new Uint8Array(await multi.arrayBuffer())
  assert.equal(multi.headers.get('content-length'), String(body.byteLength), 'expected a Content-Length that fits the body (zsync reads no chunked bodies)')
  const parts = parseMultipart(body, type)
  assert.deepEqual(parts.map(p => p.range), asked.map(([a, b]) => `bytes ${a}-${Math.min(b, size - 1)}/${size}`))
  for (const [i, [a, b]] of asked.entries()) {
    assert.ok(Buffer.from(parts[i]!.bytes).equals(expected.subarray(a, Math.min(b, size - 1) + 1)), `expected part ${i} to be bytes ${a}-${b}`)
  }

  const beyond = await fetch(url, { headers: { range: `bytes=${size}-${size + 10}` } })
  assert.equal(beyond.status, 416)
  assert.equal(beyond.headers.get('content-range'), `bytes */${size}`)
  await beyond.arrayBuffer()

  const head = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=0-99' } })
  assert.equal(head.status, 206)
  assert.equal(head.headers.get('content-length'), '100')
  assert.equal((await head.arrayBuffer()).byteLength, 0)

  const stale = await fetch(url, { headers: { range: 'bytes=0-99', 'if-range': '"another-version"' } })
  assert.equal(stale.status, 200, 'expected the whole file when If-Range names another version')
  await stale.arrayBuffer()
  const current = await fetch(url, { headers: { range: 'bytes=0-99', 'if-range': etag } })
  assert.equal(current.status, 206, 'expected the range when If-Range names this version')
  await current.arrayBuffer()
}
