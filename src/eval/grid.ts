/**
 * The sweep grid: factor × t × cascade N × upsampler × consistency × steps × samples K × reduce, expanded into
 * cells with stable ids (the resume keys), plus the baselines measured in the same run: each upsampler alone and
 * MATLAB bicubic. Steps are capped at t and K = 1 ignores reduce, so cells that would run the same thing collapse.
 */
import { UsageError } from '../errors.js';
import { KERNELS, type Kernel } from '../image/upsample.js';
import { CONSISTENCY_KINDS as CONSISTENCIES, type Consistency, type Reduce } from '../upscale.js';
import { integerInRange, oneOf, positiveInteger } from '../validate.js';

export type CellKind = 'boomerang' | 'upsampler' | 'matlab-bicubic';

export interface Cell {
  /** Stable id, e.g. "x4 t100 N2 bicubic ddnm S10 K4 median", "x4 bicubic", "x4 matlab-bicubic". */
  id: string;
  kind: CellKind;
  factor: number;
  t: number | null;
  cascade: number | null;
  upsampler: Kernel | null;
  consistency: Consistency | null;
  steps: number | null;
  samples: number | null;
  reduce: Reduce | null;
}

export interface GridSpec {
  factors: readonly number[];
  ts: readonly number[];
  cascades: readonly number[];
  upsamplers?: readonly Kernel[];
  consistencies?: readonly Consistency[];
  /** Reverse steps per pass (capped at t); default the model's default steps. */
  steps?: readonly number[];
  samples?: readonly number[];
  reduces?: readonly Reduce[];
  /** Measure the baselines (every upsampler alone and MATLAB bicubic). Default true. */
  baselines?: boolean;
}

export interface GridLimits {
  /** The model's T (t must be in 1..T−1). */
  T: number;
  /** The model's default steps. */
  defaultSteps: number;
}

const REDUCES: readonly Reduce[] = ['mean', 'median', 'none'];

function nonEmpty<T>(name: string, v: readonly T[] | undefined, fallback: readonly T[]): readonly T[] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length === 0) throw new UsageError(`Expected a non-empty list for ${name} but received ${JSON.stringify(v)}`);
  return [...new Set(v)];
}

export function baselineCells(factor: number): Cell[] {
  const base = { factor, t: null, cascade: null, consistency: null, steps: null, samples: null, reduce: null };
  return [
    { ...base, id: `x${factor} matlab-bicubic`, kind: 'matlab-bicubic', upsampler: null },
    ...KERNELS.map((k): Cell => ({ ...base, id: `x${factor} ${k}`, kind: 'upsampler', upsampler: k })),
  ];
}

export function boomerangCellId(c: Omit<Cell, 'id' | 'kind'>): string {
  const k = c.samples ?? 1;
  return `x${c.factor} t${c.t} N${c.cascade} ${c.upsampler} ${c.consistency} S${c.steps} K${k}` + (k > 1 ? ` ${c.reduce}` : '');
}

/**
 * The cells of a grid (baselines first, per factor), validated; duplicates removed. Without limits (no model) or
 * with no t, only the baselines.
 */
export function expandGrid(spec: GridSpec, limits: GridLimits | null): Cell[] {
  const factors = nonEmpty('factor', spec.factors, []).map((f) => positiveInteger('factor', f));
  if (factors.length === 0) throw new UsageError('Expected at least one factor');
  const cells: Cell[] = [];
  const seen = new Set<string>();
  const add = (c: Cell) => {
    if (!seen.has(c.id)) {
      seen.add(c.id);
      cells.push(c);
    }
  };
  if (limits === null || spec.ts.length === 0) {
    // baselines only (no model)
    for (const factor of factors) baselineCells(factor).forEach(add);
    return cells;
  }
  const ts = nonEmpty('t', spec.ts, []).map((t) => integerInRange('t', t, 1, limits.T - 1));
  const cascades = nonEmpty('cascade', spec.cascades, [1]).map((n) => positiveInteger('cascade', n));
  const ups = nonEmpty('upsampler', spec.upsamplers, ['bicubic']).map((u) => oneOf('upsampler', u, KERNELS));
  const cons = nonEmpty('consistency', spec.consistencies, ['ddnm']).map((c) => oneOf('consistency', c, CONSISTENCIES));
  const steps = nonEmpty('steps', spec.steps, [limits.defaultSteps]).map((s) => positiveInteger('steps', s));
  const samples = nonEmpty('samples', spec.samples, [1]).map((k) => positiveInteger('samples', k));
  const reduces = nonEmpty('reduce', spec.reduces, ['mean']).map((r) => oneOf('reduce', r, REDUCES));
  for (const factor of factors) {
    if (spec.baselines ?? true) baselineCells(factor).forEach(add);
    for (const t of ts) for (const cascade of cascades) for (const upsampler of ups) for (const consistency of cons)
      for (const s of steps) for (const k of samples) for (const r of reduces) {
        const c = { factor, t, cascade, upsampler, consistency, steps: Math.min(s, t), samples: k, reduce: k === 1 ? 'mean' as const : r };
        add({ ...c, id: boomerangCellId(c), kind: 'boomerang' });
      }
  }
  return cells;
}

/** Cells that one model run can serve: the same settings except reduce (all reduces come from the same K samples). */
export function computeKey(c: Cell): string {
  return c.kind === 'boomerang' ? boomerangCellId({ ...c, reduce: null, samples: 1 }) + ` K${c.samples}` : c.id;
}

/** A file-system-safe form of a cell id. */
export function cellSlug(id: string): string {
  return id.replace(/[^A-Za-z0-9.-]+/g, '_');
}
