/** A map that forgets its least recently used entries beyond `max`; keeps the reader's memory bounded */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>()
  private readonly max: number

  constructor (max: number) {
    this.max = max
  }

  get (key: K): V | undefined {
    const value = this.map.get(key)
    if (value !== undefined) {
      this.map.delete(key)
      this.map.set(key, value)
    }
    return value
  }

  set (key: K, value: V): void {
    this.map.delete(key)
    this.map.set(key, value)
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next()
      if (oldest.done === true) break
      this.map.delete(oldest.value)
    }
  }

  clear (): void {
    this.map.clear()
  }
}
