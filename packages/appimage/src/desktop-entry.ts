import { MetadataParseError } from './errors.ts'

/** One group of a desktop entry file: keys to raw (unescaped) values, localized keys kept as `Key[locale]` */
export type DesktopGroup = Record<string, string>

export interface DesktopEntry {
  /** groups in file order, by name (`Desktop Entry`, `Desktop Action new-window`, …) */
  groups: Record<string, DesktopGroup>
  /** a string value of the `[Desktop Entry]` group, escapes decoded; `locale` picks `Key[locale]` per the spec's matching rules */
  get (key: string, locale?: string): string | undefined
  /** a list value (`;`-separated, `\;` escaped) of the `[Desktop Entry]` group */
  getList (key: string, locale?: string): string[] | undefined
  /** a boolean value (`true`/`false`) of the `[Desktop Entry]` group */
  getBoolean (key: string): boolean | undefined
}

const MAX_SIZE = 1024 * 1024

/** Decodes the escapes the Desktop Entry spec allows in string values: \s \n \t \r \\ */
export function unescapeValue (value: string): string {
  return value.replace(/\\([sntr\\;]?)/g, (_m, c: string) => {
    switch (c) {
      case 's': return ' '
      case 'n': return '\n'
      case 't': return '\t'
      case 'r': return '\r'
      case '\\': return '\\'
      case ';': return '\\;'
      default: return '\\'
    }
  })
}

/** Splits a list value on unescaped `;` and decodes each element */
export function splitList (value: string): string[] {
  const out: string[] = []
  let current = ''
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (c === '\\' && i + 1 < value.length) {
      const n = value[i + 1]!
      current += n === ';' ? ';' : unescapeValue(c + n)
      i++
    } else if (c === ';') {
      out.push(current)
      current = ''
    } else {
      current += c
    }
  }
  if (current !== '') out.push(current)
  return out.filter(s => s !== '')
}

/** Locale fallbacks per the spec: lang_COUNTRY@MODIFIER, lang_COUNTRY, lang@MODIFIER, lang */
function localeCandidates (locale: string): string[] {
  const m = /^([a-zA-Z]+)(?:_([a-zA-Z]+))?(?:\.[^@]*)?(?:@(.+))?$/.exec(locale)
  if (m === null) return [locale]
  const [, lang, country, modifier] = m
  const out: string[] = []
  if (country !== undefined && modifier !== undefined) out.push(`${lang}_${country}@${modifier}`)
  if (country !== undefined) out.push(`${lang}_${country}`)
  if (modifier !== undefined) out.push(`${lang}@${modifier}`)
  out.push(lang!)
  return out
}

/** Parses a `.desktop` file per the Desktop Entry Specification 1.5 */
export function parseDesktopEntry (text: string): DesktopEntry {
  if (text.length > MAX_SIZE) {
    throw new MetadataParseError(`the desktop file has ${text.length} characters; more than ${MAX_SIZE} is not a desktop file`)
  }
  const groups: Record<string, DesktopGroup> = Object.create(null)
  let current: DesktopGroup | undefined
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim()
    if (line === '' || line.startsWith('#')) continue
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) {
        throw new MetadataParseError(`desktop file line ${n + 1}: a group header must end with "]"`)
      }
      const name = line.slice(1, -1)
      if (name === '' || name.includes('[') || name.includes(']') || [...name].some(ch => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
        throw new MetadataParseError(`desktop file line ${n + 1}: invalid group name ${JSON.stringify(name)}`)
      }
      if (groups[name] !== undefined) {
        throw new MetadataParseError(`desktop file line ${n + 1}: group [${name}] appears twice`)
      }
      current = Object.create(null) as DesktopGroup
      groups[name] = current
      continue
    }
    const eq = line.indexOf('=')
    if (eq <= 0) {
      throw new MetadataParseError(`desktop file line ${n + 1}: expected "Key=Value", a [Group] or a # comment`)
    }
    if (current === undefined) {
      throw new MetadataParseError(`desktop file line ${n + 1}: a key before the first group header`)
    }
    const key = line.slice(0, eq).trim()
    if (!/^[A-Za-z0-9-]+(\[[^\]]+\])?$/.test(key)) {
      throw new MetadataParseError(`desktop file line ${n + 1}: invalid key ${JSON.stringify(key)}`)
    }
    // duplicate keys are invalid per the spec; keeping the first is what desktop environments do
    if (current[key] === undefined) current[key] = line.slice(eq + 1).trim()
  }
  const main = groups['Desktop Entry']
  const raw = (key: string, locale?: string): string | undefined => {
    if (main === undefined) return undefined
    if (locale !== undefined) {
      for (const l of localeCandidates(locale)) {
        const v = main[`${key}[${l}]`]
        if (v !== undefined) return v
      }
    }
    return main[key]
  }
  return {
    groups,
    get: (key, locale) => {
      const v = raw(key, locale)
      return v === undefined ? undefined : unescapeValue(v).replace(/\\;/g, ';')
    },
    getList: (key, locale) => {
      const v = raw(key, locale)
      return v === undefined ? undefined : splitList(v)
    },
    getBoolean: (key) => {
      const v = raw(key)
      return v === 'true' ? true : v === 'false' ? false : undefined
    }
  }
}
