/** Headless Chromium for tests: Debian's build, no network beyond 127.0.0.1, and a check that a screenshot shows something */
import assert from 'node:assert/strict'
import { inflateSync } from 'node:zlib'

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // no name resolves but localhost (tests also filter requests)
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'
]

export const CHROMIUM_PATH = '/usr/bin/chromium'

/** Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into its pixels */
export function decodePng (png: Buffer): { width: number, height: number, channels: number, pixels: Uint8Array } {
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG signature')
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const data: Buffer[] = []
  while (offset < png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.subarray(offset + 4, offset + 8).toString('latin1')
    const body = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      assert.equal(body[8], 8, '8 bits per channel')
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : 0
      assert.ok(channels > 0, `colour type ${body[9]} is RGB or RGBA`)
      assert.equal(body[12], 0, 'not interlaced')
    } else if (type === 'IDAT') {
      data.push(body)
    }
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const pixels = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x] ?? 0
      const left = x >= channels ? pixels[y * stride + x - channels] ?? 0 : 0
      const up = y > 0 ? pixels[(y - 1) * stride + x] ?? 0 : 0
      const upLeft = y > 0 && x >= channels ? pixels[(y - 1) * stride + x - channels] ?? 0 : 0
      let predicted = 0
      if (filter === 1) predicted = left
      else if (filter === 2) predicted = up
      else if (filter === 3) predicted = (left + up) >> 1
      else if (filter === 4) {
        const p = left + up - upLeft
        const pa = Math.abs(p - left)
        const pb = Math.abs(p - up)
        const pc = Math.abs(p - upLeft)
        predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft
      }
      pixels[y * stride + x] = (value + predicted) & 0xff
    }
  }
  return { width, height, channels, pixels }
}

/** Spread of brightness, and how many distinct colours (coarsely) the image has */
export function imageStats (png: Buffer): { stddev: number, colours: number, width: number, height: number } {
  const { width, height, channels, pixels } = decodePng(png)
  let sum = 0
  let sumSq = 0
  const colours = new Set<number>()
  const n = width * height
  for (let i = 0; i < n; i++) {
    const r = pixels[i * channels] ?? 0
    const g = pixels[i * channels + 1] ?? 0
    const b = pixels[i * channels + 2] ?? 0
    const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    sum += luma
    sumSq += luma * luma
    colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4))
  }
  const mean = sum / n
  return { stddev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), colours: colours.size, width, height }
}

