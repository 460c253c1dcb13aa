/**
 * A snapshot must not give a peer what live replication would not. A hostile peer serves a
 * snapshot holding an entry by a stock OrbitDB (secp256k1) writer - a valid record, a valid
 * identity - under a far-ahead Ed25519 head. Afterwards every honest peer must hold the same
 * records: the one that took the snapshot and the one that only replicated live. (FOUND: the live
 * join used to refuse stock writers while the snapshot import kept them, a permanent split view;
 * the registry now checks writers the same way on both paths.)
 *
 * The scenario runs in its own process (divergence-scenario.ts), killed after a bound: now and
 * then the peer that took the hostile snapshot stops taking its neighbour's records and its
 * registry never stops (SECURITY.md), and that must fail this test, not hang the suite.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'

const SCENARIO = fileURLToPath(new URL('./divergence-scenario.ts', import.meta.url))
const BOUND = 60_000

it('a snapshot cannot give one peer a record that live replication refuses (no divergence)', async () => {
  const child = spawn(process.execPath, [SCENARIO], { stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, BOUND)
  const code = await new Promise<number | null>(resolve => { child.on('close', c => { resolve(c) }) })
  clearTimeout(timer)
  assert.notEqual(child.signalCode, 'SIGKILL', `the scenario did not finish within ${BOUND} ms (a peer hung); it printed: ${out.slice(0, 500)}`)
  const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { a?: string[], b?: string[], stock?: string, error?: string }
  assert.equal(code, 0, `the scenario failed: ${result.error ?? out.slice(0, 500)}`)
  console.log(`# a holds ${result.a!.length} records, b holds ${result.b!.length}; b has the stock-writer record: ${result.b!.includes(result.stock!)}`)
  assert.deepEqual(result.b, result.a, 'the peer that took the snapshot and the peer that replicated live disagree')
})
