#!/usr/bin/env node
/**
 * Writes a model's presets and defaults from one or more sweeps on held-out validation images (never Set5/Set14),
 * their rows merged (`--sweep a,b`: e.g. a main grid and a few K-sample cells) and re-analysed with the product's own
 * recommend rules, among the settings within --max-preset-evaluations model evaluations per image (default 30):
 *   fidelity = the best-PSNR setting; detail = the most detail at PSNR ≥ the upsampler alone;
 *   balanced = the knee of the Pareto front;
 *   default = the most detail among the settings that score at least lanczos alone in PSNR-Y and bicubic alone
 *     in SSIM-Y, and bicubic alone in PSNR-Y on every crop (per crop, from the sweeps' results.jsonl), within
 *     --max-evaluations model evaluations per image (a default must not be worse than the interpolator a user
 *     already has, on average or on any one image, nor slow), settings within 0.005 of the most detail counting
 *     as equal and the cheapest of them (evaluations, then back-projection iterations) winning; it becomes the
 *     model's defaults.
 *   npm run build && node models/train/presets.mjs --sweep <sweep-out>[,<sweep-out>…] --model models/default
 *       [--factor 4] [--max-evaluations 15] [--max-preset-evaluations 30] [--note text]
 * The manifest's presets/defaults are not covered by the ONNX file's sha256, so this leaves the model file alone.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { analyse } from '../../dist/src/eval/recommend.js';

const { values: a } = parseArgs({
  options: {
    sweep: { type: 'string' },
    model: { type: 'string' },
    factor: { type: 'string', default: '4' },
    note: { type: 'string', default: '' },
    'max-evaluations': { type: 'string', default: '15' },
    'max-preset-evaluations': { type: 'string', default: '30' },
  },
});
if (!a.sweep || !a.model) {
  console.error(
    'usage: node models/train/presets.mjs --sweep <sweep-out> --model models/<name> [--factor 4] [--max-evaluations 15] [--note text]',
  );
  process.exit(2);
}
const factor = Number(a.factor);
const seen = new Set();
// A sweep runs one sampler (and eta) for all its cells: each Boomerang row is tagged with its sweep's, and its id
// with them too when the merged sweeps used more than one (the same cell under ancestral and ddim is two settings).
const sweeps = a.sweep.split(',').map((dir) => JSON.parse(readFileSync(`${dir}/summary.json`, 'utf8')));
const samplerOf = (meta) => `${meta.sampler ?? 'ancestral'}${meta.sampler === 'ddim' ? ` eta${meta.eta ?? 0}` : ''}`;
const several = new Set(sweeps.map((w) => samplerOf(w.meta))).size > 1;
const merged = sweeps
  .flatMap((w) =>
    w.rows.map((r) =>
      r.kind === 'boomerang'
        ? { ...r, sampler: w.meta.sampler ?? 'ancestral', eta: w.meta.eta ?? 0, id: several ? `${r.id} ${samplerOf(w.meta)}` : r.id }
        : r,
    ),
  )
  .filter((r) => r.factor === factor && !seen.has(r.id) && seen.add(r.id));
const presetCap = Number(a['max-preset-evaluations']);
const analysis = analyse(merged.filter((r) => r.kind !== 'boomerang' || r.evaluations <= presetCap)).find((x) => x.factor === factor);
if (!analysis) throw new Error(`no x${a.factor} rows in ${a.sweep}`);
const summary = { rows: merged }; // the default below picks among every merged row (its own cap is --max-evaluations)

/** A row's preset settings: its cell, and the sampler (and eta) of the sweep it came from. */
function settingsOf(row) {
  return { ...parseCell(row.id), sampler: row.sampler, ...(row.sampler === 'ddim' ? { eta: row.eta } : {}) };
}

/** "x4 t100 N1 bicubic ibp S10 K1" or "x4 t5 N1 bicubic+bp20 ibp S1 K1" → preset settings. */
function parseCell(cell) {
  const m = /^x(\d+) t(\d+) N(\d+) (\w+)(?:\+bp(\d+))? (\w+) S(\d+) K(\d+)/.exec(cell);
  if (!m) throw new Error(`cannot read cell ${cell}`);
  return {
    t: Number(m[2]),
    cascade: Number(m[3]),
    upsampler: m[4],
    ...(m[5] ? { backProject: Number(m[5]) } : {}),
    consistency: m[6],
    steps: Number(m[7]),
    ...(Number(m[8]) > 1 ? { samples: Number(m[8]) } : {}),
  };
}
const rules = { fidelity: 'best-psnr', detail: 'most-detail', balanced: 'knee' };
const presets = {};
for (const [name, rule] of Object.entries(rules)) {
  const r = analysis.recommendations.find((x) => x.rule === rule && x.row);
  if (!r) {
    console.error(`no ${rule} recommendation: preset ${name} not written`);
    continue;
  }
  const f = r.row;
  presets[name] = {
    ...settingsOf(r.row),
    description:
      `${rule} of a x${a.factor} sweep on held-out validation crops, ≤ ${presetCap} model evaluations per image: ${r.why}; PSNR-Y ${f.psnrY.toFixed(2)} dB, ` +
      `SSIM-Y ${f.ssimY.toFixed(4)}, detail ratio ${f.detailRatio.toFixed(3)}${a.note ? ` (${a.note})` : ''}`,
  };
}
// the default: most detail among the settings at least as good as lanczos (PSNR) and bicubic (SSIM), and cheap
const rows = summary.rows.filter((r) => r.factor === Number(a.factor));
const alone = (k) => rows.find((r) => r.kind === 'upsampler' && r.upsampler === k && !r.backProject);
const [lanczos, bicubic] = [alone('lanczos'), alone('bicubic')];
if (!lanczos || !bicubic) throw new Error('the sweep has no lanczos/bicubic baselines');
const maxEval = Number(a['max-evaluations']);
// per crop: each sweep's results.jsonl (one line per image and setting; the last line of a pair wins, as on resume)
const perCrop = new Map(); // row id → Map(image → PSNR-Y)
for (const [k, dir] of a.sweep.split(',').entries()) {
  const tag = several ? ` ${samplerOf(sweeps[k].meta)}` : '';
  for (const line of readFileSync(`${dir}/results.jsonl`, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    if (r.factor !== factor) continue;
    const id = r.kind === 'boomerang' ? `${r.id}${tag}` : r.id;
    if (!perCrop.has(id)) perCrop.set(id, new Map());
    perCrop.get(id).set(r.image, r.psnrY);
  }
}
const bicubicCrops = perCrop.get(bicubic.id);
/** The setting's worst per-crop PSNR-Y gain over bicubic alone (−Infinity when a crop is missing). */
const worstGain = (row) => {
  const mine = perCrop.get(row.id);
  if (!mine || !bicubicCrops) return Number.NEGATIVE_INFINITY;
  let worst = Number.POSITIVE_INFINITY;
  for (const [image, base] of bicubicCrops) worst = Math.min(worst, (mine.get(image) ?? Number.NEGATIVE_INFINITY) - base);
  return worst;
};
const fit = rows.filter(
  (r) => r.kind === 'boomerang' && r.psnrY >= lanczos.psnrY && r.ssimY >= bicubic.ssimY && r.evaluations <= maxEval && worstGain(r) >= 0,
);
// most detail; settings within DETAIL_TIE of the most count as equal (the detail ratio of a 48-crop mean moves by more
// than that between seeds) and the cheapest of them wins: fewer evaluations, then fewer back-projection iterations
const DETAIL_TIE = 0.005;
const gap = (r) => Math.abs(1 - r.detailRatio);
const bestGap = Math.min(...fit.map(gap));
const best =
  fit
    .filter((r) => gap(r) <= bestGap + DETAIL_TIE)
    .sort((x, y) => x.evaluations - y.evaluations || (x.backProject ?? 0) - (y.backProject ?? 0) || gap(x) - gap(y))[0] ?? null;
if (best) {
  presets.default = {
    ...settingsOf(best),
    description:
      `default of a x${a.factor} sweep on held-out validation crops: most detail (the cheapest within ${DETAIL_TIE} of the most) among ${fit.length} setting(s) with PSNR-Y ≥ lanczos alone ` +
      `(${lanczos.psnrY.toFixed(2)} dB), SSIM-Y ≥ bicubic alone (${bicubic.ssimY.toFixed(4)}), PSNR-Y ≥ bicubic alone on every crop ` +
      `(worst ${worstGain(best) >= 0 ? '+' : ''}${worstGain(best).toFixed(2)} dB) and ≤ ${maxEval} model evaluations per image; ` +
      `PSNR-Y ${best.psnrY.toFixed(2)} dB, SSIM-Y ${best.ssimY.toFixed(4)}, detail ratio ${best.detailRatio.toFixed(3)}${a.note ? ` (${a.note})` : ''}`,
  };
} else
  console.error(
    `no setting beats lanczos in PSNR and bicubic in SSIM, and bicubic on every crop, within ${maxEval} evaluations: defaults left as they were`,
  );
const path = `${a.model}/manifest.json`;
const manifest = JSON.parse(readFileSync(path, 'utf8'));
manifest.presets = presets;
if (presets.default) {
  const { description, ...settings } = presets.default;
  manifest.defaults = { ...settings };
}
writeFileSync(path + '.tmp', JSON.stringify(manifest, null, 2) + '\n');
renameSync(path + '.tmp', path);
console.log(`presets written to ${path}:`);
for (const [k, v] of Object.entries(presets)) console.log(`  ${k}: ${JSON.stringify(v)}`);
console.log(`defaults: ${JSON.stringify(manifest.defaults)}`);
