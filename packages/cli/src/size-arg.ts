import { UsageError } from './errors.ts'

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

/** Parses a size given on the command line (`500M`, `20G`, `1.5GiB`, `4096`; binary units), naming the flag when it is not one */
export function parseSizeArg (value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim())
  if (match == null) throw new UsageError(`${flag} "${value}" is not a size (e.g. 500M, 20G)`)
  return Math.floor(Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? 1))
}
