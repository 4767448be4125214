/**
 * The patch grid (issue 21): a patched UNet lays a fixed pattern on its p×p layout. periodicSpike measures how it
 * stands out of the spectrum, periodicAmplitude how strong it is. Moving the grid between evaluations
 * (TilingOptions.shiftGrid) must remove most of the Gaussian prior's. The shipped default model evaluates once per
 * pass, deterministically, so its last evaluation's pattern would stay: removeGridPattern (TilingOptions.removeGrid,
 * on by default for the soft-resample family) must take it out of the spectrum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upscale } from '../src/upscale.js';
import { loadModel } from '../src/model/session.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { createPlane, fromImageTensor, lumaBt601, periodicAmplitude, periodicSpike } from '../src/metrics/index.js';

const plane = (w: number, h: number, f: (x: number, y: number) => number) =>
  createPlane(
    w,
    h,
    Float64Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w))),
  );

test('periodicSpike: a tone at the period is a spike, a tone two bins away or a constant is not, axes are separate', () => {
  const n = 64;
  const tone = plane(n, 8, (x) => 100 + Math.cos((2 * Math.PI * x) / 4) + 0.001 * Math.cos((2 * Math.PI * 5 * x) / n));
  assert.ok(periodicSpike(tone, 4, 'x') > 1e3);
  // the same tone along y is invisible along x, and vice versa
  assert.ok(
    periodicSpike(
      plane(8, n, (_, y) => Math.cos((2 * Math.PI * y) / 4) + 0.01 * Math.sin(y)),
      4,
      'y',
    ) > 1e3,
  );
  // a tone at bin N/4 + 2 (a neighbour): the power sits beside the period, the ratio is far below 1
  const beside = plane(n, 8, (x) => Math.cos((2 * Math.PI * (n / 4 + 2) * x) / n));
  assert.ok(periodicSpike(beside, 4, 'x') < 0.05);
  // period 2 is the Nyquist frequency: only lower neighbours exist
  assert.ok(
    periodicSpike(
      plane(n, 4, (x) => (x % 2) + 0.01 * Math.sin(x)),
      2,
      'x',
    ) > 1e3,
  );
  // a constant has no power anywhere
  assert.equal(
    periodicSpike(
      plane(n, 4, () => 7),
      4,
      'x',
    ),
    1,
  );
  assert.throws(
    () =>
      periodicSpike(
        plane(12, 4, () => 1),
        4,
        'x',
      ),
    /at least 16 pixels/,
  );
});

/** A smooth, lightly textured 64×64 input (a wall or a sky): where a grid shows most. */
function flatTextured(): ImageTensor {
  const n = 64;
  const img = createImage(3, n, n);
  let s = 12345;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        img.data[(c * n + y) * n + x] =
          0.1 * c - 0.1 + 0.15 * Math.sin((2 * Math.PI * x) / 23) + 0.1 * Math.cos((2 * Math.PI * (y + 0.5 * x)) / 31) + 0.03 * rnd();
      }
    }
  }
  return img;
}

/** The largest spike at the patch period (4) and its harmonic (2) along both axes of the 8-bit output's luma. */
function worstSpike(image: ImageTensor): number {
  const y = lumaBt601(fromImageTensor(image, { quantize: true }));
  return Math.max(periodicSpike(y, 4, 'x'), periodicSpike(y, 4, 'y'), periodicSpike(y, 2, 'x'), periodicSpike(y, 2, 'y'));
}

/** The strongest pattern at period 4 or 2 along either axis of the output's luma, in grey levels. */
function worstAmplitude(image: ImageTensor): number {
  const y = lumaBt601(fromImageTensor(image));
  return Math.max(periodicAmplitude(y, 4, 'x'), periodicAmplitude(y, 4, 'y'), periodicAmplitude(y, 2, 'x'), periodicAmplitude(y, 2, 'y'));
}

// ×3: the input's own pixel lattice then has period 3, so whatever repeats every 4 or 2 pixels is the patch grid
test("the shipped default model's output has no patch grid on a flat-textured input (x3): removed, the spike is at most 2x its neighbours", async () => {
  const model = await loadModel('default');
  const kept = (await upscale(flatTextured(), { model, factor: 3, seed: 1, tiling: { removeGrid: false } })).image;
  const removed = (await upscale(flatTextured(), { model, factor: 3, seed: 1 })).image;
  const [sk, sr] = [worstSpike(kept), worstSpike(removed)];
  assert.ok(sk > 6, `kept: ${sk.toFixed(2)}`); // measured 18.2
  assert.ok(sr <= 2, `removed: ${sr.toFixed(2)}`); // measured 1.49
  const [ak, ar] = [worstAmplitude(kept), worstAmplitude(removed)];
  assert.ok(ar < 0.1 && ar < ak / 3, `amplitude removed ${ar.toFixed(3)} against kept ${ak.toFixed(3)} grey levels`); // measured 0.032 against 0.186
  await model.dispose();
});

test("moving the patch grid between evaluations removes most of the Gaussian prior's grid (x3)", async () => {
  const model = await loadModel('gaussian');
  const fixed = (await upscale(flatTextured(), { model, factor: 3, seed: 1, tiling: { shiftGrid: false } })).image;
  const moved = (await upscale(flatTextured(), { model, factor: 3, seed: 1 })).image;
  const [sf, sm] = [worstSpike(fixed), worstSpike(moved)];
  assert.ok(sf > 6, `fixed grid: ${sf.toFixed(2)}`); // measured 13.9
  assert.ok(sm < sf / 2.5 && sm < 5, `moved ${sm.toFixed(2)} against fixed ${sf.toFixed(2)}`); // measured 4.2
  const [af, am] = [worstAmplitude(fixed), worstAmplitude(moved)];
  assert.ok(am < 0.7 * af, `amplitude moved ${am.toFixed(3)} against fixed ${af.toFixed(3)}`); // measured 0.35 against 0.59
});
