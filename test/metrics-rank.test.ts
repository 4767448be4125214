import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pearson, ranks, spearman } from '../src/metrics/rank.js';

describe('rank correlation', () => {
  it('ranks: 1-based, ties share the mean of the ranks they span', () => {
    assert.deepEqual(ranks([3, 1, 2]), [3, 1, 2]);
    assert.deepEqual(ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
    assert.deepEqual(ranks([5, 5, 5]), [2, 2, 2]);
    assert.deepEqual(ranks([-1, 7, -1, 7, 0]), [1.5, 4.5, 1.5, 4.5, 3]);
    assert.throws(() => ranks([1, Number.NaN]), /NaN/);
  });

  it("Spearman's ρ by hand: without ties 1 − 6Σd²/(n(n²−1)); with ties the Pearson ρ of the mean ranks", () => {
    // d = 0, 1, 1, 0: 1 − 6·2/(4·15) = 0.8
    assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12);
    assert.equal(spearman([1, 2, 3], [10, 20, 30]), 1);
    assert.equal(spearman([1, 2, 3], [9, 4, 1]), -1);
    // a monotone transform changes nothing
    assert.ok(Math.abs(spearman([0.1, 0.5, 0.2, 0.9], [Math.exp(0.1), Math.exp(0.5), Math.exp(0.2), Math.exp(0.9)]) - 1) < 1e-12);
    // ties: y ranks 1, 2, 3.5, 5, 3.5 against 1…5: Σdxdy = 8, Σdx² = 10, Σdy² = 9.5, ρ = 8/√95 = 0.8207826816681233
    assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 8 / Math.sqrt(95)) < 1e-12);
    assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12);
    // the textbook formula would give 1 − 6·(0+0+0.25+1+2.25)/120 = 0.825 here: ties need the Pearson form
    assert.notEqual(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).toFixed(3), '0.825');
  });

  it('constant lists and too few pairs give NaN; pairs with a NaN are left out; Infinity ranks highest', () => {
    assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
    assert.ok(Number.isNaN(spearman([1], [2])));
    assert.equal(spearman([1, 2, Number.NaN, 3, 4], [1, 2, 99, 3, 5]), 1);
    // a PSNR of identical images (Infinity) is the best, not a missing value; two of them tie
    assert.deepEqual(ranks([30, Number.POSITIVE_INFINITY, 20, Number.POSITIVE_INFINITY]), [2, 3.5, 1, 3.5]);
    assert.equal(spearman([1, 2, 3, 4], [20, 30, 40, Number.POSITIVE_INFINITY]), 1);
    assert.equal(spearman([1, 2, 3, 4], [Number.POSITIVE_INFINITY, 30, 20, 10]), -1);
    assert.throws(() => spearman([1, 2], [1]), /2 and 1/);
    assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 7]) - 0.9933992677987828) < 1e-12);
  });
});
