/**
 * Work run one piece after another. A piece's failure goes to its caller (and to `onError`)
 * and does not stop the next piece.
 */
export class Serial {
  #tail: Promise<void> = Promise.resolve()
  readonly #onError: (err: unknown) => void

  constructor (onError: (err: unknown) => void = () => {}) {
    this.#onError = onError
  }

  run<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn)
    this.#tail = run.then(() => {}, err => { this.#onError(err) })
    return run
  }

  /** resolves once everything queued so far has run */
  async idle (): Promise<void> {
    await this.#tail
  }
}

/** `promise`, or the signal's reason once it aborts (the work itself goes on) */
export async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal == null) return promise
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort!)
  }
}
