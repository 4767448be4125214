/**
 * How blocky an image is on a given block grid: the mean absolute step across the grid's lines (between pixel
 * b·k − 1 and b·k, along both axes) over the mean absolute step between all neighbouring pixels. An image that knows
 * nothing of the grid (a photo, or its ground truth) sits near 1; a JPEG's 8×8 blocks enlarged ×f (b = 8f) stand
 * out above it. Compare an output's value with its ground truth's on the same grid.
 */
import { UsageError } from '../errors.js';
import type { Plane } from './plane.js';

export function blockiness(plane: Plane, block: number): number {
  if (!Number.isInteger(block) || block < 2) throw new UsageError(`Expected integer block size >= 2 but received ${block}`);
  const { width: w, height: h, data } = plane;
  if (w <= block && h <= block) throw new UsageError(`Expected an image larger than one ${block}-pixel block but received ${w}x${h}`);
  let across = 0;
  let nAcross = 0;
  let all = 0;
  let nAll = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 1; x < w; x++) {
      const d = Math.abs(data[y * w + x]! - data[y * w + x - 1]!);
      all += d;
      nAll++;
      if (x % block === 0) {
        across += d;
        nAcross++;
      }
    }
  }
  for (let y = 1; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.abs(data[y * w + x]! - data[(y - 1) * w + x]!);
      all += d;
      nAll++;
      if (y % block === 0) {
        across += d;
        nAcross++;
      }
    }
  }
  const meanAll = all / nAll;
  return meanAll > 0 ? across / nAcross / meanAll : 1;
}
