/**
 * Inputs degraded the way real photos are (issue 22): on held-out validation crops, LR made by the product's
 * MATLAB-style bicubic, then saved as JPEG at some qualities or given Gaussian noise (σ in grey levels, rounded to
 * 8 bits); our model through `upscale` on the LR *file* (so `--input auto` reads the JPEG quality as the CLI does),
 * bicubic, and optionally UpscalerJS esrgan-thick (it reads the same pixels as a PNG). Per condition: PSNR-Y gain over
 * bicubic (mean, worst crop, crops below 0) and blockiness on the LR's JPEG grid (8·factor px in the output; ground
 * truth on the same grid beside it). On noisy LR, ours also runs told the noise (`--noise σ`, removed first by the
 * shipped Gaussian prior). Per row, the input kind `--input auto` resolved to and the noise it removed (a noisy input's
 * estimate, image/noise-level.ts).
 *
 *   /usr/bin/python3 models/train/val_crops.py --data DATA --out /tmp/val --count 98
 *   npx tsc -p . && node dist/benchmarks/degraded.js --val /tmp/val --limit 48 --factors 4,8 \
 *     --conditions clean,jpeg50,jpeg75,jpeg90,noise5,noise10 --ours default=models/default [--esrgan /tmp/esrgan]
 *
 * Writes benchmarks/results/degraded-<date>[-label].{json,md}. Quality only: no timing (run versus.ts for that).
 */
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRng, itemSeed } from '../src/diffusion/rng.js';
import { decodeImage, encodeImage } from '../src/image/io.js';
import { byteToUnit, type ImageTensor, unitToByte } from '../src/image/tensor.js';
import { matlabImresize, upsample } from '../src/image/upsample.js';
import { blockiness, fromImageTensor, lumaBt601, measure } from '../src/metrics/index.js';
import { loadModel, type ModelSession } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';
import { startEsrgan } from './esrgan.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    limit: { type: 'string', default: '48' },
    factors: { type: 'string', default: '4,8' },
    conditions: { type: 'string', default: 'clean,jpeg50,jpeg75,jpeg90,noise5,noise10' },
    ours: { type: 'string', default: 'default=models/default' },
    esrgan: { type: 'string' },
    label: { type: 'string', default: '' },
    seed: { type: 'string', default: '0' },
    note: { type: 'string', default: '' },
  },
});
if (!a.val) {
  console.error(
    'usage: node dist/benchmarks/degraded.js --val DIR [--limit N] [--factors 4,8] [--conditions ...] [--ours LABEL=MODEL[:PRESET],...] [--esrgan DIR]',
  );
  process.exit(2);
}

type Condition =
  | { name: string; kind: 'clean' }
  | { name: string; kind: 'jpeg'; quality: number }
  | { name: string; kind: 'noise'; sigma: number };
const conditions: Condition[] = a.conditions.split(',').map((name) => {
  if (name === 'clean') return { name, kind: 'clean' };
  const j = /^jpeg(\d+)$/.exec(name);
  if (j) return { name, kind: 'jpeg', quality: Number(j[1]) };
  const n = /^noise(\d+(?:\.\d+)?)$/.exec(name);
  if (n) return { name, kind: 'noise', sigma: Number(n[1]) };
  throw new Error(`--conditions: expected clean, jpegQ or noiseS, got ${name}`);
});

interface Ours {
  label: string;
  preset: string | undefined;
  model: ModelSession;
}
const ours: Ours[] = [];
const denoiser = await loadModel(resolve(root, 'models', 'gaussian'));
for (const spec of a.ours.split(',')) {
  const [label, rest] = spec.split('=');
  if (!label || !rest) throw new Error(`--ours: expected LABEL=MODEL[:PRESET], got ${spec}`);
  const [dir, preset] = rest.split(':');
  ours.push({ label, preset, model: await loadModel(resolve(dir!)) });
}

const runner = a.esrgan ? await startEsrgan(a.esrgan, a.factors) : null;
const esrgan = runner?.upscale ?? null;

/** The degraded LR as files: what ours reads (a JPEG keeps its quantisation tables) and a PNG of the same pixels. */
async function degrade(lr: ImageTensor, c: Condition, name: string, dir: string): Promise<{ file: string; png: string }> {
  const png = join(dir, `${name}-${c.name}.png`);
  if (c.kind === 'jpeg') {
    const file = join(dir, `${name}-${c.name}.jpg`);
    await encodeImage({ rgb: lr }, file, { quality: c.quality });
    await encodeImage({ rgb: (await decodeImage(file)).rgb }, png);
    return { file, png };
  }
  if (c.kind === 'noise') {
    const rng = createRng(itemSeed(Number(a.seed), `${name}-${c.name}`));
    const z = new Float32Array(lr.data.length);
    rng.fillNormal(z);
    const noisy = {
      ...lr,
      data: Float32Array.from(lr.data as Float32Array, (v, i) =>
        byteToUnit(Math.min(255, Math.max(0, Math.round(unitToByte(v) + c.sigma * z[i]!)))),
      ),
    };
    await encodeImage({ rgb: noisy }, png);
    return { file: png, png };
  }
  await encodeImage({ rgb: lr }, png);
  return { file: png, png };
}

interface Row {
  factor: number;
  condition: string;
  image: string;
  tool: string;
  psnrY: number;
  ssimY: number;
  blockiness: number;
  truthBlockiness: number;
  evaluations: number | null;
  /** ours: the input kind the run used (auto resolved) and the noise std it removed (grey levels); null for others */
  input: string | null;
  noiseRemoved: number | null;
}
const rows: Row[] = [];
const tmp = await mkdtemp(join(tmpdir(), 'sr-degraded-'));
const names = readdirSync(a.val)
  .filter((n) => n.endsWith('.png'))
  .sort()
  .slice(0, Number(a.limit));
for (const factor of a.factors.split(',').map(Number)) {
  for (const name of names) {
    const hr = (await decodeImage(join(a.val, name))).rgb;
    const lr = matlabImresize(hr, 1 / factor);
    const truthY = lumaBt601(fromImageTensor(hr, { quantize: true }));
    const truthBlockiness = blockiness(truthY, 8 * factor);
    const add = (tool: string, c: Condition, img: ImageTensor, evaluations: number | null, s?: { input: string; noise: number }) => {
      const m = measure(img, hr, { shave: factor });
      const b = blockiness(lumaBt601(fromImageTensor(img, { quantize: true })), 8 * factor);
      rows.push({
        factor,
        condition: c.name,
        image: name,
        tool,
        psnrY: m.psnrY,
        ssimY: m.ssimY,
        blockiness: b,
        truthBlockiness,
        evaluations,
        input: s?.input ?? null,
        noiseRemoved: s ? s.noise : null,
      });
    };
    for (const c of conditions) {
      const { file, png } = await degrade(lr, c, `${name.replace(/\.png$/, '')}-x${factor}`, tmp);
      const seen = (await decodeImage(png)).rgb;
      add('bicubic', c, upsample(seen, factor, 'bicubic'), null);
      if (esrgan) {
        const out = join(tmp, `esrgan-${factor}-${c.name}-${name}`);
        await esrgan(png, out, factor);
        add('esrgan-thick', c, (await decodeImage(out)).rgb, null);
      }
      for (const o of ours) {
        const decoded = await decodeImage(file);
        const r = await upscale(decoded.rgb, {
          model: o.model,
          factor,
          seed: Number(a.seed),
          sourceJpegQuality: decoded.jpegQuality,
          sourceJpegGrid: decoded.jpegGrid,
          ...(o.preset ? { preset: o.preset } : {}),
        });
        add(o.label, c, r.image, r.stats.evaluations, r.settings);
        if (c.kind === 'noise') {
          // the same, told the noise level (--noise σ: removed first by one evaluation of the Gaussian prior)
          const told = await upscale(decoded.rgb, {
            model: o.model,
            factor,
            seed: Number(a.seed),
            noise: c.sigma,
            denoiser,
            ...(o.preset ? { preset: o.preset } : {}),
          });
          add(`${o.label} --noise ${c.sigma}`, c, told.image, told.stats.evaluations, told.settings);
        }
      }
    }
    console.log(`x${factor} ${name}`);
  }
}
runner?.quit();
for (const o of ours) await o.model.dispose();
await denoiser.dispose();

const tools = [...new Set(rows.map((r) => r.tool))];
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const summary = a.factors
  .split(',')
  .map(Number)
  .flatMap((factor) =>
    conditions.flatMap((c) =>
      tools.flatMap((tool) => {
        const rs = rows.filter((r) => r.factor === factor && r.condition === c.name && r.tool === tool);
        if (rs.length === 0) return [];
        const gains = rs.map(
          (r) =>
            r.psnrY - rows.find((b) => b.factor === factor && b.condition === c.name && b.tool === 'bicubic' && b.image === r.image)!.psnrY,
        );
        return {
          factor,
          condition: c.name,
          tool,
          psnrY: mean(rs.map((r) => r.psnrY)),
          ssimY: mean(rs.map((r) => r.ssimY)),
          gain: mean(gains),
          worstGain: Math.min(...gains),
          cropsBelowBicubic: gains.filter((g) => g < 0).length,
          blockiness: mean(rs.map((r) => r.blockiness)),
          truthBlockiness: mean(rs.map((r) => r.truthBlockiness)),
          evaluations: rs[0]!.evaluations,
          /** crops the run treated as noisy, and the mean noise removed over them */
          noisyCrops: rs.filter((r) => r.input === 'noisy').length,
          meanNoiseRemoved: mean(rs.filter((r) => r.input === 'noisy').map((r) => r.noiseRemoved!)),
        };
      }),
    ),
  );
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `degraded-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}`;
const protocol =
  `${names.length} held-out validation crops (${a.val}); LR = MATLAB-style bicubic (the product's matlabImresize, uint8), then JPEG at quality Q (sharp, 4:2:0) or Gaussian noise of σ grey levels (seeded per crop, rounded to 8 bits); ` +
  'PSNR-Y/SSIM-Y: BT.601 Y, shave = factor, peak 255; gain = PSNR-Y minus bicubic on the same degraded LR, per crop; blockiness: mean |step| across the LR JPEG grid lines (every 8·factor output px) over the mean |step| between all neighbours, on the 8-bit Y (the ground truth on the same grid beside it)';
await writeFile(
  `${base}.json`,
  `${JSON.stringify({ date, machine, note: a.note, protocol, ours: ours.map(({ label, preset }) => ({ label, preset })), summary, rows }, null, 2)}\n`,
);
const md = [
  `# Degraded inputs (${date})`,
  '',
  `Machine: ${machine}${a.note ? `; ${a.note}` : ''}. ${protocol}.`,
  `Command: \`node dist/benchmarks/degraded.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| factor | LR | tool | evaluations | PSNR-Y | gain over bicubic | worst crop | crops < 0 | SSIM-Y | blockiness (truth) | auto: noisy crops (mean σ removed) |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...summary.map(
    (s) =>
      `| x${s.factor} | ${s.condition} | ${s.tool} | ${s.evaluations ?? ''} | ${s.psnrY.toFixed(3)} | ${s.tool === 'bicubic' ? '' : `${s.gain >= 0 ? '+' : ''}${s.gain.toFixed(3)}`} | ${s.tool === 'bicubic' ? '' : s.worstGain.toFixed(3)} | ${s.tool === 'bicubic' ? '' : s.cropsBelowBicubic} | ${s.ssimY.toFixed(4)} | ${s.blockiness.toFixed(3)} (${s.truthBlockiness.toFixed(3)}) | ${s.tool === 'bicubic' || s.tool.includes('--noise') ? '' : `${s.noisyCrops}${s.noisyCrops ? ` (${s.meanNoiseRemoved.toFixed(1)})` : ''}`} |`,
  ),
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(md.join('\n'));
console.log(`wrote ${base}.{json,md}`);
