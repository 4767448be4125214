/**
 * Learning curve: validation PSNR-Y/SSIM-Y of exported checkpoints against the training images they had seen,
 * through the product's own pipeline (`evaluate`, the same sampler as `sr`), on held-out validation crops
 * (models/train/val_crops.py; never Set5/Set14). Each model folder is one point; its manifest's
 * training.images_seen is the x value, and `--campaigns` names the series each folder belongs to.
 *
 *   npx tsc -p . && node dist/benchmarks/learning-curve.js --hr /tmp/val128 --models a,b,c --campaigns old,low,low
 *       [--t 5 --steps 5 --cascade 1 --back-project 0 --consistency ibp --seed 0] [--label name] [--previous FILE.json]
 *
 * --previous adds the points of an earlier run (its models may be gone) when it measured the same setting on the
 * same number of crops with the same bicubic score (the same crops); a model measured again replaces its old point.
 *
 * Writes benchmarks/results/learning-curve-<date>[-label].json, .md and .svg/.png (the report's plot style), with the
 * interpolators measured on the same crops as reference lines.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { evaluate } from '../src/eval/evaluate.js';
import { writeSvgAsPng } from '../src/report/png.js';
import { PALETTE, panel, svgDocument, type Series } from '../src/report/svg.js';
import type { Consistency } from '../src/diffusion/consistency.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    hr: { type: 'string' },
    models: { type: 'string' },
    campaigns: { type: 'string' },
    label: { type: 'string', default: '' },
    t: { type: 'string', default: '5' },
    steps: { type: 'string', default: '5' },
    cascade: { type: 'string', default: '1' },
    'back-project': { type: 'string', default: '0' },
    consistency: { type: 'string', default: 'ibp' },
    seed: { type: 'string', default: '0' },
    factor: { type: 'string', default: '4' },
    previous: { type: 'string' },
  },
});
if (!a.hr || !a.models) {
  console.error('usage: node dist/benchmarks/learning-curve.js --hr VALCROPS --models DIR,DIR --campaigns NAME,NAME [--t 5 --steps 5 ...]');
  process.exit(2);
}
const models = a.models.split(',');
const campaigns = (a.campaigns ?? models.map(() => 'campaign').join(',')).split(',');
if (campaigns.length !== models.length) throw new Error('--campaigns needs one name per model');
const factor = Number(a.factor);
const options = {
  t: Number(a.t),
  steps: Number(a.steps),
  cascade: Number(a.cascade),
  backProject: Number(a['back-project']),
  consistency: a.consistency as Consistency,
  seed: Number(a.seed),
  // float for every checkpoint, whatever precision auto would pick on this CPU
  precision: 'float' as const,
};

interface Point {
  campaign: string;
  model: string;
  sha256: string;
  imagesSeen: number;
  steps: number;
  seconds: number;
  psnrY: number;
  ssimY: number;
  detailRatio: number;
}
const points: Point[] = [];
for (const [i, dir] of models.entries()) {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const r = await evaluate({ hr: a.hr, factor, model: dir, method: { kind: 'boomerang', options } });
  const p = {
    campaign: campaigns[i]!,
    model: dir,
    sha256: manifest.sha256,
    imagesSeen: manifest.training.images_seen,
    steps: manifest.training.steps,
    seconds: manifest.training.seconds,
    psnrY: r.mean.psnrY,
    ssimY: r.mean.ssimY,
    detailRatio: r.mean.detailRatio,
  };
  points.push(p);
  console.log(`${p.campaign} ${dir}: ${p.imagesSeen} images seen -> PSNR-Y ${p.psnrY.toFixed(3)} dB, SSIM-Y ${p.ssimY.toFixed(4)}`);
}
const baselines: Record<string, { psnrY: number; ssimY: number }> = {};
for (const k of ['bicubic', 'lanczos'] as const) {
  const r = await evaluate({ hr: a.hr, factor, method: { kind: 'upsampler', kernel: k } });
  baselines[k] = { psnrY: r.mean.psnrY, ssimY: r.mean.ssimY };
}
const bp = await evaluate({ hr: a.hr, factor, method: { kind: 'upsampler', kernel: 'bicubic', backProject: 20 } });
baselines['bicubic back-projected 20x (no model)'] = { psnrY: bp.mean.psnrY, ssimY: bp.mean.ssimY };
const n = (await evaluate({ hr: a.hr, factor, method: { kind: 'upsampler', kernel: 'bicubic' } })).images.length;

if (a.previous) {
  const prev = JSON.parse(await readFile(a.previous, 'utf8')) as {
    setting: typeof options;
    images: number;
    baselines: Record<string, { psnrY: number }>;
    points: Point[];
  };
  if (JSON.stringify(prev.setting) !== JSON.stringify(options)) throw new Error(`${a.previous} measured another setting`);
  if (prev.images !== n || Math.abs(prev.baselines.bicubic!.psnrY - baselines.bicubic!.psnrY) > 1e-9) {
    throw new Error(`${a.previous} measured other crops (${prev.images} images, bicubic ${prev.baselines.bicubic!.psnrY})`);
  }
  // one point per campaign and model: a model measured again here replaces its old point
  const seen = new Set(points.map((p) => `${p.campaign}\n${p.sha256}`));
  const earlier = prev.points.filter((p) => {
    const key = `${p.campaign}\n${p.sha256}`;
    return !seen.has(key) && seen.add(key);
  });
  points.unshift(...earlier);
}

const setting = `t=${options.t}, ${options.steps} steps, cascade ${options.cascade}, back-project ${options.backProject}, ${options.consistency}, seed ${options.seed}`;
const names = [...new Set(points.map((p) => p.campaign))];
const series: Series[] = names.map((c, i) => ({
  label: c,
  color: PALETTE[i % PALETTE.length]!,
  points: points
    .filter((p) => p.campaign === c)
    .sort((x, y) => x.imagesSeen - y.imagesSeen)
    .map((p) => ({ x: p.imagesSeen / 1000, y: p.psnrY })),
}));
const w = 760;
const h = 480;
const body = panel(
  {
    title: `Validation PSNR-Y against training images seen (x${factor})`,
    xLabel: `training images seen (thousands of 64x64 crops); Boomerang ${setting}`,
    yLabel: 'PSNR-Y (dB)',
    series,
    markers: points.map((p) => ({
      x: p.imagesSeen / 1000,
      y: p.psnrY,
      color: PALETTE[names.indexOf(p.campaign) % PALETTE.length]!,
      shape: 'circle' as const,
      size: 4,
    })),
    hlines: Object.entries(baselines).map(([label, v], i) => ({
      label,
      value: v.psnrY,
      color: ['#888', '#555', '#2ca02c'][i]!,
      dash: '4,3',
    })),
  },
  0,
  0,
  w,
  h,
);
const svg = svgDocument(w, h, body);
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `learning-curve-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const protocol = 'PSNR-Y/SSIM-Y: BT.601 Y, shave = scale, peak 255, SSIM 11x11 Gaussian sigma 1.5';
await writeFile(
  `${base}.json`,
  JSON.stringify({ date, hr: a.hr, images: n, factor, setting: options, protocol, baselines, points }, null, 2) + '\n',
);
await writeFile(`${base}.svg`, svg);
await writeSvgAsPng(svg, `${base}.png`);
const md = [
  `# Learning curve (${date})`,
  '',
  `Validation: ${n} held-out crops (${a.hr}; models/train/val_crops.py), x${factor}, LR by MATLAB bicubic; Boomerang ${setting}, through \`evaluate\` (the sampler of \`sr\`). ${protocol}.`,
  `Command: \`node dist/benchmarks/learning-curve.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| campaign | images seen | steps | training s | PSNR-Y | SSIM-Y | detail ratio | model sha256 |',
  '|---|---|---|---|---|---|---|---|',
  ...points.map(
    (p) =>
      `| ${p.campaign} | ${p.imagesSeen} | ${p.steps} | ${Math.round(p.seconds)} | ${p.psnrY.toFixed(3)} | ${p.ssimY.toFixed(4)} | ${p.detailRatio.toFixed(3)} | ${p.sha256.slice(0, 12)} |`,
  ),
  '',
  '| baseline (same crops) | PSNR-Y | SSIM-Y |',
  '|---|---|---|',
  ...Object.entries(baselines).map(([k, v]) => `| ${k} | ${v.psnrY.toFixed(3)} | ${v.ssimY.toFixed(4)} |`),
  '',
  `![learning curve](${base.split('/').pop()}.png)`,
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(`wrote ${base}.{json,md,svg,png}`);
