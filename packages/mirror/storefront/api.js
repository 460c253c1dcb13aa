/**
 * The mirror's JSON API, version 1. Its types are the mirror's own (`src/api-types.ts`), checked
 * by `tsc -p packages/mirror/storefront` in `pnpm typecheck`, not restated here.
 * @import { ApiAppDetail, ApiAppList, ApiAppPage, ApiReleasePage } from '../src/api-types.ts'
 */

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {string} name
   */
  constructor (message, status, name) {
    super(message)
    this.status = status
    this.name = name
  }
}

/**
 * @param {string} path
 * @param {AbortSignal} signal
 */
async function getJson (path, signal) {
  const res = await fetch(path, { signal, headers: { accept: 'application/json' } })
  let body
  try {
    body = await res.json()
  } catch {
    throw new ApiError(`the mirror answered ${res.status} without JSON`, res.status, 'BadResponse')
  }
  if (!res.ok) {
    const error = body?.error ?? {}
    throw new ApiError(String(error.message ?? `HTTP ${res.status}`), res.status, String(error.name ?? 'HttpError'))
  }
  return body
}

const LIST_PARAMS = ['q', 'category', 'channel', 'arch', 'trusted', 'license', 'sort', 'page']

/**
 * `/api/v1/apps` with the given search state
 * @param {URLSearchParams} state
 * @param {AbortSignal} signal
 * @returns {Promise<ApiAppList>}
 */
export function listApps (state, signal) {
  const params = new URLSearchParams()
  for (const key of LIST_PARAMS) {
    const value = state.get(key)
    if (value != null && value !== '') params.set(key, value)
  }
  const query = params.toString()
  return getJson(`/api/v1/apps${query === '' ? '' : '?' + query}`, signal)
}

/**
 * `/api/v1/apps/{appId}`
 * @param {string} appId
 * @param {AbortSignal} signal
 * @returns {Promise<ApiAppPage>}
 */
export function getApp (appId, signal) {
  return getJson(`/api/v1/apps/${encodeURIComponent(appId)}`, signal)
}

/**
 * `/api/v1/apps/{appId}/releases`: every release, newest first (a mirror's app page holds the newest few)
 * @param {string} appId
 * @param {AbortSignal} signal
 * @returns {Promise<ApiReleasePage>}
 */
export function getReleases (appId, signal) {
  return getJson(`/api/v1/apps/${encodeURIComponent(appId)}/releases?limit=1000`, signal)
}
