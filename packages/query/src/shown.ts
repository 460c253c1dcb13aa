/** Any value, as an error message can show it: String() itself throws on some objects ({ toString: '' }, null prototypes) */
export function shown (value: unknown): string {
  try {
    return String(value).slice(0, 80)
  } catch {
    return `a value of type ${typeof value}`
  }
}
