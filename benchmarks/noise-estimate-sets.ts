/**
 * What `--input auto`'s noise estimate (estimateInputNoise) reads on the classic pairs' LR files (Set5 and Set14, ×4
 * and ×8, ../shared/data/pairs): clean benchmark inputs, so none may reach NOISY_INPUT_SIGMA (auto would change their
 * published results). A check, not a tuning set: the bound's own measurements are noise-estimate.ts's.
 *
 *   npx tsc -p . && node dist/benchmarks/noise-estimate-sets.js [--pairs ../shared/data/pairs]
 *
 * Writes benchmarks/results/noise-estimate-sets-<date>.{json,md}.
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeImage } from '../src/image/io.js';
import { estimateInputNoise, NOISY_INPUT_SIGMA } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({ options: { pairs: { type: 'string', default: resolve(root, '..', 'shared', 'data', 'pairs') } } });
const walk = (d: string): string[] =>
  readdirSync(d)
    .sort()
    .flatMap((n) => {
      const p = join(d, n);
      return statSync(p).isDirectory() ? walk(p) : /_LR\.png$/i.test(n) ? [p] : [];
    });
const rows: { file: string; width: number; height: number; estimate: number | null; noisy: boolean }[] = [];
for (const file of walk(a.pairs)) {
  const d = await decodeImage(file);
  const estimate = estimateInputNoise(d.rgb);
  rows.push({
    file: relative(a.pairs, file),
    width: d.width,
    height: d.height,
    estimate,
    noisy: estimate !== null && estimate >= NOISY_INPUT_SIGMA,
  });
}
rows.sort((p, q) => (q.estimate ?? -1) - (p.estimate ?? -1));
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `noise-estimate-sets-${date}`);
await mkdir(dirname(base), { recursive: true });
await writeFile(`${base}.json`, `${JSON.stringify({ date, pairs: a.pairs, bound: NOISY_INPUT_SIGMA, rows }, null, 2)}\n`);
const md = [
  `# --input auto's noise estimate on the classic pairs' LR (${date})`,
  '',
  `${rows.length} LR files under ${a.pairs}; estimateInputNoise in grey levels (null: a grey image, not estimated); noisy from ${NOISY_INPUT_SIGMA}.`,
  `Command: \`node dist/benchmarks/noise-estimate-sets.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| LR file | size | estimate | found noisy |',
  '|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.file} | ${r.width}×${r.height} | ${r.estimate === null ? 'grey: none' : r.estimate.toFixed(2)} | ${r.noisy ? 'yes' : 'no'} |`,
  ),
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(md.join('\n'));
