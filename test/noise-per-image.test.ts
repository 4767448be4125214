/**
 * Why cascade N=2 looked worse than N=1 and N=3 in every sweep: the sweep gave every image the same seed, so
 * all images of one size got the same noise field and the set mean was one draw of the noise. Images now draw
 * their own noise (itemSeed), and a sweep's or evaluation's record names the seed that repeats the image's run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itemSeed } from '../src/diffusion/rng.js';
import { evaluate } from '../src/eval/evaluate.js';
import { runSweep } from '../src/eval/sweep.js';
import { expandGrid } from '../src/eval/grid.js';
import { decodeImage } from '../src/image/io.js';
import { matlabImresize } from '../src/image/upsample.js';
import { loadModel } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';

const model = await loadModel('fixture');
test.after(() => model.dispose());

/** Two copies of one image under two names: with one noise field for all, they would score the same. */
async function twins(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-twins-'));
  await copyFile('fixtures/flowers-64.png', join(dir, 'a.png'));
  await copyFile('fixtures/flowers-64.png', join(dir, 'b.png'));
  return dir;
}

test('itemSeed is fixed per (seed, name), differs between names and seeds, and stays 32-bit', () => {
  assert.equal(itemSeed(0, 'baby'), itemSeed(0, 'baby'));
  assert.notEqual(itemSeed(0, 'baby'), itemSeed(0, 'bird'));
  assert.notEqual(itemSeed(0, 'baby'), itemSeed(1, 'baby'));
  const seen = new Set(Array.from({ length: 1000 }, (_, i) => itemSeed(7, `img${i}`)));
  assert.equal(seen.size, 1000);
  for (const s of seen) assert.ok(Number.isInteger(s) && s >= 0 && s <= 0xffffffff);
  // pinned (FNV-1a of 'a' is 0xe40c292c, then XOR seed and murmur3's fmix32): a change here changes the noise of
  // every recorded sweep, so their resume keys would no longer match
  assert.deepEqual([itemSeed(0, 'a'), itemSeed(1, 'a'), itemSeed(0, '')], [444641715, 711464985, 2872998923]);
});

test('an evaluation gives each image its own noise, and the recorded seed repeats that image alone', async () => {
  const hr = await twins();
  const r = await evaluate({ hr, factor: 4, model, method: { kind: 'boomerang', options: { t: 30, steps: 3, cascade: 1, seed: 5 } } });
  const [a, b] = r.images;
  assert.notEqual(a!.psnrY, b!.psnrY, 'identical images with one noise field would score identically');
  assert.equal(a!.seed, itemSeed(5, 'a'));
  assert.equal(r.settings!.seed, 5);
  const lr = matlabImresize((await decodeImage(join(hr, 'b.png'))).rgb, 1 / 4);
  const again = await upscale(lr, { model, factor: 4, t: 30, steps: 3, cascade: 1, seed: b!.seed! });
  const solo = await evaluate({
    hr,
    factor: 4,
    model,
    limit: 2,
    method: { kind: 'boomerang', options: { t: 30, steps: 3, cascade: 1, seed: 5 } },
  });
  assert.equal(solo.images[1]!.psnrY, b!.psnrY);
  assert.equal(again.settings.seed, itemSeed(5, 'b'));
});

test('a sweep draws noise per image (the same in every cell) and records the seed of each', async () => {
  const hr = await twins();
  const out = await mkdtemp(join(tmpdir(), 'sr-sweep-noise-'));
  const s = await runSweep({ hr, out, model, factors: [4], ts: [20], cascades: [1, 2], steps: [2], seed: 3, saveImages: 'none' });
  const boom = s.records.filter((r) => r.kind === 'boomerang');
  assert.equal(boom.length, 4);
  for (const r of boom) assert.equal(r.noiseSeed, itemSeed(3, r.image));
  const n1 = boom.filter((r) => r.cascade === 1);
  assert.notEqual(n1[0]!.psnrY, n1[1]!.psnrY);
});

test('a sweep without --consistency/--cascade/--upsampler uses the model defaults, as sr upscale does', () => {
  const cells = expandGrid(
    { factors: [4], ts: [50] },
    { T: 1000, defaultSteps: 10, defaultCascade: 3, defaultUpsampler: 'lanczos', defaultConsistency: 'ibp' },
  );
  const b = cells.filter((c) => c.kind === 'boomerang');
  assert.deepEqual(
    b.map((c) => c.id),
    ['x4 t50 N3 lanczos ibp S10 K1'],
  );
  const plain = expandGrid({ factors: [4], ts: [50] }, { T: 1000, defaultSteps: 10 });
  assert.deepEqual(
    plain.filter((c) => c.kind === 'boomerang').map((c) => c.id),
    ['x4 t50 N1 bicubic ddnm S10 K1'],
  );
});

test('each cascade pass draws fresh forward noise (none reused or correlated between passes)', async () => {
  const { cascade } = await import('../src/diffusion/boomerang.js');
  const { createRng } = await import('../src/diffusion/rng.js');
  const { makeSchedule } = await import('../src/diffusion/schedule.js');
  const { createImage } = await import('../src/image/tensor.js');
  const schedule = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });
  const n = 3 * 32 * 32;
  const x = createImage(3, 32, 32, new Float32Array(n).fill(0.25));
  const firstInputs: Float32Array[] = [];
  const outputs: Float32Array[] = [];
  // a denoiser whose x̂0 is always 0 (eps = x_t / √(1−ᾱ)), so each pass ends on a known image; one step per pass,
  // so its input is the pass's x_t = √ᾱ·start + √(1−ᾱ)·ε and ε can be read back
  const denoise = async (xt: typeof x, t: number) => {
    firstInputs.push(xt.data.slice());
    const o = createImage(3, 32, 32);
    const s = Math.sqrt(1 - schedule.alphasCumprod[t]!);
    o.data.forEach((_, i) => {
      o.data[i] = xt.data[i]! / s;
    });
    return o;
  };
  await cascade(x, {
    schedule,
    prediction: 'eps',
    passes: [40, 40],
    steps: 1,
    rng: createRng(1),
    denoise,
    onPass: (p) => outputs.push(p.output.data.slice()),
  });
  const a = schedule.alphasCumprod[40]!;
  const eps = (xt: Float32Array, start: Float32Array) => xt.map((v, i) => (v - Math.sqrt(a) * start[i]!) / Math.sqrt(1 - a));
  const e1 = eps(firstInputs[0]!, x.data);
  const e2 = eps(firstInputs[1]!, outputs[0]!);
  let dot = 0,
    n1 = 0,
    n2 = 0;
  for (let i = 0; i < n; i++) {
    dot += e1[i]! * e2[i]!;
    n1 += e1[i]! ** 2;
    n2 += e2[i]! ** 2;
  }
  const corr = dot / Math.sqrt(n1 * n2);
  assert.ok(Math.abs(corr) < 4 / Math.sqrt(n), `pass noises correlate: ${corr}`);
  assert.ok(Math.abs(n1 / n - 1) < 0.1 && Math.abs(n2 / n - 1) < 0.1, 'each pass noise is standard normal');
});
