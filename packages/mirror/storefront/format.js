/** @param {unknown} iso */
export function formatDate (iso) {
  const date = new Date(String(iso))
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10)
}

/** @param {unknown} bytes */
export function formatSize (bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return ''
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

/**
 * A did:key shortened for reading (the full key is in the title and in the trust section)
 * @param {unknown} did
 */
export function shortKey (did) {
  const text = String(did ?? '')
  return text.length > 28 ? `${text.slice(0, 16)}…${text.slice(-8)}` : text
}

/**
 * A license as a short label: `LicenseRef-proprietary=https://…` reads "Proprietary", anything
 * longer than 40 characters is cut (the page shows the full text in its title).
 * @param {unknown} license
 */
export function shortLicense (license) {
  const text = String(license ?? '')
  if (/^LicenseRef-proprietary/i.test(text)) return 'Proprietary'
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}
