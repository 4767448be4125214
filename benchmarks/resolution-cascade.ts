/**
 * Issue 21 item 1: the resolution cascade for the soft-resample default, against today's one-shot path, on held-out
 * validation crops (models/train/val_crops.py). PSNR-Y (shave = factor) and the cost in output-size evaluations
 * (an evaluation at 1/k of the output's side counts 1/k²).
 *
 *   npx tsc -p . && node dist/benchmarks/resolution-cascade.js --val /tmp/ab/val --factors 4,8 [--limit 48] [--label X]
 *
 * Writes benchmarks/results/resolution-cascade-<date>[-label].{json,md}.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scoreImages } from '../src/eval/score.js';
import { backProject } from '../src/diffusion/consistency.js';
import { createRng } from '../src/diffusion/rng.js';
import { softCascade, type SoftCorruption } from '../src/diffusion/soft.js';
import { decodeImage } from '../src/image/io.js';
import type { ImageTensor } from '../src/image/tensor.js';
import { upsample } from '../src/image/upsample.js';
import { createDenoiser } from '../src/model/denoiser.js';
import { loadModel } from '../src/model/session.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    factors: { type: 'string', default: '4,8' },
    limit: { type: 'string', default: '48' },
    label: { type: 'string', default: '' },
    model: { type: 'string', default: 'models/default' },
    arms: { type: 'string', default: '' },
  },
});
if (!a.val) {
  console.error('usage: node dist/benchmarks/resolution-cascade.js --val HRDIR [--factors 4,8] [--limit N] [--label X]');
  process.exit(2);
}
const val = a.val.replace(/\/$/, '');
const limit = Number(a.limit);
const names = (await readdir(val))
  .filter((n) => n.endsWith('.png'))
  .sort()
  .slice(0, limit);
const model = await loadModel(resolve(root, a.model));

/** Stage factors for ×F: ×2 stages, the remainder last (×8 = 2·2·2, ×6 = 2·3, ×3 = 3). */
function stageFactors(f: number): number[] {
  const out: number[] = [];
  let left = f;
  while (left % 2 === 0 && left > 2) {
    out.push(2);
    left /= 2;
  }
  out.push(left);
  return out;
}

const soft = model.manifest.family.kind === 'soft-resample' ? (model.manifest.family as SoftCorruption) : null;
if (!soft) throw new Error('expected a soft-resample model');

/** One soft-resample pass chain at one resolution, consistent with the original LR at the cumulative factor. */
async function stage(
  cur: ImageTensor,
  lr: ImageTensor,
  factor: number,
  total: number,
  passes: number[],
  bp: number,
  shiftGrid: boolean,
  counter: { cost: number },
  outArea: number,
  levelFactor = factor,
): Promise<ImageTensor> {
  const up = upsample(cur, factor, 'bicubic');
  const [, H, W] = up.shape as [number, number, number];
  const d = createDenoiser(model, H, W, { shiftGrid });
  const out = await softCascade(up, {
    corruption: soft!,
    factor: levelFactor,
    passes,
    steps: 1,
    eta: 0,
    rng: createRng(0),
    denoise: d.denoise,
    consistency: { y: lr, factor: total, kind: 'ibp' },
  });
  if (bp > 0) backProject(out, lr, total, bp, out);
  counter.cost += (d.stats.evaluations / Math.max(1, d.plan.tiles.length)) * ((H * W) / outArea);
  return out;
}

interface Arm {
  name: string;
  run: (lr: ImageTensor, factor: number, c: { cost: number }) => Promise<ImageTensor>;
}
const oneShot = (passes: number[], bp: number) => async (lr: ImageTensor, f: number, c: { cost: number }) =>
  stage(lr, lr, f, f, passes, bp, passes.length > 1, c, lr.shape[1]! * lr.shape[2]! * f * f);
const staged =
  (finalPasses: number[], bp: number, earlyBp = bp, cumulative = false) =>
  async (lr: ImageTensor, f: number, c: { cost: number }) => {
    let cur = lr;
    let total = 1;
    const fs = stageFactors(f);
    for (let i = 0; i < fs.length; i++) {
      total *= fs[i]!;
      const last = i === fs.length - 1;
      cur = await stage(
        cur,
        lr,
        fs[i]!,
        total,
        last ? finalPasses : [0],
        last ? bp : earlyBp,
        last && finalPasses.length > 1,
        c,
        lr.shape[1]! * lr.shape[2]! * f * f,
        cumulative ? total : fs[i]!,
      );
    }
    return cur;
  };
const ARMS: Arm[] = [
  { name: 'bicubic', run: async (lr, f) => upsample(lr, f, 'bicubic') },
  { name: 'one-shot t400 N2 bp3 (default)', run: oneShot([0, 400], 3) },
  { name: 'one-shot N1 bp3', run: oneShot([0], 3) },
  { name: 'stages N1 bp3', run: staged([0], 3) },
  { name: 'stages N1 bp3 early-bp0', run: staged([0], 3, 0) },
  { name: 'stages N1 bp3 cumulative', run: staged([0], 3, 3, true) },
  { name: 'stages t400 N2 bp3', run: staged([0, 400], 3) },
  { name: 'stages t200 N2 bp3', run: staged([0, 200], 3) },
];
const arms = a.arms ? ARMS.filter((x) => a.arms!.split(',').includes(x.name)) : ARMS;

interface Row {
  factor: number;
  arm: string;
  psnrY: number;
  ssimY: number;
  gain: number;
  worst: number;
  below: number;
  cost: number;
  seconds: number;
}
const rows: Row[] = [];
for (const factor of a.factors.split(',').map(Number)) {
  const lrDir = `${val}-lr/x${factor}`;
  const per: Record<string, { psnr: number[]; ssim: number[]; cost: number; seconds: number }> = {};
  for (const name of names) {
    const hr = (await decodeImage(join(val, name))).rgb;
    const lr = (await decodeImage(join(lrDir, name))).rgb;
    for (const arm of arms) {
      const t0 = performance.now();
      const c = { cost: 0 };
      const image = await arm.run(lr, factor, c);
      const s = scoreImages([image], hr, factor).score;
      per[arm.name] ??= { psnr: [], ssim: [], cost: 0, seconds: 0 };
      const p = per[arm.name]!;
      p.psnr.push(s.psnrY);
      p.ssim.push(s.ssimY);
      p.cost += c.cost;
      p.seconds += (performance.now() - t0) / 1000;
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const bic = per.bicubic!.psnr;
  for (const arm of arms) {
    const p = per[arm.name]!;
    const gains = p.psnr.map((v, i) => v - bic[i]!);
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    rows.push({
      factor,
      arm: arm.name,
      psnrY: mean(p.psnr),
      ssimY: mean(p.ssim),
      gain: mean(gains),
      worst: Math.min(...gains),
      below: gains.filter((g) => g < 0).length,
      cost: p.cost / names.length,
      seconds: p.seconds / names.length,
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
}
await model.dispose();
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `resolution-cascade-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
await writeFile(`${base}.json`, `${JSON.stringify({ images: names.length, model: a.model, rows }, null, 2)}\n`);
const md = [
  `# Resolution cascade against the one-shot path (${date})`,
  '',
  `${names.length} validation crops (models/train/val_crops.py; never Set5/Set14), model ${a.model}, PSNR-Y shave = factor, seed 0.`,
  'Cost: model evaluations counted at the output size (one at half the side counts ¼). Seconds: shared machine, indicative only.',
  '',
  'Arms (deterministic soft-resample sampling, DDIM η = 0, one evaluation per pass, ibp consistency against the original LR):',
  "- one-shot: enlarge to the output size at once; pass 1 starts at the factor's level (N1), N2 adds a pass re-corrupted to t; bpK: K back-projections onto the LR after.",
  '- stages: ×2 stages (×4 = 2·2, ×8 = 2·2·2), each one evaluation at its own size from the ×2 level, consistent with and back-projected onto the *original* LR at the cumulative factor; early-bp0: no back-projection after the early stages; cumulative: each stage starts at the level of its cumulative factor instead of ×2; tN N2: one more pass at the final size.',
  '',
  '| factor | arm | PSNR-Y | SSIM-Y | gain over bicubic | worst crop | crops < 0 | cost | s/crop |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| x${r.factor} | ${r.arm} | ${r.psnrY.toFixed(3)} | ${r.ssimY.toFixed(4)} | ${r.gain >= 0 ? '+' : ''}${r.gain.toFixed(3)} | ${r.worst.toFixed(3)} | ${r.below} | ${r.cost.toFixed(2)} | ${r.seconds.toFixed(2)} |`,
  ),
  '',
  `Command: node dist/benchmarks/resolution-cascade.js --val VAL --factors ${a.factors} --limit ${limit}${a.label ? ` --label ${a.label}` : ''}`,
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
