/**
 * Is an app's license free? A small embedded list, so the check works offline and in browsers.
 *
 * Source: the SPDX License List (https://spdx.org/licenses/, data from
 * https://github.com/spdx/license-list-data `json/licenses.json`): the identifiers below are the
 * commonly used ones marked `isOsiApproved` or `isFsfLibre` there. `-only`, `-or-later` and `+`
 * are folded onto the base identifier (the freedom does not depend on them). A few informal
 * spellings seen in real AppImage metadata (`GPLv3`, `ASL 2.0`) are mapped to their SPDX ids.
 */

export type LicenseClass = 'free' | 'non-free' | 'unknown'

const FREE = new Set([
  '0bsd', 'afl-3.0', 'agpl-3.0', 'apache-1.1', 'apache-2.0', 'apsl-2.0', 'artistic-2.0', 'bsd-1-clause',
  'bsd-2-clause', 'bsd-2-clause-patent', 'bsd-3-clause', 'bsd-3-clause-clear', 'bsl-1.0', 'cc-by-4.0',
  'cc-by-sa-4.0', 'cc0-1.0', 'cddl-1.0', 'cecill-2.1', 'ecl-2.0', 'efl-2.0', 'epl-1.0', 'epl-2.0',
  'eupl-1.1', 'eupl-1.2', 'gfdl-1.1', 'gfdl-1.2', 'gfdl-1.3', 'gpl-2.0', 'gpl-3.0', 'isc', 'lgpl-2.0',
  'lgpl-2.1', 'lgpl-3.0', 'lppl-1.3c', 'mit', 'mit-0', 'mpl-1.1', 'mpl-2.0', 'ms-pl', 'ms-rl', 'ncsa',
  'ofl-1.1', 'openssl', 'postgresql', 'python-2.0', 'qpl-1.0', 'unlicense', 'upl-1.0', 'vim', 'w3c',
  'wtfpl', 'x11', 'zlib', 'zpl-2.1'
])

const ALIASES = new Map([
  ['gplv2', 'gpl-2.0'], ['gplv3', 'gpl-3.0'], ['gpl2', 'gpl-2.0'], ['gpl3', 'gpl-3.0'], ['gpl-2', 'gpl-2.0'],
  ['gpl-3', 'gpl-3.0'], ['lgplv2', 'lgpl-2.1'], ['lgplv3', 'lgpl-3.0'], ['asl 2.0', 'apache-2.0'],
  ['apache 2.0', 'apache-2.0'], ['bsd', 'bsd-3-clause'], ['public domain', 'cc0-1.0']
])

function classifyId (raw: string): LicenseClass {
  const id = raw.trim().toLowerCase()
  if (id === '' || id === 'noassertion' || id === 'none') return 'unknown'
  if (id.startsWith('licenseref-proprietary') || id.includes('proprietary') || id === 'commercial') return 'non-free'
  const base = id.replace(/(-only|-or-later|\+)$/, '')
  const name = ALIASES.get(base) ?? base
  return FREE.has(name) ? 'free' : 'unknown'
}

/**
 * Classify an SPDX expression: `A OR B` is free when either side is, `A AND B` when both are,
 * `A WITH exception` as `A`. Unknown identifiers give `unknown`, never `free`.
 */
export function classifyLicense (expression: string | undefined): LicenseClass {
  if (expression == null) return 'unknown'
  const text = expression.slice(0, 512).replace(/[()]/g, ' ')
  const alternatives = text.split(/\s+or\s+/i)
  let result: LicenseClass = 'non-free'
  for (const alternative of alternatives) {
    let all: LicenseClass = 'free'
    for (const part of alternative.split(/\s+and\s+/i)) {
      const c = classifyId(part.split(/\s+with\s+/i)[0] ?? '')
      if (c === 'non-free') { all = 'non-free'; break }
      if (c === 'unknown') all = 'unknown'
    }
    if (all === 'free') return 'free'
    if (all === 'unknown') result = 'unknown'
  }
  return result
}
