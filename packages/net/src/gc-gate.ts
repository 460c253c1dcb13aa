/**
 * Keeps garbage collection apart from work that stores blocks now and pins them later (a registry
 * snapshot: thousands of blocks in one batch, pinned in the background). A collection deletes
 * every unpinned block, so it must not run in between. Holds share; a collection waits for the
 * holds it finds, and new holds wait for a collection that is waiting or running.
 */
export class GcGate {
  #holders = 0
  #collecting: Promise<unknown> | undefined
  #idle: Array<() => void> = []

  /** resolves, once no collection runs or waits, with the function that ends the hold */
  async hold (signal?: AbortSignal): Promise<() => void> {
    while (this.#collecting != null) {
      signal?.throwIfAborted()
      await this.#collecting.catch(() => {})
    }
    signal?.throwIfAborted()
    this.#holders++
    let released = false
    return () => {
      if (released) return
      released = true
      if (--this.#holders === 0) for (const wake of this.#idle.splice(0)) wake()
    }
  }

  /** runs `collect` once every hold taken before it has ended, one collection at a time */
  async collect<T> (collect: () => Promise<T>): Promise<T> {
    while (this.#collecting != null) await this.#collecting.catch(() => {})
    const run = (async () => {
      while (this.#holders > 0) await new Promise<void>(resolve => { this.#idle.push(resolve) })
      return collect()
    })()
    this.#collecting = run
    try {
      return await run
    } finally {
      if (this.#collecting === run) this.#collecting = undefined
    }
  }
}
