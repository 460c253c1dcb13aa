import { logger } from '@libp2p/logger'

const log = logger('hubless:mirror:answer-cache')

export interface AnswerCacheInit {
  /** answers kept for the current generation (one per distinct request); default 64 */
  maxEntries?: number
  /** called when a build starts (tests count builds with it) */
  onBuild?: (key: string) => void
}

/**
 * Answers that cost a lot to make and change only when their source does, kept until it does.
 * `generation` names the source's state (a counter bumped on every change): an answer is built
 * at most once per generation and key, and requests that arrive while it is being built wait for
 * that same build rather than starting their own.
 */
export interface AnswerCache<T> {
  get (generation: number, key: string, build: () => Promise<T>): Promise<T>
}

export function createAnswerCache<T> (init: AnswerCacheInit = {}): AnswerCache<T> {
  const maxEntries = init.maxEntries ?? 64
  let current = -1
  // insertion order is use order: a hit is moved to the end, the first entry is the oldest
  const entries = new Map<string, Promise<T>>()

  return {
    async get (generation, key, build) {
      if (generation !== current) {
        if (entries.size > 0) log('generation %d: dropping %d answers of generation %d', generation, entries.size, current)
        entries.clear()
        current = generation
      }
      const cached = entries.get(key)
      if (cached != null) {
        entries.delete(key)
        entries.set(key, cached)
        return cached
      }
      init.onBuild?.(key)
      const building = build()
      entries.set(key, building)
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
      // a failed build (a refused turn, an aborted read) is not an answer: the next request tries again
      building.catch(() => {
        if (entries.get(key) === building && current === generation) entries.delete(key)
      })
      return building
    }
  }
}
