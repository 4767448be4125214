/**
 * A patched UNet sees its input as p×p blocks stacked as channels, so its output can carry a pattern fixed to that
 * layout: each of the p² positions in a block gets its own small bias (issue 21's "patch grid", a spectrum spike at
 * period p and its harmonics). Moving the grid between evaluations averages it out only when a run evaluates
 * several times and keeps none of them alone; a deterministic run's last evaluation keeps its pattern.
 *
 * removeGridPattern estimates the pattern where the model made it and subtracts it: per channel and per position
 * (a, b) in the block, d_ab = v_ab − m − g·((a, b) − c), with m the block's mean, g the image's gradient there
 * (central differences of the neighbouring blocks' means, over p) and c the block's centre: what is left of the
 * pixel once the block's level and slope are explained. The pattern at a block is d_ab averaged over the
 * (2r+1)×(2r+1) blocks around it (clipped at the borders), and v_ab ← v_ab − that. Block means are unchanged (the
 * p² corrections of a block sum to zero), and a linear ramp is left as it is (its d_ab are 0). A natural
 * image's within-block deviations average towards zero over a neighbourhood (its alignment to the grid is
 * arbitrary); a pattern fixed to the grid does not, so the average keeps the pattern and little else: what the
 * correction also takes from the image is its detail at the grid's frequencies, within a bandwidth of 1/((2r+1)·p).
 * The image's top-left pixel must be on the grid (the denoiser's padded frame); height and width multiples of p.
 */
import { UsageError } from '../errors.js';
import { dims, isContiguous, type ImageTensor } from '../image/tensor.js';

/** Subtracts the local mean of each grid position's deviation from its block mean, in place; returns `img`. */
export function removeGridPattern(img: ImageTensor, patch: number, radius: number): ImageTensor {
  const { channels: C, height: H, width: W } = dims(img);
  if (!Number.isInteger(patch) || patch < 1) throw new UsageError(`Expected positive integer for patch but received ${patch}`);
  if (!Number.isInteger(radius) || radius < 0) throw new UsageError(`Expected non-negative integer for radius but received ${radius}`);
  if (H % patch !== 0 || W % patch !== 0) {
    throw new UsageError(`Expected height and width multiples of ${patch} but received ${H}x${W}`);
  }
  if (!isContiguous(img)) throw new RangeError('Expected a contiguous image');
  if (patch === 1) return img;
  const v = img.data as Float32Array;
  const hb = H / patch;
  const wb = W / patch;
  const blocks = hb * wb;
  const p2 = patch * patch;
  const centre = (patch - 1) / 2;
  const mean = new Float64Array(blocks);
  const gy = new Float64Array(blocks);
  const gx = new Float64Array(blocks);
  const sat = new Float64Array((hb + 1) * (wb + 1)); // summed-area table of one position's deviations
  const slope = (m: Float64Array, k: number, i: number, n: number, stride: number): number =>
    n === 1 ? 0 : (m[i === n - 1 ? k : k + stride]! - m[i === 0 ? k : k - stride]!) / ((i === 0 || i === n - 1 ? 1 : 2) * patch);
  const rowSat = wb + 1;
  for (let c = 0; c < C; c++) {
    const plane = c * H * W;
    mean.fill(0);
    for (let y = 0; y < H; y++) {
      const row = plane + y * W;
      const m0 = ((y / patch) | 0) * wb;
      for (let bx = 0, x = row; bx < wb; bx++) {
        let sum = 0;
        for (let b = 0; b < patch; b++, x++) sum += v[x]!;
        mean[m0 + bx] += sum;
      }
    }
    for (let k = 0; k < blocks; k++) mean[k] = mean[k]! / p2;
    // the image's own gradient at each block, from the neighbouring blocks' means (a grid pattern leaves them flat)
    for (let k = 0; k < blocks; k++) {
      gy[k] = slope(mean, k, (k / wb) | 0, hb, wb);
      gx[k] = slope(mean, k, k % wb, wb, 1);
    }
    for (let a = 0; a < patch; a++) {
      for (let b = 0; b < patch; b++) {
        const da = a - centre;
        const db = b - centre;
        for (let by = 0; by < hb; by++) {
          let run = 0;
          const src = plane + (by * patch + a) * W + b;
          const k0 = by * wb;
          const s0 = (by + 1) * rowSat + 1;
          for (let bx = 0; bx < wb; bx++) {
            const k = k0 + bx;
            run += v[src + bx * patch]! - mean[k]! - gy[k]! * da - gx[k]! * db;
            sat[s0 + bx] = sat[s0 - rowSat + bx]! + run;
          }
        }
        for (let by = 0; by < hb; by++) {
          const y0 = (by > radius ? by - radius : 0) * rowSat;
          const y1n = by + radius + 1 < hb ? by + radius + 1 : hb;
          const y1 = y1n * rowSat;
          const rows = y1n - (by > radius ? by - radius : 0);
          const dst = plane + (by * patch + a) * W + b;
          for (let bx = 0; bx < wb; bx++) {
            const x0 = bx > radius ? bx - radius : 0;
            const x1 = bx + radius + 1 < wb ? bx + radius + 1 : wb;
            const sum = sat[y1 + x1]! - sat[y0 + x1]! - sat[y1 + x0]! + sat[y0 + x0]!;
            v[dst + bx * patch] = v[dst + bx * patch]! - sum / (rows * (x1 - x0));
          }
        }
      }
    }
  }
  return img;
}
