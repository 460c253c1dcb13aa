/**
 * The first `k` items by descending key, in order, followed by the rest in their original order.
 * A page of results needs only its first `offset + limit` in order, while facets and the total
 * need every hit: selecting is O(n·log k) where sorting thousands of hits was the largest cost
 * of a broad query at 20k apps. Ties keep their original order.
 */
export function selectTop<T> (items: T[], k: number, key: (item: T) => number): T[] {
  const n = items.length
  if (n <= 1 || k <= 0) return items
  if (k * 4 >= n) {
    return items.map((item, i) => ({ item, i, v: key(item) })).sort((a, b) => b.v - a.v || a.i - b.i).map(e => e.item)
  }
  // top holds indices, sorted by (key desc, index asc)
  const top: number[] = []
  const values: number[] = []
  for (let i = 0; i < n; i++) {
    const v = key(items[i]!)
    if (top.length === k && v <= values[k - 1]!) continue
    let lo = 0
    let hi = top.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (values[mid]! >= v) lo = mid + 1
      else hi = mid
    }
    top.splice(lo, 0, i)
    values.splice(lo, 0, v)
    if (top.length > k) {
      top.pop()
      values.pop()
    }
  }
  const chosen = new Set(top)
  const out = top.map(i => items[i]!)
  for (let i = 0; i < n; i++) if (!chosen.has(i)) out.push(items[i]!)
  return out
}
