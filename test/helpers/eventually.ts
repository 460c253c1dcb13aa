/** Polls `check` until it returns a value, or fails after `timeout` ms saying what it waited for (and the last error) */
export async function eventually<T> (what: string, check: () => Promise<T | undefined>, timeout = 30_000): Promise<T> {
  const deadline = Date.now() + timeout
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, 300))
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${last == null ? '' : `: ${String(last)}`}`)
}
