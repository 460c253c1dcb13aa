import { listApps } from './api.js'
import { h, image, replace } from './dom.js'
import { shortLicense } from './format.js'
import { trustBadges } from './trust.js'
/** @import { ApiAppList, ApiAppSummary } from '../src/api-types.ts' */

/**
 * The search page: heading, filters with facet counts, the result list and pagination.
 * `state` holds the list parameters of the API (q, category, channel, arch, trusted, license,
 * sort, page), exactly as they stand in the location hash.
 */

/**
 * @param {URLSearchParams} state
 * @returns {string}
 */
export function listHash (state) {
  const params = new URLSearchParams()
  for (const [key, value] of state) {
    if (value !== '') params.set(key, value)
  }
  const query = params.toString()
  return query === '' ? '#/' : `#/?${query}`
}

/**
 * @param {URLSearchParams} state
 * @param {Record<string, string | null>} changes
 */
function withChanges (state, changes) {
  const next = new URLSearchParams(state)
  for (const [key, value] of Object.entries(changes)) {
    if (value == null || value === '') next.delete(key)
    else next.set(key, value)
  }
  return next
}

/**
 * @param {string} name
 * @param {string} label
 * @param {string} anyLabel
 * @param {Array<{ value: string, count: number }>} facet
 * @param {string | null} selected
 */
function facetSelect (name, label, anyLabel, facet, selected) {
  const values = [...(facet ?? [])]
  if (selected != null && selected !== '' && !values.some(f => f.value === selected)) values.push({ value: selected, count: 0 })
  return h('div', { class: 'field' },
    h('label', { for: `filter-${name}` }, label),
    h('select', { id: `filter-${name}`, name },
      h('option', { value: '' }, anyLabel),
      values.map(f => h('option', { value: f.value, selected: f.value === selected }, `${f.value} (${f.count})`))))
}

/** @param {URLSearchParams} state */
function sortOptions (state) {
  const sort = state.get('sort') ?? ''
  const options = [['', 'Default order'], ['relevance', 'Best match'], ['updated', 'Recently updated'], ['name', 'Name']]
  return options.map(([value, text]) => h('option', { value, selected: sort === value }, text))
}

/**
 * @param {Array<{ value: string, count: number }> | undefined} facet
 * @param {string} value
 */
function countOf (facet, value) {
  return facet?.find(f => f.value === value)?.count
}

/**
 * @param {URLSearchParams} state
 * @param {ApiAppList} list
 * @param {(hash: string, options?: { focus?: string }) => void} navigate
 */
function filters (state, list, navigate) {
  const free = countOf(list.facets?.license, 'free')
  const trusted = countOf(list.facets?.trust, 'trusted')
  const form = h('form', { class: 'filters', 'aria-label': 'Filters', 'data-filters': '' },
    facetSelect('category', 'Category', 'All categories', list.facets?.category, state.get('category')),
    facetSelect('channel', 'Channel', 'Any channel', list.facets?.channel, state.get('channel')),
    facetSelect('arch', 'Architecture', 'Any architecture', list.facets?.arch, state.get('arch')),
    h('div', { class: 'field' },
      h('label', { for: 'filter-sort' }, 'Sort by'),
      h('select', { id: 'filter-sort', name: 'sort' }, sortOptions(state))),
    h('div', { class: 'checks' },
      h('label', { class: 'check' },
        h('input', { type: 'checkbox', id: 'filter-free', name: 'license', value: 'free', checked: state.get('license') === 'free' }),
        ` Free licenses only${free == null ? '' : ` (${free})`}`),
      h('label', { class: 'check' },
        h('input', { type: 'checkbox', id: 'filter-trusted', name: 'trusted', value: 'true', checked: state.get('trusted') === 'true' }),
        ` Trusted publishers only${trusted == null ? '' : ` (${trusted})`}`)))
  form.addEventListener('change', event => {
    const data = new FormData(/** @type {HTMLFormElement} */ (form))
    /** @type {Record<string, string | null>} */
    const changes = { page: null }
    for (const key of ['category', 'channel', 'arch', 'sort', 'license', 'trusted']) {
      const value = data.get(key)
      changes[key] = typeof value === 'string' ? value : null
    }
    const target = /** @type {HTMLElement | null} */ (event.target)
    navigate(listHash(withChanges(state, changes)), { focus: target?.id || undefined })
  })
  form.addEventListener('submit', event => { event.preventDefault() })
  return form
}

/** @param {ApiAppSummary} app */
function resultItem (app) {
  const meta = [
    app.version ? h('span', {}, `Version ${app.version}`) : null,
    h('span', {}, `${app.channel} · ${app.arch}`),
    app.license ? h('span', { title: app.license }, shortLicense(app.license)) : null
  ]
  return h('li', { class: 'result', 'data-app-id': app.appId },
    image(app.icon, { class: 'icon', width: 48, height: 48, alt: '', loading: 'lazy' }, app.iconFallback),
    h('div', { class: 'result-body' },
      h('h2', { class: 'result-name' }, h('a', { href: `#/app/${encodeURIComponent(app.appId)}` }, app.name)),
      app.summary ? h('p', { class: 'summary' }, app.summary) : null,
      h('p', { class: 'meta' }, meta)),
    trustBadges(app.trust, app.imported === true))
}

/**
 * @param {URLSearchParams} state
 * @param {ApiAppList} list
 */
function pagination (state, list) {
  const pages = Math.max(1, Math.ceil(list.total / Math.max(1, list.pageSize)))
  if (pages <= 1) return null
  const page = list.page
  const link = (/** @type {number} */ n, /** @type {string} */ text, /** @type {string} */ rel) =>
    h('a', { href: listHash(withChanges(state, { page: n === 1 ? null : String(n) })), rel }, text)
  return h('nav', { class: 'pagination', 'aria-label': 'Result pages' },
    page > 1 ? link(page - 1, '← Previous', 'prev') : h('span', { 'aria-hidden': 'true' }),
    h('span', { 'aria-current': 'page' }, `Page ${page} of ${pages}`),
    page < pages ? link(page + 1, 'Next →', 'next') : h('span', { 'aria-hidden': 'true' }))
}

/**
 * @param {URLSearchParams} state
 */
function heading (state) {
  const q = state.get('q')
  const category = state.get('category')
  if (q) return `Results for “${q}”${category ? ` in ${category}` : ''}`
  if (category) return `${category} apps`
  return 'All apps'
}

/**
 * @param {HTMLElement} main
 * @param {URLSearchParams} state
 * @param {{ signal: AbortSignal, navigate: (hash: string, options?: { focus?: string }) => void, announce: (text: string) => void }} ctx
 */
export async function renderList (main, state, ctx) {
  const list = await listApps(state, ctx.signal)
  const title = heading(state)
  document.title = `${title} – hubless`
  const count = list.total === 1 ? '1 app' : `${list.total} apps`
  replace(main,
    h('h1', { tabindex: '-1' }, title),
    filters(state, list, ctx.navigate),
    h('p', { class: 'count', 'data-count': String(list.total) }, count),
    list.apps.length === 0
      ? h('p', { class: 'empty' }, 'No app matches. Try fewer words or fewer filters.')
      : h('ol', { class: 'results', start: (list.page - 1) * list.pageSize + 1 }, list.apps.map(resultItem)),
    pagination(state, list))
  ctx.announce(`${title}: ${count}`)
  return list
}
