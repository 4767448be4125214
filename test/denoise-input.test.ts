import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denoiseInput, greyToUnit, stepForNoise } from '../src/diffusion/denoise-input.js';
import { makeSchedule, noiseLevel } from '../src/diffusion/schedule.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { upscale } from '../src/upscale.js';
import { loadModel } from '../src/model/session.js';

const schedule = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });

test('stepForNoise: the first step whose noise level reaches sigma (linear 1e-4..0.02: t=50 is 0.176)', () => {
  assert.equal(stepForNoise(schedule, noiseLevel(schedule, 50)), 50);
  assert.equal(stepForNoise(schedule, noiseLevel(schedule, 50) * 1.000001), 51);
  assert.equal(stepForNoise(schedule, 0.17), 49); // noiseLevel(49) = 0.1728 >= 0.17 > noiseLevel(48) = 0.1695
  assert.equal(stepForNoise(schedule, 1e-6), 1);
  // 10 grey levels = 0.0784 in [-1, 1] units: t = 20 (0.0794; t = 19 is below)
  assert.equal(stepForNoise(schedule, greyToUnit(10)), 20);
  assert.ok(noiseLevel(schedule, 19) < greyToUnit(10));
  assert.throws(() => stepForNoise(schedule, 0), /above 0/);
  assert.throws(() => stepForNoise(schedule, 1e3), /covers/);
});

test("denoiseInput: with a model that knows the noise, y = x + sigma·n at a step's own level gives x back", async () => {
  const t = 40;
  const sigma = noiseLevel(schedule, t); // [-1, 1] units
  const n = 2 * 5 * 7;
  const x = createImage(
    3,
    5,
    7,
    Float32Array.from({ length: (n * 3) / 2 }, (_, i) => 0.8 * Math.sin(i)),
  );
  const noise = Float32Array.from({ length: x.data.length }, (_, i) => Math.cos(3 * i));
  const y = createImage(
    3,
    5,
    7,
    Float32Array.from(x.data, (v, i) => v + sigma * noise[i]!),
  );
  const seen: number[] = [];
  const oracle = async (_xt: ImageTensor, step: number) => {
    seen.push(step);
    return createImage(3, 5, 7, noise.slice()); // eps: the noise itself
  };
  const out = await denoiseInput(y, (sigma * 255) / 2, { schedule, prediction: 'eps', denoise: oracle });
  assert.deepEqual(seen, [t]);
  for (let i = 0; i < x.data.length; i++) assert.ok(Math.abs(out.data[i]! - x.data[i]!) < 1e-5, `${i}`);
  assert.notEqual(out, y);
});

test('upscale --noise: the input is denoised first by the Gaussian prior, recorded in the settings; a soft model cannot', async () => {
  const lr = createImage(
    3,
    16,
    16,
    Float32Array.from({ length: 768 }, (_, i) => 0.3 * Math.sin(i / 5) + 0.05 * Math.cos(i * 7.3)),
  );
  const model = await loadModel('fixture');
  const plain = await upscale(lr, { model, factor: 2, t: 10, steps: 2, seed: 1 });
  const denoised = await upscale(lr, { model, factor: 2, t: 10, steps: 2, seed: 1, noise: 8 });
  assert.equal(plain.settings.noise, 0);
  assert.equal(plain.settings.denoiser, null);
  assert.equal(denoised.settings.noise, 8);
  assert.equal(denoised.settings.denoiser, 'gaussian');
  assert.notDeepEqual(denoised.image.data, plain.image.data);
  await assert.rejects(
    upscale(lr, { model, factor: 2, seed: 1, noise: 8, denoiser: 'default' }),
    /Gaussian-family model to remove --noise, but default is soft-resample/,
  );
  await assert.rejects(upscale(lr, { model, factor: 2, seed: 1, noise: 80 }), /noise/);
  await model.dispose();
});
