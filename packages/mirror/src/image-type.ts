import type { MediaType } from '@hubless/registry'

/** The image type of `bytes` by their magic bytes (never by what the origin said), or undefined */
export function imageType (bytes: Uint8Array): MediaType | undefined {
  const b = bytes
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'image/png'
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg'
  const ascii = new TextDecoder('latin1').decode(b.subarray(0, 16))
  if (ascii.startsWith('GIF87a') || ascii.startsWith('GIF89a')) return 'image/gif'
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'image/webp'
  // SVG: an XML document whose first element is <svg> (after a declaration, comments and a doctype)
  const text = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 4096)).replace(/^\uFEFF/, '')
  const head = text.replace(/^\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*/i, '')
  if (/^<svg[\s>]/i.test(head)) return 'image/svg+xml'
  return undefined
}
