/**
 * The vary curve: how far `sr vary` samples move from their sources, how often the nearest source is still their
 * own, and how much the samples of one source differ, against t, with a shipped model on held-out validation crops
 * (models/train/val_crops.py; never Set5/Set14), through the product's own `varyDataset` and `analyseVary`:
 *
 *   /usr/bin/python3 models/train/val_crops.py --data ../shared/data/train --out /tmp/val-vary --size 64 --count 20
 *   npx tsc -p . && nice -n 10 node dist/benchmarks/vary-curve.js --data /tmp/val-vary
 *       [--t 50,100,200,400 --samples 2 --steps 10 --cascade 1 --seed 0 --model default --work DIR --label name]
 *
 * Samples go to --work (default a fresh temporary folder; an existing one is resumed). Writes
 * benchmarks/results/vary-curve-<date>[-label].json, .md, .svg and .png.
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { writeSvgAsPng } from '../src/report/png.js';
import { fmt } from '../src/report/table.js';
import { resolveModelDir } from '../src/model/locate.js';
import { loadManifest } from '../src/model/manifest.js';
import { loadModel } from '../src/model/session.js';
import { analyseVary, type VaryAnalysis } from '../src/vary/analysis.js';
import { runVaryPlan } from '../src/vary/dataset.js';
import { planVary } from '../src/vary/plan.js';
import { protocolLines, varyPlotSvg } from '../src/vary/report.js';
import { resolveVarySettings, type VarySettings } from '../src/vary/settings.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    t: { type: 'string', default: '50,100,200,400' },
    samples: { type: 'string', default: '2' },
    steps: { type: 'string', default: '10' },
    cascade: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    model: { type: 'string', default: 'default' },
    work: { type: 'string' },
    label: { type: 'string', default: '' },
  },
});
if (!a.data) {
  console.error(
    'usage: node dist/benchmarks/vary-curve.js --data VALCROPS [--t 50,100,200,400 --samples 2 --steps 10 --model default ...]',
  );
  process.exit(2);
}

/** Runs vary over the crops into the work folder (resumed when it holds samples), with progress on stderr. */
async function run(data: string, work: string): Promise<{ settings: VarySettings; seconds: number }> {
  const model = await loadModel(a.model);
  try {
    const options = {
      t: a.t!.split(',').map(Number),
      samples: Number(a.samples),
      steps: Number(a.steps),
      cascade: Number(a.cascade),
      seed: Number(a.seed),
    };
    const settings = resolveVarySettings(options, model.manifest, model.device);
    const plan = await planVary([data], work, settings, model.manifest, { resume: true });
    let last = 0;
    const { report, stoppedBy } = await runVaryPlan(
      plan,
      { model },
      { ...options, resume: true },
      {
        onProgress: (e) => {
          if (performance.now() - last < 10_000) return;
          last = performance.now();
          process.stderr.write(`${((100 * e.done) / e.total).toFixed(0)}% ${e.label}\n`);
        },
        onFile: (f) => {
          if (f.status === 'failed') process.stderr.write(`${f.error}\n`);
        },
      },
    );
    if (stoppedBy) throw stoppedBy;
    return { settings, seconds: report.seconds };
  } finally {
    await model.dispose();
  }
}

/** Noise std relative to the image at each t (the README's table), from the model's schedule. */
async function noiseStd(ts: readonly number[]): Promise<Record<number, number>> {
  const m = await loadManifest(resolveModelDir(a.model));
  const s = makeSchedule(m.T, m.betas);
  return Object.fromEntries(ts.map((t) => [t, Math.sqrt((1 - s.alphasCumprod[t]!) / s.alphasCumprod[t]!)]));
}

function markdown(r: VaryAnalysis, std: Record<number, number>, s: VarySettings, date: string, seconds: number, file: string): string {
  const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
  const head = [
    't',
    'noise std',
    'PSNR-Y to source',
    'SSIM-Y to source',
    'GMSD',
    'detail',
    're-identified',
    'margin (dB)',
    'PSNR-Y between samples',
    'SSIM-Y between samples',
  ];
  return [
    `# sr vary: distance to source and re-identification against t (${date})`,
    '',
    `${r.sources} held-out validation crops (${a.data}; models/train/val_crops.py), model ${s.model} (${s.sha256.slice(0, 12)}), ` +
      `K=${s.samples} samples per crop and t, cascade ${s.cascade}, ${s.steps} reverse steps (capped at t), ${s.sampler}, ` +
      `run seed ${s.seed}; ${seconds.toFixed(0)} s on the CPU.`,
    `Command: \`node dist/benchmarks/vary-curve.js ${process.argv.slice(2).join(' ')}\``,
    '',
    `| ${head.join(' | ')} |`,
    `|${'---|'.repeat(head.length)}`,
    ...r.rows.map(
      (x) =>
        `| ${x.t} | ${std[x.t]!.toFixed(3)} | ${fmt.db(x.psnrY)} | ${fmt.ssim(x.ssimY)} | ${fmt.gmsd(x.gmsd)} | ` +
        `${fmt.ratio(x.detailRatio)} | ${pct(x.reidRate)} | ${x.margin.toFixed(2)} | ${fmt.db(x.diversityPsnrY)} | ` +
        `${fmt.ssim(x.diversitySsimY)} |`,
    ),
    '',
    ...protocolLines(r),
    '',
    'The attacker is weak (nearest neighbour on 32x32 luma, no learned features): ' +
      'a low rate is necessary for anonymity, not evidence of it.',
    '',
    `![vary curve](${file}.png)`,
    '',
  ].join('\n');
}

const work = a.work ?? (await mkdtemp(join(tmpdir(), 'vary-curve-')));
const { settings, seconds } = await run(a.data, work);
const analysis = await analyseVary(work, { onWarning: (m) => process.stderr.write(`${m}\n`) });
const std = await noiseStd(analysis.rows.map((r) => r.t));
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `vary-curve-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const svg = varyPlotSvg(analysis, `${settings.model}, ${analysis.sources} crops`);
await writeFile(`${base}.svg`, svg);
await writeSvgAsPng(svg, `${base}.png`);
const json = { date, data: a.data, work, settings, seconds, noiseStd: std, ...analysis, protocol: protocolLines(analysis) };
await writeFile(
  `${base}.json`,
  JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n',
);
await writeFile(`${base}.md`, markdown(analysis, std, settings, date, seconds, base.split('/').pop()!));
console.log(markdown(analysis, std, settings, date, seconds, base.split('/').pop()!));
console.log(`wrote ${base}.{json,md,svg,png}; samples in ${work}`);
