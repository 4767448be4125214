/**
 * The sweep grid: factor × t × cascade N × upsampler × consistency × steps × samples K × reduce, expanded into
 * cells with stable ids (the resume keys), plus the baselines measured in the same run: each upsampler alone and
 * MATLAB bicubic. Steps are capped at t and K = 1 ignores reduce, so cells that would run the same thing collapse.
 */
import { UsageError } from '../errors.js';
import { KERNELS, type Kernel } from '../image/upsample.js';
import { CONSISTENCY_KINDS as CONSISTENCIES, type Consistency } from '../diffusion/consistency.js';
import { REDUCE_KINDS, type Reduce } from '../upscale.js';
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
  /** Back-projection iterations on the upsampled image before Boomerang (or alone, for a baseline); 0 = none. */
  backProject: number | null;
  consistency: Consistency | null;
  steps: number | null;
  samples: number | null;
  reduce: Reduce | null;
}

export interface GridSpec {
  factors: readonly number[];
  ts: readonly number[];
  /** Passes N; default the model's default cascade. */
  cascades?: readonly number[];
  upsamplers?: readonly Kernel[];
  /** Back-projection iterations on the upsampled start; default the model's (else 0). */
  backProjects?: readonly number[];
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
  /** The model's defaults for the axes a sweep leaves out (as `sr upscale` uses them); else N=1, bicubic, ddnm. */
  defaultCascade?: number;
  defaultUpsampler?: Kernel;
  defaultBackProject?: number;
  defaultConsistency?: Consistency;
}

function nonEmpty<T>(name: string, v: readonly T[] | undefined, fallback: readonly T[]): readonly T[] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length === 0) throw new UsageError(`Expected a non-empty list for ${name} but received ${JSON.stringify(v)}`);
  return [...new Set(v)];
}

/**
 * The baselines of a factor: MATLAB bicubic, each upsampler alone, and, for each back-projection count of the
 * grid, the upsamplers' outputs back-projected that often with no model ("bicubic+bp20").
 */
export function baselineCells(factor: number, backProjects: readonly number[] = []): Cell[] {
  const base = { factor, t: null, cascade: null, consistency: null, steps: null, samples: null, reduce: null };
  const bps = [0, ...backProjects.filter((b) => b > 0)];
  return [
    { ...base, id: `x${factor} matlab-bicubic`, kind: 'matlab-bicubic', upsampler: null, backProject: null },
    ...bps.flatMap((bp) =>
      KERNELS.map((k): Cell => ({ ...base, id: `x${factor} ${startName(k, bp)}`, kind: 'upsampler', upsampler: k, backProject: bp })),
    ),
  ];
}

/** "bicubic", or "bicubic+bp20" for a start back-projected 20 times. */
export const startName = (upsampler: string | null, backProject: number | null): string =>
  `${upsampler}${backProject ? `+bp${backProject}` : ''}`;

export function boomerangCellId(c: Omit<Cell, 'id' | 'kind'>): string {
  const k = c.samples ?? 1;
  return (
    `x${c.factor} t${c.t} N${c.cascade} ${startName(c.upsampler, c.backProject)} ${c.consistency} S${c.steps} K${k}` +
    (k > 1 ? ` ${c.reduce}` : '')
  );
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
  const bpOf = (fallback: number) =>
    nonEmpty('backProject', spec.backProjects, [fallback]).map((b) => integerInRange('backProject', b, 0, 100));
  if (limits === null || spec.ts.length === 0) {
    // baselines only (no model)
    const bps = bpOf(0);
    for (const factor of factors) baselineCells(factor, bps).forEach(add);
    return cells;
  }
  const ts = nonEmpty('t', spec.ts, []).map((t) => integerInRange('t', t, 1, limits.T - 1));
  const cascades = nonEmpty('cascade', spec.cascades, [limits.defaultCascade ?? 1]).map((n) => positiveInteger('cascade', n));
  const ups = nonEmpty('upsampler', spec.upsamplers, [limits.defaultUpsampler ?? 'bicubic']).map((u) => oneOf('upsampler', u, KERNELS));
  const bps = bpOf(limits.defaultBackProject ?? 0);
  const cons = nonEmpty('consistency', spec.consistencies, [limits.defaultConsistency ?? 'ddnm']).map((c) =>
    oneOf('consistency', c, CONSISTENCIES),
  );
  const steps = nonEmpty('steps', spec.steps, [limits.defaultSteps]).map((s) => positiveInteger('steps', s));
  const samples = nonEmpty('samples', spec.samples, [1]).map((k) => positiveInteger('samples', k));
  const reduces = nonEmpty('reduce', spec.reduces, ['mean']).map((r) => oneOf('reduce', r, REDUCE_KINDS));
  for (const factor of factors) {
    if (spec.baselines ?? true) baselineCells(factor, bps).forEach(add);
    for (const t of ts)
      for (const cascade of cascades)
        for (const upsampler of ups)
          for (const backProject of bps)
            for (const consistency of cons)
              for (const s of steps)
                for (const k of samples)
                  for (const r of reduces) {
                    const c = {
                      factor,
                      t,
                      cascade,
                      upsampler,
                      backProject,
                      consistency,
                      steps: Math.min(s, t),
                      samples: k,
                      reduce: k === 1 ? ('mean' as const) : r,
                    };
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
