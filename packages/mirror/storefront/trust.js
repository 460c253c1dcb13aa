import { h } from './dom.js'

/**
 * How a trust status reads. Only `trusted` looks like a pass; every other status says plainly
 * what it is, in words (not only in colour).
 */
const STATUS = {
  trusted: { label: 'Trusted', symbol: '✓', tone: 'good', help: 'Signed by a publisher this mirror trusts through its roots.' },
  unverified: { label: 'Unverified publisher', symbol: '?', tone: 'warn', help: 'Signed, but no key this mirror trusts vouches for the publisher.' },
  imported: { label: 'Imported, not verified', symbol: '↧', tone: 'warn', help: 'Copied from another catalog by an importer; the app\'s author did not publish it here.' },
  conflicting: { label: 'Conflicting publishers', symbol: '!', tone: 'bad', help: 'More than one key publishes this app id; check the publisher before installing.' },
  untrusted: { label: 'Untrusted', symbol: '✕', tone: 'bad', help: 'The publisher is distrusted by this mirror\'s roots.' },
  revoked: { label: 'Key revoked', symbol: '✕', tone: 'bad', help: 'The publisher\'s key was revoked; releases after the revocation are not trusted.' }
}

/** @param {unknown} status */
export function trustInfo (status) {
  return Object.hasOwn(STATUS, String(status))
    ? STATUS[/** @type {keyof typeof STATUS} */ (String(status))]
    : { label: 'Unknown trust', symbol: '?', tone: 'warn', help: 'This mirror did not say how far it trusts this publisher.' }
}

/**
 * A badge for a trust status; an imported release gets an "Imported" tag as well, whatever its
 * status, so a restated catalog entry never passes for the author's own release.
 * @param {{ status: string }} trust
 * @param {boolean} [imported]
 */
export function trustBadges (trust, imported = false) {
  const info = trustInfo(trust?.status)
  const badges = [h('span', { class: `badge badge-${info.tone}`, title: info.help, 'data-trust': String(trust?.status ?? 'unknown') },
    h('span', { 'aria-hidden': 'true' }, info.symbol, ' '), info.label)]
  if (imported && trust?.status !== 'imported') {
    badges.push(h('span', { class: 'badge badge-warn', title: STATUS.imported.help, 'data-imported': '' }, 'Imported'))
  }
  return h('span', { class: 'badges' }, badges)
}
