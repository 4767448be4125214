/**
 * A data term for JPEG inputs that trusts what a JPEG file actually says: its luma DCT coefficients lie within their
 * quantisation intervals (the quantisation constraint set of Zakhor 1992 / Yang, Galatsanos & Katsaggelos 1995),
 * not that the original was the decoded pixels. The decoded pixels sit at the centre of every interval; a restored
 * image may move each coefficient anywhere inside its interval, and only a coefficient outside it is pulled back to
 * its edge.
 *
 * JPEG's forward DCT (ITU-T T.81 A.3.3) is the orthonormal 8×8 DCT-II of the level-shifted samples (Y − 128), so a box
 * in coefficient space is projected onto by clamping, and the change maps back to pixels by the inverse DCT. Luma only
 * (full-range BT.601, Y = 0.299R + 0.587G + 0.114B): a luma change added to R, G and B alike leaves Cb and Cr as they
 * are. Chroma is left alone: a 4:2:0 file's chroma was also subsampled, and the decoder's chroma upsampling is not
 * the encoder's inverse. A block that runs past the image edge is padded by repeating the edge, as libjpeg does. The
 * blocks lie on the stored image's grid: for a file the decoder turned upright by its EXIF orientation, the luma is
 * mapped back to the stored orientation for the transform (the shrink and the enlargement commute with the turns).
 *
 * For super-resolution the constraint holds for the LR image D·x (D: the antialiased bicubic shrink the benchmarks
 * and most photos are made by), so `projectJpegLuma` back-projects: x ← x + U(P(D·x) − D·x), U the bicubic enlargement,
 * P the projection onto the constraint set; U is not D's inverse, so each iteration only moves x towards it.
 * Pure: tensors and numbers in and out.
 */
import { UsageError } from '../errors.js';
import type { JpegGrid } from '../image/jpeg-quality.js';
import { dct8x8, idct8x8 } from '../image/dct.js';
import { contiguousData, createImage, dims, isContiguous, type ImageTensor } from '../image/tensor.js';
import { resize, subtractUpsampled } from '../image/upsample.js';

/**
 * The share of each quantisation interval an output's coefficients are kept within, around the file's value. The whole
 * interval (1) is the exact constraint set; the middle half scored higher on the held-out validation crops that choose
 * settings (benchmarks/jpeg-constraint.ts, ×4 and ×8, quality 50/75/90): an original's coefficient is likelier near the
 * decoded value than at the interval's edge. 0 would be the decoded pixels themselves: at ×4, quality 75, +0.36 dB over
 * bicubic, against +0.51 without the constraint and +0.59 with the middle half.
 */
export const JPEG_CONSTRAINT_SLACK = 0.5;
/** Back-projection iterations of projectJpegLuma a run makes: 3 reach what 10 do, within 0.002 dB. */
export const JPEG_CONSTRAINT_ITERATIONS = 3;

/** JPEG luma (0..255 scale) of an RGB image in [-1, 1], as a height×width plane. */
export function jpegLuma(rgb: ImageTensor): Float64Array {
  const { channels, height, width } = dims(rgb);
  if (channels !== 3) throw new UsageError(`Expected an RGB image for JPEG luma but received ${channels} channels`);
  const d = contiguousData(rgb);
  const n = height * width;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = 127.5 * (0.299 * d[i]! + 0.587 * d[n + i]! + 0.114 * d[2 * n + i]!) + 127.5;
  return y;
}

/** An 8×8 block of a plane at block (by, bx), level-shifted by −128, the edge repeated past the plane's border. */
function readBlock(plane: Float64Array, height: number, width: number, by: number, bx: number, out: Float64Array): Float64Array {
  for (let y = 0; y < 8; y++) {
    const row = Math.min(height - 1, by * 8 + y) * width;
    for (let x = 0; x < 8; x++) out[y * 8 + x] = plane[row + Math.min(width - 1, bx * 8 + x)]! - 128;
  }
  return out;
}

/**
 * Where the pixel shown at (yd, xd) of an image displayed under EXIF `orientation` is stored, in a stored image of
 * hs×ws (EXIF orientation: 2 mirrored, 3 turned 180°, 4 flipped, 5 transposed, 6 turned 90° clockwise to display,
 * 7 transversed, 8 turned 90° anticlockwise).
 */
export function storedPosition(orientation: number, yd: number, xd: number, hs: number, ws: number): [number, number] {
  switch (orientation) {
    case 2:
      return [yd, ws - 1 - xd];
    case 3:
      return [hs - 1 - yd, ws - 1 - xd];
    case 4:
      return [hs - 1 - yd, xd];
    case 5:
      return [xd, yd];
    case 6:
      return [hs - 1 - xd, yd];
    case 7:
      return [hs - 1 - xd, ws - 1 - yd];
    case 8:
      return [xd, ws - 1 - yd];
    default:
      return [yd, xd];
  }
}

/** The stored image's height and width for a displayed hd×wd one (orientations 5..8 swap them). */
const storedSize = (orientation: number, hd: number, wd: number): [number, number] => (orientation >= 5 ? [wd, hd] : [hd, wd]);

/** A displayed hd×wd plane in the stored orientation (`toStored`), or a stored plane back in the displayed one. */
function reorient(plane: Float64Array, orientation: number, hd: number, wd: number, toStored: boolean): Float64Array {
  if (orientation === 1) return plane;
  const [hs, ws] = storedSize(orientation, hd, wd);
  const out = new Float64Array(plane.length);
  for (let yd = 0; yd < hd; yd++)
    for (let xd = 0; xd < wd; xd++) {
      const [ys, xs] = storedPosition(orientation, yd, xd, hs, ws);
      if (toStored) out[ys * ws + xs] = plane[yd * wd + xd]!;
      else out[yd * wd + xd] = plane[ys * ws + xs]!;
    }
  return out;
}

/** Per luma coefficient of every block of a JPEG's LR image: the interval the original's coefficient lies in. */
export interface JpegLumaConstraint {
  /** The image's size as displayed (decoded). */
  height: number;
  width: number;
  /** The EXIF orientation the decoder applied (JpegGrid.orientation); the blocks are the stored image's. */
  orientation: number;
  /** Lower and upper bound per coefficient, blocks in raster order, 64 coefficients each (row-major u·8 + v). */
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * The constraint a decoded JPEG (`decoded`, RGB in [-1, 1], as decoded) puts on its original, from the file's luma
 * quantisation table (natural order, as jpegLumaTable returns it) and the orientation it was turned upright with.
 * Each coefficient of the decoded luma, rounded to its step q, is the quantised value k·q; the original's lies in
 * [(k − ½)q, (k + ½)q]. `slack` in [0, 1] scales the interval's half-width (0: the decoded coefficients exactly;
 * 1: the whole interval).
 */
export function jpegLumaConstraint(decoded: ImageTensor, grid: JpegGrid, slack = 1): JpegLumaConstraint {
  const table = grid.lumaTable;
  if (table.length !== 64 || table.some((q) => !(q >= 1)))
    throw new UsageError('Expected a JPEG quantisation table of 64 steps, each at least 1');
  if (!(Number.isInteger(grid.orientation) && grid.orientation >= 1 && grid.orientation <= 8))
    throw new UsageError(`Expected an EXIF orientation in 1..8 but received ${grid.orientation}`);
  if (!(slack >= 0 && slack <= 1)) throw new UsageError(`Expected slack in 0..1 but received ${slack}`);
  const { height: hd, width: wd } = dims(decoded);
  const [height, width] = storedSize(grid.orientation, hd, wd);
  const plane = reorient(jpegLuma(decoded), grid.orientation, hd, wd, true);
  const bh = Math.ceil(height / 8);
  const bw = Math.ceil(width / 8);
  const lo = new Float64Array(bh * bw * 64);
  const hi = new Float64Array(bh * bw * 64);
  const block = new Float64Array(64);
  const coef = new Float64Array(64);
  for (let by = 0; by < bh; by++)
    for (let bx = 0; bx < bw; bx++) {
      dct8x8(readBlock(plane, height, width, by, bx, block), coef);
      const base = (by * bw + bx) * 64;
      for (let k = 0; k < 64; k++) {
        const q = table[k]!;
        const centre = Math.round(coef[k]! / q) * q;
        lo[base + k] = centre - (slack * q) / 2;
        hi[base + k] = centre + (slack * q) / 2;
      }
    }
  return { height: hd, width: wd, orientation: grid.orientation, lo, hi };
}

/**
 * The change that projects an RGB image's luma onto the constraint (per block of the stored orientation: DCT, clamp
 * to the intervals, inverse DCT of what the clamp moved), in [-1, 1] units, as a 1×H×W plane in the displayed one.
 */
export function jpegLumaCorrection(rgb: ImageTensor, c: JpegLumaConstraint): ImageTensor {
  const { height: hd, width: wd } = dims(rgb);
  if (hd !== c.height || wd !== c.width) {
    throw new UsageError(`Expected an image of ${c.height}x${c.width} for the JPEG constraint but received ${hd}x${wd}`);
  }
  const [height, width] = storedSize(c.orientation, hd, wd);
  const plane = reorient(jpegLuma(rgb), c.orientation, hd, wd, true);
  const stored = new Float64Array(height * width);
  const bw = Math.ceil(width / 8);
  const block = new Float64Array(64);
  const coef = new Float64Array(64);
  const moved = new Float64Array(64);
  const back = new Float64Array(64);
  for (let by = 0; by < Math.ceil(height / 8); by++)
    for (let bx = 0; bx < bw; bx++) {
      dct8x8(readBlock(plane, height, width, by, bx, block), coef);
      const base = (by * bw + bx) * 64;
      let any = false;
      for (let k = 0; k < 64; k++) {
        const v = coef[k]!;
        const lo = c.lo[base + k]!;
        const hi = c.hi[base + k]!;
        moved[k] = v < lo ? lo - v : v > hi ? hi - v : 0;
        if (moved[k] !== 0) any = true;
      }
      if (!any) continue;
      idct8x8(moved, back);
      for (let y = 0; y < 8 && by * 8 + y < height; y++)
        for (let x = 0; x < 8 && bx * 8 + x < width; x++) stored[(by * 8 + y) * width + bx * 8 + x] = back[y * 8 + x]! / 127.5;
    }
  return createImage(1, hd, wd, Float32Array.from(reorient(stored, c.orientation, hd, wd, false)));
}

/**
 * Back-projects an output of `factor` times the constraint's size towards images whose LR (antialiased bicubic
 * shrink) meets the JPEG constraint: `iterations` times x ← x + U(correction(D·x)), the luma change added to R, G
 * and B; the result clipped to [-1, 1]. Writes into `out` when given (it may be `x` itself).
 */
export function projectJpegLuma(x: ImageTensor, c: JpegLumaConstraint, factor: number, iterations = 1, out?: ImageTensor): ImageTensor {
  const { channels: C, height: H, width: W } = dims(x);
  if (C !== 3 || H !== c.height * factor || W !== c.width * factor) {
    throw new UsageError(
      `Expected a 3x${c.height * factor}x${c.width * factor} image for the JPEG constraint at factor ${factor} but received ${x.shape.join('x')}`,
    );
  }
  const target = out ?? createImage(C, H, W);
  if (!isContiguous(target) || target.data.length !== C * H * W)
    throw new RangeError('Expected a contiguous output image of the same shape');
  const src = contiguousData(x);
  if (src !== target.data) target.data.set(src);
  for (let i = 0; i < iterations; i++) jpegProjectionStep(target, c, factor);
  clipUnit(target);
  return target;
}

/**
 * One iteration of projectJpegLuma, in place on a contiguous 3×(h·factor)×(w·factor) image, not clipped: for a caller
 * that reports and checks its stop between iterations (each takes seconds on a 44 MP output). Shapes are the caller's
 * to check (projectJpegLuma checks them).
 */
export function jpegProjectionStep(target: ImageTensor, c: JpegLumaConstraint, factor: number): void {
  const lrSize = c.height * c.width;
  const down = resize(target, c.height, c.width, 'bicubic', { antialias: true });
  const dy = jpegLumaCorrection(down, c).data;
  // subtractUpsampled subtracts U(image): give it −ΔY in each channel
  const neg = createImage(3, c.height, c.width);
  for (let ch = 0; ch < 3; ch++) for (let j = 0; j < lrSize; j++) neg.data[ch * lrSize + j] = -dy[j]!;
  subtractUpsampled(target.data, neg, factor, 'bicubic');
}

/** Clips a contiguous image to [-1, 1] in place. */
export function clipUnit(target: ImageTensor): void {
  const t = target.data;
  for (let j = 0; j < t.length; j++) t[j] = t[j]! < -1 ? -1 : t[j]! > 1 ? 1 : t[j]!;
}
