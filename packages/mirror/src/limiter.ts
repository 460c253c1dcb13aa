import { setImmediate as nextTurn } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import { ServerBusyError } from './errors.ts'

const log = logger('hubless:mirror:limiter')

export interface LimiterInit {
  /** jobs running at once; default 2 */
  concurrency?: number
  /** jobs waiting for a turn; one more is refused with ServerBusyError; default 32 */
  queue?: number
  /** ms a job may wait for its turn before it is refused; default 10 000 */
  maxWait?: number
}

/**
 * Bounds the expensive work of a route (building the feed, a search, a page of releases): a
 * flood queues up to `queue` jobs and refuses the rest with {@link ServerBusyError}, which the
 * HTTP server answers with 503 and `Retry-After`. Each job starts on a later turn of the event
 * loop, so the requests that arrived meanwhile (`/healthz`, cached answers) are served between
 * two expensive jobs rather than after all of them.
 */
export interface Limiter {
  run<T> (job: () => Promise<T> | T): Promise<T>
  readonly active: number
  readonly waiting: number
}

interface Waiter { start (): void, timer: NodeJS.Timeout }

export function createLimiter (init: LimiterInit = {}): Limiter {
  const concurrency = init.concurrency ?? 2
  const queueSize = init.queue ?? 32
  const maxWait = init.maxWait ?? 10_000
  const queue: Waiter[] = []
  let active = 0

  async function turn (): Promise<void> {
    if (active < concurrency && queue.length === 0) {
      active++
      return
    }
    if (queue.length >= queueSize) {
      log('refused a job: %d running, %d waiting', active, queue.length)
      throw new ServerBusyError(`the server is busy (${queue.length} requests waiting); retry in a few seconds`)
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer)
          resolve()
        },
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1)
          reject(new ServerBusyError(`the server is busy (waited ${maxWait} ms for a turn); retry in a few seconds`))
        }, maxWait)
      }
      queue.push(waiter)
    })
  }

  function release (): void {
    const next = queue.shift()
    if (next == null) {
      active--
      return
    }
    // the slot passes to the next job, which yields to waiting I/O before it starts (in run)
    next.start()
  }

  return {
    async run (job) {
      await turn()
      try {
        await nextTurn()
        return await job()
      } finally {
        release()
      }
    },
    get active () { return active },
    get waiting () { return queue.length }
  }
}
