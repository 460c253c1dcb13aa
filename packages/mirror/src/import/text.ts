import { cleanIdentityText, cleanProseText } from '@hubless/registry/records'

/**
 * Turns catalog text into what a record accepts: no control characters (the registry rejects
 * them so that no record can smuggle terminal escapes), no lone surrogates, bidirectional
 * formatting or invisible characters (the registry rejects them so that no name can pose as
 * another: its records/text-rules.ts says which), trimmed, and cut to the schema's limits.
 * One-liners (names, summaries, licenses) lose the zero width joiners too; descriptions keep them.
 */

// \r and the other C0/C1 controls go; \t and \n survive (the schema allows them)
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to remove them
export const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

export function hasControl (text: string): boolean {
  return text.replace(CONTROL, '') !== text || text.includes('\n') || text.includes('\t')
}

/** A trimmed single-line text without control characters, at most `max` characters; undefined when empty */
export function cleanLine (value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = cleanIdentityText(value).replace(CONTROL, ' ').replace(/\s+/g, ' ').trim()
  return text === '' ? undefined : cut(text, max)
}

/** Cut at a code point boundary and mark the cut, so a truncated text reads as truncated */
export function cut (text: string, max: number): string {
  if (text.length <= max) return text
  const points = Array.from(text.slice(0, max - 1))
  // slicing by UTF-16 units may have split a surrogate pair at the end
  const last = points.at(-1) ?? ''
  if (last.length === 1 && /[\ud800-\udbff]/.test(last)) points.pop()
  return points.join('').trimEnd() + '…'
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'', nbsp: ' ' }

function decodeEntities (text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,8});/g, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10)
      // `&#x202E;` is as much an override as the character itself
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? cleanProseText(String.fromCodePoint(code)) : whole
    }
    return ENTITIES[name] ?? whole
  })
}

/**
 * AppStream description markup (`<p>`, `<ul>`/`<ol>` with `<li>`, `<em>`, `<code>`) as plain text:
 * paragraphs separated by a blank line, list items as "• " lines. Records carry plain text only,
 * because every client (terminal, storefront, app store) must be able to show it without parsing
 * markup from an untrusted publisher.
 */
export function appstreamToText (markup: unknown, max: number): string | undefined {
  if (typeof markup !== 'string') return undefined
  const blocks: string[] = []
  const html = cleanProseText(markup).replace(CONTROL, ' ')
  const pattern = /<(p|li)\b[^>]*>([\s\S]*?)<\/\1\s*>/gi
  let consumed = false
  for (const match of html.matchAll(pattern)) {
    consumed = true
    const inner = decodeEntities((match[2] ?? '').replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim()
    if (inner === '') continue
    blocks.push(match[1]?.toLowerCase() === 'li' ? `• ${inner}` : inner)
  }
  if (!consumed) {
    // not AppStream markup: plain text, keep its paragraphs
    const plain = decodeEntities(html.replace(/<[^>]*>/g, ''))
    for (const para of plain.split(/\n\s*\n/)) {
      const line = para.replace(/\s+/g, ' ').trim()
      if (line !== '') blocks.push(line)
    }
  }
  // list items of one list read as one block
  const text = blocks.reduce((acc, block, i) => {
    if (i === 0) return block
    const joiner = block.startsWith('• ') && (blocks[i - 1] ?? '').startsWith('• ') ? '\n' : '\n\n'
    return acc + joiner + block
  }, '')
  return text === '' ? undefined : cut(text, max)
}

/** Decode the entities AppStream-derived one-liners carry (`&apos;`, `&amp;`) */
export function cleanInlineText (value: unknown, max: number): string | undefined {
  return typeof value === 'string' ? cleanLine(decodeEntities(value.replace(/<[^>]*>/g, '')), max) : undefined
}
