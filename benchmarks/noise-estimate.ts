/**
 * The noise-level estimators of src/image/noise-level.ts on held-out validation crops (issue 22: `--input auto` must
 * leave every clean input alone and find σ 5 and 10): LR made as degraded.ts makes it (the product's matlabImresize;
 * Gaussian noise of σ grey levels seeded per crop exactly as degraded.ts seeds it, rounded to 8 bits; JPEG through
 * sharp), and each estimator's σ in grey levels per crop and condition: mean, min, max.
 *
 *   npx tsc -p . && node dist/benchmarks/noise-estimate.js --val /tmp/ab/val --limit 98 --factors 2,4,8
 *
 * `--estimators 'pca d5,laplacian median'` runs only those. Writes benchmarks/results/noise-estimate-<date>[-label].{json,md}.
 */
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRng, itemSeed } from '../src/diffusion/rng.js';
import { decodeImage, encodeImage } from '../src/image/io.js';
import { laplacianNoiseLevel, pcaNoiseLevel } from '../src/image/noise-level.js';
import { byteToUnit, createImage, dims, type ImageTensor, unitToByte } from '../src/image/tensor.js';
import { matlabImresize } from '../src/image/upsample.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    limit: { type: 'string', default: '98' },
    factors: { type: 'string', default: '2,4,8' },
    conditions: { type: 'string', default: 'clean,jpeg75,noise5,noise10' },
    seed: { type: 'string', default: '0' },
    estimators: { type: 'string', default: '' },
    label: { type: 'string', default: '' },
  },
});
if (!a.val) {
  console.error(
    'usage: node dist/benchmarks/noise-estimate.js --val DIR [--limit N] [--factors 2,4,8] [--conditions clean,jpeg75,noise5,noise10]',
  );
  process.exit(2);
}
const estimators: Record<string, (img: ImageTensor) => number> = {
  'pca d5': (img) => pcaNoiseLevel(img, { patch: 5 }),
  'pca d5 weak texture': (img) => pcaNoiseLevel(img, { patch: 5, weakTexture: true }),
  'pca d4': (img) => pcaNoiseLevel(img, { patch: 4 }),
  'pca d4 weak texture': (img) => pcaNoiseLevel(img, { patch: 4, weakTexture: true }),
  'pca d7': (img) => pcaNoiseLevel(img, { patch: 7 }),
  'laplacian median': laplacianNoiseLevel,
};
if (a.estimators) {
  const keep = a.estimators.split(',');
  for (const k of Object.keys(estimators)) if (!keep.includes(k)) delete estimators[k];
}
const names = readdirSync(a.val)
  .filter((n) => n.endsWith('.png'))
  .sort()
  .slice(0, Number(a.limit));
const tmp = await mkdtemp(join(tmpdir(), 'sr-noise-estimate-'));
const conditions = a.conditions.split(',');
/** The LR as degraded.ts makes it for a condition (same seeds). */
async function degrade(lr: ImageTensor, c: string, key: string): Promise<ImageTensor> {
  const j = /^jpeg(\d+)$/.exec(c);
  if (j) {
    const file = join(tmp, `${key}.jpg`);
    await encodeImage({ rgb: lr }, file, { quality: Number(j[1]) });
    return (await decodeImage(file)).rgb;
  }
  const n = /^noise(\d+(?:\.\d+)?)$/.exec(c);
  if (!n) return lr;
  const sigma = Number(n[1]);
  const rng = createRng(itemSeed(Number(a.seed), key));
  const z = new Float32Array(lr.data.length);
  rng.fillNormal(z);
  const { channels, height, width } = dims(lr);
  return createImage(
    channels,
    height,
    width,
    Float32Array.from(lr.data as Float32Array, (v, i) => byteToUnit(Math.min(255, Math.max(0, Math.round(unitToByte(v) + sigma * z[i]!))))),
  );
}
interface Row {
  factor: number;
  condition: string;
  image: string;
  estimates: Record<string, number>;
}
const rows: Row[] = [];
for (const factor of a.factors.split(',').map(Number)) {
  for (const name of names) {
    const hr = (await decodeImage(join(a.val, name))).rgb;
    const lr = matlabImresize(hr, 1 / factor);
    for (const c of conditions) {
      // the key degraded.ts seeds its noise with: `${crop}-x${factor}-${condition}`
      const img = await degrade(lr, c, `${name.replace(/\.png$/, '')}-x${factor}-${c}`);
      rows.push({
        factor,
        condition: c,
        image: name,
        estimates: Object.fromEntries(Object.entries(estimators).map(([k, f]) => [k, f(img)])),
      });
    }
  }
}
const summary = a.factors
  .split(',')
  .map(Number)
  .flatMap((factor) =>
    conditions.flatMap((condition) =>
      Object.keys(estimators).map((estimator) => {
        const xs = rows.filter((r) => r.factor === factor && r.condition === condition).map((r) => r.estimates[estimator]!);
        const sorted = [...xs].sort((p, q) => p - q);
        return {
          factor,
          condition,
          estimator,
          mean: xs.reduce((s, v) => s + v, 0) / xs.length,
          min: sorted[0]!,
          p5: sorted[Math.floor(0.05 * (sorted.length - 1))]!,
          p95: sorted[Math.ceil(0.95 * (sorted.length - 1))]!,
          max: sorted[sorted.length - 1]!,
        };
      }),
    ),
  );
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `noise-estimate-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const protocol = `${names.length} held-out validation crops (${a.val}, 128 px); LR = matlabImresize x1/factor (uint8), then JPEG (sharp) or Gaussian noise of σ grey levels (seeded per crop as degraded.ts seeds it, rounded to 8 bits); estimates in grey levels (0..255)`;
await writeFile(`${base}.json`, `${JSON.stringify({ date, protocol, summary, rows }, null, 2)}\n`);
const md = [
  `# Noise-level estimates (${date})`,
  '',
  `${protocol}.`,
  `Command: \`node dist/benchmarks/noise-estimate.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| factor (LR side) | LR | estimator | mean | min | 5th pct | 95th pct | max |',
  '|---|---|---|---|---|---|---|---|',
  ...summary.map(
    (s) =>
      `| x${s.factor} (${128 / s.factor} px) | ${s.condition} | ${s.estimator} | ${s.mean.toFixed(2)} | ${s.min.toFixed(2)} | ${s.p5.toFixed(2)} | ${s.p95.toFixed(2)} | ${s.max.toFixed(2)} |`,
  ),
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(md.join('\n'));
