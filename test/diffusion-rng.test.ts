import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/diffusion/rng.js';
import { UsageError } from '../src/errors.js';

test('the same seed repeats the stream; another seed differs', () => {
  const a = createRng(42),
    b = createRng(42),
    c = createRng(43);
  const sa = Array.from({ length: 8 }, () => a.nextUint32());
  const sb = Array.from({ length: 8 }, () => b.nextUint32());
  const sc = Array.from({ length: 8 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  for (const v of sa) assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
});

test('seed 0 works and an unseeded generator exposes a seed that repeats it', () => {
  const z = createRng(0);
  assert.notEqual(z.nextUint32() | z.nextUint32() | z.nextUint32(), 0);
  const r = createRng();
  assert.ok(Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= 0xffffffff);
  const again = createRng(r.seed);
  assert.deepEqual([r.normal(), r.normal(), r.nextFloat()], [again.normal(), again.normal(), again.nextFloat()]);
});

test('fillNormal gives exactly the stream of repeated normal() calls, spare included', () => {
  const a = createRng(7),
    b = createRng(7);
  const first = a.normal(); // leaves a cached spare in a
  const buf = a.fillNormal(new Float32Array(5)); // spare + 2 pairs; no spare left
  const tail = a.fillNormal(new Float32Array(3)); // 1 pair + 1 normal() that caches a spare
  const next = a.normal();
  const ref = Array.from({ length: 10 }, () => Math.fround(b.normal()));
  assert.deepEqual([Math.fround(first), ...buf, ...tail, Math.fround(next)], ref);
});

test('nextFloat is in [0, 1) and normals have mean 0, variance 1', () => {
  const r = createRng(123);
  for (let i = 0; i < 1000; i++) {
    const u = r.nextFloat();
    assert.ok(u >= 0 && u < 1);
  }
  const n = 200_000;
  const z = r.fillNormal(new Float32Array(n));
  let s = 0,
    s2 = 0;
  for (const v of z) {
    s += v;
    s2 += v * v;
  }
  const mean = s / n,
    variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`); // std error 0.0022
  assert.ok(Math.abs(variance - 1) < 0.015, `variance ${variance}`); // std error 0.0032
});

test('invalid seeds are usage errors', () => {
  assert.throws(
    () => createRng(1.5),
    (e: unknown) => e instanceof UsageError && e.message === 'Expected integer seed in 0..4294967295 but received 1.5',
  );
  assert.throws(() => createRng(-1), UsageError);
  assert.throws(() => createRng(2 ** 32), UsageError);
});
