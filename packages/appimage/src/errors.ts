/** Errors of @hubless/appimage; every error has a stable `name` that callers and tests match on */

/** The file is neither a type 1 nor a type 2 AppImage (no ELF header or no `AI` magic) */
export class NotAnAppImageError extends Error {
  static override name = 'NotAnAppImageError'
  override name = 'NotAnAppImageError'
}

/** The file ends before a structure it declares (ELF section, SquashFS table, data block) */
export class TruncatedFileError extends Error {
  static override name = 'TruncatedFileError'
  override name = 'TruncatedFileError'
}

/** The ELF runtime's headers are inconsistent (section table outside the file, bad sizes) */
export class CorruptElfError extends Error {
  static override name = 'CorruptElfError'
  override name = 'CorruptElfError'
}

/** The SquashFS image contradicts itself: bad magic, offsets out of range, cycles, impossible sizes */
export class CorruptSquashfsError extends Error {
  static override name = 'CorruptSquashfsError'
  override name = 'CorruptSquashfsError'
}

/** The SquashFS image uses a compressor this reader does not decode (lzo, lzma, xz, lz4) */
export class UnsupportedCompressorError extends Error {
  static override name = 'UnsupportedCompressorError'
  override name = 'UnsupportedCompressorError'
  readonly compressor: string

  constructor (message: string, compressor: string) {
    super(message)
    this.compressor = compressor
  }
}

/** A compressed block inflates beyond the size the format allows for it */
export class DecompressionBombError extends Error {
  static override name = 'DecompressionBombError'
  override name = 'DecompressionBombError'
}

/** A compressed block does not decode with its compressor */
export class DecompressionError extends Error {
  static override name = 'DecompressionError'
  override name = 'DecompressionError'
}

/** A path inside the image does not exist */
export class FileNotFoundError extends Error {
  static override name = 'FileNotFoundError'
  override name = 'FileNotFoundError'
}

/** A path names the wrong kind of entry (a directory where a file was expected, or the reverse) */
export class NotAFileError extends Error {
  static override name = 'NotAFileError'
  override name = 'NotAFileError'
}

/** Symlinks inside the image loop or nest deeper than the reader follows */
export class SymlinkLoopError extends Error {
  static override name = 'SymlinkLoopError'
  override name = 'SymlinkLoopError'
}

/** A type 1 (ISO 9660) AppImage was given where only type 2 can be read */
export class UnsupportedAppImageTypeError extends Error {
  static override name = 'UnsupportedAppImageTypeError'
  override name = 'UnsupportedAppImageTypeError'
}

/** A `.desktop` file or AppStream metainfo could not be parsed */
export class MetadataParseError extends Error {
  static override name = 'MetadataParseError'
  override name = 'MetadataParseError'
}

/** A file inside the image is larger than the caller allowed to read into memory */
export class FileTooLargeError extends Error {
  static override name = 'FileTooLargeError'
  override name = 'FileTooLargeError'
}

/** A zsync control file cannot be made as asked: a field with a line break, a bad block size, a source shorter or longer than it said */
export class ZsyncInputError extends Error {
  static override name = 'ZsyncInputError'
  override name = 'ZsyncInputError'
}

/** A file changed size between planning its chunks and reading them */
export class FileChangedError extends Error {
  static override name = 'FileChangedError'
  override name = 'FileChangedError'
}
