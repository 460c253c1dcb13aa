/**
 * Building the page from untrusted record text. Every text goes in as a text node, every URL
 * through safeUrl; nothing here ever parses HTML, so a publisher cannot inject markup or script.
 */

/**
 * A URL that may go in href/src: http(s) anywhere, or a path on this mirror, or an in-page route.
 * Everything else (javascript:, data:, protocol-relative //host) becomes undefined.
 * @param {unknown} value
 * @returns {string | undefined}
 */
export function safeUrl (value) {
  if (typeof value !== 'string' || value.length > 4096) return undefined
  if (value.startsWith('#')) return value
  if (value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')) return value
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined
  } catch {
    return undefined
  }
}

const URL_ATTRIBUTES = new Set(['href', 'src'])

/**
 * Create an element. Props: `class`, `on<event>` listeners, URL attributes (checked), other
 * attributes as text; `true` sets an empty attribute, null/false/undefined skip it. Children:
 * nodes, or anything else as text.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h (tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue
    if (key === 'class') {
      el.className = String(value)
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value))
    } else if (URL_ATTRIBUTES.has(key)) {
      const url = safeUrl(value)
      if (url != null) el.setAttribute(key, url)
    } else {
      el.setAttribute(key, value === true ? '' : String(value))
    }
  }
  append(el, children)
  return el
}

/**
 * @param {Node} parent
 * @param {unknown[]} children
 */
export function append (parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

/**
 * Replace an element's content.
 * @param {Element} el
 * @param {...unknown} children
 */
export function replace (el, ...children) {
  el.replaceChildren()
  append(el, children)
}

/**
 * An image that falls back to `fallback` (the original URL of a copy this mirror archived), then
 * to the placeholder, when its URL is missing, unsafe or fails to load.
 * @param {unknown} src
 * @param {Record<string, unknown>} props
 * @param {unknown} [fallback]
 */
export function image (src, props, fallback) {
  const placeholder = '/storefront/app-placeholder.svg'
  const img = /** @type {HTMLImageElement} */ (h('img', { ...props, src: safeUrl(src) ?? placeholder, decoding: 'async' }))
  // this mirror's copy first; when it fails, the original URL; then the placeholder
  const next = [safeUrl(fallback), placeholder].filter(u => u != null && u !== img.src)
  const onError = () => {
    const url = next.shift()
    if (url == null) return
    img.src = url
    if (next.length > 0) img.addEventListener('error', onError, { once: true })
  }
  img.addEventListener('error', onError, { once: true })
  return img
}

/**
 * Plain text with paragraphs (blank lines) and "• " list lines, as records carry it.
 * @param {string} text
 */
export function paragraphs (text) {
  return text.split(/\n\s*\n/).map(block => {
    const lines = block.split('\n').map(line => line.trim()).filter(line => line !== '')
    if (lines.length > 0 && lines.every(line => /^[•*-]\s/.test(line))) {
      return h('ul', {}, lines.map(line => h('li', {}, line.replace(/^[•*-]\s+/, ''))))
    }
    return h('p', {}, lines.join('\n'))
  })
}
