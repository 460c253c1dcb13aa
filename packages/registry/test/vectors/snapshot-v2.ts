/**
 * Frozen test vectors of snapshot format 2 (src/log/snapshot-wire.ts): a request for the
 * manifest, a request for a piece, and the manifest of one piece holding the two entries of
 * wire-v1.ts (publisherEntry, oldEntry), in hex. Never edit them to make a test pass: peers of
 * different versions exchange these bytes, and a change needs a new format (a new protocol id and
 * manifest version, with format 2 still served).
 */
export const SNAPSHOT_V2 = {
  log: '/orbitdb/zdpuAwAPhDJQfQyzLccXdPpBpT4YbVFaTtnjRh8Ha39TeN1cS',
  manifestRequest: 'a1617602',
  pieceRequest: 'a2617602657069656365d82a582500015512206786b7744fab89d818157b80f7f7214c72e848d1248ce05df281273560668301',
  pieceCid: 'bafkreidhq23xit5lrhmbqfl3qd37oikmoluerujertqf34ube42wazudae',
  pieceBytes: 1884,
  manifest: 'a5617602636c6f67783a2f6f7262697464622f7a6470754177415068444a516651797a4c63635864507042705434596256466154746e6a5268384861333954654e3163536568656164738178317a647075416d4b507952457257795667356648375076616e6934546e754e7a316b3373566a614258376644547075567177667069656365738183d82a582500015512206786b7744fab89d818157b80f7f7214c72e848d1248ce05df2812735606683010219075c67656e747269657302'
} as const
