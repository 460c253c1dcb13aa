/**
 * The only place that writes to the terminal. Results go to stdout (JSON with `--json`), everything
 * for a person (progress, notices) to stderr, so `hubless … --json | jq` always gets clean JSON.
 */
export interface Output {
  readonly json: boolean
  /** prints a command's result: `value` as JSON, or `text` for a person */
  result (value: unknown, text: string | (() => string)): void
  /** a line for a person on stderr */
  notice (line: string): void
  /** a progress line redrawn in place on a terminal, skipped elsewhere */
  progress (line: string): void
  /** ends a progress line so the next output starts on a fresh line */
  endProgress (): void
}

export function createOutput (init: { json: boolean, stdout?: NodeJS.WriteStream, stderr?: NodeJS.WriteStream }): Output {
  const stdout = init.stdout ?? process.stdout
  const stderr = init.stderr ?? process.stderr
  let progressShown = false
  return {
    json: init.json,
    result (value, text) {
      if (init.json) {
        stdout.write(JSON.stringify(value) + '\n')
      } else {
        const rendered = typeof text === 'function' ? text() : text
        stdout.write(rendered.endsWith('\n') || rendered === '' ? rendered : rendered + '\n')
      }
    },
    notice (line) {
      this.endProgress()
      stderr.write(line + '\n')
    },
    progress (line) {
      if (stderr.isTTY !== true || init.json) {
        return
      }
      stderr.write('\r\x1b[2K' + line.slice(0, Math.max(10, (stderr.columns ?? 80) - 1)))
      progressShown = true
    },
    endProgress () {
      if (progressShown) {
        stderr.write('\n')
        progressShown = false
      }
    }
  }
}

export function formatBytes (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
