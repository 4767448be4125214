/**
 * The default model's settings for JPEG inputs (its manifest's `inputs.jpeg`), compared on held-out validation crops
 * whose LR was saved as JPEG (issue 22): per variant, the PSNR-Y gain over bicubic on the same decoded JPEG (mean,
 * worst crop, crops below 0). Variants are explicit upscale options over the manifest's JPEG settings. Choose on
 * crops the degraded-input benchmark does not report (`--from 48`), report with degraded.ts on the first 48.
 *
 *   npx tsc -p . && node dist/benchmarks/jpeg-settings.js --val /tmp/ab/val --from 48 --limit 50 --factor 4 --quality 75 \
 *     --variants '{"shipped":{},"one pass":{"cascade":1}}'
 *
 * Writes benchmarks/results/jpeg-settings-<date>[-label].{json,md}. Quality only.
 */
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeImage, encodeImage } from '../src/image/io.js';
import { matlabImresize, upsample } from '../src/image/upsample.js';
import { blockiness, fromImageTensor, lumaBt601, measure } from '../src/metrics/index.js';
import type { ImageTensor } from '../src/image/tensor.js';
import { loadModel } from '../src/model/session.js';
import { type UpscaleOptions, upscale } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    from: { type: 'string', default: '48' },
    limit: { type: 'string', default: '50' },
    factor: { type: 'string', default: '4' },
    quality: { type: 'string', default: '75' },
    model: { type: 'string', default: 'models/default' },
    variants: { type: 'string', default: '{"shipped":{}}' },
    label: { type: 'string', default: '' },
  },
});
if (!a.val) {
  console.error('usage: node dist/benchmarks/jpeg-settings.js --val DIR [--from N] [--limit N] [--factor F] [--quality Q] --variants JSON');
  process.exit(2);
}
const variants = JSON.parse(a.variants) as Record<string, UpscaleOptions>;
const factor = Number(a.factor);
const model = await loadModel(resolve(a.model));
const names = readdirSync(a.val)
  .filter((n) => n.endsWith('.png'))
  .sort()
  .slice(Number(a.from), Number(a.from) + Number(a.limit));
const tmp = await mkdtemp(join(tmpdir(), 'sr-jpeg-settings-'));
const gains: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const blocky: Record<string, number[]> = Object.fromEntries(['bicubic', 'truth', ...Object.keys(variants)].map((k) => [k, []]));
/** blockiness on the LR's JPEG grid (8·factor output px), as degraded.ts measures it */
const blockinessOf = (img: ImageTensor) => blockiness(lumaBt601(fromImageTensor(img, { quantize: true })), 8 * factor);
for (const name of names) {
  const hr = (await decodeImage(join(a.val, name))).rgb;
  const file = join(tmp, `${name}.jpg`);
  await encodeImage({ rgb: matlabImresize(hr, 1 / factor) }, file, { quality: Number(a.quality) });
  const decoded = await decodeImage(file);
  const up = upsample(decoded.rgb, factor, 'bicubic');
  const bicubic = measure(up, hr, { shave: factor }).psnrY;
  blocky.bicubic!.push(blockinessOf(up));
  blocky.truth!.push(blockinessOf(hr));
  for (const [k, v] of Object.entries(variants)) {
    const r = await upscale(decoded.rgb, {
      model,
      factor,
      seed: 0,
      sourceJpegQuality: decoded.jpegQuality,
      sourceJpegGrid: decoded.jpegGrid,
      ...v,
    });
    gains[k]!.push(measure(r.image, hr, { shave: factor }).psnrY - bicubic);
    blocky[k]!.push(blockinessOf(r.image));
  }
}
await model.dispose();
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const summary = Object.entries(gains).map(([variant, g]) => ({
  variant,
  options: variants[variant],
  gain: mean(g),
  worst: Math.min(...g),
  below: g.filter((x) => x < 0).length,
  blockiness: mean(blocky[variant]!),
}));
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `jpeg-settings-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const protocol = `${names.length} held-out validation crops (${a.val}, sorted, from #${a.from}); LR = matlabImresize x1/${factor}, saved as JPEG quality ${a.quality} (sharp, 4:2:0); gain = PSNR-Y (BT.601, shave ${factor}) minus bicubic on the decoded JPEG, per crop; seed 0; blockiness on the LR's JPEG grid as degraded.ts measures it (bicubic ${mean(blocky.bicubic!).toFixed(3)}, ground truth ${mean(blocky.truth!).toFixed(3)})`;
await writeFile(`${base}.json`, `${JSON.stringify({ date, protocol, summary, names, gains, blockiness: blocky }, null, 2)}\n`);
const md = [
  `# JPEG-input settings (${date})`,
  '',
  `${protocol}.`,
  `Command: \`node dist/benchmarks/jpeg-settings.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| variant | options over the manifest | gain over bicubic | worst crop | crops < 0 | blockiness |',
  '|---|---|---|---|---|---|',
  ...summary.map(
    (s) =>
      `| ${s.variant} | \`${JSON.stringify(s.options)}\` | ${s.gain >= 0 ? '+' : ''}${s.gain.toFixed(3)} | ${s.worst.toFixed(3)} | ${s.below} | ${s.blockiness.toFixed(3)} |`,
  ),
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(md.join('\n'));
