export { makeZsyncControlFile, ZSYNC_VERSION, type ZsyncByteSource, type ZsyncInit, type ZsyncOptions, type ZsyncParameters, type ZsyncProgressEvents, zsyncParameters } from './control-file.ts'
export { md4 } from './md4.ts'
