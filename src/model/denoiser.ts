/**
 * Turns a model session into the sampler's `denoise(x_t, t)`: reflection-pads the image to the model's
 * `multiple`, covers it with equal overlapping tiles when it is larger than `tile`, runs the tiles in batches,
 * blends the raw model outputs with the tiles' weights and crops back. The sampler calls this at every reverse
 * step, so tiles are blended at every step and agree with each other. With `shiftGrid`, each call moves the
 * model's p×p patch grid to the next offset of `gridShifts(p)` (reflection padding above and to the left), so the
 * fixed pattern a patched UNet lays on its output lands somewhere else at every evaluation and averages out over
 * steps and samples instead of adding up. No ONNX here: it only calls ModelSession.run.
 */
import type { Denoise } from '../diffusion/boomerang.js';
import { UsageError, throwIfAborted } from '../errors.js';
import { createImage, dims, type ImageTensor } from '../image/tensor.js';
import { crop, extractTile, padReflect, planTiles, type Tile, type TilePlan } from '../image/tiling.js';
import { removeGridPattern } from './grid-pattern.js';
import type { ModelSession } from './session.js';

export interface TilingOptions {
  /**
   * The largest tile side in pixels (a multiple of the model's `multiple`). An image up to this size is one tile;
   * a larger one is covered with equal tiles no larger, as few evaluated pixels as the overlap allows (planTiles).
   * Default DEFAULT_TILE.
   */
  tile?: number;
  /** Overlap between neighbouring tiles in pixels. Default 32. */
  overlap?: number;
  /**
   * Tiles per model run. Default 1 on CPU (no gain there); on webgpu all tiles in as few runs of at most
   * MAX_GPU_BATCH as possible, made equal in size (25 tiles: 7, 7, 7, 4): the GPU is launch-bound at batch 1
   * (one run per tile costs about as much as a run of 8), and each new shape costs the EP a slow first run.
   */
  batch?: number;
  /**
   * Move the patch grid between evaluations (the k-th denoise call runs at offset gridShifts(p)[k mod p²]; the first
   * at (0, 0)). The image is then padded for offsets up to p − 1 (at most one more `multiple` per axis). Default false;
   * `upscale` turns it on for runs of more than one evaluation per tile.
   */
  shiftGrid?: boolean;
  /**
   * Remove the pattern a patched model lays on its p×p grid from each output (removeGridPattern, with this radius in
   * blocks), or false. For a model whose output is an image correction (the soft-resample family's residual), not
   * for one that predicts noise: taking the grid's frequencies out of a noise estimate leaves that much noise in the
   * image. Default false; `upscale` uses GRID_RADIUS for soft-resample models.
   */
  removeGrid?: number | false;
  /** Checked before every model run (every tile group), so a stop takes effect within one tile's time. */
  signal?: AbortSignal;
  /**
   * After every model run of a denoise call over several tiles: tiles done in this call and their number (progress
   * within a step, which on a large image takes minutes).
   */
  onTiles?: (done: number, total: number) => void;
}

/**
 * The default largest tile side: 640 px (rounded down to the model's `multiple`). The UNet is convolutional
 * (no attention), so a tile's activation memory grows with its area: measured with the default model on the CPU
 * EP, one evaluation adds about 130 MB resident at 512² and 235 MB at 640² (about 105 MB more; on webgpu, times
 * the tiles per run, up to 8). That is small beside the output-sized images a large job keeps (a 4096² output:
 * 200 MB each, 1.5 GB peak). A bound just above 512 lets a 576² or 608² output run as one tile instead of four
 * 512² ones (3x the pixels), and stays small enough that a stop lands within one tile's time and progress moves
 * tile by tile.
 */
export const DEFAULT_TILE = 640;

/** The most tiles per webgpu run by default. */
export const MAX_GPU_BATCH = 8;

/** The default tiles per run for a device and a number of tiles (see TilingOptions.batch). */
export function defaultTileBatch(device: 'cpu' | 'webgpu', tiles: number): number {
  if (device !== 'webgpu' || tiles <= 1) return 1;
  return Math.ceil(tiles / Math.ceil(tiles / MAX_GPU_BATCH));
}

export interface Denoiser {
  denoise: Denoise;
  plan: TilePlan;
  /** Tiles per model run. */
  batch: number;
  /**
   * Times the model at this plan's run shape (one run of `batch` tiles at step t, on a stand-in image): two warm-up
   * runs, then a timed one. The first two runs at a new shape are slower (measured with the default model on the
   * CPU EP at 640x528: 0.97, 1.13, then 0.63-0.74 s: buffers are allocated and the memory pattern recorded), and the
   * job's own runs after them are not. Seconds per tile evaluation; not counted in `stats`.
   */
  time(t: number): Promise<number>;
  /** Model evaluations done so far (one per tile per step) and seconds spent inside the model. */
  stats: { evaluations: number; runs: number; modelSeconds: number };
}

/**
 * The tiles a height x width image is split into for a model of this `multiple` (defaults as createDenoiser's); with
 * `shiftGrid`, for the image grown by patch − 1 pixels per axis (room for every grid offset), under the default bound
 * plus one `multiple` (an explicit `tile` stays a hard bound).
 */
export function tilePlan(multiple: number, height: number, width: number, options: TilingOptions = {}, patch = 1): TilePlan {
  const tile = checkTile(multiple, options.tile);
  const overlap = options.overlap ?? Math.min(32, tile / 2);
  const room = options.shiftGrid ? patch - 1 : 0;
  // the default bound is on the image: the grid's room rides on top of it (a 640-wide output stays one tile)
  const bound = room > 0 && options.tile === undefined ? tile + multiple : tile;
  const plan = planTiles(height + room, width + room, bound, overlap, multiple);
  return { ...plan, height, width };
}

/**
 * The order in which a shifting denoiser moves a p×p patch grid: all p² offsets (dy, dx), each once per p² calls,
 * coarse first, so that every prefix is spread out. For p a power of two, bit pairs (u, v) of k, lowest first, add
 * u·p/2^(i+1) to dy and (u xor v)·p/2^(i+1) to dx: for p = 4, (0,0) (2,2) (0,2) (2,0) (1,1) (3,3) (1,3) (3,1) …, so
 * two calls cancel the grid's components at period p along the diagonal and four cancel every period-p component
 * of a pattern fixed to the grid. Other p: row-major order.
 */
export function gridShifts(patch: number): Array<[number, number]> {
  if (!Number.isInteger(patch) || patch < 1) throw new UsageError(`Expected positive integer for patch but received ${patch}`);
  const out: Array<[number, number]> = [];
  const pow2 = (patch & (patch - 1)) === 0;
  for (let k = 0; k < patch * patch; k++) {
    if (!pow2) {
      out.push([Math.floor(k / patch), k % patch]);
      continue;
    }
    let dy = 0;
    let dx = 0;
    for (let i = 0, step = patch / 2; step >= 1; i++, step /= 2) {
      const u = (k >> (2 * i)) & 1;
      const v = (k >> (2 * i + 1)) & 1;
      dy += u * step;
      dx += (u ^ v) * step;
    }
    out.push([dy, dx]);
  }
  return out;
}

/** The largest tile side: as given (a UsageError unless a positive multiple of the model's `multiple`), else DEFAULT_TILE. */
export function checkTile(multiple: number, tile: number | undefined): number {
  const t = tile ?? Math.max(multiple, Math.floor(DEFAULT_TILE / multiple) * multiple);
  if (!Number.isInteger(t) || t <= 0 || t % multiple !== 0) {
    throw new UsageError(`Expected tile to be a positive multiple of ${multiple} but received ${t}`);
  }
  return t;
}

export function createDenoiser(model: ModelSession, height: number, width: number, options: TilingOptions = {}): Denoiser {
  const patch = model.manifest.patch;
  const plan = tilePlan(model.manifest.multiple, height, width, options, patch);
  const shifts = options.shiftGrid && patch > 1 ? gridShifts(patch) : [[0, 0] as [number, number]];
  let calls = 0;
  const batch = options.batch ?? defaultTileBatch(model.device, plan.tiles.length);
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`Expected positive integer for batch but received ${batch}`);
  const stats = { evaluations: 0, runs: 0, modelSeconds: 0 };
  const { paddedHeight: ph, paddedWidth: pw, tiles } = plan;
  const removeGrid = options.removeGrid ?? false;
  if (removeGrid !== false && (!Number.isInteger(removeGrid) || removeGrid < 0)) {
    throw new UsageError(`Expected removeGrid to be false or a non-negative integer but received ${removeGrid}`);
  }
  // on the padded frame, whose top-left pixel is on the model's grid whatever the shift
  const degrid = (img: ImageTensor): ImageTensor => (removeGrid === false ? img : removeGridPattern(img, patch, removeGrid));

  const run = async (x: Float32Array, n: number, h: number, w: number, t: number): Promise<Float32Array> => {
    throwIfAborted(options.signal);
    const t0 = performance.now();
    const out = await model.run(x, n, h, w, new Array<number>(n).fill(t));
    throwIfAborted(options.signal);
    stats.modelSeconds += (performance.now() - t0) / 1000;
    stats.runs += 1;
    stats.evaluations += n;
    return out;
  };

  const denoise: Denoise = async (xt, t) => {
    const { channels, height: h, width: w } = dims(xt);
    if (channels !== 3 || h !== height || w !== width) {
      throw new UsageError(`Expected a 3x${height}x${width} image but received ${channels}x${h}x${w}`);
    }
    const [dy, dx] = shifts[calls++ % shifts.length]!;
    const padded = ph === h && pw === w ? xt : padReflect(xt, ph - h - dy, pw - w - dx, dy, dx);
    if (tiles.length === 1) {
      const out = degrid(createImage(3, ph, pw, await run(padded.data, 1, ph, pw, t)));
      return ph === h && pw === w ? out : crop(out, dy, dx, h, w);
    }
    // Blend straight into one float32 image: each tile adds w·(1/Σw)·value, with 1/Σw computed once per plan.
    // (No float64 Σw·value and Σw planes per step: at 4096x4096 those were 540 MB more at the peak.)
    inverseWeight ??= inverseWeights(tiles, ph, pw);
    const inv = inverseWeight;
    const blended = createImage(3, ph, pw);
    for (let i = 0; i < tiles.length; i += batch) {
      const group = tiles.slice(i, i + batch);
      const th = group[0]!.height;
      const tw = group[0]!.width;
      const size = 3 * th * tw;
      const x = new Float32Array(size * group.length);
      for (const [k, tl] of group.entries()) x.set(extractTile(padded, tl).data, k * size);
      const out = await run(x, group.length, th, tw, t);
      for (const [k, tl] of group.entries()) addWeighted(blended.data, ph, pw, inv, out.subarray(k * size, (k + 1) * size), tl);
      options.onTiles?.(i + group.length, tiles.length);
    }
    degrid(blended);
    return ph === h && pw === w ? blended : crop(blended, dy, dx, h, w);
  };
  let inverseWeight: Float32Array | undefined;
  const time = async (t: number): Promise<number> => {
    const n = Math.min(batch, tiles.length);
    const { height: th, width: tw } = tiles[0]!;
    const x = new Float32Array(n * 3 * th * tw);
    for (let i = 0; i < x.length; i++) x[i] = 0.9 * Math.sin(0.37 * i);
    const ts = new Array<number>(n).fill(t);
    for (let k = 0; k < 2; k++) {
      throwIfAborted(options.signal);
      await model.run(x, n, th, tw, ts);
    }
    throwIfAborted(options.signal);
    const t0 = performance.now();
    await model.run(x, n, th, tw, ts);
    throwIfAborted(options.signal);
    return (performance.now() - t0) / 1000 / n;
  };
  return { denoise, plan, batch, time, stats };
}

/** 1/Σ(tile weights) per pixel of the padded image; UsageError if some pixel is covered by no tile. */
function inverseWeights(tiles: readonly Tile[], ph: number, pw: number): Float32Array {
  const sum = new Float64Array(ph * pw);
  for (const tl of tiles) {
    for (let r = 0; r < tl.height; r++) {
      const wy = tl.weightY[r]!;
      const row = (tl.y + r) * pw + tl.x;
      for (let q = 0; q < tl.width; q++) sum[row + q] += wy * tl.weightX[q]!;
    }
  }
  const inv = new Float32Array(ph * pw);
  for (let p = 0; p < inv.length; p++) {
    const w = sum[p]!;
    if (!(w > 0)) throw new UsageError(`Expected every pixel covered by a tile but (${Math.floor(p / pw)}, ${p % pw}) has none`);
    inv[p] = 1 / w;
  }
  return inv;
}

/** dst (a [3, ph, pw] plane set) += tile weight · inverse total weight · values (a [3, th, tw] tile at tl). */
function addWeighted(dst: Float32Array, ph: number, pw: number, inv: Float32Array, values: Float32Array, tl: Tile): void {
  const { height: th, width: tw, weightY, weightX } = tl;
  const plane = ph * pw;
  for (let r = 0; r < th; r++) {
    const wy = weightY[r]!;
    const row = (tl.y + r) * pw + tl.x;
    for (let c = 0; c < 3; c++) {
      const srow = (c * th + r) * tw;
      const drow = c * plane + row;
      for (let q = 0; q < tw; q++) dst[drow + q] += wy * weightX[q]! * inv[row + q]! * values[srow + q]!;
    }
  }
}
