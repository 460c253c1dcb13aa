/**
 * The first `k` items by descending key, in order, followed by the rest in their original order.
 * A page of results needs only its first `offset + limit` in order, while facets and the total
 * need every hit: selecting is O(n·log k) where sorting thousands of hits was the largest cost
 * of a broad query at 20k apps. Ties keep their original order.
 */
export function selectTop<T> (items: T[], k: number, key: (item: T) => number): T[] {
  const n = items.length
  if (n <= 1 || k <= 0) return items
  const keys = new Float64Array(n)
  for (let i = 0; i < n; i++) keys[i] = key(items[i]!)
  const top = topPositions(keys, k)
  const chosen = new Uint8Array(n)
  const out: T[] = []
  for (const i of top) {
    chosen[i] = 1
    out.push(items[i]!)
  }
  for (let i = 0; i < n; i++) if (chosen[i] === 0) out.push(items[i]!)
  return out
}

/**
 * The positions of the `k` largest of `keys`, in order: by descending key, ties in ascending
 * position (the order {@link selectTop} gives). `among` limits them to those positions (ascending);
 * by default every position counts. For hits kept as typed arrays, which need no object per hit.
 */
export function topPositions (keys: Float64Array, k: number, among?: Int32Array): number[] {
  const n = among?.length ?? keys.length
  const at = (i: number): number => among != null ? among[i]! : i
  if (k <= 0 || n === 0) return []
  if (k * 4 >= n) {
    const all = Array.from({ length: n }, (_, i) => at(i))
    return all.sort((a, b) => keys[b]! - keys[a]! || a - b).slice(0, k)
  }
  // top holds positions, sorted by (key desc, position asc)
  const top: number[] = []
  const values: number[] = []
  for (let i = 0; i < n; i++) {
    const p = at(i)
    const v = keys[p]!
    if (top.length === k && v <= values[k - 1]!) continue
    let lo = 0
    let hi = top.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (values[mid]! >= v) lo = mid + 1
      else hi = mid
    }
    top.splice(lo, 0, p)
    values.splice(lo, 0, v)
    if (top.length > k) {
      top.pop()
      values.pop()
    }
  }
  return top
}
