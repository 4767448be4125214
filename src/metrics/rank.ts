/**
 * Rank statistics for checking that one score orders things as another does: fractional ranks (ties share the
 * mean of the ranks they span) and Spearman's rank correlation ρ, the Pearson correlation of those ranks (the
 * definition that stays exact with ties; 1 − 6Σd²/(n(n²−1)) only holds without them).
 */

/** 1-based ranks of `xs` in ascending order; tied values get the mean of the ranks they span. NaN is not allowed. */
export function ranks(xs: readonly number[]): number[] {
  if (xs.some((x) => Number.isNaN(x))) throw new RangeError('ranks: NaN in the values');
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const out = new Array<number>(xs.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && order[end]!.x === order[start]!.x) end++;
    const r = (start + 1 + end) / 2; // mean of the ranks start+1 … end
    for (let k = start; k < end; k++) out[order[k]!.i] = r;
    start = end;
  }
  return out;
}

/** Pearson's correlation of two equally long lists; NaN when either is constant or has fewer than 2 values. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`pearson: lists of ${x.length} and ${y.length} values`);
  const n = x.length;
  if (n < 2) return Number.NaN;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman's ρ of paired values: the Pearson correlation of their fractional ranks. 1 = the same order, −1 the
 * reverse; NaN when either list is constant (no order to compare) or has fewer than 2 values. Pairs where either
 * value is NaN (a score that could not be computed) are left out; ±Infinity ranks as the extreme it is (a PSNR of
 * identical images).
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`spearman: lists of ${x.length} and ${y.length} values`);
  const keep = x.map((_, i) => i).filter((i) => !Number.isNaN(x[i]!) && !Number.isNaN(y[i]!));
  return pearson(ranks(keep.map((i) => x[i]!)), ranks(keep.map((i) => y[i]!)));
}
