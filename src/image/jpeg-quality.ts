/**
 * The quality a JPEG was saved at, estimated from its luminance quantisation table (the DQT segment), the way
 * ImageMagick's and libjpeg's tools do: the IJG encoder scales the standard table (ITU-T T.81 Annex K, Table K.1) by
 * S = 5000/q for q < 50 and S = 200 − 2q otherwise, so the mean of 100·Q[i]/K[i] recovers S and thus q. Encoders
 * with their own tables (cameras, phones) get the IJG quality whose tables are as coarse on average. Pure: bytes in,
 * a number out; no sharp.
 */

/**
 * Where a decoded JPEG's 8×8 luma blocks lie and how coarsely they were quantised: what a data term that trusts the
 * file's coefficients needs (diffusion/jpeg-constraint.ts).
 */
export interface JpegGrid {
  /** The luma component's quantisation table in natural order (jpegLumaTable). */
  lumaTable: readonly number[];
  /** The EXIF orientation (1..8) the decoder applied: the blocks lie on the stored image's grid, before it. */
  orientation: number;
}

/** Table K.1, in natural (row-major) order. */
const STANDARD_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22,
  37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** Zig-zag position k → natural index (DQT stores the table in zig-zag order). */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57,
  50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/** What a JPEG's segments before its first scan say: its quantisation tables (natural order) and colour markers. */
interface JpegHeader {
  tables: Map<number, number[]>;
  jfif: boolean;
  /** The Adobe APP14 segment's colour transform, or null without one. */
  adobeTransform: number | null;
  /** The frame header's components: id and quantisation table; null without a frame header. */
  components: { id: number; table: number }[] | null;
}

/** Parses the segments up to the first scan; null for bytes that are not a JPEG or a segment cut short. */
function readJpegHeader(bytes: Uint8Array): JpegHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  const h: JpegHeader = { tables: new Map(), jfif: false, adobeTransform: null, components: null };
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image, or start of scan: its tables are defined by now
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const end = i + 2 + len;
    if (len < 2 || end > bytes.length) return null;
    const p = i + 4;
    if (marker === 0xdb) {
      for (let q = p; q < end; ) {
        const precision = bytes[q]! >> 4;
        const size = precision ? 128 : 64;
        if (q + 1 + size > end) return null;
        const table = new Array<number>(64);
        for (let k = 0; k < 64; k++)
          table[ZIGZAG[k]!] = precision ? (bytes[q + 1 + 2 * k]! << 8) | bytes[q + 2 + 2 * k]! : bytes[q + 1 + k]!;
        h.tables.set(bytes[q]! & 0x0f, table);
        q += 1 + size;
      }
    } else if (marker === 0xe0 && len >= 7 && ascii(bytes, p, 5) === 'JFIF\0') h.jfif = true;
    else if (marker === 0xee && len >= 14 && ascii(bytes, p, 5) === 'Adobe') h.adobeTransform = bytes[p + 11]!;
    else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      // a frame header (SOF0..15, less DHT, JPG and DAC): precision, height, width, then id, sampling, table per component
      const n = len >= 8 ? bytes[p + 5]! : 0;
      if (n < 1 || len < 8 + 3 * n) return null;
      h.components = Array.from({ length: n }, (_, c) => ({ id: bytes[p + 6 + 3 * c]!, table: bytes[p + 8 + 3 * c]! & 0x0f }));
    }
    i = end;
  }
  return h;
}

/** The luminance (table 0) quantisation table in natural order, or null when `bytes` is not a JPEG with one. */
export function lumaQuantTable(bytes: Uint8Array): number[] | null {
  return readJpegHeader(bytes)?.tables.get(0) ?? null;
}

/**
 * The quantisation table of a JPEG's luma (its first component), in natural order, when the file's samples are luma
 * and chroma (YCbCr, the JFIF default) or grey; null for any other file: one whose first component is not luma (RGB
 * stored as such: an Adobe APP14 transform of 0, or components named R, G, B; CMYK or YCCK: four components), one
 * without a frame header or a table for its first component before the first scan, or bytes that are not a JPEG. The
 * colour model is decided as libjpeg decides it (jdapimin.c, default_decompress_parms).
 */
export function jpegLumaTable(bytes: Uint8Array): number[] | null {
  const h = readJpegHeader(bytes);
  if (!h?.components) return null;
  const ids = h.components.map((c) => c.id);
  if (h.components.length === 3) {
    const rgbNames = ids[0] === 82 && ids[1] === 71 && ids[2] === 66; // 'R', 'G', 'B'
    if (!(h.jfif || (h.adobeTransform !== null ? h.adobeTransform !== 0 : !rgbNames))) return null;
  } else if (h.components.length !== 1) return null;
  return h.tables.get(h.components[0]!.table) ?? null;
}

const ascii = (bytes: Uint8Array, at: number, n: number): string => String.fromCharCode(...bytes.subarray(at, at + n));

/** The IJG quality (1..100) whose luminance table is as coarse on average as this one. */
export function qualityOfTable(table: readonly number[]): number {
  if (table.every((v) => v <= 1)) return 100; // the IJG scaling clamps at 1: only quality 100 gives all ones
  let s = 0;
  for (let k = 0; k < 64; k++) s += (100 * table[k]!) / STANDARD_LUMA[k]!;
  s /= 64;
  const q = s <= 100 ? (200 - s) / 2 : 5000 / s;
  return Math.max(1, Math.min(100, Math.round(q)));
}

/**
 * The luminance table the IJG encoder (libjpeg, libjpeg-turbo, and so sharp and PIL) writes at `quality` (1..100), in
 * natural order: Table K.1 scaled by S = 5000/q below 50, 200 − 2q from 50 (jcparam.c, jpeg_quality_scaling), each
 * step (K·S + 50)/100 rounded down and clamped to 1..255 (baseline).
 */
export function ijgLumaTable(quality: number): number[] {
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  const s = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return STANDARD_LUMA.map((k) => Math.max(1, Math.min(255, Math.floor((k * s + 50) / 100))));
}

/** The estimated quality of a JPEG file's bytes, or null when they are not a JPEG with a luminance table. */
export function estimateJpegQuality(bytes: Uint8Array): number | null {
  const table = lumaQuantTable(bytes);
  return table ? qualityOfTable(table) : null;
}
