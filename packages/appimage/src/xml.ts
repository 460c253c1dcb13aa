import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { MetadataParseError } from './errors.ts'

/** An XML element in document order */
export interface XmlElement {
  tag: string
  attrs: Record<string, string>
  children: XmlNode[]
}
export type XmlNode = XmlElement | string

const MAX_XML = 4 * 1024 * 1024

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
  // AppStream never needs DOCTYPE entities; refusing them rules out entity-expansion bombs
  processEntities: false,
  htmlEntities: false
})

type Ordered = Record<string, unknown>

function convert (items: unknown): XmlNode[] {
  const out: XmlNode[] = []
  if (!Array.isArray(items)) return out
  for (const item of items as Ordered[]) {
    for (const [key, value] of Object.entries(item)) {
      if (key === ':@') continue
      if (key === '#text') {
        out.push(String(value))
        continue
      }
      const attrs: Record<string, string> = {}
      const rawAttrs = item[':@']
      if (rawAttrs !== null && typeof rawAttrs === 'object') {
        for (const [k, v] of Object.entries(rawAttrs)) attrs[k] = String(v)
      }
      out.push({ tag: key, attrs, children: convert(value) })
    }
  }
  return out
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities (s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16))
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10))
    return XML_ENTITIES[e] ?? ''
  })
}

function decodeTree (nodes: XmlNode[]): XmlNode[] {
  return nodes.map(n => typeof n === 'string'
    ? decodeEntities(n)
    : { tag: n.tag, attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, decodeEntities(v)])), children: decodeTree(n.children) })
}

/** Parses an XML document into its root element; MetadataParseError for anything not well-formed */
export function parseXml (text: string, what: string): XmlElement {
  if (text.length > MAX_XML) {
    throw new MetadataParseError(`${what} has ${text.length} characters; more than ${MAX_XML} is not metadata`)
  }
  const valid = XMLValidator.validate(text)
  if (valid !== true) {
    throw new MetadataParseError(`${what} is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`)
  }
  let parsed: unknown
  try {
    parsed = parser.parse(text)
  } catch (err) {
    throw new MetadataParseError(`${what} is not well-formed XML: ${(err as Error).message}`)
  }
  const root = decodeTree(convert(parsed)).find((n): n is XmlElement => typeof n !== 'string')
  if (root === undefined) {
    throw new MetadataParseError(`${what} has no root element`)
  }
  return root
}

export function elements (node: XmlElement, tag: string): XmlElement[] {
  return node.children.filter((c): c is XmlElement => typeof c !== 'string' && c.tag === tag)
}

export function textOf (node: XmlNode): string {
  if (typeof node === 'string') return node
  return node.children.map(textOf).join('')
}

export function collapse (s: string): string {
  return s.replace(/\s+/g, ' ').trim()
}
