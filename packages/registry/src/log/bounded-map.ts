/** Set `key` in a Map that forgets its oldest key beyond `max`; a key set again becomes the newest */
export function setBounded<K, V> (map: Map<K, V>, max: number, key: K, value: V): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > max) map.delete(map.keys().next().value as K)
}
