/**
 * Colour conversion for the evaluation protocol: the luma of ITU-R BT.601 in studio range,
 * Y = 16 + (65.481·R + 128.553·G + 24.966·B) / 255 on 0..255 RGB (Y in 16..235), in float64 and not
 * rounded — the Y channel of MATLAB's rgb2ycbcr on double input scaled to 0..255, as SR papers report.
 */
import { assertPlaneCount, assertSameSize, createPlane, type Plane } from './plane.js';

/** The BT.601 luma plane of three 0..255 planes [R, G, B]. */
export function lumaBt601(rgb: readonly Plane[]): Plane {
  assertPlaneCount(rgb, 3, 'an RGB image');
  const [r, g, b] = rgb as readonly [Plane, Plane, Plane];
  assertSameSize(r, g);
  assertSameSize(r, b);
  const n = r.data.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = 16 + (65.481 * r.data[i]! + 128.553 * g.data[i]! + 24.966 * b.data[i]!) / 255;
  }
  return createPlane(r.width, r.height, out);
}
