import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { Entry } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { ORBITDB_ENTRY_VERSION, RECORD_VERSION, WIRE_FORMAT_VERSION, decodeSignedRecord, encodeSignedRecord, recordFromJSON, recordToJSON, registryAddress, verifyRecord } from '../src/index.ts'
import { publisherWroteEntry } from '../src/log/access-controller.ts'
import { entryProofOf } from '../src/log/entry-proof.ts'
import { entrySignatureValid } from '../src/log/entry-signature.ts'
import { decodeEntry } from '../src/log/snapshot.ts'
import { decodeLogRecord } from '../src/records/signed.ts'
import { connect, Peers, waitForRecords } from './peers.ts'
import { build, identity, media, publisher, release } from './vectors/build.ts'
import { WIRE_V1 } from './vectors/wire-v1.ts'

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'))
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('wire format 1: frozen vectors', () => {
  it('names its versions', () => {
    assert.equal(WIRE_FORMAT_VERSION, 1)
    assert.equal(RECORD_VERSION, 1)
    assert.equal(ORBITDB_ENTRY_VERSION, 2)
  })

  it('decodes and verifies the frozen records', async () => {
    const own = await decodeSignedRecord(bytes(WIRE_V1.signedRelease.wire))
    assert.equal(own.id, WIRE_V1.signedRelease.id)
    assert.deepEqual(own.record, release, 'the record the vector was made of')
    assert.ok(own.signature?.byteLength === 64, 'a record with its own signature')
    assert.equal(hex(encodeSignedRecord(own)), WIRE_V1.signedRelease.wire, 'encoding it again gives the same bytes')
    assert.equal((await recordFromJSON(recordToJSON(own))).id, own.id)

    const image = await decodeSignedRecord(bytes(WIRE_V1.signedMedia.wire))
    assert.equal(image.id, WIRE_V1.signedMedia.id)
    assert.deepEqual(image.record, media, 'the media record the vector was made of')
    assert.equal(hex(encodeSignedRecord(image)), WIRE_V1.signedMedia.wire)

    const rotated = await decodeSignedRecord(bytes(WIRE_V1.rotateKey.wire))
    assert.equal(rotated.id, WIRE_V1.rotateKey.id)
    assert.equal(rotated.record.kind, 'rotate-key')
    assert.ok(rotated.countersignature?.byteLength === 64, 'countersigned by the new key')
    assert.equal(hex(encodeSignedRecord(rotated)), WIRE_V1.rotateKey.wire)
  })

  it('decodes the frozen entries and passes every check a peer makes', async () => {
    const logId = await registryAddress('hubless')
    for (const [name, vector, ownSignature] of [['publisherEntry', WIRE_V1.publisherEntry, false], ['oldEntry', WIRE_V1.oldEntry, true]] as const) {
      const entry = decodeEntry(bytes(vector.bytes))
      assert.equal(entry.hash, vector.hash, `${name}: the hash of its bytes`)
      assert.equal((await Entry.decode(bytes(vector.bytes))).hash, vector.hash, `${name}: OrbitDB reads the same entry`)
      assert.equal(entry.id, logId)
      assert.equal(entry.v, ORBITDB_ENTRY_VERSION)
      assert.ok(await entrySignatureValid(entry), `${name}: the entry's signature verifies`)
      const identityVector = name === 'oldEntry' ? WIRE_V1.oldIdentity : WIRE_V1.publisherIdentity
      assert.equal(entry.identity, identityVector.hash)
      const writer = dagCbor.decode(bytes(identityVector.bytes)) as { publicKey: string }
      assert.equal(writer.publicKey, entry.key, `${name}: the entry is signed by the key its identity names`)
      const record = await decodeLogRecord((entry.payload as { value: Uint8Array }).value, publisherWroteEntry(entry))
      assert.equal(record.id, WIRE_V1.signedRelease.id, 'both carry the same record')
      assert.equal(record.signature != null, ownSignature, `${name}: ${ownSignature ? 'the record signs itself' : 'the entry signs the record'}`)
      if (!ownSignature) {
        // one signature per record: the entry is the record's proof, wherever it is taken
        const proven = await verifyRecord({ ...record, entry: entryProofOf(entry) })
        assert.equal(proven.id, record.id)
        assert.equal((await recordFromJSON(recordToJSON({ ...record, entry: entryProofOf(entry) }))).id, record.id)
      }
    }
  })

  it("today's code writes exactly the frozen bytes", async () => {
    const now = await build()
    const frozen = JSON.parse(JSON.stringify(WIRE_V1)) as Record<string, Record<string, string>>
    for (const [name, vector] of Object.entries(now)) {
      for (const [field, value] of Object.entries(vector)) {
        const got = value instanceof Uint8Array ? hex(value) : value
        assert.equal(got, frozen[name]?.[field], `${name}.${field} changed: a new encoding forks the network; add a wire format version instead`)
      }
    }
    // and stock OrbitDB writes the same entry for the same record, identity and clock
    const writer = await identity(publisher)
    const { payload } = decodeEntry(bytes(WIRE_V1.publisherEntry.bytes))
    const orbit = await Entry.encode(await Entry.create(writer, await registryAddress('hubless'), payload, undefined, { id: writer.publicKey, time: 1 }, [], []))
    assert.equal(orbit.hash, WIRE_V1.publisherEntry.hash, 'OrbitDB\'s Entry.create writes what a batch append writes')
  })
})

describe('wire format 1: an old peer', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('an entry of the format before one signature per record (a record with its own signature, by a peer\'s own writer) replicates to new peers', async () => {
    const b = await peers.start(undefined, { name: 'hubless' })
    // the old peer: a node holding the entry and its writer identity, announcing the entry as its head
    const old = await peers.start(undefined, { name: 'an-old-peer' })
    await old.node.content.putBlocks([WIRE_V1.oldIdentity, WIRE_V1.oldEntry].map(v => ({ cid: CID.parse(v.hash, base58btc), bytes: bytes(v.bytes) })))
    const pubsub = old.node.helia.libp2p.services.pubsub
    pubsub.subscribe(b.registry.address)
    await connect(old, b)
    const signal = AbortSignal.timeout(30_000)
    while (!(await b.registry.has(WIRE_V1.signedRelease.id))) {
      signal.throwIfAborted()
      await pubsub.publish(b.registry.address, bytes(WIRE_V1.oldEntry.bytes)).catch(() => {})
      await new Promise(resolve => setTimeout(resolve, 300))
    }
    assert.deepEqual((await b.registry.status()).heads, [WIRE_V1.oldEntry.hash])

    // a fresh peer takes it from b alone
    await peers.stop(old)
    const c = await peers.start(undefined, { name: 'hubless' })
    await connect(c, b)
    await waitForRecords(c.registry, [WIRE_V1.signedRelease.id])
    const got = await c.registry.get(WIRE_V1.signedRelease.id)
    assert.ok(got?.signature != null, 'with its own signature')
    assert.equal(hex(encodeSignedRecord(got)), WIRE_V1.signedRelease.wire)
    assert.equal((await c.registry.status()).rejected, 0)
  })
})
