/** Errors of the command line itself; every other package's errors pass through with their own names */

export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
}

export class PortInUseError extends Error {
  static override name = 'PortInUseError'
  override name = 'PortInUseError'
}

export class DaemonUnreachableError extends Error {
  static override name = 'DaemonUnreachableError'
  override name = 'DaemonUnreachableError'
}

export class DaemonRunningError extends Error {
  static override name = 'DaemonRunningError'
  override name = 'DaemonRunningError'
}

export class RemoteOperationError extends Error {
  static override name = 'RemoteOperationError'
  override name = 'RemoteOperationError'

  /** takes the `name` of the error the daemon raised, so callers tell errors apart as if local */
  constructor (message: string, remoteName: string) {
    super(message)
    this.name = remoteName
  }
}

export class NotReplicatedError extends Error {
  static override name = 'NotReplicatedError'
  override name = 'NotReplicatedError'
}

export class UntrustedAppError extends Error {
  static override name = 'UntrustedAppError'
  override name = 'UntrustedAppError'
}

export class AppNotFoundError extends Error {
  static override name = 'AppNotFoundError'
  override name = 'AppNotFoundError'
}

export class DownloadFailedError extends Error {
  static override name = 'DownloadFailedError'
  override name = 'DownloadFailedError'
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

/** A download source served more bytes than the record declares, or bytes that do not hash to it */
export class SourceLiedError extends Error {
  static override name = 'SourceLiedError'
  override name = 'SourceLiedError'
}

/** an expensive route has as many requests running and waiting as it takes; the client should retry later */
export class ServerBusyError extends Error {
  static override name = 'ServerBusyError'
  override name = 'ServerBusyError'
}
