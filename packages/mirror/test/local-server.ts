/** An HTTP server standing in for an origin, on 127.0.0.1 */
import type { AddressInfo, Server } from 'node:net'

/** Listens on a free loopback port and returns the server's base URL */
export async function listenOnLoopback (server: Server): Promise<string> {
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Closes the server and every connection still open to it (endless answers included) */
export async function closeServer (server: { closeAllConnections: () => void, close: (done: () => void) => unknown } | undefined): Promise<void> {
  if (server == null) return
  server.closeAllConnections()
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
}
