/**
 * A writer for the crash test: opens a node and the registry in the directory given as argv[2],
 * then publishes records as fast as it can, printing each record id once its publish returned.
 * The test kills it with SIGKILL at some point.
 */
import { createNode } from '@hubless/net'
import { createPublisherKey, createRegistry } from '../../src/index.ts'
import { releaseRecord } from '../fixtures.ts'

const directory = process.argv[2]
if (directory == null) throw new Error('usage: writer-process.ts DIRECTORY')
const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'] })
const registry = await createRegistry({ node }, { name: 'test-registry' })
const key = createPublisherKey()
process.stdout.write('ready\n')
for (let i = 0; ; i++) {
  const signed = await registry.publish(releaseRecord(key, {}, i), key)
  process.stdout.write(`${signed.id}\n`)
}
