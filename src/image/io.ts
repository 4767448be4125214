/**
 * Image decoding and encoding: the only module that uses sharp. Decoding turns any file sharp reads into
 * an RGB ImageTensor in [-1, 1] (+ optional alpha), with EXIF orientation applied, CMYK/greyscale converted
 * to sRGB, the first frame of animations, and 16-bit PNG/TIFF read at 16 bits. Encoding writes
 * PNG/JPEG/WebP/TIFF/AVIF by the output extension, through a temp file + rename, so a failed write never
 * leaves a half-written output (or the temp file) behind.
 *
 * Metadata: decoding returns the input's EXIF, XMP and IPTC blocks, and, when asked (`keepIccProfile`), leaves an
 * RGB input's pixels in its ICC profile's colour space and returns the profile. Encoding from raw pixels cannot
 * take such blocks through sharp's API (withIccProfile converts from sRGB; withExif takes strings), so an output
 * that keeps metadata is first written as an uncompressed PNG with iCCP and eXIf chunks spliced in
 * (metadata.ts), which sharp then reads as the image's own and keeps (keepIccProfile, keepExif, withXmp).
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { InputError, OutputError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io-safety/atomic.js';
import { NO_METADATA, iccColourSpace, type ImageMetadata, uprightExif, uprightXmp, withPngMetadata } from './metadata.js';
import { estimateJpegQuality, type JpegGrid, jpegLumaTable } from './jpeg-quality.js';
import { contiguousData, createImage, dims, type ImageTensor } from './tensor.js';

export interface DecodedImage {
  /** 3 channels, [-1, 1]. */
  rgb: ImageTensor;
  /** 1 channel, [-1, 1] (−1 transparent, 1 opaque), or null when the source has no alpha. */
  alpha: ImageTensor | null;
  width: number;
  height: number;
  /** The container format sharp reports: 'png', 'jpeg', 'webp', 'tiff', 'heif', 'gif', … */
  format: string;
  /** 16 when the source samples are 16-bit (PNG/TIFF) and were read without loss; otherwise 8. */
  bitDepth: 8 | 16;
  /** Channels in the source (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK). */
  channels: number;
  /** Frames (pages) in the source; only the first is decoded (animated GIF/WebP, multi-page TIFF). */
  frames: number;
  /** For a JPEG source, the quality it was saved at, estimated from its quantisation table (1..100); else null. */
  jpegQuality: number | null;
  /**
   * For a JPEG source whose decoded pixels are its own samples, up to the EXIF orientation applied (no colour
   * conversion: no ICC profile, or the profile kept; 8-bit YCbCr or grey), its luminance quantisation table and that
   * orientation, for a data term that trusts the file's DCT coefficients (diffusion/jpeg-constraint.ts); else null.
   */
  jpegGrid: JpegGrid | null;
  /**
   * The source's metadata for an output to keep: EXIF, XMP and IPTC as read; the ICC profile only when
   * `keepIccProfile` was asked and the source is RGB with an RGB profile (the pixels are then in that profile's
   * colour space; otherwise they are sRGB and `icc` is null).
   */
  metadata: ImageMetadata;
}

/** What the header says, without decoding pixels: cheap, and safe for decompression bombs. */
export interface ImageInfo {
  /** Size as displayed, i.e. after the EXIF orientation (5..8 swap width and height). */
  width: number;
  height: number;
  format: string;
  frames: number;
  bitDepth: 8 | 16;
  channels: number;
}

export interface DecodeOptions {
  /** Largest width×height accepted; false for no limit (sharp's default 268402689 when omitted). */
  limitInputPixels?: number | false;
  /**
   * Leave an RGB input's pixels in the colour space of its embedded ICC profile and return the profile in
   * `metadata.icc`, for `encodeImage` to attach unchanged. Default false: pixels are converted to sRGB (and
   * grey or CMYK inputs are converted to sRGB either way).
   */
  keepIccProfile?: boolean;
}

export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'tiff' | 'avif';

export interface EncodeOptions {
  /** Sample depth: 16 only for PNG and TIFF. Default 8. */
  bitDepth?: 8 | 16;
  /** Quality 1..100 for JPEG, WebP and AVIF (ignored by the lossless PNG/TIFF). Defaults are sharp's. */
  quality?: number;
  /** Replace an existing file at the output path (default true). When false an existing file is an OutputError,
   * checked atomically at the moment the finished file is put in place. */
  overwrite?: boolean;
  /** When it has fired by the time the bytes are written, the temp file is removed and AbortError thrown. */
  signal?: AbortSignal;
  /**
   * Metadata to write with the pixels (e.g. `DecodedImage.metadata`): the ICC profile attached as is (the pixels
   * must be in its colour space), EXIF with Orientation 1 and no thumbnail (TIFF outputs cannot hold it), XMP
   * with tiff:Orientation 1. IPTC is not written (sharp cannot set it). Default none: sRGB pixels, no metadata.
   */
  metadata?: ImageMetadata | null;
}

export interface EncodableImage {
  rgb: ImageTensor;
  alpha?: ImageTensor | null;
}

const EXTENSIONS: Readonly<Record<string, OutputFormat>> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.avif': 'avif',
};

/** The extensions an output may have (its format follows the extension). */
export const OUTPUT_EXTENSIONS: readonly string[] = Object.keys(EXTENSIONS);

/**
 * The extensions taken as images when a folder is listed (inputs are sniffed by content, so this only decides
 * which files of a folder are tried): the output formats, .jpe, and GIF (first frame). HEIC/HEIF is not among
 * them: sharp's prebuilt libvips does not decode it.
 */
export const INPUT_EXTENSIONS: readonly string[] = [...OUTPUT_EXTENSIONS, '.jpe', '.gif'];

/** The output format for a path's extension (case-insensitive); UsageError for an unknown one. */
export function formatFromPath(outPath: string): OutputFormat {
  const ext = extname(outPath).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format === undefined) {
    throw new UsageError(`Expected an output extension among ${Object.keys(EXTENSIONS).join(', ')} but received '${ext || outPath}'`);
  }
  return format;
}

/** sharp's reasons can span lines or end in a dangling colon; make them one tidy line. */
function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = [
    ...new Set(
      text
        .split(/\r?\n/)
        .map((s) => s.trim().replace(/[:;,\s]+$/, ''))
        .filter(Boolean),
    ),
  ];
  return lines.join('; ') || 'unknown error';
}

/** sharp's decode failures in words a user can act on (the raw reason is kept after a colon where useful). */
function decodeReason(err: unknown): string {
  const r = reason(err);
  if (/unsupported image format/i.test(r)) {
    return 'not an image, or a format this tool cannot read (it reads PNG, JPEG, WebP, TIFF, AVIF, GIF, SVG)';
  }
  if (/corrupt header/i.test(r)) return 'corrupt or truncated header (not a complete image file)';
  if (/read error|premature|truncat|end of (file|data)|invalid|corrupt|damaged|bad /i.test(r)) {
    return `truncated or corrupt image data (${r})`;
  }
  return r;
}

/** A pixel count as read in a message: `1024 pixels`, or `67108864 pixels (67.1 MP)` where megapixels say more. */
export const pixels = (n: number): string => `${n} pixels${n >= 100_000 ? ` (${(n / 1e6).toFixed(1)} MP)` : ''}`;

async function readInputFile(path: string): Promise<void> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.size === 0) throw new InputError(`Cannot decode ${path}: file is empty`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : reason(err);
    throw new InputError(`Cannot read ${path}: ${why}`, { cause: err });
  }
}

/**
 * Reads only the header of an image file (path) or encoded bytes: size (after EXIF orientation), format,
 * frames, bit depth. Never decodes pixels, so it is safe on a decompression bomb; with `limitInputPixels`
 * a larger image is an InputError naming its size.
 */
export async function probeImage(input: string | Buffer, opts: DecodeOptions = {}): Promise<ImageInfo> {
  const limit = validateLimit(opts.limitInputPixels);
  const name = typeof input === 'string' ? input : 'input buffer';
  if (typeof input === 'string') await readInputFile(input);
  else if (input.length === 0) throw new InputError(`Cannot decode ${name}: file is empty`);
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new InputError(`Cannot decode ${name}: ${decodeReason(err)}`, { cause: err });
  }
  const w = meta.width ?? 0;
  const h = meta.pageHeight ?? meta.height ?? 0;
  if (!(w > 0 && h > 0)) throw new InputError(`Cannot decode ${name}: the header gives no image size`);
  const limitPixels = limit === undefined ? 268402689 : limit;
  if (limitPixels !== false && w * h > limitPixels) {
    throw new InputError(
      `Cannot decode ${name}: ${w}x${h} = ${pixels(w * h)} is over the limit of ${pixels(limitPixels)}; ` +
        'refusing a possible decompression bomb',
    );
  }
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    width: swap ? h : w,
    height: swap ? w : h,
    format: meta.format ?? 'unknown',
    frames: meta.pages ?? 1,
    bitDepth: meta.depth === 'ushort' ? 16 : 8,
    channels: meta.channels ?? 0,
  };
}

/**
 * The quality a JPEG file was saved at, as `decodeImage` reports it (DecodedImage.jpegQuality), without decoding
 * its pixels: for planning a file's settings before it is decoded. Null for an unreadable file.
 */
export async function readJpegQuality(path: string): Promise<number | null> {
  return readFile(path).then(estimateJpegQuality, () => null);
}

/** True for a JPEG decoded to its own samples (up to its orientation): not colour-converted, 8-bit YCbCr (or grey). */
function ownJpegSamples(meta: Metadata, keepIcc: boolean): boolean {
  return (
    meta.format === 'jpeg' &&
    meta.depth === 'uchar' &&
    (meta.space === 'srgb' || meta.space === 'b-w') &&
    (meta.icc === undefined || keepIcc)
  );
}

function jpegGridOf(bytes: Uint8Array, orientation: number): JpegGrid | null {
  const lumaTable = jpegLumaTable(bytes);
  return lumaTable && Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? { lumaTable, orientation } : null;
}

function validateLimit(limit: number | false | undefined): number | false | undefined {
  if (limit === undefined || limit === false) return limit;
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new UsageError(`Expected positive integer or false for limitInputPixels but received ${String(limit)}`);
  }
  return limit;
}

/**
 * Decodes an image file (path) or encoded bytes (Buffer). Throws InputError naming the file when it
 * cannot be read or decoded, UsageError for bad options.
 */
export async function decodeImage(input: string | Buffer, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const limitInputPixels = validateLimit(opts.limitInputPixels);
  const name = typeof input === 'string' ? input : 'input buffer';
  let bytes: Buffer;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : reason(err);
      throw new InputError(`Cannot read ${name}: ${why}`, { cause: err });
    }
  } else {
    bytes = input;
  }
  if (bytes.length === 0) throw new InputError(`Cannot decode ${name}: file is empty`);

  const sharpOpts = { limitInputPixels: limitInputPixels ?? true };
  try {
    const meta = await sharp(bytes, sharpOpts).metadata();
    const sixteen = meta.depth === 'ushort';
    const rgbProfile = meta.icc !== undefined && iccColourSpace(meta.icc) === 'RGB ' && (meta.space === 'srgb' || meta.space === 'rgb16');
    const keepIcc = opts.keepIccProfile === true && rgbProfile;
    // sharp converts a 16-bit input's profile to P3, not sRGB: convert from the profile to sRGB directly instead
    const ignoreIcc = keepIcc || (sixteen && rgbProfile);
    const pipeline = sharp(bytes, { ...sharpOpts, ...(ignoreIcc ? { ignoreIcc: true } : {}) }).rotate();
    const { data, info } = sixteen
      ? await (rgbProfile && !keepIcc ? pipeline.withIccProfile('srgb', { attach: false }) : pipeline)
          .toColourspace('rgb16')
          .raw({ depth: 'ushort' })
          .toBuffer({ resolveWithObject: true })
      : await pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const { rgb, alpha } = toTensors(data, info, sixteen);
    const { width, height } = info;
    return {
      rgb,
      alpha,
      width,
      height,
      format: meta.format ?? 'unknown',
      bitDepth: sixteen ? 16 : 8,
      channels: meta.channels ?? info.channels,
      frames: meta.pages ?? 1,
      jpegQuality: meta.format === 'jpeg' ? estimateJpegQuality(bytes) : null,
      jpegGrid: ownJpegSamples(meta, keepIcc) ? jpegGridOf(bytes, meta.orientation ?? 1) : null,
      metadata: {
        icc: keepIcc ? (meta.icc ?? null) : null,
        exif: meta.exif ?? null,
        xmp: meta.xmp ?? null,
        iptc: meta.iptc ?? null,
      },
    };
  } catch (err) {
    if (err instanceof InputError) throw err;
    if (/exceeds pixel limit/i.test(reason(err))) {
      // name the size: the header alone is safe to read without the limit
      const meta = await sharp(bytes, { limitInputPixels: false })
        .metadata()
        .catch(() => null);
      const size = meta?.width && meta.height ? `${meta.width}x${meta.height} = ${pixels(meta.width * meta.height)} ` : '';
      const lim = typeof sharpOpts.limitInputPixels === 'number' ? sharpOpts.limitInputPixels : 268402689;
      throw new InputError(
        `Cannot decode ${name}: ${size}is over the limit of ${pixels(lim)}; ` + 'refusing a possible decompression bomb',
        { cause: err },
      );
    }
    throw new InputError(`Cannot decode ${name}: ${decodeReason(err)}`, { cause: err });
  }
}

/** sharp's raw interleaved samples (8- or 16-bit, grey or colour, with or without alpha) as [-1, 1] planes. */
function toTensors(data: Buffer, info: OutputInfo, sixteen: boolean): { rgb: ImageTensor; alpha: ImageTensor | null } {
  const samples = sixteen
    ? data.byteOffset % 2 === 0
      ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
      : new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))
    : new Uint8Array(data.buffer, data.byteOffset, data.length);
  const { width, height, channels: outChannels } = info;
  const half = sixteen ? 32767.5 : 127.5;
  const plane = width * height;
  const rgb = createImage(3, height, width);
  const alpha = outChannels === 4 || outChannels === 2 ? createImage(1, height, width) : null;
  const colourBands = outChannels >= 3 ? 3 : 1; // 1 only if sharp kept grey; expand it to RGB
  for (let p = 0; p < plane; p++) {
    const base = p * outChannels;
    for (let c = 0; c < 3; c++) rgb.data[c * plane + p] = samples[base + (colourBands === 3 ? c : 0)]! / half - 1;
    if (alpha) alpha.data[p] = samples[base + outChannels - 1]! / half - 1;
  }
  return { rgb, alpha };
}

function validateEncode(image: EncodableImage, format: OutputFormat, opts: EncodeOptions): { bitDepth: 8 | 16 } {
  const bitDepth = opts.bitDepth ?? 8;
  if (bitDepth !== 8 && bitDepth !== 16) {
    throw new UsageError(`Expected 8 or 16 for bitDepth but received ${String(bitDepth)}`);
  }
  if (bitDepth === 16 && format !== 'png' && format !== 'tiff') {
    throw new UsageError(`Expected bitDepth 8 for ${format} (16 only for png and tiff) but received 16`);
  }
  if (opts.quality !== undefined && (!Number.isInteger(opts.quality) || opts.quality < 1 || opts.quality > 100)) {
    throw new UsageError(`Expected integer between 1 and 100 for quality but received ${String(opts.quality)}`);
  }
  const { channels, height, width } = dims(image.rgb);
  if (channels !== 3) throw new UsageError(`Expected 3 channels for rgb but received ${channels}`);
  if (image.alpha) {
    const a = dims(image.alpha);
    if (a.channels !== 1 || a.height !== height || a.width !== width) {
      throw new UsageError(`Expected alpha of shape 1x${height}x${width} but received ${a.channels}x${a.height}x${a.width}`);
    }
  }
  return { bitDepth };
}

const FORMAT_ENCODERS: Readonly<Record<OutputFormat, (s: Sharp, quality: number | undefined) => Sharp>> = {
  png: (s) => s.png(),
  jpeg: (s, quality) => s.jpeg(quality === undefined ? {} : { quality }),
  webp: (s, quality) => s.webp(quality === undefined ? {} : { quality }),
  tiff: (s) => s.tiff({ compression: 'deflate' }),
  avif: (s, quality) => s.avif(quality === undefined ? {} : { quality }),
};

/** Interleaves planar [-1, 1] planes into rounded, clamped 8- or 16-bit samples (pixel-major). */
function interleave(planes: Float32Array[], plane: number, bitDepth: 8 | 16): Uint8Array | Uint16Array {
  const n = planes.length;
  const max = bitDepth === 16 ? 65535 : 255;
  const half = max / 2;
  const out = bitDepth === 16 ? new Uint16Array(plane * n) : new Uint8Array(plane * n);
  for (let c = 0; c < n; c++) {
    const src = planes[c]!;
    for (let p = 0; p < plane; p++) {
      const q = Math.round((src[p]! + 1) * half);
      out[p * n + c] = q < 0 ? 0 : q > max ? max : q;
    }
  }
  return out;
}

/**
 * Encodes to the given format in memory. Rounding: v in [-1, 1] → round((v + 1)·127.5) clamped to 0..255
 * (or round((v + 1)·32767.5) for 16 bits). JPEG cannot hold alpha, so alpha is dropped there.
 * TIFF is written with lossless deflate compression.
 */
export async function encodeImageToBuffer(image: EncodableImage, format: OutputFormat, opts: EncodeOptions = {}): Promise<Buffer> {
  if (!Object.hasOwn(FORMAT_ENCODERS, format)) {
    throw new UsageError(`Expected one of ${Object.keys(FORMAT_ENCODERS).join(', ')} for format but received '${String(format)}'`);
  }
  const { bitDepth } = validateEncode(image, format, opts);
  const { height, width } = dims(image.rgb);
  const withAlpha = image.alpha != null && format !== 'jpeg';
  const plane = height * width;
  const rgb = contiguousData(image.rgb);
  const planes = [rgb.subarray(0, plane), rgb.subarray(plane, 2 * plane), rgb.subarray(2 * plane, 3 * plane)];
  if (withAlpha) planes.push(contiguousData(image.alpha!));
  const samples = interleave(planes, height * width, bitDepth);
  let pipeline = sharp(samples, { raw: { width, height, channels: planes.length as 3 | 4 } });
  if (bitDepth === 16) pipeline = pipeline.toColourspace('rgb16');
  const meta = opts.metadata ?? NO_METADATA;
  const exif = meta.exif ? uprightExif(meta.exif) : null;
  if (meta.icc || exif) {
    // the carrier: an uncompressed PNG whose chunks sharp reads back as this image's own profile and EXIF
    const png = await pipeline.png({ compressionLevel: 0, adaptiveFiltering: false }).toBuffer();
    pipeline = sharp(withPngMetadata(png, { icc: meta.icc, exif }), { limitInputPixels: false, failOn: 'none' });
    if (meta.icc) pipeline = pipeline.keepIccProfile();
    if (exif) pipeline = pipeline.keepExif();
    if (bitDepth === 16) pipeline = pipeline.toColourspace('rgb16');
  }
  if (meta.xmp && meta.xmp.length > 0) pipeline = pipeline.withXmp(uprightXmp(meta.xmp));
  return FORMAT_ENCODERS[format](pipeline, opts.quality).toBuffer();
}

/**
 * The parts of `metadata` that an output of `format` loses even when kept: IPTC always (sharp cannot write it
 * onto new pixels), EXIF in TIFF (libvips writes no EXIF directory there). Names, e.g. ['IPTC'].
 */
export function metadataLost(metadata: ImageMetadata, format: OutputFormat): string[] {
  const lost: string[] = [];
  if (metadata.exif && format === 'tiff') lost.push('EXIF');
  if (metadata.iptc) lost.push('IPTC');
  return lost;
}

/**
 * Encodes and writes `outPath`, choosing the format by its extension. The bytes go to a temp file in the
 * same folder, renamed over `outPath` only once complete; the temp file is removed on any failure.
 * UsageError for an unknown extension or bad options, OutputError when the file cannot be written.
 */
export async function encodeImage(image: EncodableImage, outPath: string, opts: EncodeOptions = {}): Promise<void> {
  const format = formatFromPath(outPath);
  let bytes: Buffer;
  try {
    bytes = await encodeImageToBuffer(image, format, opts);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new OutputError(`Cannot encode ${outPath}: ${reason(err)}`, { cause: err });
  }
  await writeFileAtomic(outPath, bytes, {
    ...(opts.overwrite === false ? { overwrite: false } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** Renders an SVG document to PNG bytes at `scale` × its size (librsvg through sharp). */
export async function renderSvgToPng(svg: string, scale = 2): Promise<Buffer> {
  try {
    return await sharp(Buffer.from(svg), { density: 72 * scale })
      .png()
      .toBuffer();
  } catch (err) {
    throw new OutputError(`Cannot render SVG: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
}
