/** The types a sweep's planner, its units and their payload share (sweep.ts, cell-run.ts, sweep-payload.ts). */
import type { SamplerKind } from '../diffusion/samplers.js';
import type { TilingOptions } from '../model/denoiser.js';
import type { DeviceRequest, ModelSession } from '../model/session.js';
import type { RunContext } from '../run-context.js';
import type { Cell, GridSpec } from './grid.js';
import type { DetailMeasure } from './pareto.js';
import type { SweepRecord } from './summary.js';

/** A sweep: the ground truth, the grid of settings (t, cascade, …), and where results go. */
export interface SweepOptions extends GridSpec {
  /** Ground-truth folder. */
  hr: string;
  /** LR folder matched by name (one factor only); otherwise LR is made by MATLAB bicubic for each factor. */
  lr?: string;
  /** Only the first N images by name. */
  limit?: number;
  /** Output folder (results, summaries, and what the report needs). */
  out: string;
  model?: string | ModelSession;
  device?: DeviceRequest;
  /** Seed of the sweep: every cell on an image uses that image's itemSeed(seed, name), so cells compare on the same noise and images differ. Default 0. */
  seed?: number;
  sampler?: SamplerKind;
  eta?: number;
  tiling?: TilingOptions;
  /** Which outputs to save as PNG under <out>/images/<cell>/: the first image's (default), all, or none. */
  saveImages?: 'first' | 'all' | 'none';
  /** Detail axis of the trade-off. Default ratio (|1 − detail ratio|). */
  detail?: DetailMeasure;
  /**
   * Run the cells on the workers of this queue (redis://host:port) instead of here: one job per cell group × image,
   * results recorded here as they come back. Workers read the images and write theirs under `out` (a shared filesystem).
   */
  queue?: string;
}

/** A sweep's run context: its stop signal and progress, and each record once it is appended to the log. */
export interface SweepContext extends Omit<RunContext<SweepProgress>, 'onWarning'> {
  onRecord?: ((r: SweepRecord) => void) | undefined;
}

/** A sweep's progress, in estimated units of work. */
export interface SweepProgress {
  /** Work done and total, in estimated units, over the work left at the start (skipped work is not counted). */
  done: number;
  total: number;
  /** The cell and image in progress. */
  cell: string;
  image: string;
  /** Records written so far in this run, and records to write. */
  records: number;
  recordsTotal: number;
  /** On a queue: the workers connected. */
  workers?: number;
}

/** One unit of work: the cells that one model run on one image serves (they differ only in how K samples reduce). */
export interface SweepTask {
  cells: Cell[];
  factor: number;
  imageIndex: number;
  /** Estimated work (model evaluations × pixels / 256²). */
  weight: number;
}
