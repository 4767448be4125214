import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detailError, dominates, knee, paretoFront } from '../src/eval/pareto.js';
import { analyse, recommend } from '../src/eval/recommend.js';
import type { SummaryRow } from '../src/eval/summary.js';

const P = (id: string, psnrY: number, detailRatio: number, gmsd = 0.1) => ({ id, psnrY, detailRatio, gmsd });

describe('paretoFront', () => {
  it('keeps exactly the non-dominated points, best PSNR first', () => {
    const pts = [
      P('a', 29, 0.3),
      P('b', 28.5, 0.6),
      P('c', 27.5, 0.95),
      P('d', 28.2, 0.5),
      P('e', 28.9, 0.55),
      P('f', 27, 1.3),
      P('g', 26, 0.2),
    ];
    // d is dominated by b (higher PSNR, ratio nearer 1); f (over-sharpened, error 0.3) by c; g (error 0.8) by a
    assert.deepEqual(
      paretoFront(pts).map((p) => p.id),
      ['a', 'e', 'b', 'c'],
    );
    assert.ok(dominates(pts[1]!, pts[3]!));
    assert.ok(!dominates(pts[0]!, pts[1]!));
    assert.ok(!dominates(pts[0]!, pts[0]!), 'a point does not dominate itself');
  });

  it('measures detail as |1 − ratio| (over-sharpening counts too), or GMSD', () => {
    assert.ok(Math.abs(detailError(P('x', 0, 1.25)) - 0.25) < 1e-12);
    assert.ok(Math.abs(detailError(P('x', 0, 0.75)) - 0.25) < 1e-12);
    assert.equal(detailError(P('x', 0, 0.75, 0.08), 'gmsd'), 0.08);
    const pts = [P('a', 29, 0.9, 0.2), P('b', 28, 0.2, 0.1)];
    assert.deepEqual(
      paretoFront(pts, 'ratio').map((p) => p.id),
      ['a'],
      'a dominates on ratio',
    );
    assert.deepEqual(
      paretoFront(pts, 'gmsd').map((p) => p.id),
      ['a', 'b'],
      'a trade-off on GMSD',
    );
  });

  it('drops non-finite points and keeps one of equal points', () => {
    assert.deepEqual(
      paretoFront([P('a', NaN, 0.5), P('b', 28, 0.5), P('c', 28, 0.5)]).map((p) => p.id),
      ['b'],
    );
  });
});

describe('knee', () => {
  it('is the front point farthest from the chord joining its ends', () => {
    const front = paretoFront([P('a', 29, 0.3), P('e', 28.9, 0.55), P('b', 28.5, 0.6), P('c', 27.5, 0.95)]);
    assert.equal(knee(front)!.id, 'e');
  });
  it('with fewer than three points, the best-PSNR end; none for an empty front', () => {
    assert.equal(knee(paretoFront([P('a', 29, 0.3), P('b', 28.9, 0.9)]))!.id, 'a');
    assert.equal(knee(paretoFront([P('b', 28.9, 0.9)]))!.id, 'b');
    assert.equal(knee(paretoFront([P('a', 29, 0.3), P('b', 25, 0.35)]))!.id, 'a');
    assert.equal(knee([]), null);
  });
});

function row(id: string, kind: SummaryRow['kind'], psnrY: number, detailRatio: number, extra: Partial<SummaryRow> = {}): SummaryRow {
  return {
    id,
    kind,
    factor: 4,
    t: kind === 'boomerang' ? 100 : null,
    cascade: kind === 'boomerang' ? 1 : null,
    upsampler: kind === 'matlab-bicubic' ? null : 'bicubic',
    consistency: kind === 'boomerang' ? 'ddnm' : null,
    backProject: null,
    steps: null,
    samples: null,
    reduce: null,
    psnrY,
    ssimY: 0.8,
    psnrRgb: psnrY - 1,
    detailRatio,
    gmsd: 0.1,
    images: 5,
    seconds: 1,
    evaluations: 10,
    pareto: false,
    ...extra,
  };
}

describe('recommend', () => {
  const rows = [
    row('x4 bicubic', 'upsampler', 28, 0.13),
    row('x4 nearest', 'upsampler', 26, 0.9, { upsampler: 'nearest' }),
    row('x4 matlab-bicubic', 'matlab-bicubic', 28, 0.13),
    row('A', 'boomerang', 29, 0.3),
    row('E', 'boomerang', 28.9, 0.55),
    row('B', 'boomerang', 28.5, 0.6),
    row('C', 'boomerang', 27.5, 0.95),
    row('D', 'boomerang', 28.2, 0.5),
    // more detail than B, fed by nearest: judged against nearest alone (26 dB), so eligible
    row('N', 'boomerang', 26.5, 0.8, { upsampler: 'nearest' }),
  ];

  it('best PSNR, most detail at PSNR ≥ the upsampler alone, and the knee', () => {
    const r = recommend(rows);
    assert.deepEqual(
      r.map((x) => [x.rule, x.row?.id]),
      [
        ['best-psnr', 'A'],
        ['most-detail', 'N'],
        ['knee', 'E'],
      ],
    );
    assert.match(r[1]!.why, /among 5 setting\(s\) with PSNR-Y ≥ their upsampler alone \(26.00 dB\)/);
  });

  it('excludes settings below their own upsampler alone', () => {
    const r = recommend(rows.filter((x) => x.id !== 'N'));
    assert.equal(r[1]!.row!.id, 'B', 'C has more detail but less PSNR than bicubic alone');
  });

  it('says why when nothing qualifies', () => {
    const r = recommend([row('x4 bicubic', 'upsampler', 30, 0.13), row('A', 'boomerang', 29, 0.3)]);
    assert.equal(r[1]!.row, null);
    assert.equal(r[1]!.why, 'no setting reaches the PSNR of its upsampler alone');
    assert.equal(recommend([row('x4 bicubic', 'upsampler', 30, 0.13)])[0]!.why, 'no Boomerang results');
  });

  it('analyse marks the front per factor', () => {
    const all = [...rows.map((r) => ({ ...r })), { ...row('x8 A', 'boomerang', 24, 0.1), factor: 8 }];
    const a = analyse(all);
    assert.deepEqual(
      a.map((x) => x.factor),
      [4, 8],
    );
    assert.deepEqual(a[0]!.front, ['A', 'E', 'B', 'C'], 'N is dominated by C');
    assert.deepEqual(
      all.filter((r) => r.pareto).map((r) => r.id),
      ['A', 'E', 'B', 'C', 'x8 A'],
    );
    assert.equal(all.find((r) => r.id === 'x4 bicubic')!.pareto, false, 'baselines are not on the Boomerang front');
  });
});
