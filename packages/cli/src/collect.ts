/** commander's collector for repeatable flags */
export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
