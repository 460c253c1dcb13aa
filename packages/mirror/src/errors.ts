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
