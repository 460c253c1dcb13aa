/**
 * Every error @hubless/mirror throws. Each class has a stable `name` that callers, the HTTP
 * answers and tests match on; messages say what was wrong and what to do.
 */

export class PortInUseError extends Error {
  static override name = 'PortInUseError'
  override name = 'PortInUseError'
}

/** A third-party catalog file (AppImageHub's) that is not JSON or not a list of entries */
export class InvalidCatalogError extends Error {
  static override name = 'InvalidCatalogError'
  override name = 'InvalidCatalogError'
}

/** A public API request parameter that is malformed or out of range (HTTP 400) */
export class BadParameterError extends Error {
  static override name = 'BadParameterError'
  override name = 'BadParameterError'
}

/** an expensive route has as many requests running and waiting as it takes; the client should retry later */
export class ServerBusyError extends Error {
  static override name = 'ServerBusyError'
  override name = 'ServerBusyError'
}

/** The address the HTTP side should listen on is not one of this machine's */
export class ListenAddressError extends Error {
  static override name = 'ListenAddressError'
  override name = 'ListenAddressError'
}

/** A request body that is too large or not the JSON it should be (HTTP 400) */
export class BadRequestBodyError extends Error {
  static override name = 'BadRequestBodyError'
  override name = 'BadRequestBodyError'
}

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

/**
 * What can go wrong tracking an app upstream (tracker.ts). Each is an {@link OriginError}: the
 * check is kept, nothing archived is lost, and the app is asked again on its schedule.
 */

/** A `.zsync` control file whose header is garbage: not `Key: value` lines ending in a blank line, a field missing or malformed */
export class ZsyncControlError extends OriginError {
  static override name = 'ZsyncControlError'
  override name = 'ZsyncControlError'
}

/** The file a `.zsync` header names is not what the header says (its SHA-1 or length) */
export class ZsyncMismatchError extends OriginError {
  static override name = 'ZsyncMismatchError'
  override name = 'ZsyncMismatchError'
}

/** A GitHub Releases API answer that is not JSON of the documented shape (`tag_name`, `assets[]`) */
export class ReleasesAnswerError extends OriginError {
  static override name = 'ReleasesAnswerError'
  override name = 'ReleasesAnswerError'
}

/** The newest release upstream has no asset matching the update information's pattern (or `*.AppImage` for the architecture) */
export class NoMatchingAssetError extends OriginError {
  static override name = 'NoMatchingAssetError'
  override name = 'NoMatchingAssetError'
}

/** An icon or screenshot URL served bytes that are none of the image types a storefront shows (PNG, JPEG, GIF, WebP, SVG) */
export class NotAnImageError extends OriginError {
  static override name = 'NotAnImageError'
  override name = 'NotAnImageError'
}
