/**
 * Turns an error into the one line a user reads. Errors from our packages already say what was
 * wrong and what to do; system errors get the same treatment here.
 */
export function describeError (err: unknown): string {
  if (!(err instanceof Error)) {
    return String(err)
  }
  const code = (err as NodeJS.ErrnoException).code
  const path = (err as NodeJS.ErrnoException).path
  switch (code) {
    case 'ENOENT': return `no such file or directory: ${path ?? err.message}`
    case 'EACCES':
    case 'EPERM': return `permission denied: ${path ?? err.message}`
    case 'ENOSPC': return 'no space left on the device'
    case 'ECONNREFUSED': return `connection refused: ${err.message}`
    default: break
  }
  if (err.name === 'AbortError' || err.message === 'interrupted') {
    return 'interrupted'
  }
  return err.message.split('\n')[0] ?? err.name
}

export function exitCodeOf (err: unknown): number {
  if (err instanceof Error && (err.name === 'UsageError' || err.name === 'BadMultiaddrError')) {
    return 2
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.message === 'interrupted')) {
    return 130
  }
  return 1
}
