import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { createBytesReader, inspectAppImage, openAppImage, parseUpdateInformation } from '../src/index.ts'
import { readElf } from '../src/elf.ts'
import { buildRuntime, pseudoRandom } from './fixtures/build.ts'
import { rejection, useFixtures } from './helpers.ts'

describe('ELF runtime', () => {
  const set = useFixtures([{ compressor: 'zstd', blockSize: 131072, fragments: true }])

  it('finds the sections and the image offset of 32/64-bit, little/big-endian runtimes', async () => {
    const image = await readFile(set.fixtures[0]!.squashfsPath)
    const cases = [
      { bits: 64, endianness: 'little', machine: 62, arch: 'x86_64' },
      { bits: 64, endianness: 'big', machine: 183, arch: 'aarch64' },
      { bits: 32, endianness: 'little', machine: 3, arch: 'i686' },
      { bits: 32, endianness: 'big', machine: 40, arch: 'armhf' }
    ] as const
    for (const c of cases) {
      const { bytes, sections } = buildRuntime({ bits: c.bits, endianness: c.endianness, machine: c.machine, updateInformation: 'zsync|https://example.org/App.zsync', digestMd5: new Uint8Array(16).fill(0xab) })
      const app = await openAppImage(Buffer.concat([bytes, image]))
      assert.equal(app.type, 2)
      assert.equal(app.elf.bits, c.bits)
      assert.equal(app.elf.endianness, c.endianness)
      assert.equal(app.architecture, c.arch)
      assert.equal(app.runtimeSize, bytes.byteLength, 'image starts after the section header table')
      assert.deepEqual(app.sections.signature, { name: '.sha256_sig', type: 1, ...sections['.sha256_sig'] })
      assert.equal(app.updateInformation?.transport, 'zsync')
      assert.equal(app.updateInformation?.url, 'https://example.org/App.zsync')
      assert.equal(app.digestMd5, 'ab'.repeat(16))
      assert.equal((await app.squashfs!.readdir('')).length > 0, true)
    }
  })

  it('recognizes a type 1 AppImage and reads no file system from it', async () => {
    const { bytes } = buildRuntime({ type: 1 })
    const iso = new Uint8Array(40000)
    iso.set(new TextEncoder().encode('\x01CD001'), 32768 - bytes.byteLength)
    const app = await openAppImage(Buffer.concat([bytes, iso]))
    assert.equal(app.type, 1)
    assert.equal(app.iso9660, true)
    assert.equal(app.squashfs, undefined)
    const report = await inspectAppImage(Buffer.concat([bytes, iso]))
    assert.equal(report.type, 1)
    assert.equal(report.chunks.kind, 'fastcdc', 'type 1 images are chunked content-defined')
    assert.equal(report.draft, undefined)
  })

  it('rejects files that are not AppImages with NotAnAppImageError', async () => {
    const noMagic = buildRuntime({ type: 0 }).bytes
    assert.equal((await rejection(openAppImage(noMagic))).name, 'NotAnAppImageError')
    assert.equal((await rejection(openAppImage(pseudoRandom(10000, 'x')))).name, 'NotAnAppImageError')
    assert.equal((await rejection(openAppImage(new Uint8Array(10)))).name, 'NotAnAppImageError')
    assert.equal((await rejection(openAppImage(new TextEncoder().encode('#!/bin/sh\necho not an appimage\n'.repeat(10))))).name, 'NotAnAppImageError')
  })

  it('rejects a section table outside the file with CorruptElfError', async () => {
    const { bytes } = buildRuntime()
    const cut = bytes.subarray(0, bytes.byteLength - 100)
    assert.equal((await rejection(readElf(createBytesReader(cut)))).name, 'CorruptElfError')
  })

  it('reports a missing SquashFS image after the runtime as truncated', async () => {
    const { bytes } = buildRuntime()
    assert.equal((await rejection(openAppImage(bytes))).name, 'TruncatedFileError')
  })
})

describe('update information', () => {
  it('parses every transport and flags bintray as deprecated', () => {
    assert.deepEqual(parseUpdateInformation('zsync|https://example.org/a|b.zsync\0\0\0'), {
      raw: 'zsync|https://example.org/a|b.zsync', transport: 'zsync', deprecated: false, url: 'https://example.org/a|b.zsync', fields: ['https://example.org/a', 'b.zsync']
    })
    const gh = parseUpdateInformation('gh-releases-zsync|probonopd|Etcher|latest|Etcher-*x64.AppImage.zsync')!
    assert.equal(gh.transport, 'gh-releases-zsync')
    assert.equal(gh.user, 'probonopd')
    assert.equal(gh.repo, 'Etcher')
    assert.equal(gh.tag, 'latest')
    assert.equal(gh.pattern, 'Etcher-*x64.AppImage.zsync')
    const pling = parseUpdateInformation('pling-v1-zsync|1234567|App-*-x86_64.AppImage')!
    assert.equal(pling.transport, 'pling-v1-zsync')
    assert.equal(pling.productId, '1234567')
    const bintray = parseUpdateInformation('bintray-zsync|user|repo|pkg|App-_latestVersion-x86_64.AppImage.zsync')!
    assert.equal(bintray.transport, 'bintray-zsync')
    assert.equal(bintray.deprecated, true)
    assert.equal(parseUpdateInformation('\0\0\0'), undefined)
    assert.equal(parseUpdateInformation('   '), undefined)
    assert.equal(parseUpdateInformation('ftp-magic|x')!.transport, 'unknown')
  })
})
