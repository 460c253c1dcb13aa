import { MetadataParseError } from './errors.ts'
import { collapse, elements, parseXml, textOf, type XmlElement } from './xml.ts'

export interface AppStreamRelease {
  version: string
  /** ISO date (`YYYY-MM-DD`) from `date` or `timestamp` */
  date?: string
  type?: string
  urgency?: string
  description?: string
}

export interface ContentRating {
  /** `oars-1.0`, `oars-1.1` */
  type: string
  /** attribute id → intensity (`none`, `mild`, `moderate`, `intense`) */
  attributes: Record<string, string>
}

/** What an AppStream metainfo file says about a component */
export interface AppStreamComponent {
  type?: string
  id?: string
  name?: string
  /** localized names, by `xml:lang` */
  names: Record<string, string>
  summary?: string
  description?: string
  categories: string[]
  keywords: string[]
  /** SPDX expression of the software's license */
  projectLicense?: string
  metadataLicense?: string
  developer?: string
  /** `homepage`, `bugtracker`, `help`, `donation`, `vcs-browser`, … → URL */
  urls: Record<string, string>
  releases: AppStreamRelease[]
  contentRating?: ContentRating
  /** `launchable type="desktop-id"` values */
  desktopIds: string[]
  screenshots: string[]
}

function unlocalized (node: XmlElement, tag: string): XmlElement | undefined {
  const all = elements(node, tag)
  return all.find(e => e.attrs['xml:lang'] === undefined) ?? all[0]
}

function text (node: XmlElement | undefined): string | undefined {
  if (node === undefined) return undefined
  const t = collapse(textOf(node))
  return t === '' ? undefined : t
}

/** AppStream description markup (p, ul/ol/li, em, code) as plain text: paragraphs separated by blank lines, list items as "- item" */
export function descriptionText (node: XmlElement): string {
  const blocks: string[] = []
  for (const child of node.children) {
    if (typeof child === 'string') {
      const t = collapse(child)
      if (t !== '') blocks.push(t)
      continue
    }
    if (child.attrs['xml:lang'] !== undefined) continue
    if (child.tag === 'ul' || child.tag === 'ol') {
      const items = elements(child, 'li').filter(li => li.attrs['xml:lang'] === undefined)
      blocks.push(items.map((li, i) => `${child.tag === 'ol' ? `${i + 1}.` : '-'} ${collapse(textOf(li))}`).join('\n'))
    } else {
      const t = collapse(textOf(child))
      if (t !== '') blocks.push(t)
    }
  }
  return blocks.join('\n\n')
}

function isoDate (release: XmlElement): string | undefined {
  const date = release.attrs['date']
  if (date !== undefined && /^\d{4}-\d{2}-\d{2}/.test(date)) return date.slice(0, 10)
  const ts = Number(release.attrs['timestamp'])
  if (Number.isFinite(ts) && ts > 0 && ts < 1e11) return new Date(ts * 1000).toISOString().slice(0, 10)
  return undefined
}

/** Parses an AppStream metainfo (or legacy appdata) document */
export function parseAppStream (xml: string): AppStreamComponent {
  const root = parseXml(xml, 'the AppStream metainfo')
  const component = root.tag === 'component' ? root : root.tag === 'components' ? elements(root, 'component')[0] : undefined
  if (component === undefined) {
    throw new MetadataParseError(`the AppStream metainfo's root element is <${root.tag}>, expected <component>`)
  }
  const names: Record<string, string> = {}
  for (const n of elements(component, 'name')) {
    const lang = n.attrs['xml:lang']
    const t = text(n)
    if (lang !== undefined && t !== undefined) names[lang] = t
  }
  const urls: Record<string, string> = {}
  for (const u of elements(component, 'url')) {
    const t = text(u)
    if (t !== undefined) urls[u.attrs['type'] ?? 'homepage'] = t
  }
  const releases: AppStreamRelease[] = []
  for (const list of elements(component, 'releases')) {
    for (const r of elements(list, 'release')) {
      const version = r.attrs['version']
      if (version === undefined) continue
      const rel: AppStreamRelease = { version }
      const date = isoDate(r)
      if (date !== undefined) rel.date = date
      if (r.attrs['type'] !== undefined) rel.type = r.attrs['type']
      if (r.attrs['urgency'] !== undefined) rel.urgency = r.attrs['urgency']
      const d = elements(r, 'description')[0]
      if (d !== undefined) {
        const t = descriptionText(d)
        if (t !== '') rel.description = t
      }
      releases.push(rel)
    }
  }
  const developerNode = elements(component, 'developer')[0]
  const developer = developerNode !== undefined
    ? text(unlocalized(developerNode, 'name')) ?? text(developerNode)
    : text(unlocalized(component, 'developer_name'))
  const ratingNode = elements(component, 'content_rating')[0]
  let contentRating: ContentRating | undefined
  if (ratingNode !== undefined) {
    const attributes: Record<string, string> = {}
    for (const a of elements(ratingNode, 'content_attribute')) {
      const id = a.attrs['id']
      const v = text(a)
      if (id !== undefined && v !== undefined) attributes[id] = v
    }
    contentRating = { type: ratingNode.attrs['type'] ?? 'oars-1.0', attributes }
  }
  const descriptionNode = unlocalized(component, 'description')
  const out: AppStreamComponent = {
    names,
    categories: elements(component, 'categories').flatMap(c => elements(c, 'category')).map(c => text(c)).filter((t): t is string => t !== undefined),
    keywords: elements(component, 'keywords').flatMap(c => elements(c, 'keyword')).filter(k => k.attrs['xml:lang'] === undefined).map(c => text(c)).filter((t): t is string => t !== undefined),
    urls,
    releases,
    desktopIds: elements(component, 'launchable').filter(l => l.attrs['type'] === 'desktop-id').map(l => text(l)).filter((t): t is string => t !== undefined),
    screenshots: elements(component, 'screenshots').flatMap(s => elements(s, 'screenshot')).flatMap(s => elements(s, 'image')).map(i => text(i)).filter((t): t is string => t !== undefined)
  }
  const set = <K extends keyof AppStreamComponent>(key: K, value: AppStreamComponent[K] | undefined): void => {
    if (value !== undefined) out[key] = value
  }
  set('type', component.attrs['type'])
  set('id', text(elements(component, 'id')[0]))
  set('name', text(unlocalized(component, 'name')))
  set('summary', text(unlocalized(component, 'summary')))
  if (descriptionNode !== undefined) {
    const d = descriptionText(descriptionNode)
    if (d !== '') out.description = d
  }
  set('projectLicense', text(elements(component, 'project_license')[0]))
  set('metadataLicense', text(elements(component, 'metadata_license')[0]))
  set('developer', developer)
  set('contentRating', contentRating)
  return out
}
