/**
 * The trade-off between fidelity (PSNR, higher is better) and detail (an error, lower is better: by default
 * |1 − detail ratio|, i.e. how far the output's high-frequency energy is from the truth's; or GMSD).
 */
export type DetailMeasure = 'ratio' | 'gmsd';

export interface TradeoffPoint {
  psnrY: number;
  detailRatio: number;
  gmsd: number;
}

/** The detail error of a point (lower = closer to the truth's detail). */
export function detailError(p: TradeoffPoint, measure: DetailMeasure = 'ratio'): number {
  return measure === 'ratio' ? Math.abs(1 - p.detailRatio) : p.gmsd;
}

/** True when a is at least as good as b on both axes and better on one. */
export function dominates(a: TradeoffPoint, b: TradeoffPoint, measure: DetailMeasure = 'ratio'): boolean {
  const ea = detailError(a, measure);
  const eb = detailError(b, measure);
  return a.psnrY >= b.psnrY && ea <= eb && (a.psnrY > b.psnrY || ea < eb);
}

/** The non-dominated points, by PSNR from highest to lowest (so detail error falls along the list). */
export function paretoFront<P extends TradeoffPoint>(points: readonly P[], measure: DetailMeasure = 'ratio'): P[] {
  const ok = points.filter((p) => Number.isFinite(p.psnrY) && Number.isFinite(detailError(p, measure)));
  const front = ok.filter((p) => !ok.some((q) => q !== p && dominates(q, p, measure)));
  // equal points: keep the first only
  const unique = front.filter(
    (p, i) => front.findIndex((q) => q.psnrY === p.psnrY && detailError(q, measure) === detailError(p, measure)) === i,
  );
  return unique.sort((a, b) => b.psnrY - a.psnrY || detailError(a, measure) - detailError(b, measure));
}

/**
 * The knee of a front: with both axes scaled to 0..1 over the front, the point farthest from the straight line
 * joining its two ends (the most balanced trade-off); with fewer than three points there is no knee and the
 * best-PSNR end is returned (the conservative choice). Null for an empty front.
 */
export function knee<P extends TradeoffPoint>(front: readonly P[], measure: DetailMeasure = 'ratio'): P | null {
  if (front.length === 0) return null;
  const xs = front.map((p) => detailError(p, measure));
  const ys = front.map((p) => p.psnrY);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const nx = (x: number) => (x1 > x0 ? (x - x0) / (x1 - x0) : 0);
  const ny = (y: number) => (y1 > y0 ? (y - y0) / (y1 - y0) : 1);
  const pts = front.map((p, i) => ({ p, x: nx(xs[i]!), y: ny(ys[i]!) }));
  // two points scaled to 0..1 are both corners: no knee, so the conservative end (best PSNR)
  if (front.length < 3) return front[0]!;
  const a = pts[0]!;
  const b = pts[pts.length - 1]!;
  const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  let best = pts[1]!;
  let bestD = -1;
  for (const q of pts.slice(1, -1)) {
    const d = Math.abs((b.x - a.x) * (a.y - q.y) - (a.x - q.x) * (b.y - a.y)) / len;
    if (d > bestD) {
      bestD = d;
      best = q;
    }
  }
  return best.p;
}
