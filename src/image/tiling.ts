/**
 * Tiling, pure: split an image into overlapping tiles and blend per-tile results back together.
 *
 * As in UpscalerJS, tiling is a 1-D patch function (`tiles1d`) applied to each axis; a 2-D plan is the
 * product of the two. Each tile gets a separable weight (a linear ramp across the parts it shares with a
 * neighbour, 1 elsewhere and at image borders); results are accumulated as Σ w·tile and Σ w, then divided,
 * so the blend is a partition of unity. The diffusion sampler blends at every reverse step, not at the end.
 * Also reflection padding to the model's `multiple` and cropping back.
 */
import { UsageError } from '../errors.js';
import { contiguousData, createImage, dims, type ImageTensor } from './tensor.js';

export interface Span {
  start: number;
  size: number;
}

export interface Tile {
  /** Top-left corner and size in the (padded) image. */
  y: number;
  x: number;
  height: number;
  width: number;
  /** Row and column of the tile in the grid. */
  row: number;
  col: number;
  /** Blend weights along y (length height) and x (length width); the tile's weight is their product. */
  weightY: Float32Array;
  weightX: Float32Array;
}

export interface TilePlan {
  /** The image size the plan was made for. */
  height: number;
  width: number;
  /** The size after padding to `multiple` (what the tiles cover). */
  paddedHeight: number;
  paddedWidth: number;
  tiles: Tile[];
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    const what = min > 0 ? 'positive integer' : 'non-negative integer';
    throw new UsageError(`Expected ${what} for ${name} but received ${String(value)}`);
  }
}

/**
 * Covers [0, length) with n equal tiles of at most `tile` pixels that overlap their neighbours by at least `overlap`:
 * the fewest evaluated pixels (n × size) under that bound. One tile of `length` when it fits; else n from
 * ceil((length − overlap)/(tile − overlap)) up, each tile as small as n tiles allow, rounded up to `multiple`, the
 * starts spread evenly on the `multiple` grid (so tile origins stay on the model's grid; when tile − overlap is
 * below `multiple` they cannot, and are spread pixel by pixel). Of the few n that need the least, the least n×size
 * wins (ties: fewer tiles). `length` must be a multiple of `multiple` when it is over `tile`.
 */
export function tiles1d(length: number, tile: number, overlap: number, multiple = 1): Span[] {
  checkInteger('length', length, 1);
  checkInteger('tile', tile, 1);
  checkInteger('overlap', overlap, 0);
  checkInteger('multiple', multiple, 1);
  if (overlap >= tile) throw new UsageError(`Expected overlap smaller than tile (${tile}) but received ${overlap}`);
  if (length <= tile) return [{ start: 0, size: length }];
  if (tile % multiple !== 0 || length % multiple !== 0) {
    throw new UsageError(`Expected tile (${tile}) and length (${length}) to be multiples of ${multiple}`);
  }
  // starts on the model's grid when a step of one grid cell still leaves the overlap, else on any pixel
  const grid = tile - overlap >= multiple ? multiple : 1;
  const first = Math.ceil((length - overlap) / (tile - overlap));
  let best: { n: number; size: number } | null = null;
  for (let n = first; n <= first + 3 || best === null; n++) {
    const size = equalSize(length, n, overlap, multiple, grid);
    if (size > tile) continue;
    if (best === null || n * size < best.n * best.size) best = { n, size };
  }
  const { n, size } = best;
  const cells = (length - size) / grid;
  return Array.from({ length: n }, (_, i) => ({ start: Math.round((i * cells) / (n - 1)) * grid, size }));
}

/**
 * The smallest tile (a multiple of `multiple`) of which n, starting on the `grid` and spread evenly over
 * [0, length), overlap by at least `overlap`: n·size − (n−1)·overlap ≥ length, and the largest step (a whole number
 * of grid cells) leaves the overlap.
 */
function equalSize(length: number, n: number, overlap: number, multiple: number, grid: number): number {
  let size = Math.ceil((length + (n - 1) * overlap) / n / multiple) * multiple;
  while (size < length && size - Math.ceil((length - size) / grid / (n - 1)) * grid < overlap) size += multiple;
  return size;
}

/**
 * Blend weights for span `index` of `spans` (from tiles1d): a linear ramp (p + 0.5)/n across the n pixels
 * shared with each neighbour, 1 elsewhere. Every weight is > 0, and where two neighbours overlap over the
 * same pixels their ramps sum to exactly 1.
 */
export function blendWeights1d(spans: readonly Span[], index: number): Float32Array {
  const span = spans[index];
  if (span === undefined) throw new UsageError(`Expected span index below ${spans.length} but received ${index}`);
  const prev = spans[index - 1];
  const next = spans[index + 1];
  const left = prev ? Math.max(0, prev.start + prev.size - span.start) : 0;
  const right = next ? Math.max(0, span.start + span.size - next.start) : 0;
  const w = new Float32Array(span.size);
  for (let p = 0; p < span.size; p++) {
    const l = p < left ? (p + 0.5) / left : 1;
    const r = span.size - 1 - p < right ? (span.size - 1 - p + 0.5) / right : 1;
    w[p] = Math.min(l, r);
  }
  return w;
}

/**
 * A 2-D tile plan for a height×width image padded up to multiples of `multiple`: per axis, equal tiles of at most
 * `tile` (a multiple of `multiple`) that overlap by at least `overlap`, as few evaluated pixels as that allows
 * (tiles1d). Every tile has the same height and width (they batch together), multiples of `multiple`.
 */
export function planTiles(height: number, width: number, tile: number, overlap: number, multiple: number): TilePlan {
  checkInteger('height', height, 1);
  checkInteger('width', width, 1);
  checkInteger('multiple', multiple, 1);
  checkInteger('tile', tile, 1);
  if (tile % multiple !== 0) throw new UsageError(`Expected tile to be a multiple of ${multiple} but received ${tile}`);
  const paddedHeight = Math.ceil(height / multiple) * multiple;
  const paddedWidth = Math.ceil(width / multiple) * multiple;
  const ys = tiles1d(paddedHeight, tile, overlap, multiple);
  const xs = tiles1d(paddedWidth, tile, overlap, multiple);
  const wys = ys.map((_, i) => blendWeights1d(ys, i));
  const wxs = xs.map((_, i) => blendWeights1d(xs, i));
  const tiles: Tile[] = [];
  for (const [row, sy] of ys.entries()) {
    for (const [col, sx] of xs.entries()) {
      tiles.push({ y: sy.start, x: sx.start, height: sy.size, width: sx.size, row, col, weightY: wys[row]!, weightX: wxs[col]! });
    }
  }
  return { height, width, paddedHeight, paddedWidth, tiles };
}

/** Mirror index without repeating the edge (…c b | a b c … x y | x w…), periodic for large pads. */
function reflectIndex(j: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((j % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Pads by reflection (numpy 'reflect'): `padBottom` rows below and `padRight` columns to the right, and optionally
 * `padTop` rows above and `padLeft` columns to the left; a 1-pixel axis is replicated.
 */
export function padReflect(image: ImageTensor, padBottom: number, padRight: number, padTop = 0, padLeft = 0): ImageTensor {
  checkInteger('padBottom', padBottom, 0);
  checkInteger('padRight', padRight, 0);
  checkInteger('padTop', padTop, 0);
  checkInteger('padLeft', padLeft, 0);
  const { channels, height, width } = dims(image);
  const src = contiguousData(image);
  const oh = padTop + height + padBottom;
  const ow = padLeft + width + padRight;
  const out = createImage(channels, oh, ow);
  const xmap = Int32Array.from({ length: ow }, (_, x) => reflectIndex(x - padLeft, width));
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < oh; y++) {
      const srow = (c * height + reflectIndex(y - padTop, height)) * width;
      const drow = (c * oh + y) * ow;
      out.data.set(src.subarray(srow, srow + width), drow + padLeft);
      for (let x = 0; x < padLeft; x++) out.data[drow + x] = src[srow + xmap[x]!]!;
      for (let x = padLeft + width; x < ow; x++) out.data[drow + x] = src[srow + xmap[x]!]!;
    }
  }
  return out;
}

/** A contiguous copy of the h×w window at (y, x); UsageError when it leaves the image. */
export function crop(image: ImageTensor, y: number, x: number, h: number, w: number): ImageTensor {
  const { channels, height, width } = dims(image);
  checkInteger('y', y, 0);
  checkInteger('x', x, 0);
  checkInteger('h', h, 1);
  checkInteger('w', w, 1);
  if (y + h > height || x + w > width) {
    throw new UsageError(`Expected a crop inside ${height}x${width} but received ${h}x${w} at (${y}, ${x})`);
  }
  const src = contiguousData(image);
  const out = createImage(channels, h, w);
  for (let c = 0; c < channels; c++) {
    for (let r = 0; r < h; r++) {
      const s = (c * height + y + r) * width + x;
      out.data.set(src.subarray(s, s + w), (c * h + r) * w);
    }
  }
  return out;
}

/** Pads bottom/right by reflection up to multiples of `multiple`; returns the original size to crop back to. */
export function padToMultiple(image: ImageTensor, multiple: number): { image: ImageTensor; height: number; width: number } {
  checkInteger('multiple', multiple, 1);
  const { height, width } = dims(image);
  const padBottom = Math.ceil(height / multiple) * multiple - height;
  const padRight = Math.ceil(width / multiple) * multiple - width;
  return { image: padReflect(image, padBottom, padRight), height, width };
}

/** The tile's pixels of `image` (a crop at the tile's rectangle). */
export function extractTile(image: ImageTensor, tile: Tile): ImageTensor {
  return crop(image, tile.y, tile.x, tile.height, tile.width);
}

/** Running Σ w·value and Σ w over an output image (float64, so merging identical tiles is exact). */
export interface TileAccumulator {
  channels: number;
  height: number;
  width: number;
  sum: Float64Array;
  weight: Float64Array;
}

export function createAccumulator(channels: number, height: number, width: number): TileAccumulator {
  checkInteger('channels', channels, 1);
  checkInteger('height', height, 1);
  checkInteger('width', width, 1);
  return { channels, height, width, sum: new Float64Array(channels * height * width), weight: new Float64Array(height * width) };
}

/** Adds `values` (a [C, tile.height, tile.width] tensor) times the tile's weights into the accumulator. */
export function accumulateTile(acc: TileAccumulator, values: ImageTensor, tile: Tile): void {
  const { channels, height, width } = dims(values);
  if (channels !== acc.channels || height !== tile.height || width !== tile.width) {
    throw new UsageError(`Expected a ${acc.channels}x${tile.height}x${tile.width} tile but received ${channels}x${height}x${width}`);
  }
  if (tile.y + height > acc.height || tile.x + width > acc.width) {
    throw new UsageError(`Expected a tile inside ${acc.height}x${acc.width} but received ${height}x${width} at (${tile.y}, ${tile.x})`);
  }
  const src = contiguousData(values);
  const { weightY, weightX } = tile;
  for (let r = 0; r < height; r++) {
    const wy = weightY[r]!;
    const wrow = (tile.y + r) * acc.width + tile.x;
    for (let q = 0; q < width; q++) acc.weight[wrow + q] += wy * weightX[q]!;
    for (let c = 0; c < channels; c++) {
      const srow = (c * height + r) * width;
      const drow = (c * acc.height + tile.y + r) * acc.width + tile.x;
      for (let q = 0; q < width; q++) acc.sum[drow + q] += wy * weightX[q]! * src[srow + q]!;
    }
  }
}

/** Σ w·value / Σ w as an image; UsageError if some pixel received no tile. */
export function normaliseAccumulator(acc: TileAccumulator): ImageTensor {
  const { channels, height, width } = acc;
  const plane = height * width;
  const out = createImage(channels, height, width);
  for (let p = 0; p < plane; p++) {
    const w = acc.weight[p]!;
    if (!(w > 0)) {
      throw new UsageError(`Expected every pixel covered by a tile but (${Math.floor(p / width)}, ${p % width}) has none`);
    }
    for (let c = 0; c < channels; c++) out.data[c * plane + p] = acc.sum[c * plane + p]! / w;
  }
  return out;
}
