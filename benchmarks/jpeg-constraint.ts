/**
 * How far to trust a JPEG input's DCT coefficients (diffusion/jpeg-constraint.ts), chosen on the held-out validation
 * crops that the degraded-input benchmark does not report (`--from 48`): per factor and JPEG quality, the default
 * model's output for the JPEG (its manifest's JPEG settings, the constraint off) is projected afterwards, as a run
 * does, with each slack (the share of every quantisation interval kept) and number of iterations; PSNR-Y gain over
 * bicubic on the same decoded JPEG (mean, worst crop, crops below 0). Bicubic projected the same way is reported too.
 *
 *   npx tsc -p . && node dist/benchmarks/jpeg-constraint.js --val /tmp/ab/val --from 48 --limit 50 \
 *     --factors 4,8 --qualities 50,75,90 --slacks 1,0.7,0.5,0.3,0 --iterations 1,3,10
 *
 * Writes benchmarks/results/jpeg-constraint-<date>[-label].{json,md}. Quality only.
 */
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { jpegLumaConstraint, projectJpegLuma } from '../src/diffusion/jpeg-constraint.js';
import { decodeImage, encodeImage } from '../src/image/io.js';
import { matlabImresize, upsample } from '../src/image/upsample.js';
import { measure } from '../src/metrics/index.js';
import { loadModel } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    from: { type: 'string', default: '48' },
    limit: { type: 'string', default: '50' },
    factors: { type: 'string', default: '4,8' },
    qualities: { type: 'string', default: '50,75,90' },
    slacks: { type: 'string', default: '1,0.7,0.5,0.3,0' },
    iterations: { type: 'string', default: '3' },
    model: { type: 'string', default: 'models/default' },
    label: { type: 'string', default: '' },
  },
});
if (!a.val) {
  console.error(
    'usage: node dist/benchmarks/jpeg-constraint.js --val DIR [--from N] [--limit N] [--factors 4,8] [--qualities 50,75,90] [--slacks ...] [--iterations ...]',
  );
  process.exit(2);
}
const list = (s: string) => s.split(',').map(Number);
const [factors, qualities, slacks, iterations] = [list(a.factors), list(a.qualities), list(a.slacks), list(a.iterations)];
const model = await loadModel(resolve(a.model), { precision: 'float' });
const names = readdirSync(a.val)
  .filter((n) => n.endsWith('.png'))
  .sort()
  .slice(Number(a.from), Number(a.from) + Number(a.limit));
const tmp = await mkdtemp(join(tmpdir(), 'sr-jpeg-constraint-'));
interface Row {
  factor: number;
  quality: number;
  base: 'bicubic' | 'default';
  iterations: number;
  slack: number | null;
  gains: number[];
}
const rows = new Map<string, Row>();
const push = (r: Omit<Row, 'gains'>, gain: number) => {
  const key = JSON.stringify(r);
  if (!rows.has(key)) rows.set(key, { ...r, gains: [] });
  rows.get(key)!.gains.push(gain);
};
for (const factor of factors)
  for (const quality of qualities)
    for (const name of names) {
      const hr = (await decodeImage(join(a.val, name))).rgb;
      const file = join(tmp, `${name}.jpg`);
      await encodeImage({ rgb: matlabImresize(hr, 1 / factor) }, file, { quality });
      const decoded = await decodeImage(file);
      const bicubic = upsample(decoded.rgb, factor, 'bicubic');
      const bicubicScore = measure(bicubic, hr, { shave: factor }).psnrY;
      const ours = await upscale(decoded.rgb, { model, factor, seed: 0, sourceJpegQuality: decoded.jpegQuality, jpegConstraint: false });
      for (const [base, image] of [
        ['bicubic', bicubic],
        ['default', ours.image],
      ] as const) {
        push({ factor, quality, base, iterations: 0, slack: null }, measure(image, hr, { shave: factor }).psnrY - bicubicScore);
        for (const slack of slacks) {
          const c = jpegLumaConstraint(decoded.rgb, decoded.jpegGrid!, slack);
          for (const it of iterations) {
            const projected = projectJpegLuma(image, c, factor, it);
            push({ factor, quality, base, iterations: it, slack }, measure(projected, hr, { shave: factor }).psnrY - bicubicScore);
          }
        }
      }
      process.stderr.write(`x${factor} q${quality} ${name}\n`);
    }
await model.dispose();
await rm(tmp, { recursive: true, force: true });
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const summary = [...rows.values()].map((r) => ({
  factor: r.factor,
  quality: r.quality,
  base: r.base,
  iterations: r.iterations,
  slack: r.slack,
  gain: mean(r.gains),
  worst: Math.min(...r.gains),
  below: r.gains.filter((g) => g < 0).length,
}));
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `jpeg-constraint-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const protocol = `${names.length} held-out validation crops (${a.val}, sorted, from #${a.from}; not the ones degraded.ts reports); LR = matlabImresize x1/factor, saved as JPEG (sharp, 4:2:0); ours = the default model (${a.model}, float) with its JPEG settings and the constraint off, seed 0, then projected as a run projects (projectJpegLuma, antialiased bicubic shrink, bicubic enlargement of the luma change); gain = PSNR-Y (BT.601, shave = factor) minus bicubic on the decoded JPEG, per crop`;
await writeFile(`${base}.json`, `${JSON.stringify({ date, protocol, names, summary, rows: [...rows.values()] }, null, 2)}\n`);
const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
const md = [
  `# JPEG quantisation constraint: slack and iterations (${date})`,
  '',
  `${protocol}.`,
  `Command: \`node dist/benchmarks/jpeg-constraint.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| factor | quality | output | iterations | slack | gain over bicubic | worst crop | crops < 0 |',
  '|---|---|---|---|---|---|---|---|',
  ...summary.map(
    (s) =>
      `| x${s.factor} | ${s.quality} | ${s.base} | ${s.iterations} | ${s.slack ?? '–'} | ${sign(s.gain)} | ${s.worst.toFixed(3)} | ${s.below} |`,
  ),
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(md.join('\n'));
