/**
 * Recommended settings from a sweep's per-cell means, per factor:
 *  - best-psnr:   the Boomerang cell with the highest PSNR (ties: fewer seconds);
 *  - most-detail: among Boomerang cells whose PSNR is at least that of their upsampler alone (same factor), the
 *                 one with the least detail error (ties: higher PSNR);
 *  - knee:        the knee of the Pareto front of the Boomerang cells (see pareto.ts).
 */
import { detailError, knee, paretoFront, type DetailMeasure } from './pareto.js';
import type { SummaryRow } from './summary.js';

export type Rule = 'best-psnr' | 'most-detail' | 'knee';

export interface Recommendation {
  rule: Rule;
  factor: number;
  /** The recommended cell, or null with `why` saying what was missing. */
  row: SummaryRow | null;
  why: string;
}

export const RULE_TEXT: Readonly<Record<Rule, string>> = {
  'best-psnr': 'best PSNR',
  'most-detail': 'most detail at PSNR ≥ the upsampler alone',
  knee: 'knee of the Pareto front',
};

export interface Analysis {
  factor: number;
  detail: DetailMeasure;
  /** Ids of the Boomerang cells on the Pareto front, best PSNR first. */
  front: string[];
  recommendations: Recommendation[];
}

/** Marks `pareto` on the rows and recommends settings, for each factor present. */
export function analyse(rows: SummaryRow[], detail: DetailMeasure = 'ratio'): Analysis[] {
  const factors = [...new Set(rows.map((r) => r.factor))].sort((a, b) => a - b);
  return factors.map((factor) => {
    const mine = rows.filter((r) => r.factor === factor);
    const boom = mine.filter((r) => r.kind === 'boomerang');
    const front = paretoFront(boom, detail);
    for (const r of mine) r.pareto = front.includes(r);
    return { factor, detail, front: front.map((r) => r.id), recommendations: recommend(mine, detail) };
  });
}

/** The three recommendations for the rows of one factor (baselines and Boomerang cells). */
export function recommend(rows: readonly SummaryRow[], detail: DetailMeasure = 'ratio'): Recommendation[] {
  const factor = rows[0]?.factor ?? 0;
  const boom = rows.filter((r) => r.kind === 'boomerang' && Number.isFinite(r.psnrY));
  const err = (r: SummaryRow) => detailError(r, detail);
  const measureText = detail === 'ratio' ? '|1 − detail ratio|' : 'GMSD';
  const out: Recommendation[] = [];

  const best = boom.reduce<SummaryRow | null>(
    (b, r) => (!b || r.psnrY > b.psnrY || (r.psnrY === b.psnrY && r.seconds < b.seconds) ? r : b),
    null,
  );
  out.push({ rule: 'best-psnr', factor, row: best, why: best ? `highest PSNR-Y ${best.psnrY.toFixed(2)} dB` : 'no Boomerang results' });

  // the interpolator a user already has: the plain upsampler (not a back-projected baseline)
  const alone = new Map(rows.filter((r) => r.kind === 'upsampler' && !r.backProject).map((r) => [r.upsampler, r.psnrY]));
  const eligible = boom.filter((r) => alone.has(r.upsampler) && r.psnrY >= alone.get(r.upsampler)!);
  const detailed = eligible.reduce<SummaryRow | null>(
    (b, r) => (!b || err(r) < err(b) || (err(r) === err(b) && r.psnrY > b.psnrY) ? r : b),
    null,
  );
  out.push({
    rule: 'most-detail',
    factor,
    row: detailed,
    why: detailed
      ? `least ${measureText} (${err(detailed).toFixed(3)}) among ${eligible.length} setting(s) with PSNR-Y ≥ their upsampler alone (${alone.get(detailed.upsampler)!.toFixed(2)} dB)`
      : boom.length === 0
        ? 'no Boomerang results'
        : alone.size === 0
          ? 'no upsampler-alone baseline measured'
          : 'no setting reaches the PSNR of its upsampler alone',
  });

  const k = knee(paretoFront(boom, detail), detail);
  out.push({
    rule: 'knee',
    factor,
    row: k,
    why: k ? `knee of the ${paretoFront(boom, detail).length}-point Pareto front (PSNR-Y vs ${measureText})` : 'no Boomerang results',
  });
  return out;
}
