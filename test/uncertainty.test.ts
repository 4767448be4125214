/** The uncertainty map: its arithmetic, its colour scale, the library's result and `sr upscale --uncertainty`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createImage } from '../src/image/tensor.js';
import { UNCERTAINTY_COLORS, UNCERTAINTY_SCALE_MAX, uncertaintyColor, uncertaintyMap } from '../src/metrics/uncertainty.js';
import { loadModel } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';
import { FAST, sr, tempDir } from './cli-helpers.js';

const grey = (level: number, h = 2, w = 3) => createImage(3, h, w, new Float32Array(3 * h * w).fill(level / 127.5 - 1));

test('the map is the per-pixel luma std across samples (K - 1), in grey levels', () => {
  // grey g has luma 16 + g·219/255: two greys 10 levels apart differ by 10·219/255 in luma
  const m = uncertaintyMap([grey(100), grey(110)]);
  const d = (10 * 219) / 255;
  assert.equal(m.std.length, 6);
  for (const v of m.std) assert.ok(Math.abs(v - d / Math.SQRT2) < 1e-3, `${v}`);
  assert.ok(Math.abs(m.mean - d / Math.SQRT2) < 1e-3);
  assert.equal(m.samples, 2);
  assert.equal(uncertaintyMap([grey(50), grey(50), grey(50)]).max, 0);
  assert.throws(() => uncertaintyMap([grey(1)]), /at least 2 samples/);
  assert.throws(() => uncertaintyMap([grey(1), grey(1, 3, 3)]), /one size/);
});

test('the colour scale runs from black at 0 to pale yellow at the maximum and beyond', () => {
  const hex = (c: number[]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
  assert.equal(hex(uncertaintyColor(0)), UNCERTAINTY_COLORS[0]);
  assert.equal(hex(uncertaintyColor(UNCERTAINTY_SCALE_MAX)), UNCERTAINTY_COLORS.at(-1));
  assert.equal(hex(uncertaintyColor(1000)), UNCERTAINTY_COLORS.at(-1));
  assert.equal(hex(uncertaintyColor(-1)), UNCERTAINTY_COLORS[0]);
});

test('upscale returns the map of its samples with uncertainty: true, and refuses it for one sample', async () => {
  const model = await loadModel('fixture');
  try {
    const r = await upscale('fixtures/flowers-32.png', { model, t: 20, steps: 2, seed: 1, samples: 3, uncertainty: true });
    assert.ok(r.uncertainty);
    assert.equal(r.uncertainty.width, 128);
    assert.equal(r.uncertainty.height, 128);
    assert.deepEqual(r.uncertainty, uncertaintyMap(r.samples));
    assert.ok(r.uncertainty.mean > 0);
    const plain = await upscale('fixtures/flowers-32.png', { model, t: 20, steps: 2, seed: 1, samples: 2 });
    assert.equal(plain.uncertainty, null);
    await assert.rejects(upscale('fixtures/flowers-32.png', { model, t: 20, steps: 2, uncertainty: true }), /at least 2 samples/);
  } finally {
    await model.dispose();
  }
});

test('sr upscale --uncertainty writes the map beside the output, checked before any work', async () => {
  const dir = tempDir('unc');
  const out = join(dir, 'o.png');
  const map = join(dir, 'u.png');
  const r = await sr(['upscale', 'fixtures/flowers-32.png', '-o', out, ...FAST, '--samples', '2', '--uncertainty', map, '-q']);
  assert.equal(r.status, 0, r.stderr);
  const meta = await sharp(map).metadata();
  assert.deepEqual([meta.width, meta.height, meta.format], [128, 128, 'png']);
  // the same run again: the map exists (exit 5, nothing written); with --force it is replaced
  const again = await sr([
    'upscale',
    'fixtures/flowers-32.png',
    '-o',
    join(dir, 'o2.png'),
    ...FAST,
    '--samples',
    '2',
    '--uncertainty',
    map,
  ]);
  assert.equal(again.status, 5, again.stderr);
  assert.match(again.stderr, /u\.png exists/);
  assert.equal(existsSync(join(dir, 'o2.png')), false);
  const forced = await sr([
    'upscale',
    'fixtures/flowers-32.png',
    '-o',
    out,
    ...FAST,
    '--samples',
    '2',
    '--uncertainty',
    map,
    '--force',
    '-q',
  ]);
  assert.equal(forced.status, 0, forced.stderr);
  // one sample, a batch, a map over the output or not a PNG: usage or output errors, before any work
  const one = await sr(['upscale', 'fixtures/flowers-32.png', '-o', join(dir, 'a.png'), ...FAST, '--uncertainty', join(dir, 'm.png')]);
  assert.equal(one.status, 2);
  assert.match(one.stderr, /needs at least 2 samples/);
  const batch = await sr(['upscale', 'fixtures', '-o', join(dir, 'b'), ...FAST, '--samples', '2', '--uncertainty', join(dir, 'm.png')]);
  assert.equal(batch.status, 2);
  assert.match(batch.stderr, /one input/);
  const over = await sr([
    'upscale',
    'fixtures/flowers-32.png',
    '-o',
    join(dir, 'c.png'),
    ...FAST,
    '--samples',
    '2',
    '--uncertainty',
    join(dir, 'c.png'),
  ]);
  assert.equal(over.status, 5);
  const jpg = await sr([
    'upscale',
    'fixtures/flowers-32.png',
    '-o',
    join(dir, 'd.png'),
    ...FAST,
    '--samples',
    '2',
    '--uncertainty',
    join(dir, 'm.jpg'),
  ]);
  assert.equal(jpg.status, 2);
  for (const f of ['a.png', 'm.png', 'c.png', 'd.png']) assert.equal(existsSync(join(dir, f)), false, f);
});
