import { formatBytes } from '../output.ts'
import type { ProgressLine } from '../operations/operation.ts'
import type { Output } from '../output.ts'

/** Renders operation progress as one redrawn terminal line: "adding content ████░░ 45% 12.0 MiB of 26.7 MiB" */
export function progressBar (out: Output): (progress: ProgressLine) => void {
  return progress => {
    if (progress.total == null || progress.total === 0 || progress.done == null) {
      out.progress(progress.phase)
      return
    }
    const fraction = Math.min(1, progress.done / progress.total)
    const width = 20
    const filled = Math.round(fraction * width)
    out.progress(`${progress.phase} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${Math.floor(fraction * 100)}% ${progress.unit === 'items' ? `${progress.done} of ${progress.total}` : `${formatBytes(progress.done)} of ${formatBytes(progress.total)}`}`)
  }
}
