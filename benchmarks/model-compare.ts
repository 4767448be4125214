/**
 * Two (or more) exports of a model at its shipped default settings (the manifest's defaults, `--input auto` picking
 * the JPEG settings from the LR file), on the held-out validation crops at x2/x4/x8, clean and JPEG-75 LR
 * (models/train/val_crops.py --lr-factors 2,4,8 --jpeg 75): the session-end check before a retrained model replaces
 * the shipped one (it must score higher on the validation crops).
 *
 *   npx tsc -p . && node dist/benchmarks/model-compare.js --val /tmp/ab/val --models shipped=models/default,new=DIR \
 *     [--limit 98] [--label X]
 *
 * Writes benchmarks/results/model-compare-<date>[-label].{json,md}.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { evaluate } from '../src/eval/evaluate.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    models: { type: 'string' },
    limit: { type: 'string', default: '98' },
    factors: { type: 'string', default: '2,4,8' },
    label: { type: 'string', default: '' },
  },
});
if (!a.val || !a.models) {
  console.error('usage: node dist/benchmarks/model-compare.js --val HRDIR --models NAME=DIR,NAME=DIR [--limit N] [--label X]');
  process.exit(2);
}
const val = a.val.replace(/\/$/, '');
const limit = Number(a.limit);
const models = a.models.split(',').map((s) => {
  const [name, dir] = s.split('=');
  if (!name || !dir) throw new Error(`--models: expected NAME=DIR, got ${s}`);
  return { name, dir: resolve(dir) };
});
const conditions = a.factors.split(',').flatMap((f) => [
  { factor: Number(f), lr: `${val}-lr/x${f}`, label: `x${f} clean` },
  { factor: Number(f), lr: `${val}-lr/x${f}-jpeg75`, label: `x${f} JPEG 75` },
]);
interface Row {
  condition: string;
  model: string;
  psnrY: number;
  ssimY: number;
  gain: number;
}
const rows: Row[] = [];
for (const c of conditions) {
  const bic = await evaluate({ hr: val, lr: c.lr, factor: c.factor, method: { kind: 'upsampler', kernel: 'bicubic' }, limit });
  for (const m of models) {
    const r = await evaluate({
      hr: val,
      lr: c.lr,
      factor: c.factor,
      model: m.dir,
      // float on every side, as the report says: under precision auto the shipped model (int8 variant) would run int8
      method: { kind: 'boomerang', options: { seed: 0, precision: 'float' } },
      limit,
    });
    rows.push({ condition: c.label, model: m.name, psnrY: r.mean.psnrY, ssimY: r.mean.ssimY, gain: r.mean.psnrY - bic.mean.psnrY });
    console.log(JSON.stringify(rows.at(-1)));
  }
}
const info = await Promise.all(
  models.map(async (m) => {
    const man = JSON.parse(await readFile(join(m.dir, 'manifest.json'), 'utf8'));
    return `${m.name} = ${m.dir} (${man.training?.steps} steps, ${man.training?.cpu_seconds} CPU-s, sha256 ${String(man.sha256).slice(0, 8)})`;
  }),
);
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `model-compare-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
await writeFile(`${base}.json`, `${JSON.stringify({ limit, models: info, rows }, null, 2)}\n`);
const names = models.map((m) => m.name);
const md = [
  `# Model exports at the shipped default settings (${date})`,
  '',
  `${limit} held-out validation crops (models/train/val_crops.py; never trained on, never Set5/Set14); PSNR-Y (gain over bicubic), shave = factor, seed 0, float weights; the manifest's defaults, \`--input auto\` (JPEG settings from the LR file).`,
  '',
  ...info.map((s) => `- ${s}`),
  '',
  `| condition | ${names.join(' | ')} |`,
  `|---|${names.map(() => '---').join('|')}|`,
  ...conditions.map(
    (c) =>
      `| ${c.label} | ${names
        .map((n) => {
          const r = rows.find((x) => x.condition === c.label && x.model === n)!;
          return `${r.psnrY.toFixed(3)} (${r.gain >= 0 ? '+' : ''}${r.gain.toFixed(3)}) / ${r.ssimY.toFixed(4)}`;
        })
        .join(' | ')} |`,
  ),
  '',
  `Command: node dist/benchmarks/model-compare.js --val VAL --models ${a.models} --limit ${limit}${a.label ? ` --label ${a.label}` : ''}`,
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
