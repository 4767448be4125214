/**
 * The A/B of issue 27 at equal CPU time: learning curves (validation PSNR-Y gain over bicubic against the CPU-seconds
 * each run had spent) of the training runs' EMA snapshots (train.py --snapshot-every, one per CPU-time mark), each
 * family at its own default setting, through the product's pipeline (`evaluate`, the sampler of `sr`), on held-out
 * validation crops at x2, x4, x8, clean and JPEG LR (models/train/val_crops.py --lr-factors 2,4,8 --jpeg 75).
 *
 *   npx tsc -p . && node dist/benchmarks/prior-ab.js --val /tmp/ab/val \
 *     --arms gaussian=models/train/runs/campaign,soft-ft=models/train/runs/soft-ft,soft-scratch=models/train/runs/soft-scratch \
 *     [--limit 48] [--label NAME] [--shipped models/default]
 *
 * Snapshots are exported with models/train/export.py into /tmp/prior-ab/ (kept, reused). Points already in the
 * output JSON (same arm, CPU mark, crops and settings) are not measured again, so the script can run while training
 * goes on and be rerun to add the newer snapshots. CPU-seconds are process time (train.py counts it), so the arms
 * compare at equal CPU time whatever else shared the machine. --shipped adds the shipped model as the gaussian arm's
 * point at 0 s (the campaign resumes from its checkpoint). --final ARM=MODELDIR,… adds exported models (a session's
 * last, annealed checkpoint) at the CPU-seconds their manifest records (training.cpu_seconds).
 *
 * Writes benchmarks/results/prior-ab-<date>[-label].{json,md,svg,png}.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { evaluate } from '../src/eval/evaluate.js';
import { writeSvgAsPng } from '../src/report/png.js';
import { PALETTE, panel, svgDocument, type Series } from '../src/report/svg.js';
import type { UpscaleOptions } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    arms: { type: 'string' },
    limit: { type: 'string' },
    label: { type: 'string', default: '' },
    shipped: { type: 'string' },
    factors: { type: 'string', default: '2,4,8' },
    jpeg: { type: 'string', default: '75' },
    models: { type: 'string', default: '/tmp/prior-ab' },
    final: { type: 'string', default: '' },
  },
});
if (!a.val || (!a.arms && !a.final)) {
  console.error('usage: node dist/benchmarks/prior-ab.js --val HRDIR --arms NAME=RUNDIR,... [--limit N] [--label NAME] [--shipped DIR]');
  process.exit(2);
}
const arms = (a.arms ?? '')
  .split(',')
  .filter(Boolean)
  .map((s) => {
    const [name, dir] = s.split('=');
    if (!name || !dir) throw new Error(`--arms: expected NAME=RUNDIR, got ${s}`);
    return { name, dir };
  });
const val = a.val;
const limit = a.limit ? Number(a.limit) : undefined;
const conditions = a.factors
  .split(',')
  .flatMap((f) => [
    { factor: Number(f), lr: `${val.replace(/\/$/, '')}-lr/x${f}`, label: `x${f} clean` },
    ...(a.jpeg ? [{ factor: Number(f), lr: `${val.replace(/\/$/, '')}-lr/x${f}-jpeg${a.jpeg}`, label: `x${f} JPEG ${a.jpeg}` }] : []),
  ]);

/**
 * Each family at one fixed setting for the whole curve: the Gaussian prior's shipped default (15 evaluations); the soft
 * prior's deterministic single step (1 evaluation) with its exported defaults: ibp and 10 back-projections on its output
 * for clean LR, neither for JPEG LR (manifest inputs.jpeg, picked by `input` auto from the LR file; the best cheap
 * settings of models/train/soft_probe.py and sr eval on the first snapshot).
 */
const SETTINGS: Record<string, Omit<UpscaleOptions, 'factor' | 'model'>> = {
  gaussian: { t: 100, cascade: 3, steps: 5, backProject: 20, consistency: 'ibp', seed: 0 },
  'soft-resample': { cascade: 1, steps: 1, sampler: 'ddim', eta: 0, seed: 0 },
};

interface Point {
  arm: string;
  family: string;
  cpuSeconds: number;
  steps: number;
  condition: string;
  psnrY: number;
  ssimY: number;
  gain: number;
  evaluations: number;
}
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `prior-ab-${date}${a.label ? `-${a.label}` : ''}`);
const previous = existsSync(`${base}.json`)
  ? (JSON.parse(await readFile(`${base}.json`, 'utf8')) as { images: number; points: Point[] })
  : null;

const bicubic: Record<string, { psnrY: number; ssimY: number }> = {};
const backProjected: Record<string, { psnrY: number; ssimY: number }> = {};
let images = 0;
for (const c of conditions) {
  const r = await evaluate({
    hr: val,
    lr: c.lr,
    factor: c.factor,
    method: { kind: 'upsampler', kernel: 'bicubic' },
    ...(limit ? { limit } : {}),
  });
  bicubic[c.label] = { psnrY: r.mean.psnrY, ssimY: r.mean.ssimY };
  images = r.images.length;
  // the model-free baseline a model has to beat: the enlargement back-projected 10 times onto the LR
  const bp = await evaluate({
    hr: val,
    lr: c.lr,
    factor: c.factor,
    method: { kind: 'upsampler', kernel: 'bicubic', backProject: 10 },
    ...(limit ? { limit } : {}),
  });
  backProjected[c.label] = { psnrY: bp.mean.psnrY, ssimY: bp.mean.ssimY };
}
const points: Point[] = previous && previous.images === images ? previous.points : [];
const have = new Set(points.map((p) => `${p.arm}\n${p.cpuSeconds}\n${p.condition}`));

async function measure(arm: string, modelDir: string, cpuSeconds: number): Promise<void> {
  const m = JSON.parse(await readFile(join(modelDir, 'manifest.json'), 'utf8'));
  const family: string = m.family?.kind ?? 'gaussian';
  for (const c of conditions) {
    if (have.has(`${arm}\n${cpuSeconds}\n${c.label}`)) continue;
    const r = await evaluate({
      hr: val,
      lr: c.lr,
      factor: c.factor,
      model: modelDir,
      // float on both arms, whatever precision auto would pick on this CPU (an export has no int8 variant)
      method: { kind: 'boomerang', options: { ...SETTINGS[family]!, precision: 'float' } },
      ...(limit ? { limit } : {}),
    });
    const p: Point = {
      arm,
      family,
      cpuSeconds,
      steps: m.training.steps,
      condition: c.label,
      psnrY: r.mean.psnrY,
      ssimY: r.mean.ssimY,
      gain: r.mean.psnrY - bicubic[c.label]!.psnrY,
      evaluations: r.settings ? r.settings.passes.length * r.settings.steps * r.settings.samples : 0,
    };
    points.push(p);
    have.add(`${arm}\n${cpuSeconds}\n${c.label}`);
    console.log(
      `${arm} @ ${cpuSeconds} CPU-s (${p.steps} steps) ${c.label}: ${p.psnrY.toFixed(3)} dB (${p.gain >= 0 ? '+' : ''}${p.gain.toFixed(3)} over bicubic)`,
    );
    await save();
  }
}

async function save(): Promise<void> {
  await mkdir(dirname(base), { recursive: true });
  const protocol = 'PSNR-Y/SSIM-Y: BT.601 Y, shave = scale, peak 255, SSIM 11x11 Gaussian sigma 1.5';
  await writeFile(
    `${base}.json`,
    JSON.stringify({ date, val: a.val, images, settings: SETTINGS, protocol, bicubic, backProjected, points }, null, 2) + '\n',
  );
}

if (a.shipped) await measure('gaussian', a.shipped, 0);
// --final ARM=MODELDIR,…: exported models (a session's end), each at the CPU-seconds its manifest records for this A/B
for (const spec of a.final.split(',').filter(Boolean)) {
  const [arm, dir] = spec.split('=');
  if (!arm || !dir) throw new Error(`--final: expected ARM=MODELDIR, got ${spec}`);
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  await measure(arm, dir, Math.round(m.training.cpu_seconds ?? 0));
}
for (const arm of arms) {
  const snaps = join(arm.dir, 'snapshots');
  if (!existsSync(snaps)) continue;
  for (const f of readdirSync(snaps)
    .filter((n) => /^cpu-\d+\.pt$/.test(n))
    .sort()) {
    const cpu = Number(/\d+/.exec(f)![0]);
    if (conditions.every((c) => have.has(`${arm.name}\n${cpu}\n${c.label}`))) continue;
    const out = join(a.models, `${arm.name}-${basename(f, '.pt')}`);
    if (!existsSync(join(out, 'model.onnx'))) {
      execFileSync(
        '/usr/bin/python3',
        [join(root, 'models/train/export.py'), '--checkpoint', join(snaps, f), '--name', `${arm.name}-${cpu}`, '--out', out],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
    }
    await measure(arm.name, out, cpu);
  }
}
await save();

// plots: one panel per condition, gain over bicubic against CPU-hours
const names = [...new Set(points.map((p) => p.arm))];
const pw = 420;
const ph = 300;
const cols = 2;
const rows = Math.ceil(conditions.length / cols);
const body = conditions
  .map((c, i) => {
    const series: Series[] = names.map((n, k) => ({
      label: `${n} (${points.find((p) => p.arm === n)?.evaluations ?? '?'} evaluation${points.find((p) => p.arm === n)?.evaluations === 1 ? '' : 's'} per image)`,
      color: PALETTE[k % PALETTE.length]!,
      points: points
        .filter((p) => p.arm === n && p.condition === c.label)
        .sort((x, y) => x.cpuSeconds - y.cpuSeconds)
        .map((p) => ({ x: p.cpuSeconds / 3600, y: p.gain })),
    }));
    return panel(
      {
        title: `${c.label}: gain over bicubic`,
        xLabel: 'training CPU-hours in this A/B',
        yLabel: 'PSNR-Y gain (dB)',
        series,
        hlines: [
          { label: 'bicubic', value: 0, color: '#888', dash: '4,3' },
          {
            label: 'bicubic back-projected 10x (no model)',
            value: backProjected[c.label]!.psnrY - bicubic[c.label]!.psnrY,
            color: '#2ca02c',
            dash: '2,2',
          },
        ],
      },
      (i % cols) * pw,
      Math.floor(i / cols) * ph,
      pw,
      ph,
    );
  })
  .join('\n');
const svg = svgDocument(cols * pw, rows * ph, body);
await writeFile(`${base}.svg`, svg);
await writeSvgAsPng(svg, `${base}.png`);
const setting = (f: string) =>
  Object.entries(SETTINGS[f]!)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const md = [
  `# Prior A/B at equal CPU time (${date})`,
  '',
  `Validation: ${images} held-out crops 128x128 (${a.val}; models/train/val_crops.py --count 98 --lr-factors ${a.factors} --jpeg ${a.jpeg}), LR by the product's MATLAB-style bicubic (8-bit PNG) or that LR saved as JPEG ${a.jpeg} (PIL, 4:2:0). Gaussian family at ${setting('gaussian')}; soft-resample at ${setting('soft-resample')}; through \`evaluate\` (the sampler of \`sr\`). PSNR-Y: BT.601 Y, shave = factor, peak 255.`,
  `CPU-seconds: process time of the training run since this A/B began (train.py counts it), so arms compare at equal CPU time whatever ran beside them.`,
  `Command: \`node dist/benchmarks/prior-ab.js ${process.argv.slice(2).join(' ')}\``,
  '',
  `| arm | CPU-s | steps | ${conditions.map((c) => c.label).join(' | ')} |`,
  `|---|---|---|${conditions.map(() => '---').join('|')}|`,
  ...[
    ...new Set(
      [...points].sort((x, y) => x.arm.localeCompare(y.arm) || x.cpuSeconds - y.cpuSeconds).map((p) => `${p.arm}\n${p.cpuSeconds}`),
    ),
  ].map((key) => {
    const [arm, cpu] = key.split('\n');
    const row = points.filter((p) => p.arm === arm && String(p.cpuSeconds) === cpu);
    const cell = (c: string) => {
      const p = row.find((q) => q.condition === c);
      return p ? `${p.psnrY.toFixed(3)} (${p.gain >= 0 ? '+' : ''}${p.gain.toFixed(3)})` : '';
    };
    return `| ${arm} | ${cpu} | ${row[0]!.steps} | ${conditions.map((c) => cell(c.label)).join(' | ')} |`;
  }),
  `| bicubic | | | ${conditions.map((c) => bicubic[c.label]!.psnrY.toFixed(3)).join(' | ')} |`,
  `| bicubic back-projected 10x (no model) | | | ${conditions.map((c) => `${backProjected[c.label]!.psnrY.toFixed(3)} (${(backProjected[c.label]!.psnrY - bicubic[c.label]!.psnrY >= 0 ? '+' : '') + (backProjected[c.label]!.psnrY - bicubic[c.label]!.psnrY).toFixed(3)})`).join(' | ')} |`,
  '',
  'Cells: PSNR-Y dB (gain over bicubic on the same LR).',
  '',
  `![A/B curves](${basename(base)}.png)`,
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(`wrote ${base}.{json,md,svg,png}`);
