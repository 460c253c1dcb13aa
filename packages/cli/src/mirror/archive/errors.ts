/**
 * What can go wrong fetching a file from an origin for archiving. Each is named (tests assert
 * `error.name`), says what the origin did, and never stops the mirror: the origin check is kept
 * and the release tried again later.
 */

export class OriginError extends Error {
  static override name: string = 'OriginError'
  override name: string = 'OriginError'
  /** the origin is gone (404, 410, no such host): the file is to be kept from what was archived */
  readonly gone: boolean = false
  /** ms since epoch before which the origin asked not to be asked again (Retry-After) */
  retryAt?: number
}

export class OriginGoneError extends OriginError {
  static override name = 'OriginGoneError'
  override name = 'OriginGoneError'
  override readonly gone = true
}

export class OriginHttpError extends OriginError {
  static override name = 'OriginHttpError'
  override name = 'OriginHttpError'
}

export class OriginTimeoutError extends OriginError {
  static override name = 'OriginTimeoutError'
  override name = 'OriginTimeoutError'
}

export class TooManyRedirectsError extends OriginError {
  static override name = 'TooManyRedirectsError'
  override name = 'TooManyRedirectsError'
}

export class OriginTooLargeError extends OriginError {
  static override name = 'OriginTooLargeError'
  override name = 'OriginTooLargeError'
}

export class OriginServedHtmlError extends OriginError {
  static override name = 'OriginServedHtmlError'
  override name = 'OriginServedHtmlError'
}

export class NotAnAppImageError extends OriginError {
  static override name = 'NotAnAppImageError'
  override name = 'NotAnAppImageError'
}

export class OriginUnreachableError extends OriginError {
  static override name = 'OriginUnreachableError'
  override name = 'OriginUnreachableError'
}
