/**
 * Issue 21 item 2: the patch grid of the shipped default (soft-resample) model, with and without removeGridPattern
 * (TilingOptions.removeGrid): (a) on a flat-textured synthetic input at x3 and x4 (the input's own lattice has
 * period 3 at x3, so what repeats every 4 or 2 pixels is the grid), the largest spectrum spike at period 4 or 2 over
 * its neighbours on the 8-bit output's luma (test/patch-grid.test.ts's measure) and the pattern's amplitude in grey
 * levels, for the default and each preset; (b) PSNR-Y/SSIM-Y (shave = factor) on held-out validation crops at x2,
 * x4, x8 (models/train/val_crops.py) for the default and `--preset fidelity`, off against on.
 *
 *   npx tsc -p . && node dist/benchmarks/patch-grid.js --val /tmp/ab/val [--limit 48] [--radius 2] [--label X]
 *
 * Writes benchmarks/results/patch-grid-<date>[-label].{json,md}.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scoreImages } from '../src/eval/score.js';
import { decodeImage } from '../src/image/io.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { upsample } from '../src/image/upsample.js';
import { fromImageTensor, lumaBt601, periodicAmplitude, periodicSpike } from '../src/metrics/index.js';
import { loadModel } from '../src/model/session.js';
import { upscale, type UpscaleOptions } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    limit: { type: 'string', default: '48' },
    radius: { type: 'string', default: '' },
    factors: { type: 'string', default: '2,4,8' },
    label: { type: 'string', default: '' },
  },
});
if (!a.val) {
  console.error('usage: node dist/benchmarks/patch-grid.js --val HRDIR [--limit N] [--radius R] [--factors 2,4,8] [--label X]');
  process.exit(2);
}

/** test/patch-grid.test.ts's input: a smooth, lightly textured 64×64 image (a wall or a sky). */
function flatTextured(n = 64): ImageTensor {
  const img = createImage(3, n, n);
  let s = 12345;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++)
        img.data[(c * n + y) * n + x] =
          0.1 * c - 0.1 + 0.15 * Math.sin((2 * Math.PI * x) / 23) + 0.1 * Math.cos((2 * Math.PI * (y + 0.5 * x)) / 31) + 0.03 * rnd();
  return img;
}
const luma = (im: ImageTensor, quantize: boolean) => lumaBt601(fromImageTensor(im, { quantize }));
const spike = (im: ImageTensor) => {
  const y = luma(im, true);
  return Math.max(periodicSpike(y, 4, 'x'), periodicSpike(y, 4, 'y'), periodicSpike(y, 2, 'x'), periodicSpike(y, 2, 'y'));
};
const amplitude = (im: ImageTensor) => {
  const y = luma(im, false);
  return Math.max(periodicAmplitude(y, 4, 'x'), periodicAmplitude(y, 4, 'y'), periodicAmplitude(y, 2, 'x'), periodicAmplitude(y, 2, 'y'));
};

const model = await loadModel('default');
const on: UpscaleOptions['tiling'] = a.radius ? { removeGrid: Number(a.radius) } : {};
const off: UpscaleOptions['tiling'] = { removeGrid: false };
const settings: Array<{ name: string; options: UpscaleOptions }> = [
  { name: 'default', options: {} },
  { name: 'fidelity', options: { preset: 'fidelity' } },
  { name: 'balanced', options: { preset: 'balanced' } },
  { name: 'detail', options: { preset: 'detail' } },
];

interface GridRow {
  factor: number;
  setting: string;
  spikeOff: number;
  spikeOn: number;
  amplitudeOff: number;
  amplitudeOn: number;
}
const grid: GridRow[] = [];
for (const factor of [3, 4]) {
  const b = upsample(flatTextured(), factor, 'bicubic');
  grid.push({ factor, setting: 'bicubic', spikeOff: spike(b), spikeOn: spike(b), amplitudeOff: amplitude(b), amplitudeOn: amplitude(b) });
  for (const s of settings) {
    const kept = (await upscale(flatTextured(), { model, factor, seed: 1, ...s.options, tiling: off })).image;
    const removed = (await upscale(flatTextured(), { model, factor, seed: 1, ...s.options, tiling: on })).image;
    grid.push({
      factor,
      setting: s.name,
      spikeOff: spike(kept),
      spikeOn: spike(removed),
      amplitudeOff: amplitude(kept),
      amplitudeOn: amplitude(removed),
    });
    console.log(JSON.stringify(grid.at(-1)));
  }
}

interface QualityRow {
  factor: number;
  setting: string;
  psnrOff: number;
  psnrOn: number;
  ssimOff: number;
  ssimOn: number;
}
const quality: QualityRow[] = [];
const val = a.val.replace(/\/$/, '');
const names = (await readdir(val))
  .filter((n) => n.endsWith('.png'))
  .sort()
  .slice(0, Number(a.limit));
for (const factor of a.factors.split(',').map(Number)) {
  for (const s of settings.slice(0, 2)) {
    const r = { psnrOff: 0, psnrOn: 0, ssimOff: 0, ssimOn: 0 };
    for (const name of names) {
      const hr = (await decodeImage(join(val, name))).rgb;
      const lr = (await decodeImage(join(`${val}-lr/x${factor}`, name))).rgb;
      const kept = scoreImages([(await upscale(lr, { model, factor, seed: 0, ...s.options, tiling: off })).image], hr, factor).score;
      const removed = scoreImages([(await upscale(lr, { model, factor, seed: 0, ...s.options, tiling: on })).image], hr, factor).score;
      r.psnrOff += kept.psnrY / names.length;
      r.psnrOn += removed.psnrY / names.length;
      r.ssimOff += kept.ssimY / names.length;
      r.ssimOn += removed.ssimY / names.length;
    }
    quality.push({ factor, setting: s.name, ...r });
    console.log(JSON.stringify(quality.at(-1)));
  }
}
await model.dispose();

const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `patch-grid-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const radius = a.radius || 'GRID_RADIUS (the default)';
await writeFile(`${base}.json`, `${JSON.stringify({ radius, images: names.length, grid, quality }, null, 2)}\n`);
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const md = [
  `# The default model's patch grid, kept and removed (${date})`,
  '',
  `Model models/default (soft-resample), removeGridPattern radius ${radius}, seed 1 (grid) / 0 (quality).`,
  '',
  '## On a flat-textured 64² input (test/patch-grid.test.ts)',
  '',
  "Spike: the largest spectrum power at period 4 or 2 (x or y) of the 8-bit output's luma over its neighbours' mean (1: none).",
  'Amplitude: the strongest sinusoid at those periods, in grey levels (float output).',
  '',
  '| factor | setting | spike kept | spike removed | amplitude kept | amplitude removed |',
  '|---|---|---|---|---|---|',
  ...grid.map(
    (r) => `| x${r.factor} | ${r.setting} | ${f2(r.spikeOff)} | ${f2(r.spikeOn)} | ${f3(r.amplitudeOff)} | ${f3(r.amplitudeOn)} |`,
  ),
  '',
  `## Quality on ${names.length} held-out validation crops (PSNR-Y / SSIM-Y, shave = factor)`,
  '',
  '| factor | setting | PSNR-Y kept | PSNR-Y removed | Δ dB | SSIM-Y kept | SSIM-Y removed |',
  '|---|---|---|---|---|---|---|',
  ...quality.map(
    (r) =>
      `| x${r.factor} | ${r.setting} | ${f3(r.psnrOff)} | ${f3(r.psnrOn)} | ${(r.psnrOn - r.psnrOff >= 0 ? '+' : '') + f3(r.psnrOn - r.psnrOff)} | ${r.ssimOff.toFixed(4)} | ${r.ssimOn.toFixed(4)} |`,
  ),
  '',
  `Command: node dist/benchmarks/patch-grid.js --val VAL --limit ${a.limit}${a.radius ? ` --radius ${a.radius}` : ''}${a.label ? ` --label ${a.label}` : ''}`,
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
