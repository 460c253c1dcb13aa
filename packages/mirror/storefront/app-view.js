import { getApp, getReleases } from './api.js'
import { h, image, paragraphs, replace } from './dom.js'
import { formatDate, formatSize, shortKey, shortLicense } from './format.js'
import { trustBadges, trustInfo } from './trust.js'
/** @import { ApiAppDetail, ApiAppPage, ApiOriginState, ApiRelease, ApiWitnessSummary } from '../src/api-types.ts' */

/**
 * The app page: icon, name, download of the preferred release (through this mirror's gateway,
 * with its SHA-256), publisher and trust with the path that led to it, screenshots, description,
 * the newest release per channel and architecture, and the whole history.
 */

/** @param {ApiAppDetail} app */
function preferredRelease (app) {
  const latest = Object.values(app.latest ?? {}).filter(r => r.yanked == null)
  return app.latest?.['release/x86_64'] ?? latest.find(r => r.channel === 'release') ?? latest[0] ?? app.history?.find(r => r.yanked == null)
}

/** @param {ApiRelease | undefined} release */
function isImported (release) {
  return release?.imported != null || release?.trust?.status === 'imported'
}

/** @param {string} url */
function hostOf (url) {
  try {
    return new URL(url).host
  } catch {
    return url.slice(0, 40)
  }
}

/**
 * @param {ApiRelease} release
 * @param {string} name
 */
function downloadLink (release, name) {
  const content = release.content ?? {}
  const label = `Download ${name} ${release.version} (${release.arch})`
  if (content.download) {
    return h('a', { class: 'button', href: content.download, download: '', 'data-download': 'gateway' }, label)
  }
  if (content.urls?.[0]) {
    return h('a', { class: 'button button-secondary', href: content.urls[0], rel: 'noopener noreferrer nofollow', 'data-download': 'origin' },
      `${label} from its original server`)
  }
  return h('p', {}, 'No download: no copy of this release is known.')
}

/**
 * @param {ApiRelease | undefined} release
 * @param {string} name
 * @param {ApiOriginState | undefined} archived an origin of the release whose file this mirror still serves
 */
function downloadSection (release, name, archived) {
  if (release == null) {
    return h('section', { class: 'download', 'aria-labelledby': 'download-heading' },
      h('h2', { id: 'download-heading' }, 'Download'),
      h('p', {}, 'Every release of this app was withdrawn by its publisher.'))
  }
  const content = release.content ?? {}
  const facts = [
    ['Version', release.version],
    ['Channel', release.channel],
    ['Architecture', release.arch],
    ['Published', formatDate(release.published)],
    content.size != null ? ['Size', formatSize(content.size)] : null,
    content.sha256 ? ['SHA-256', h('code', { class: 'hash', 'data-sha256': '' }, content.sha256)] : null,
    content.cid ? ['CID', h('code', { class: 'hash' }, content.cid)] : null
  ].filter(f => f != null)
  return h('section', { class: 'download', 'aria-labelledby': 'download-heading' },
    h('h2', { id: 'download-heading' }, 'Download'),
    downloadLink(release, name),
    archivedLink(release, name, archived),
    h('dl', { class: 'facts' }, facts.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
    content.sha256
      ? h('p', { class: 'note' }, 'Check the file after downloading: ', h('code', {}, 'sha256sum'), ' must print the SHA-256 above.')
      : h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'No SHA-256. '),
        isImported(release)
          ? archived?.archived != null
            ? `This release was imported from another catalog by URL only; this mirror fetched the file and witnessed SHA-256 ${archived.archived.sha256}.`
            : 'This release was imported from another catalog by URL only; no mirror has fetched and verified the file yet.'
          : 'This release has no hash; the file cannot be verified.'),
    content.download && content.urls?.length > 0
      ? h('p', { class: 'note' }, 'Also at: ', content.urls.map((/** @type {string} */ url, /** @type {number} */ i) =>
        [i > 0 ? ', ' : '', h('a', { href: url, rel: 'noopener noreferrer nofollow' }, hostOf(url))]))
      : null)
}

/**
 * The copy this mirror archived of an imported release, served from here whatever its origin does
 * @param {ApiRelease} release
 * @param {string} name
 * @param {ApiOriginState | undefined} origin
 */
function archivedLink (release, name, origin) {
  const copy = origin?.archived
  if (release.content?.download || copy == null || !copy.availableHere) return null
  const file = `${name}-${copy.version}-${release.arch}.AppImage`.replace(/[^A-Za-z0-9._-]+/g, '_')
  return h('p', {},
    h('a', { class: 'button', href: `/ipfs/${copy.cid}?filename=${encodeURIComponent(file)}&download=true`, download: '', 'data-download': 'archived' },
      `Download the copy this mirror archived (${copy.version})`))
}

/** @type {Record<string, string>} */
const ORIGIN_STATES = {
  alive: 'alive: it serves the file this mirror archived',
  gone: 'gone (404, 410 or no such host)',
  changed: 'CHANGED: it serves other bytes than this mirror archived from it',
  failing: 'failing'
}

/**
 * @param {ApiWitnessSummary} w
 * @param {string} what
 */
function witnessLine (w, what) {
  return h('p', { 'data-witnesses': w.agree ? 'agree' : 'disagree', class: w.agree ? null : 'warning' },
    `${what} witnessed by ${w.mirrors} ${w.mirrors === 1 ? 'mirror' : 'mirrors'}${w.trustedMirrors > 0 ? ` (${w.trustedMirrors} trusted by this mirror)` : ''}: `,
    w.agree ? 'they agree on the bytes.' : h('strong', {}, 'they DISAGREE on the bytes.'))
}

/**
 * What mirrors witnessed of the app's files (how many, whether they agree, conflicts shown as
 * such), versions they found upstream that no record names yet, and this mirror's origin checks.
 * @param {ApiAppPage} app
 * @param {ApiRelease | undefined} release
 */
function witnessSection (app, release) {
  const summary = release == null ? undefined : app.witnesses?.[release.id]
  const conflicts = app.witnessConflicts ?? []
  const tracked = app.trackedVersions ?? []
  const origins = app.origins ?? []
  if (summary == null && conflicts.length === 0 && tracked.length === 0 && origins.length === 0) return null
  return h('section', { class: 'witnesses', 'aria-labelledby': 'witnesses-heading' },
    h('h2', { id: 'witnesses-heading' }, 'Witnesses and origins'),
    summary != null && release != null
      ? witnessLine(summary, `Version ${release.version} was`)
      : h('p', { class: 'note' }, 'No mirror witnessed the file of this release.'),
    conflicts.map(c => h('div', { class: 'warning', role: 'note', 'data-witness-conflict': '' },
      h('p', {}, h('strong', {}, 'Conflict: '), `${c.url} served different bytes at version ${c.version} to different mirrors. Neither is chosen for you:`),
      h('ul', {}, c.sha256.map(sha => h('li', {}, h('code', { class: 'hash' }, sha), ` (${c.witnesses.filter(w => w.sha256 === sha).map(w => shortKey(w.mirror)).join(', ')})`))))),
    tracked.length > 0
      ? [h('h3', {}, 'Newer versions witnessed upstream'),
          h('p', { class: 'note' }, 'Mirrors found these at the app\'s own update source and witnessed their files; no release record names them yet. They are witnessed, not signed by the app\'s author: `hubless get APP@VERSION` downloads one when you trust a mirror that witnessed it (`hubless trust add KEY --witness`).'),
          h('ul', { 'data-tracked-versions': '' }, tracked.map(t => h('li', { 'data-tracked-version': t.version },
            `${t.version} (${t.channel}, ${t.arch}): witnessed by ${t.mirrors} ${t.mirrors === 1 ? 'mirror' : 'mirrors'}, ${t.agree ? 'they agree' : 'they DISAGREE'}`,
            t.witnesses[0] ? [' — ', h('a', { href: t.witnesses[0].url, rel: 'noopener noreferrer nofollow' }, hostOf(t.witnesses[0].url)), ' ', h('code', { class: 'hash short', title: t.witnesses[0].sha256 }, `${t.witnesses[0].sha256.slice(0, 12)}…`)] : null,
            t.download ? [' — ', h('a', { href: t.download, 'data-tracked-download': '', download: '' }, `Download ${t.version} (witnessed)`)] : null)))]
      : null,
    origins.length > 0
      ? [h('h3', {}, 'Origins, as this mirror checked them'),
          h('ul', { class: 'origins' }, origins.map(o => h('li', { 'data-origin-state': o.state, class: o.state === 'alive' ? null : 'warning' },
            h('a', { href: o.url, rel: 'noopener noreferrer nofollow' }, hostOf(o.url)), ` ${ORIGIN_STATES[o.state] ?? o.state} since ${formatDate(o.since)}.`,
            o.archived?.availableHere ? h('span', { 'data-available-here': '' }, ` The file (${o.archived.version}, ${formatSize(o.archived.size)}) is still available from this mirror.`) : null)))]
      : null)
}

/**
 * The name a downloaded file gets: the one the mirror's download link gives it, else one made of
 * letters, digits, `.`, `_` and `-` only, so that the command lines below are safe to paste.
 * @param {ApiAppDetail} app
 * @param {ApiRelease} release
 */
function fileNameOf (app, release) {
  const given = release.content.download == null ? null : new URL(release.content.download, location.href).searchParams.get('filename')
  const name = given ?? `${app.name}-${release.version}-${release.arch}.AppImage`
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.-]+/, '')
}

/**
 * How to install and run it, as app stores show it: `hubless install` (verified, with a desktop
 * entry and delta updates), or the file itself made executable.
 * @param {ApiAppDetail} app
 * @param {ApiRelease | undefined} release
 */
function installSection (app, release) {
  if (release == null) return null
  const options = [release.channel === 'release' ? '' : ` --channel ${release.channel}`, release.arch === 'x86_64' ? '' : ` --arch ${release.arch}`].join('')
  const file = fileNameOf(app, release)
  return h('section', { class: 'install', 'aria-labelledby': 'install-heading' },
    h('h2', { id: 'install-heading' }, 'Install and run'),
    h('p', {}, 'With hubless: verified, added to your applications menu, updated by downloading only what changed.'),
    h('pre', {}, h('code', { 'data-install': '' }, `hubless install ${app.appId}${options}`)),
    h('p', {}, 'Or run the downloaded file itself: AppImages need no installation, only the permission to run.'),
    h('pre', {}, h('code', { 'data-run': '' }, `chmod +x ${file}\n./${file}`)))
}

/** @param {ApiAppDetail} app */
function trustSection (app) {
  const trust = app.owner?.trust ?? { status: 'unknown', path: [], explanation: '' }
  const info = trustInfo(trust.status)
  const imported = isImported(preferredRelease(app))
  return h('section', { class: 'trust', 'aria-labelledby': 'trust-heading' },
    h('h2', { id: 'trust-heading' }, 'Publisher and trust'),
    h('p', {}, trustBadges(trust, imported), ' ', info.help),
    trust.explanation ? h('p', { class: 'explanation' }, trust.explanation) : null,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Publisher key'), h('dd', {}, h('code', { class: 'hash', 'data-publisher': '' }, app.owner?.publisher ?? '')),
      app.developer ? [h('dt', {}, 'Developer (as the record says)'), h('dd', {}, app.developer)] : null),
    trust.path?.length > 0
      ? [h('h3', {}, 'Trust path'), h('ol', { class: 'trust-path', 'data-trust-path': '' }, trust.path.map((/** @type {string} */ step, /** @type {number} */ i) =>
          h('li', {}, i === 0 && trust.path.length > 1 ? h('span', { class: 'step' }, 'root ') : null,
            i === trust.path.length - 1 && i > 0 ? h('span', { class: 'step' }, 'publisher ') : null,
            h('code', { title: step }, step))))]
      : h('p', { class: 'note' }, 'No trust path: no key this mirror trusts vouches for this publisher.'),
    app.conflicting?.length > 0
      ? h('div', { class: 'warning', role: 'note', 'data-conflicting': '' },
        h('p', {}, h('strong', {}, 'Other keys also publish this app id. '), 'Only install from a publisher you recognise:'),
        h('ul', {}, app.conflicting.map((/** @type {string} */ key) => h('li', {}, h('code', { title: key }, shortKey(key))))))
      : null)
}

/**
 * @param {any[]} releases
 * @param {string} caption
 */
function releaseTable (releases, caption) {
  return h('table', { class: 'releases' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['Channel', 'Architecture', 'Version', 'Published', 'Trust', 'SHA-256', 'Download'].map(t => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, releases.map(r => h('tr', { class: r.yanked ? 'yanked' : null },
      h('td', {}, r.channel),
      h('td', {}, r.arch),
      h('td', {}, r.version, r.yanked ? [' ', h('span', { class: 'badge badge-bad', title: r.yanked.reason }, 'withdrawn')] : null),
      h('td', {}, formatDate(r.published)),
      h('td', {}, trustInfo(r.trust?.status).label),
      h('td', {}, r.content?.sha256 ? h('code', { class: 'hash short', title: r.content.sha256 }, `${r.content.sha256.slice(0, 12)}…`) : 'none'),
      h('td', {}, r.content?.download
        ? h('a', { href: r.content.download, download: '' }, 'mirror')
        : r.content?.urls?.[0] ? h('a', { href: r.content.urls[0], rel: 'noopener noreferrer nofollow' }, 'origin') : '—')))))
}

/**
 * The releases the app page holds; where the mirror keeps only the newest few, opening the list
 * reads every release from `/api/v1/apps/{appId}/releases`
 * @param {ApiAppDetail} app
 * @param {AbortSignal} signal
 */
function historySection (app, signal) {
  if (app.historyPartial !== true) {
    return h('details', {}, h('summary', {}, `All releases (${app.history.length})`), releaseTable(app.history, 'Every release, newest first'))
  }
  const body = h('div', { class: 'all-releases' }, h('p', {}, 'Loading every release…'))
  let loaded = false
  const details = /** @type {HTMLDetailsElement} */ (h('details', {
    ontoggle: () => {
      if (loaded || !details.open) return
      loaded = true
      getReleases(app.appId, signal).then(page => {
        replace(body, releaseTable(page.releases, page.total > page.releases.length
          ? `The newest ${page.releases.length} of ${page.total} releases`
          : 'Every release, newest first'))
      }, err => {
        loaded = false
        if (!signal.aborted) replace(body, h('p', { class: 'error' }, `Could not load the releases: ${err.message}`))
      })
    }
  }, h('summary', {}, 'All releases'), body))
  return details
}

/**
 * @param {HTMLElement} main
 * @param {string} appId
 * @param {{ signal: AbortSignal }} ctx
 */
export async function renderApp (main, appId, ctx) {
  const app = await getApp(appId, ctx.signal)
  document.title = `${app.name} – hubless`
  const release = preferredRelease(app)
  const latest = Object.keys(app.latest ?? {}).sort().map(key => app.latest[key])
  replace(main, h('article', { class: 'app', 'data-app-id': app.appId },
    h('p', { class: 'back' }, h('a', { href: '#/' }, '← All apps')),
    h('header', { class: 'app-header' },
      image(app.icon, { class: 'app-icon', width: 96, height: 96, alt: '' }, app.iconFallback),
      h('div', {},
        h('h1', { tabindex: '-1' }, app.name),
        app.summary ? h('p', { class: 'summary' }, app.summary) : null,
        h('p', { class: 'meta' },
          h('span', { class: 'app-id' }, app.appId),
          app.license ? h('span', { title: app.license }, `License: ${shortLicense(app.license)}`) : null,
          app.homepage ? h('a', { href: app.homepage, rel: 'noopener noreferrer nofollow ugc' }, 'Homepage') : null),
        app.categories?.length > 0
          ? h('ul', { class: 'tags', 'aria-label': 'Categories' }, app.categories.map((/** @type {string} */ c) =>
            h('li', {}, h('a', { href: `#/?category=${encodeURIComponent(c)}` }, c))))
          : null,
        trustBadges(app.owner?.trust ?? {}, isImported(release)))),
    downloadSection(release, app.name, (app.origins ?? []).find(o => o.archived?.availableHere && release != null && o.archived.version === release.version) ?? (app.origins ?? []).find(o => o.archived?.availableHere)),
    witnessSection(app, release),
    installSection(app, release),
    app.screenshots?.length > 0
      ? h('section', { class: 'screenshots', 'aria-labelledby': 'screenshots-heading' },
        h('h2', { id: 'screenshots-heading' }, 'Screenshots'),
        h('ul', {}, app.screenshots.map((/** @type {string} */ src, /** @type {number} */ i) =>
          h('li', {}, image(src, { alt: `Screenshot ${i + 1} of ${app.name}`, loading: 'lazy', width: 480, height: 300 }, app.screenshotFallbacks?.[i])))))
      : null,
    app.description
      ? h('section', { class: 'description', 'aria-labelledby': 'about-heading' }, h('h2', { id: 'about-heading' }, 'About'), paragraphs(app.description))
      : null,
    trustSection(app),
    h('section', { class: 'versions', 'aria-labelledby': 'versions-heading' },
      h('h2', { id: 'versions-heading' }, 'Versions'),
      latest.length > 0 ? releaseTable(latest, 'Newest release per channel and architecture') : h('p', {}, 'No current release.'),
      app.history?.length > 0 ? historySection(app, ctx.signal) : null)))
  return app
}
