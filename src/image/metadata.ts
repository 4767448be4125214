/**
 * The byte-level half of keeping an input's metadata (no sharp here; io.ts owns sharp): the EXIF block made fit
 * for an upright output (Orientation set to 1, the thumbnail dropped), XMP's orientation likewise, and PNG chunks
 * (iCCP, eXIf) spliced into a PNG so that libvips reads them back as the image's own metadata.
 */
import { deflateSync } from 'node:zlib';

/** What an output keeps of its input's metadata; each part null when absent or not kept. */
export interface ImageMetadata {
  /** ICC profile the pixels are in; attached as is (no conversion) when written. Only RGB profiles. */
  icc: Buffer | null;
  /** EXIF block as sharp reads it ("Exif\0\0" + TIFF, or bare TIFF). */
  exif: Buffer | null;
  /** XMP packet (UTF-8 XML). */
  xmp: Buffer | null;
  /** IPTC-IIM block: read so that its loss can be reported; sharp cannot write it onto new pixels. */
  iptc: Buffer | null;
}

/** No metadata at all. */
export const NO_METADATA: Readonly<ImageMetadata> = Object.freeze({ icc: null, exif: null, xmp: null, iptc: null });

const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');
const ORIENTATION_TAG = 0x0112;
const SHORT = 3;

/**
 * The EXIF block as a bare TIFF structure (PNG's eXIf form) with IFD0's Orientation set to 1 (the pixels were
 * turned upright at decode) and the link to IFD1, the embedded thumbnail (the input's, sideways once the tag is
 * reset), cut. A copy: the argument is not changed. Null when the block is not a well-formed TIFF header and IFD0
 * (it is dropped rather than risk a decoder's rejection of the whole output).
 */
export function uprightExif(exif: Buffer): Buffer | null {
  const start = exif.subarray(0, 6).equals(EXIF_HEADER) ? 6 : 0;
  const tiff = Buffer.from(exif.subarray(start));
  if (tiff.length < 8) return null;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (o: number): number => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number): number => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  if (u16(2) !== 42) return null;
  const ifd0 = u32(4);
  if (ifd0 < 8 || ifd0 + 2 > tiff.length) return null;
  const n = u16(ifd0);
  const next = ifd0 + 2 + 12 * n;
  if (n === 0 || next + 4 > tiff.length) return null;
  for (let i = 0; i < n; i++) {
    const e = ifd0 + 2 + 12 * i;
    if (u16(e) === ORIENTATION_TAG && u16(e + 2) === SHORT && u32(e + 4) === 1) {
      if (le) tiff.writeUInt16LE(1, e + 8);
      else tiff.writeUInt16BE(1, e + 8);
    }
  }
  tiff.writeUInt32BE(0, next); // no IFD1 (0 reads the same in either byte order)
  return tiff;
}

/** The XMP packet with any tiff:Orientation (attribute or element form) set to 1, as in the EXIF. */
export function uprightXmp(xmp: Buffer): string {
  return xmp
    .toString('utf8')
    .replace(/(tiff:Orientation\s*=\s*["'])\d(["'])/g, '$11$2')
    .replace(/(<tiff:Orientation>\s*)\d(\s*<\/tiff:Orientation>)/g, '$11$2');
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: readonly Buffer[]): number {
  let c = 0xffffffff;
  for (const b of parts) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32([head.subarray(4), data]), 0);
  return Buffer.concat([head, data, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IHDR_END = 8 + 8 + 13 + 4;

/**
 * `png` with an iCCP chunk for `icc` and an eXIf chunk for `exif` (a bare TIFF block) right after IHDR, where both
 * are allowed (before PLTE and IDAT). `png` must carry neither already (sharp writes none when stripping).
 */
export function withPngMetadata(png: Buffer, meta: { icc: Buffer | null; exif: Buffer | null }): Buffer {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG with IHDR first');
  }
  const chunks: Buffer[] = [];
  // profile name, its NUL, compression method 0 (zlib), the compressed profile
  if (meta.icc) chunks.push(pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(meta.icc)])));
  if (meta.exif) chunks.push(pngChunk('eXIf', meta.exif));
  return Buffer.concat([png.subarray(0, IHDR_END), ...chunks, png.subarray(IHDR_END)]);
}

/** The colour space an ICC profile's header declares ('RGB ', 'GRAY', 'CMYK', …), or null when too short. */
export function iccColourSpace(icc: Buffer): string | null {
  return icc.length >= 20 ? icc.toString('latin1', 16, 20) : null;
}
