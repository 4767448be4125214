/**
 * The re-identification test of a varied set: an attacker holding the source set takes, for each sample, the source
 * nearest to it and claims that one. Nearness is PSNR on BT.601 luma of both images area-averaged to 32×32 (sources
 * may differ in size, and the fine detail that Boomerang redraws is what a 32×32 thumbnail leaves out: composition,
 * shapes and shading are what is compared). A sample is re-identified when its own source is strictly nearest; the
 * margin is its PSNR to its own source minus that to the nearest other (dB; > 0 re-identified).
 *
 * This is a weak attacker: pixels only, no learned features, no knowledge of the method. A low rate here is a
 * necessary condition for anonymity, not evidence of it.
 */
import { psnr, createPlane, type Plane } from '../metrics/index.js';
import type { ImageTensor } from '../image/tensor.js';
import { lumaOf } from './distance.js';

export const THUMBNAIL_SIZE = 32;

interface Span {
  start: number;
  weights: number[];
}

/** Output cell i of m over n inputs covers [i·n/m, (i+1)·n/m): each input pixel weighted by its overlap. */
function areaSpans(n: number, m: number): Span[] {
  const scale = n / m;
  const spans: Span[] = [];
  for (let i = 0; i < m; i++) {
    const a = i * scale;
    const b = (i + 1) * scale;
    const start = Math.floor(a);
    const weights: number[] = [];
    for (let k = start; k < Math.min(n, Math.ceil(b)); k++) weights.push((Math.min(b, k + 1) - Math.max(a, k)) / scale);
    spans.push({ start, weights });
  }
  return spans;
}

/** Area-average resampling of a plane to width × height (a box filter with fractional coverage, either way). */
export function areaResize(p: Plane, width: number, height: number): Plane {
  const xs = areaSpans(p.width, width);
  const ys = areaSpans(p.height, height);
  const rows = new Float64Array(p.height * width);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < width; x++) {
      const { start, weights } = xs[x]!;
      let v = 0;
      for (let k = 0; k < weights.length; k++) v += weights[k]! * p.data[y * p.width + start + k]!;
      rows[y * width + x] = v;
    }
  }
  const out = createPlane(width, height);
  for (let y = 0; y < height; y++) {
    const { start, weights } = ys[y]!;
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (let k = 0; k < weights.length; k++) v += weights[k]! * rows[(start + k) * width + x]!;
      out.data[y * width + x] = v;
    }
  }
  return out;
}

/** The image the attacker compares: luma area-averaged to 32×32. */
export const thumbnail = (image: ImageTensor): Plane => areaResize(lumaOf(image), THUMBNAIL_SIZE, THUMBNAIL_SIZE);

export interface Identification {
  /** The source nearest to the sample. */
  nearest: string;
  /** Thumbnail PSNR to its own source, and to the nearest other source (NaN when there is no other). */
  ownPsnr: number;
  otherPsnr: number;
  /** ownPsnr − otherPsnr (dB): > 0 when re-identified. */
  margin: number;
  /** Own source strictly nearest; null when the set has one source (nothing to tell apart). */
  reidentified: boolean | null;
}

/** The nearest-neighbour attack on one sample against the source thumbnails (keyed by source). */
export function identify(sample: Plane, own: string, sources: ReadonlyMap<string, Plane>): Identification {
  const ownPsnr = psnr(sample, sources.get(own)!);
  let other = '';
  let otherPsnr = -Infinity;
  for (const [key, thumb] of sources) {
    if (key === own) continue;
    const v = psnr(sample, thumb);
    if (v > otherPsnr || other === '') [other, otherPsnr] = [key, v];
  }
  if (other === '') return { nearest: own, ownPsnr, otherPsnr: NaN, margin: NaN, reidentified: null };
  const reidentified = ownPsnr > otherPsnr;
  return { nearest: reidentified ? own : other, ownPsnr, otherPsnr, margin: ownPsnr - otherPsnr, reidentified };
}
