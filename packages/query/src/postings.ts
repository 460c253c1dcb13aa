import type { MiniSearchInternals } from './bm25-scorer.ts'

/**
 * MiniSearch's postings of one term in one field, flattened into typed arrays for scoring.
 *
 * MiniSearch keeps a posting list as `Map<document, frequency>` and field lengths as
 * `Map<document, number[]>`: scoring a posting costs a Map iteration step and a Map lookup. A
 * two-word query that matches most of a 100k-app catalog walks tens of thousands of postings,
 * and that walk was a third of its time. Here each list a query reads is copied once into flat
 * arrays (its live documents only, in MiniSearch's order, so that scores sum in the same order
 * and ties keep their order) and reused until the index changes.
 */
export interface FlatPostings {
  docs: Int32Array
  frequencies: Int32Array
  /** the document's length of this field (MiniSearch's distinct-term count) */
  lengths: Int32Array
}

// postings held at once (12 bytes each): past this the cache starts over, so a stream of
// distinct queries cannot grow it without bound (~24 MB). The bench's 300 queries at 100k apps hold 630k
const LIMIT = 2_000_000

const EMPTY: FlatPostings = { docs: new Int32Array(0), frequencies: new Int32Array(0), lengths: new Int32Array(0) }

/**
 * The flattened lists, keyed by MiniSearch's own list objects (so that a list MiniSearch drops is
 * dropped here too). A list changes only when a document is added, discarded or removed; every
 * such change moves MiniSearch's document counters, so the cache checks them on each query and
 * starts over when they moved, besides {@link PostingCache.invalidate} on every put. MiniSearch's
 * vacuum only deletes postings of discarded documents, which the flat lists never hold, so a
 * vacuum (running in the background, between queries) cannot make an entry stale.
 */
export class PostingCache {
  private lists = new WeakMap<Map<number, number>, FlatPostings>()
  private held = 0
  private entries = 0
  private stamp = ''
  private readonly internals: MiniSearchInternals

  constructor (internals: MiniSearchInternals) {
    this.internals = internals
  }

  /** forget every list: the index changed */
  invalidate (): void {
    this.stamp = ''
    // building the index puts every document: a new WeakMap each time was a cost of its own
    if (this.entries === 0) return
    this.lists = new WeakMap()
    this.held = 0
    this.entries = 0
  }

  /** start over if the index changed since the last query */
  check (): void {
    const ix = this.internals
    const stamp = `${ix._nextId} ${ix._documentCount} ${ix._dirtCount}`
    if (stamp === this.stamp) return
    this.invalidate()
    this.stamp = stamp
  }

  /** the live postings of `postings`, field `field`; call {@link check} first in each query */
  get (postings: Map<number, number>, field: number): FlatPostings {
    const known = this.lists.get(postings)
    if (known != null) return known
    const flat = this.flatten(postings, field)
    if (this.held + flat.docs.length > LIMIT) {
      const stamp = this.stamp
      this.invalidate()
      this.stamp = stamp
    }
    this.lists.set(postings, flat)
    this.held += flat.docs.length
    this.entries++
    return flat
  }

  private flatten (postings: Map<number, number>, field: number): FlatPostings {
    const size = postings.size
    if (size === 0) return EMPTY
    const lengthsOf = this.internals._fieldLength
    const docs = new Int32Array(size)
    const frequencies = new Int32Array(size)
    const lengths = new Int32Array(size)
    let n = 0
    // a replaced document's postings stay until MiniSearch's vacuum; they must not count in the
    // document frequency (more postings than documents makes the IDF negative), so only
    // documents in the index (those with field lengths) are kept. They are dropped from
    // MiniSearch's list too, as its own search does when it meets them (which counts those it
    // has not met yet: its scores are right only once they are gone)
    postings.forEach((frequency, doc) => {
      const fieldLengths = lengthsOf.get(doc)
      if (fieldLengths == null) {
        postings.delete(doc)
        return
      }
      docs[n] = doc
      frequencies[n] = frequency
      lengths[n] = fieldLengths[field] ?? 0
      n++
    })
    return n === size ? { docs, frequencies, lengths } : { docs: docs.slice(0, n), frequencies: frequencies.slice(0, n), lengths: lengths.slice(0, n) }
  }
}
