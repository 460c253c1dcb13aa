import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** One measured figure, shown against the baseline measured in the same run */
export interface Figure {
  name: string
  value: number
  unit: string
  /** the same quantity for the baseline, measured in this run */
  baseline?: number
  /** what the goal is, e.g. "<= 1 ms"; printed, never asserted */
  goal?: string
  /** whether `value` meets `goal`, when the bench can tell; printed as PASS or FAIL */
  pass?: boolean
}

export function ratio (value: number, baseline: number): number {
  return baseline === 0 ? Number.POSITIVE_INFINITY : value / baseline
}

/** Prints the figures as a table and writes bench-results/NAME.json */
export function report (name: string, figures: Figure[], extra: Record<string, unknown> = {}): void {
  for (const f of figures) {
    const base = f.baseline == null ? '' : `  baseline ${fmt(f.baseline)} ${f.unit}  ratio ${fmt(ratio(f.value, f.baseline))}x`
    const verdict = f.pass == null ? '' : f.pass ? ' PASS' : ' FAIL'
    console.log(`${f.name.padEnd(48)} ${fmt(f.value).padStart(12)} ${f.unit}${base}${f.goal == null ? '' : `  (goal ${f.goal}${verdict})`}`)
  }
  const file = join(root, 'bench-results', `${name}.json`)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), node: process.version, figures, ...extra }, null, 2) + '\n')
  console.log(`wrote ${file}`)
}

function fmt (n: number): string {
  if (!Number.isFinite(n)) {
    return String(n)
  }
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3)
}

/** Percentile of a sorted-or-not sample, nearest rank */
export function percentile (samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}
