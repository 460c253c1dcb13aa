/**
 * Version ordering for what AppImages really publish. The rule, in order:
 *
 * 1. Case is ignored; a leading `v`, `ver`, `version` or `release-` before a digit is dropped
 *    (`v2.9.3` = `2.9.3`); build metadata after `+` is ignored (semver).
 * 2. A placeholder that says the version is not known (`unknown`, `n/a`, `none`, `?`; catalogs
 *    that restate other catalogs write these) ranks below every real version, so a release with
 *    a real version always displaces it.
 * 3. A version that does not start with a digit (`continuous`, `latest`, `nightly`,
 *    `HEAD-4d75068`), or that is only a commit hash (`47bbec1`), is a *rolling* build. Rolling
 *    builds are made from the newest source, so they rank above every numbered version, and
 *    between themselves they are equal (publication time decides).
 * 4. Numbered versions compare their leading dot-separated numbers numerically, any length, any
 *    count: `1.10` > `1.9`, `1.2.3.4` > `1.2.3`, dates `20171129` and `2023.05.01` work as they
 *    are, and a compact date is read as its three parts (`20171129` = `2017.11.29`), so an app
 *    that switches between the two spellings still orders. Missing parts are zeros (`1.0` = `1.0.0`).
 * 5. What follows the numbers (the suffix) ranks pre-release < plain < post-release:
 *    - pre-release when it starts with a known word: `dev`/`snapshot`/`nightly`/`canary` <
 *      `alpha`/`a` < `beta`/`b` < `pre`/`preview` < `rc`/`cr` (`1.0-rc6` < `1.0`);
 *    - post-release when it starts with a number (`1.0.4-3` packaging revisions, git describe
 *      `1.2.3-45-gabcdef` = 45 commits after 1.2.3) or with `post`/`patch`/`p`/`r`/`rev`/`build`;
 *    - anything else (`.glibc2.17`) is a build flavour: equal rank to plain, after it by text.
 *    Within a rank, the suffix's parts compare like semver pre-release identifiers (numbers
 *    numerically, words by text, numbers before words, a shorter list first); git hashes
 *    (`g` + hex after a count) are ignored.
 *
 * Ties between equal versions are broken by {@link compareReleases}: publication time, then
 * position in the publisher's hash chain, then record id, so the order is total.
 */

export type VersionKind = 'unknown' | 'numbered' | 'rolling'

export interface ParsedVersion {
  kind: VersionKind
  /** numeric core without leading zeros, trailing zero parts removed; digit strings so any length compares exactly */
  numbers: string[]
  /** -1 pre-release, 0 plain or flavour, 1 post-release */
  rank: -1 | 0 | 1
  /** suffix identifiers after normalisation (pre-release word mapped to its order number) */
  identifiers: Array<string | number>
}

const UNKNOWN = /^(?:unknown|unspecified|n\/?a|none|null|undefined|-+|\?+)$/
const KIND_ORDER: Record<VersionKind, number> = { unknown: 0, numbered: 1, rolling: 2 }
const PREFIX = /^(?:v|ver|version|release-|rel-)(?=\d)/
const HASH = /^[0-9a-f]{7,40}$/
const GIT_HASH_PART = /^g[0-9a-f]{6,40}$/
const PRE_WORDS = new Map<string, number>([
  ['dev', 0], ['snapshot', 0], ['nightly', 0], ['canary', 0],
  ['alpha', 1], ['a', 1],
  ['beta', 2], ['b', 2],
  ['pre', 3], ['preview', 3],
  ['rc', 4], ['cr', 4]
])
const POST_WORDS = new Set(['post', 'patch', 'p', 'pl', 'r', 'rev', 'build'])
const MAX_VERSION_LENGTH = 256
const COMPACT_DATE = /^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/

function stripZeros (digits: string): string {
  const s = digits.replace(/^0+/, '')
  return s === '' ? '0' : s
}

/** split a suffix into identifiers at separators and at letter/digit boundaries */
function splitSuffix (suffix: string): string[] {
  return suffix.split(/[.\-_+~\s]+|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)/).filter(part => part !== '')
}

export function parseVersion (input: string): ParsedVersion {
  let text = input.slice(0, MAX_VERSION_LENGTH).trim().toLowerCase().replace(PREFIX, '')
  const plus = text.indexOf('+')
  if (plus > 0) text = text.slice(0, plus)
  if (UNKNOWN.test(text) || text === '') {
    return { kind: 'unknown', numbers: [], rank: 0, identifiers: [] }
  }
  const core = /^\d+(?:\.\d+)*/.exec(text)
  if (core == null || (HASH.test(text) && /[a-f]/.test(text))) {
    return { kind: 'rolling', numbers: [], rank: 0, identifiers: [] }
  }
  let numbers = core[0].split('.').map(stripZeros)
  if (COMPACT_DATE.test(numbers[0]!)) {
    const d = numbers[0]!
    numbers = [d.slice(0, 4), stripZeros(d.slice(4, 6)), stripZeros(d.slice(6)), ...numbers.slice(1)]
  }
  while (numbers.length > 1 && numbers[numbers.length - 1] === '0') numbers.pop()
  const rest = splitSuffix(text.slice(core[0].length))
  if (rest.length === 0) return { kind: 'numbered', numbers, rank: 0, identifiers: [] }
  const first = rest[0]!
  const ids: Array<string | number> = []
  let rank: -1 | 0 | 1 = 0
  let start = 0
  if (/^\d+$/.test(first)) {
    rank = 1
  } else if (PRE_WORDS.has(first)) {
    rank = -1
    ids.push(PRE_WORDS.get(first)!)
    start = 1
  } else if (POST_WORDS.has(first)) {
    rank = 1
    start = 1
  }
  for (let i = start; i < rest.length; i++) {
    const part = rest[i]!
    if (rank === 1 && GIT_HASH_PART.test(part)) continue
    ids.push(/^\d+$/.test(part) ? Number.parseInt(part.slice(-15), 10) : part)
  }
  return { kind: 'numbered', numbers, rank, identifiers: ids }
}

function compareDigits (a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

function compareIdentifier (a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'number') return -1
  if (typeof b === 'number') return 1
  return a < b ? -1 : a > b ? 1 : 0
}

export function compareParsedVersions (a: ParsedVersion, b: ParsedVersion): number {
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] < KIND_ORDER[b.kind] ? -1 : 1
  if (a.kind !== 'numbered') return 0
  const n = Math.max(a.numbers.length, b.numbers.length)
  for (let i = 0; i < n; i++) {
    const c = compareDigits(a.numbers[i] ?? '0', b.numbers[i] ?? '0')
    if (c !== 0) return c
  }
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1
  const m = Math.min(a.identifiers.length, b.identifiers.length)
  for (let i = 0; i < m; i++) {
    const c = compareIdentifier(a.identifiers[i]!, b.identifiers[i]!)
    if (c !== 0) return c
  }
  return a.identifiers.length === b.identifiers.length ? 0 : a.identifiers.length < b.identifiers.length ? -1 : 1
}

/** Compare two version strings by the rule above: negative, zero (same version) or positive */
export function compareVersions (a: string, b: string): number {
  return compareParsedVersions(parseVersion(a), parseVersion(b))
}

/** A release as {@link newestFirst} orders it: its version parsed once */
export interface ParsedRelease {
  id: string
  time: number
  parsed: ParsedVersion
}

/**
 * Newest first by version, then time, then id: {@link compareReleases} reversed, without the
 * chain depth, so the order of two releases never depends on which others are at hand (a
 * bounded catalog's retention, a page of releases read from the registry)
 */
export function newestFirst (a: ParsedRelease, b: ParsedRelease): number {
  const v = compareParsedVersions(b.parsed, a.parsed)
  if (v !== 0) return v
  if (a.time !== b.time) return a.time > b.time ? -1 : 1
  return a.id > b.id ? -1 : a.id < b.id ? 1 : 0
}

/** What {@link compareReleases} needs to know about a release */
export interface OrderedRelease {
  id: string
  version: string
  time: number
  /** position in the publisher's hash chain (0 = no known predecessor) */
  chainDepth: number
}

/**
 * The total order of one publisher's releases: version, then publication time, then chain
 * depth (a release that names another as `previous` comes after it), then id.
 */
export function compareReleases (a: OrderedRelease, b: OrderedRelease, parsed?: (r: OrderedRelease) => ParsedVersion): number {
  const pa = parsed?.(a) ?? parseVersion(a.version)
  const pb = parsed?.(b) ?? parseVersion(b.version)
  const v = compareParsedVersions(pa, pb)
  if (v !== 0) return v
  if (a.time !== b.time) return a.time < b.time ? -1 : 1
  if (a.chainDepth !== b.chainDepth) return a.chainDepth < b.chainDepth ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
