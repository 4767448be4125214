/**
 * Where the model invents: the per-pixel spread of K independent Boomerang samples of one input.
 *
 * The map is the standard deviation across the K samples (with Bessel's correction, K − 1) of each pixel's
 * BT.601 luma, Y = 16 + (65.481·R + 128.553·G + 24.966·B)/255 on 0..255 RGB (the evaluation protocol's Y), in
 * grey levels of 0..255, from the unrounded samples. Where the input decides a pixel every sample agrees (std near
 * 0); where the model invents detail the samples differ. Its mean over the image is the "invention" score.
 *
 * As an image (`uncertaintyImage`) the std is coloured on one fixed scale, the same for every map so that maps
 * compare: linear from 0 (black) to UNCERTAINTY_SCALE_MAX grey levels and above (pale yellow), through the
 * colours of matplotlib's "inferno" (UNCERTAINTY_COLORS, evenly spaced).
 */
import { UsageError } from '../errors.js';
import { byteToUnit, contiguousData, createImage, dims, type ImageTensor } from '../image/tensor.js';

/** The per-pixel luma standard deviation across K samples, in grey levels (0..255 scale). */
export interface UncertaintyMap {
  width: number;
  height: number;
  /** Row-major, height × width. */
  std: Float32Array;
  /** Mean of `std` over the image (the invention score). */
  mean: number;
  /** Largest value of `std`. */
  max: number;
  /** Samples it was measured on. */
  samples: number;
}

/** The std, in grey levels, at which the colour scale saturates (pale yellow). */
export const UNCERTAINTY_SCALE_MAX = 32;

/** The colour scale's stops, evenly spaced from std 0 to UNCERTAINTY_SCALE_MAX (matplotlib's inferno). */
export const UNCERTAINTY_COLORS: readonly string[] = [
  '#000004',
  '#1b0c41',
  '#4a0c6b',
  '#781c6d',
  '#a52c60',
  '#cf4446',
  '#ed6925',
  '#fb9b06',
  '#f7d13d',
  '#fcffa4',
];

const STOPS = UNCERTAINTY_COLORS.map((hex) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]);

/** The 0..255 RGB colour of a std value on the fixed scale. */
export function uncertaintyColor(std: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, std / UNCERTAINTY_SCALE_MAX)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as [number, number, number];
}

/** The uncertainty map of K ≥ 2 samples of one size ([3, H, W] tensors in [-1, 1]). */
export function uncertaintyMap(samples: readonly ImageTensor[]): UncertaintyMap {
  const k = samples.length;
  if (k < 2) throw new UsageError(`Expected at least 2 samples for an uncertainty map but received ${k}`);
  const { channels, height, width } = dims(samples[0]!);
  if (channels !== 3) throw new UsageError(`Expected RGB samples (3 channels) but received ${channels}`);
  const n = height * width;
  const data = samples.map((s) => {
    const d = dims(s);
    if (d.height !== height || d.width !== width || d.channels !== 3) {
      throw new UsageError(`Expected samples of one size but received ${width}x${height} and ${d.width}x${d.height}`);
    }
    return contiguousData(s);
  });
  const std = new Float32Array(n);
  let total = 0;
  let max = 0;
  const ys = new Float64Array(k);
  for (let p = 0; p < n; p++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const x = data[j]!;
      // luma of the 0..255 values (v + 1)·127.5; the constant offset 16 does not change a std
      ys[j] = (65.481 * (x[p]! + 1) + 128.553 * (x[n + p]! + 1) + 24.966 * (x[2 * n + p]! + 1)) * (127.5 / 255);
      sum += ys[j]!;
    }
    const mean = sum / k;
    let sq = 0;
    for (let j = 0; j < k; j++) sq += (ys[j]! - mean) ** 2;
    const s = Math.sqrt(sq / (k - 1));
    std[p] = s;
    total += s;
    if (s > max) max = s;
  }
  return { width, height, std, mean: total / n, max, samples: k };
}

/** The map coloured on the fixed scale, as a [3, H, W] image in [-1, 1] (for encodeImage). */
export function uncertaintyImage(map: UncertaintyMap): ImageTensor {
  const n = map.width * map.height;
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    const [r, g, b] = uncertaintyColor(map.std[p]!);
    out[p] = byteToUnit(r);
    out[n + p] = byteToUnit(g);
    out[2 * n + p] = byteToUnit(b);
  }
  return createImage(3, map.height, map.width, out);
}
