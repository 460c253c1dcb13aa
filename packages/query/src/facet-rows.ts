/**
 * Each indexed document's facet value ids, by the search index's document number, in one flat
 * table: document `doc`'s values are `values[starts[doc]]` up to `values[ends[doc]]`. A broad
 * query at 100k apps tallies tens of thousands of hits; reaching each one's values through a
 * small array of its own (an object scattered over the heap) was most of the facets' cost.
 */
export class FacetRows {
  /** where each document's row starts in `values`, or -1 for a document without one */
  starts = new Int32Array(0)
  ends = new Int32Array(0)
  values = new Int32Array(1024)
  private used = 0
  /** values of rows cleared or moved, still in `values` until the next compaction */
  private garbage = 0

  set (doc: number, row: Int32Array): void {
    this.ensureDocs(doc + 1)
    const start = this.starts[doc]!
    if (start >= 0) {
      const length = this.ends[doc]! - start
      if (length === row.length) {
        // the same number of values (most changes of an app's facts): overwrite in place
        this.values.set(row, start)
        return
      }
      this.garbage += length
    }
    if (this.used + row.length > this.values.length) this.grow(row.length)
    this.values.set(row, this.used)
    this.starts[doc] = this.used
    this.used += row.length
    this.ends[doc] = this.used
  }

  clear (doc: number): void {
    if (doc >= this.starts.length || this.starts[doc]! < 0) return
    this.garbage += this.ends[doc]! - this.starts[doc]!
    this.starts[doc] = -1
    this.ends[doc] = -1
  }

  private ensureDocs (n: number): void {
    if (this.starts.length >= n) return
    const size = Math.max(n, this.starts.length * 2, 1024)
    const starts = new Int32Array(size).fill(-1)
    const ends = new Int32Array(size).fill(-1)
    starts.set(this.starts)
    ends.set(this.ends)
    this.starts = starts
    this.ends = ends
  }

  /** room for `extra` more values: a table twice the live rows' size, compacted (rows in document order) */
  private grow (extra: number): void {
    const values = new Int32Array(Math.max(1024, 2 * (this.used - this.garbage + extra)))
    let used = 0
    for (let doc = 0; doc < this.starts.length; doc++) {
      const start = this.starts[doc]!
      if (start < 0) continue
      const end = this.ends[doc]!
      values.set(this.values.subarray(start, end), used)
      this.starts[doc] = used
      used += end - start
      this.ends[doc] = used
    }
    this.values = values
    this.used = used
    this.garbage = 0
  }
}
