/**
 * The clients of a flood, in a worker thread so that their own work (reading MBs of answers) does
 * not slow the event loop of the server being measured. Takes `{ url, clients, until, max,
 * headers }` as workerData; posts `{ statuses, times }` (ms of each 200) when done.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { get } from './http-get.ts'

interface FloodInit { url: string, clients: number, until: number, max: number, headers: Record<string, string> }

const init = workerData as FloodInit
const statuses: Record<string, number> = {}
const times: number[] = []
let issued = 0
await Promise.all(Array.from({ length: init.clients }, async () => {
  while (Date.now() < init.until && issued < init.max) {
    issued++
    const start = performance.now()
    try {
      const answer = await get(init.url, init.headers)
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
      if (answer.status === 200) times.push(performance.now() - start)
    } catch (err) {
      statuses[(err as Error).name] = (statuses[(err as Error).name] ?? 0) + 1
    }
  }
}))
parentPort?.postMessage({ statuses, times })
