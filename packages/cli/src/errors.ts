/** Errors of the command line itself; every other package's errors pass through with their own names */

export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
}

export class DaemonUnreachableError extends Error {
  static override name = 'DaemonUnreachableError'
  override name = 'DaemonUnreachableError'
}

/** The daemon's local API refused a request (a stale token file, or a request that is not from our own client) */
export class LocalApiRefusedError extends Error {
  static override name = 'LocalApiRefusedError'
  override name = 'LocalApiRefusedError'
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

/** A download source served more bytes than the record declares, or bytes that do not hash to it */
export class SourceLiedError extends Error {
  static override name = 'SourceLiedError'
  override name = 'SourceLiedError'
}

/** A download whose record names no size passed the cap `get` sets for it (`--max-size`, default 8 GiB); nothing of it was kept */
export class DownloadTooLargeError extends Error {
  static override name = 'DownloadTooLargeError'
  override name = 'DownloadTooLargeError'
}

/** An update signed by another key than the installed release, with no key rotation linking the two */
export class SignerChangedError extends Error {
  static override name = 'SignerChangedError'
  override name = 'SignerChangedError'
}

/** `update`, `rollback` or `remove` of an app that `hubless install` did not install */
export class NotInstalledError extends Error {
  static override name = 'NotInstalledError'
  override name = 'NotInstalledError'
}

/** `install` of an app that is installed already */
export class AlreadyInstalledError extends Error {
  static override name = 'AlreadyInstalledError'
  override name = 'AlreadyInstalledError'
}

/** `rollback` with no previous version kept */
export class NoPreviousVersionError extends Error {
  static override name = 'NoPreviousVersionError'
  override name = 'NoPreviousVersionError'
}
