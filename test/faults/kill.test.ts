/**
 * Crash safety, the short version of scripts/faults/kill-loop.ts: writers and mirrors killed with
 * SIGKILL at random points reopen, keep every acknowledged record, stay consistent and still sync.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { runKillLoop } from '../../scripts/faults/kill-loop.ts'

it('writers and mirrors killed with SIGKILL at random points lose no acknowledged record', { timeout: 240_000 }, async () => {
  const result = await runKillLoop({ count: 6, log: line => { console.log(`# ${line}`) } })
  assert.equal(result.faults, 6)
  assert.equal(result.lost, 0, `lost acknowledged records: ${JSON.stringify(result.rounds)}`)
  assert.ok(result.consistent, 'a reopened log listed a record twice or disagreed with its status')
  assert.ok(result.synced, 'a fresh peer did not get every record from the reopened logs')
  assert.ok(result.rounds.some(r => r.role === 'mirror') && result.rounds.some(r => r.role === 'writer'))
})
