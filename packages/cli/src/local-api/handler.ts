import { readJsonBody } from '@hubless/mirror'
import { operations } from '../operations/index.ts'
import { sendError } from './server.ts'
import type { LocalApiHandler } from './server.ts'
import type { Services } from '../services.ts'

export const OPERATION_PATH = /^\/api\/v1\/op\/([a-z-]+)$/

/**
 * `POST /api/v1/op/{name}`: runs an operation for another `hubless` command and streams NDJSON
 * (`{"progress":…}` lines, then `{"result":…}` or `{"error":{name,message}}`). It acts with the
 * node's keys, which is why it is served only by the local API's own listener (server.ts).
 */
export function createOperationHandler (services: Services, signal: AbortSignal): LocalApiHandler {
  return async (req, res) => {
    const match = OPERATION_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname)
    const operation = operations.get(match?.[1] ?? '')
    if (operation == null) {
      sendError(res, 404, 'UnknownOperation', `no operation at ${req.url}`)
      return
    }
    let input: unknown
    try {
      input = await readJsonBody(req)
    } catch (err) {
      sendError(res, 400, (err as Error).name, (err as Error).message)
      return
    }
    // every operation takes an object; anything else would reach it as null, a number or a list
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      sendError(res, 400, 'UsageError', `the body of /api/v1/op/${operation.name} must be a JSON object`)
      return
    }
    const clientGone = new AbortController()
    const onClose = (): void => { clientGone.abort() }
    res.once('close', onClose)
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
    try {
      const result = await operation.run({
        services,
        signal: AbortSignal.any([signal, clientGone.signal]),
        onProgress: progress => { res.write(JSON.stringify({ progress }) + '\n') }
      }, input)
      res.end(JSON.stringify({ result: result ?? null }) + '\n')
    } catch (err) {
      const error = err as Error
      res.end(JSON.stringify({ error: { name: error.name ?? 'Error', message: error.message } }) + '\n')
    }
  }
}
