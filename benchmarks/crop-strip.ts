/**
 * A before/after crop for the README: one image's most textured window as LR (pixel replication) | bicubic |
 * each named preset of the model | ground truth, side by side, each captioned under its panel with its name and the
 * full image's PSNR-Y/SSIM-Y (protocol of docs/evaluation.md, LR by MATLAB bicubic; the LR panel's figures are
 * those of its pixel replication, nearest).
 *
 *   npx tsc -p . && node dist/benchmarks/crop-strip.js --hr IMAGE --factor 4 --presets default,detail --out docs/images --name comic-x4
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCropStrip } from '../src/eval/crops.js';
import { cropToMultiple } from '../src/eval/dataset.js';
import { decodeImage } from '../src/image/io.js';
import { matlabImresize, replicateNearest, upsample } from '../src/image/upsample.js';
import { measure } from '../src/metrics/index.js';
import { loadModel } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';

const { values: a } = parseArgs({
  options: {
    hr: { type: 'string' },
    factor: { type: 'string', default: '4' },
    presets: { type: 'string', default: 'default,detail' },
    model: { type: 'string', default: 'default' },
    out: { type: 'string', default: 'docs/images' },
    name: { type: 'string' },
    size: { type: 'string', default: '96' },
    seed: { type: 'string', default: '0' },
  },
});
if (!a.hr) {
  console.error(
    'usage: node dist/benchmarks/crop-strip.js --hr IMAGE [--factor 4] [--presets default,detail] [--out docs/images] [--name NAME]',
  );
  process.exit(2);
}
const factor = Number(a.factor);
const hr = cropToMultiple((await decodeImage(a.hr)).rgb, factor);
const lr = matlabImresize(hr, 1 / factor);
const model = await loadModel(a.model);
const score = (image: typeof hr) => measure(image, hr, { shave: factor });
const note = (m: ReturnType<typeof score>) => `PSNR-Y ${m.psnrY.toFixed(2)} dB, SSIM-Y ${m.ssimY.toFixed(4)}`;
const panels = [{ label: 'bicubic', image: upsample(lr, factor, 'bicubic'), note: '' }];
for (const p of a.presets.split(',')) {
  const r = await upscale(lr, { model, factor, seed: Number(a.seed), ...(p === 'default' ? {} : { preset: p }) });
  panels.push({
    label: `${p} (${r.settings.passes.length}x t=${r.settings.passes[0]}, ${r.stats.evaluations} evaluations)`,
    image: r.image,
    note: '',
  });
}
await model.dispose();
const scores = panels.map((p) => score(p.image));
for (const [i, p] of panels.entries()) p.note = note(scores[i]!);
const name = a.name ?? `${basename(a.hr).replace(/\.[^.]+$/, '')}-x${factor}`;
const strip = await writeCropStrip(a.out, name, lr, hr, factor, panels, {
  size: Number(a.size),
  display: 192,
  lrNote: note(score(replicateNearest(lr, factor))),
});
const labels = ['LR', ...panels.map((p) => p.label), 'ground truth'];
console.log(
  `${a.out}/${strip.strip}: ${labels.join(' | ')} (window ${strip.window.size}px at ${strip.window.left},${strip.window.top}, zoom ${strip.zoom}x)`,
);
for (const [i, p] of panels.entries())
  console.log(
    `  ${p.label}: PSNR-Y ${scores[i]!.psnrY.toFixed(2)} dB, SSIM-Y ${scores[i]!.ssimY.toFixed(4)}, detail ratio ${scores[i]!.detailRatio.toFixed(3)}`,
  );
