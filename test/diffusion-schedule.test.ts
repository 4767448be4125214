import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alphaBarPrev, makeSchedule, noiseLevel, setTimesteps } from '../src/diffusion/schedule.js';
import { UsageError } from '../src/errors.js';

const linear = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });

const usage = (message: string) => (e: unknown) => e instanceof UsageError && e.message === message;

test('linear betas run from start to end inclusive (linspace)', () => {
  assert.equal(linear.T, 1000);
  assert.equal(linear.betas.length, 1000);
  assert.equal(linear.betas[0], 1e-4);
  assert.ok(Math.abs(linear.betas[999]! - 0.02) < 1e-15);
  // step d = (0.02 − 1e-4)/999 = 0.0199/999 = 1.99199199…e-5
  assert.ok(Math.abs(linear.betas[1]! - 1.1991991991991992e-4) < 1e-18);
  assert.ok(Object.isFrozen(linear));
});

test("alphasCumprod golden values (index = model step; the paper's 1-based ᾱ_n is alphasCumprod[n-1])", () => {
  // β_0 = 1e-4 (paper β_1), β_1 = 1e-4 + d (paper β_2), d = 0.0199/999 = 1.991991992e-5, β_i = 1e-4 + i·d.
  // ᾱ[0] = 1 − 1e-4 = 0.9999
  assert.equal(linear.alphasCumprod[0], 0.9999);
  // ᾱ[1] = 0.9999 · (1 − 1.1991991992e-4) = 0.99988008008008 − 0.000099988008008 = 0.999780092072072
  assert.ok(Math.abs(linear.alphasCumprod[1]! - 0.999780092072072) < 1e-14);
  // ᾱ[2] = ᾱ[1] · (1 − 1.3983983984e-4) = 0.999780092072072 − 0.000139809087888 = 0.999640282984184
  assert.ok(Math.abs(linear.alphasCumprod[2]! - 0.999640282984184) < 1e-12);
  // ᾱ[9] = ∏_{i=0..9} (1 − β_i): Σβ = 10e-4 + 45d = 0.0018963964, Σβ²/2 = 1.96184e-7, so
  // ln ᾱ = −0.0018965926 and ᾱ = 1 − 0.0018965926 + 0.0018965926²/2 − … = 0.998105205
  assert.ok(Math.abs(linear.alphasCumprod[9]! - 0.998105205) < 1e-9);
  assert.ok(Math.abs(linear.alphas[5]! - (1 - linear.betas[5]!)) < 1e-16);
});

test('noiseLevel √((1−ᾱ)/ᾱ) at t = 50, 100, 200, 400', () => {
  // ᾱ[100] = 0.895142 → √(0.104858/0.895142) = 0.342. NB DESIGN.md's 0.60 (t=200) and 0.95 (t=400) do not follow
  // from this formula and schedule: ᾱ[200] = 0.6564 → 0.72 and ᾱ[400] = 0.1936 → 2.04.
  const expected: Array<[number, number]> = [
    [50, 0.18],
    [100, 0.34],
    [200, 0.72],
    [400, 2.04],
  ];
  for (const [t, level] of expected) {
    const got = noiseLevel(linear, t);
    assert.ok(Math.abs(got - level) <= 0.005, `t=${t}: ${got}`);
  }
  assert.ok(Math.abs(noiseLevel(linear, 100) - Math.sqrt((1 - 0.8951415908975365) / 0.8951415908975365)) < 1e-12);
});

test('setTimesteps: the full range visits every step down to 1 and ends on the clean image', () => {
  const pairs = setTimesteps(linear, 100);
  assert.equal(pairs.length, 100);
  assert.deepEqual(pairs[0], { t: 100, prevT: 99 });
  assert.deepEqual(pairs[99], { t: 1, prevT: 0 });
  for (const { t, prevT } of pairs) assert.equal(prevT, t - 1);
  assert.equal(setTimesteps(linear, 100, 100).length, 100);
  assert.equal(setTimesteps(linear, 100, 500).length, 100);
});

test('setTimesteps: S evenly spaced steps, round(linspace(0, t, S+1)), always containing t', () => {
  assert.deepEqual(setTimesteps(linear, 100, 4), [
    { t: 100, prevT: 75 },
    { t: 75, prevT: 50 },
    { t: 50, prevT: 25 },
    { t: 25, prevT: 0 },
  ]);
  // 10·i/4 = 2.5, 5, 7.5, 10 → 3, 5, 8, 10 (half up)
  assert.deepEqual(
    setTimesteps(linear, 10, 4).map((p) => p.t),
    [10, 8, 5, 3],
  );
  // 10·i/3 = 3.33, 6.67, 10 → 3, 7, 10
  assert.deepEqual(
    setTimesteps(linear, 10, 3).map((p) => p.t),
    [10, 7, 3],
  );
  assert.deepEqual(setTimesteps(linear, 999, 1), [{ t: 999, prevT: 0 }]);
  const many = setTimesteps(linear, 999, 998);
  assert.equal(new Set(many.map((p) => p.t)).size, 998);
});

test('setTimesteps and noiseLevel validate t and steps', () => {
  assert.throws(() => setTimesteps(linear, 0), usage('Expected integer t in 1..999 but received 0'));
  assert.throws(() => setTimesteps(linear, 1000), usage('Expected integer t in 1..999 but received 1000'));
  assert.throws(() => setTimesteps(linear, 2.5), usage('Expected integer t in 1..999 but received 2.5'));
  assert.throws(() => setTimesteps(linear, 100, 0), usage('Expected positive integer for steps but received 0'));
  assert.throws(() => setTimesteps(linear, 100, 1.5), usage('Expected positive integer for steps but received 1.5'));
  assert.throws(() => noiseLevel(linear, -1), usage('Expected integer t in 0..999 but received -1'));
});

test('alphaBarPrev: 0 is the clean image', () => {
  assert.equal(alphaBarPrev(linear, 0), 1);
  assert.equal(alphaBarPrev(linear, 5), linear.alphasCumprod[5]);
});

test('cosine and table schedules', () => {
  const cos = makeSchedule(1000, { kind: 'cosine' });
  // ᾱ(t) ≈ f(t/T)/f(0): at the middle, cos²((0.5+s)/(1+s)·π/2)/cos²(s/(1+s)·π/2)
  const s = 0.008,
    f = (u: number) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  assert.ok(Math.abs(cos.alphasCumprod[499]! - f(0.5) / f(0)) < 1e-12);
  assert.ok(cos.betas.every((b) => b > 0 && b <= 0.999));
  const table = makeSchedule(4, { kind: 'table', alphasCumprod: [0.9, 0.64, 0.36, 0.1] });
  assert.deepEqual(Array.from(table.alphasCumprod), [0.9, 0.64, 0.36, 0.1]);
  assert.ok(Math.abs(table.betas[2]! - 0.4375) < 1e-15); // 1 − 0.36/0.64
  const rebuilt = makeSchedule(1000, { kind: 'table', alphasCumprod: Array.from(linear.alphasCumprod) });
  for (let i = 0; i < 1000; i++) assert.ok(Math.abs(rebuilt.betas[i]! - linear.betas[i]!) < 1e-12);
  assert.throws(
    () => makeSchedule(3, { kind: 'table', alphasCumprod: [0.9, 0.64] }),
    usage('Expected 3 values in the alphasCumprod table but received 2'),
  );
  assert.throws(
    () => makeSchedule(2, { kind: 'table', alphasCumprod: [0.5, 0.6] }),
    usage('Expected alphasCumprod strictly decreasing in (0, 1) but received 0.6 at step 1'),
  );
  assert.throws(
    () => makeSchedule(1, { kind: 'linear', start: 1e-4, end: 0.02 }),
    usage('Expected integer T of at least 2 but received 1'),
  );
  assert.throws(() => makeSchedule(10, { kind: 'linear', start: 0, end: 0.02 }), usage('Expected beta start in (0, 1) but received 0'));
});
