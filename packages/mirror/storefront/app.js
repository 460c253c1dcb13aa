import { ApiError, listApps } from './api.js'
import { renderApp } from './app-view.js'
import { h, replace } from './dom.js'
import { listHash, renderList } from './list-view.js'

/**
 * The storefront's router. Routes live in the location hash so that the mirror serves one
 * static page: `#/?q=…&category=…` (search and browse) and `#/app/{appId}` (an app page).
 */

const main = /** @type {HTMLElement} */ (document.getElementById('main'))
const status = /** @type {HTMLElement} */ (document.getElementById('status'))
const searchForm = /** @type {HTMLFormElement} */ (document.getElementById('search'))
const searchInput = /** @type {HTMLInputElement} */ (document.getElementById('q'))
const categoryList = /** @type {HTMLElement} */ (document.getElementById('category-list'))

/** @type {AbortController | undefined} */
let current
let firstRender = true

function parseHash () {
  const hash = location.hash.replace(/^#/, '') || '/'
  const app = /^\/app\/([^?]+)/.exec(hash)
  if (app != null) {
    let appId = ''
    try {
      appId = decodeURIComponent(app[1] ?? '')
    } catch {}
    return { view: 'app', appId, state: new URLSearchParams() }
  }
  const query = hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : ''
  return { view: 'list', appId: '', state: new URLSearchParams(query) }
}

/**
 * id of the control to focus after the next render (a filter keeps focus while it is used)
 * @type {string | undefined}
 */
let focusAfter

/**
 * @param {string} hash
 * @param {{ focus?: string }} [options]
 */
function navigate (hash, options = {}) {
  focusAfter = options.focus
  if (location.hash === hash) void render()
  else location.hash = hash
}

/** @param {string} text */
function announce (text) {
  status.textContent = text
}

/** @param {string | null} active */
function markCategory (active) {
  for (const link of categoryList.querySelectorAll('a')) {
    if (active != null && link.dataset.category === active) {
      link.setAttribute('aria-current', 'page')
      // a folded category that is chosen shows itself
      const more = link.closest('details')
      if (more != null) more.open = true
    } else {
      link.removeAttribute('aria-current')
    }
  }
}

/** @param {unknown} err */
function showError (err) {
  const message = err instanceof Error ? err.message : String(err)
  const notFound = err instanceof ApiError && err.status === 404
  document.title = 'hubless'
  replace(main,
    h('h1', { tabindex: '-1' }, notFound ? 'Not found' : 'Something went wrong'),
    h('p', { role: 'alert', class: 'error' }, message),
    h('p', {}, h('a', { href: '#/' }, 'Back to all apps')))
}

async function render () {
  current?.abort()
  const controller = new AbortController()
  current = controller
  const route = parseHash()
  searchInput.value = route.state.get('q') ?? ''
  markCategory(route.view === 'list' ? (route.state.get('category') ?? '') : null)
  main.setAttribute('aria-busy', 'true')
  try {
    if (route.view === 'app') {
      await renderApp(main, route.appId, { signal: controller.signal })
    } else {
      await renderList(main, route.state, { signal: controller.signal, navigate, announce })
    }
    const keep = focusAfter == null ? null : document.getElementById(focusAfter)
    focusAfter = undefined
    if (keep != null) {
      keep.focus()
    } else if (!firstRender) {
      main.querySelector('h1')?.focus()
      window.scrollTo(0, 0)
    }
  } catch (err) {
    if (controller.signal.aborted) return
    showError(err)
  } finally {
    if (current === controller) main.removeAttribute('aria-busy')
    firstRender = false
  }
}

/** categories shown before "More categories"; the rest (desktop-file extras like X-KDE-…) fold away */
const TOP_CATEGORIES = 16

/** @param {{ value: string, count: number }} c */
function categoryItem (c) {
  return h('li', {}, h('a', { href: listHash(new URLSearchParams({ category: c.value })), 'data-category': c.value },
    c.value, h('span', { class: 'n', 'aria-label': `${c.count} apps` }, String(c.count))))
}

async function loadCategories () {
  try {
    const list = await listApps(new URLSearchParams(), AbortSignal.timeout(30_000))
    /** @type {Array<{ value: string, count: number }>} */
    const all = [...(list.facets?.category ?? [])].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
    const rest = all.slice(TOP_CATEGORIES)
    replace(categoryList,
      h('li', {}, h('a', { href: '#/', 'data-category': '' }, 'All apps', h('span', { class: 'n' }, String(list.total)))),
      all.slice(0, TOP_CATEGORIES).map(categoryItem),
      rest.length > 0
        ? h('li', {}, h('details', { class: 'more' }, h('summary', { class: 'more-summary' }, `More categories (${rest.length})`), h('ul', { class: 'more-list' }, rest.map(categoryItem))))
        : null)
    const route = parseHash()
    markCategory(route.view === 'list' ? (route.state.get('category') ?? '') : null)
  } catch {
    replace(categoryList, h('li', {}, 'Categories are unavailable.'))
  }
}

searchForm.addEventListener('submit', event => {
  event.preventDefault()
  const route = parseHash()
  const state = route.view === 'list' ? new URLSearchParams(route.state) : new URLSearchParams()
  state.delete('page')
  const q = searchInput.value.trim()
  if (q === '') state.delete('q')
  else state.set('q', q)
  // a new search ranks by match unless the reader chose an order
  if (state.get('sort') === 'relevance') state.delete('sort')
  navigate(listHash(state))
})

// the skip link moves focus without touching the hash, which is the router's: `#main` would
// leave the page the reader is on and re-render it, taking the focus away again
document.querySelector('.skip-link')?.addEventListener('click', event => {
  event.preventDefault()
  main.focus()
})

window.addEventListener('hashchange', () => { void render() })
void render()
void loadCategories()
