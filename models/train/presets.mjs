#!/usr/bin/env node
/**
 * Writes a model's presets from a sweep on held-out validation images (never Set5/Set14):
 *   fidelity = the sweep's best-PSNR setting; detail = the most detail at PSNR ≥ the upsampler alone (issue 3's rule);
 *   balanced = the knee of the Pareto front, which also becomes the model's default.
 *   node models/train/presets.mjs --sweep <sweep-out>/recommendations.json --model models/default [--factor 4]
 * The manifest's presets/defaults are not covered by the ONNX file's sha256, so this leaves the model file alone.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({ options: { sweep: { type: 'string' }, model: { type: 'string' }, factor: { type: 'string', default: '4' }, note: { type: 'string', default: '' } } });
if (!a.sweep || !a.model) {
  console.error('usage: node models/train/presets.mjs --sweep recommendations.json --model models/<name> [--factor 4] [--note text]');
  process.exit(2);
}
const rec = JSON.parse(readFileSync(a.sweep, 'utf8'));
const analysis = rec.analyses.find((x) => x.factor === Number(a.factor));
if (!analysis) throw new Error(`no analysis for x${a.factor} in ${a.sweep}`);

/** "x4 t100 N1 bicubic ibp S10 K1" → preset settings. */
function parseCell(cell) {
  const m = /^x(\d+) t(\d+) N(\d+) (\w+) (\w+) S(\d+) K(\d+)/.exec(cell);
  if (!m) throw new Error(`cannot read cell ${cell}`);
  return { t: Number(m[2]), cascade: Number(m[3]), upsampler: m[4], consistency: m[5], steps: Number(m[6]), ...(Number(m[7]) > 1 ? { samples: Number(m[7]) } : {}) };
}
const rules = { fidelity: 'best-psnr', detail: 'most-detail', balanced: 'knee' };
const presets = {};
for (const [name, rule] of Object.entries(rules)) {
  const r = analysis.recommendations.find((x) => x.rule === rule && x.cell);
  if (!r) { console.error(`no ${rule} recommendation: preset ${name} not written`); continue; }
  const f = r.figures;
  presets[name] = {
    ...parseCell(r.cell),
    description: `${rule} of a x${a.factor} sweep on held-out validation crops: ${r.why}; PSNR-Y ${f.psnrY.toFixed(2)} dB, ` +
      `SSIM-Y ${f.ssimY.toFixed(4)}, detail ratio ${f.detailRatio.toFixed(3)}${a.note ? ` (${a.note})` : ''}`,
  };
}
const path = `${a.model}/manifest.json`;
const manifest = JSON.parse(readFileSync(path, 'utf8'));
manifest.presets = presets;
if (presets.balanced) {
  const { description, ...settings } = presets.balanced;
  manifest.defaults = { ...settings };
}
writeFileSync(path + '.tmp', JSON.stringify(manifest, null, 2) + '\n');
renameSync(path + '.tmp', path);
console.log(`presets written to ${path}:`);
for (const [k, v] of Object.entries(presets)) console.log(`  ${k}: ${JSON.stringify(v)}`);
console.log(`defaults: ${JSON.stringify(manifest.defaults)}`);
