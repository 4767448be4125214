import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { evaluate } from '../src/eval/evaluate.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { measure } from '../src/metrics/index.js';
import { loadModel, type ModelSession } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';

let model: ModelSession;
let dir = '';
const lr = createImage(3, 16, 16);
for (let i = 0; i < lr.data.length; i++) lr.data[i] = Math.sin(i * 0.3) * 0.6 + Math.cos(i * 0.05) * 0.2;
const hr = createImage(3, 32, 32);
for (let i = 0; i < hr.data.length; i++) hr.data[i] = Math.sin(i * 0.15) * 0.6 + Math.cos(i * 0.025) * 0.2;
const common = { factor: 2, t: 30, steps: 3, seed: 11, samples: 2 } as const;

before(async () => {
  model = await loadModel('fixture');
  dir = await mkdtemp(join(tmpdir(), 'boomerang-samples-'));
});
after(async () => {
  await model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const differs = (a: ImageTensor, b: ImageTensor) => a.data.some((v, i) => Math.abs(v - b.data[i]!) > 1e-4);

describe('--samples K --reduce', () => {
  it('none keeps K distinct outputs; mean is their per-pixel mean and differs from each; median of 2 equals mean', async () => {
    const none = await upscale(lr, { ...common, model, reduce: 'none' });
    assert.equal(none.samples.length, 2);
    assert.ok(differs(none.samples[0]!, none.samples[1]!), 'the two samples differ');
    assert.equal(none.image, none.samples[0]);
    const mean = await upscale(lr, { ...common, model, reduce: 'mean' });
    assert.ok(differs(mean.image, none.samples[0]!) && differs(mean.image, none.samples[1]!), 'the mean differs from each sample');
    for (let i = 0; i < mean.image.data.length; i++) {
      assert.ok(Math.abs(mean.image.data[i]! - (none.samples[0]!.data[i]! + none.samples[1]!.data[i]!) / 2) < 1e-6);
    }
    const median = await upscale(lr, { ...common, model, reduce: 'median' });
    assert.ok(!differs(median.image, mean.image));
    // averaging trades detail for fidelity: less high-frequency energy and no larger squared error than the samples on average
    const m = (x: ImageTensor) => measure(x, hr, { shave: 2, quantize: false });
    const [s0, s1, avg] = [m(none.samples[0]!), m(none.samples[1]!), m(mean.image)];
    assert.ok(avg.detailRatio < (s0.detailRatio + s1.detailRatio) / 2);
    const mse = (p: number) => 255 ** 2 / 10 ** (p / 10);
    assert.ok(mse(avg.psnrY) <= (mse(s0.psnrY) + mse(s1.psnrY)) / 2 + 1e-9);
  });

  it('sr eval with reduce none scores each sample and averages the scores; with mean, the mean image', async () => {
    const hrDir = join(dir, 'hr');
    await mkdir(hrDir, { recursive: true });
    const buf = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.round(128 + 90 * Math.sin(i * 0.11) * Math.cos(i * 0.007));
    await sharp(buf, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(join(hrDir, 'p.png'));
    const options = { t: 30, steps: 3, seed: 5, samples: 2 };
    const none = await evaluate({
      hr: hrDir,
      factor: 2,
      model,
      method: { kind: 'boomerang', options: { ...options, reduce: 'none' } },
      saveDir: join(dir, 'out-none'),
    });
    const im = none.images[0]!;
    assert.equal(im.perSample!.length, 2);
    assert.ok(Math.abs(im.psnrY - (im.perSample![0]!.psnrY + im.perSample![1]!.psnrY) / 2) < 1e-12);
    assert.notEqual(im.perSample![0]!.psnrY, im.perSample![1]!.psnrY);
    assert.deepEqual((await readdir(join(dir, 'out-none'))).sort(), ['p_s1_SR.png', 'p_s2_SR.png']);
    const mean = await evaluate({ hr: hrDir, factor: 2, model, method: { kind: 'boomerang', options: { ...options, reduce: 'mean' } } });
    assert.equal(mean.images[0]!.perSample, undefined);
    assert.notEqual(mean.images[0]!.psnrY, im.psnrY);
    assert.equal(mean.settings!.samples, 2);
    assert.equal(mean.settings!.reduce, 'mean');
  });
});
