/**
 * Side by side with UpscalerJS esrgan-thick (the upscaler a JavaScript user would otherwise pick), in one run, the
 * tools interleaved image by image: PSNR-Y/SSIM-Y and wall seconds per image on the classic pairs (MATLAB-bicubic
 * LR files), plus bicubic on the same LR.
 *
 *   bash ../shared/tools/esrgan-thick/setup.sh /tmp/esrgan      (once)
 *   npx tsc -p . && node dist/benchmarks/versus.js --esrgan /tmp/esrgan --pairs ../shared/data/pairs \
 *     --ours default=models/default,fidelity=models/default:fidelity [--sets Set5,Set14] [--factors 4,8] [--label X]
 *
 * Each `--ours` entry is LABEL=MODEL_DIR[:PRESET][@auto|@float|@int8] (the model file: auto by default, as `sr`
 * runs it; the precision that ran is recorded); every model is loaded once before timing. Timing: our side is
 * the wall time of `upscale` on the decoded LR tensor (upsampling, every model evaluation, consistency), esrgan's is
 * its runner's (the model call and reading its output); neither counts PNG decode/encode. Run it on an idle machine
 * (pause training: kill -STOP) and say what else ran. ORT uses its default threads (all cores); tfjs-wasm has one.
 *
 * Writes benchmarks/results/versus-<date>[-label].{json,md}.
 */
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeImage } from '../src/image/io.js';
import { upsample } from '../src/image/upsample.js';
import { measure } from '../src/metrics/index.js';
import { loadModel, precisionOf, type ModelSession } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';
import { startEsrgan } from './esrgan.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    esrgan: { type: 'string' },
    pairs: { type: 'string', default: join(root, '..', 'shared', 'data', 'pairs') },
    ours: { type: 'string', default: 'default=models/default' },
    sets: { type: 'string', default: 'Set5,Set14' },
    factors: { type: 'string', default: '4,8' },
    label: { type: 'string', default: '' },
    seed: { type: 'string', default: '0' },
    note: { type: 'string', default: '' },
  },
});
if (!a.esrgan) {
  console.error('usage: node dist/benchmarks/versus.js --esrgan DIR [--ours LABEL=MODEL[:PRESET],...] [--sets Set5,Set14] [--factors 4,8]');
  process.exit(2);
}

interface Ours {
  label: string;
  dir: string;
  preset: string | undefined;
  precision: 'float' | 'int8';
  model: ModelSession;
}
const ours: Ours[] = [];
for (const spec of a.ours.split(',')) {
  const [label, rest] = spec.split('=');
  if (!label || !rest) throw new Error(`--ours: expected LABEL=MODEL[:PRESET][@PRECISION], got ${spec}`);
  const [where, asked] = rest.split('@');
  const [dir, preset] = where!.split(':');
  // the product's default (auto) unless the entry names one; the record says what ran
  const model = await loadModel(resolve(dir!), { precision: precisionOf(asked) });
  ours.push({ label, dir: dir!, preset, precision: model.precision ?? 'float', model });
}

const esrganRunner = await startEsrgan(a.esrgan, a.factors);
const ready = esrganRunner.ready;
const esrgan = esrganRunner.upscale;

interface Row {
  set: string;
  factor: number;
  image: string;
  tool: string;
  psnrY: number;
  ssimY: number;
  seconds: number;
  evaluations: number | null;
}
const rows: Row[] = [];
const tmp = await mkdtemp(join(tmpdir(), 'sr-versus-'));
for (const set of a.sets.split(',')) {
  for (const factor of a.factors.split(',').map(Number)) {
    const dir = join(a.pairs, set, `image_SRF_${factor}`);
    const names = readdirSync(dir)
      .filter((n) => n.endsWith('_HR.png'))
      .sort();
    for (const hrName of names) {
      const image = hrName.replace(`_SRF_${factor}_HR.png`, '');
      const lrPath = join(dir, hrName.replace('_HR.png', '_LR.png'));
      const hr = (await decodeImage(join(dir, hrName))).rgb;
      const lr = (await decodeImage(lrPath)).rgb;
      const score = (img: typeof hr) => measure(img, hr, { shave: factor });
      const bic = score(upsample(lr, factor, 'bicubic'));
      rows.push({ set, factor, image, tool: 'bicubic', psnrY: bic.psnrY, ssimY: bic.ssimY, seconds: 0, evaluations: null });
      const out = join(tmp, `${set}-${image}-x${factor}.png`);
      const e = await esrgan(lrPath, out, factor);
      const es = score((await decodeImage(out)).rgb);
      rows.push({ set, factor, image, tool: 'esrgan-thick', psnrY: es.psnrY, ssimY: es.ssimY, seconds: e.sec, evaluations: null });
      for (const o of ours) {
        const t0 = performance.now();
        const r = await upscale(lr, { model: o.model, factor, seed: Number(a.seed), ...(o.preset ? { preset: o.preset } : {}) });
        const seconds = (performance.now() - t0) / 1000;
        const m = score(r.image);
        rows.push({ set, factor, image, tool: o.label, psnrY: m.psnrY, ssimY: m.ssimY, seconds, evaluations: r.stats.evaluations });
      }
      console.log(
        `${set} x${factor} ${image}: ` +
          rows
            .filter((r) => r.set === set && r.factor === factor && r.image === image)
            .map((r) => `${r.tool} ${r.psnrY.toFixed(2)} dB ${r.seconds.toFixed(2)} s`)
            .join(' | '),
      );
    }
  }
}
esrganRunner.quit();
for (const o of ours) await o.model.dispose();

const tools = ['bicubic', 'esrgan-thick', ...ours.map((o) => o.label)];
const groups = [...new Set(rows.map((r) => `${r.set}\n${r.factor}`))].map((k) => {
  const [set, f] = k.split('\n');
  return { set: set!, factor: Number(f) };
});
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const summary = groups.flatMap(({ set, factor }) =>
  tools.map((tool) => {
    const rs = rows.filter((r) => r.set === set && r.factor === factor && r.tool === tool);
    const es = rows.filter((r) => r.set === set && r.factor === factor && r.tool === 'esrgan-thick');
    const sec = mean(rs.map((r) => r.seconds));
    return {
      set,
      factor,
      tool,
      psnrY: mean(rs.map((r) => r.psnrY)),
      ssimY: mean(rs.map((r) => r.ssimY)),
      secondsPerImage: sec,
      timeVsEsrgan: tool === 'bicubic' ? null : sec / mean(es.map((r) => r.seconds)),
      evaluations: rs[0]!.evaluations,
    };
  }),
);
const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `versus-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}`;
const protocol = 'PSNR-Y/SSIM-Y: BT.601 Y, shave = factor, peak 255, SSIM 11x11 Gaussian sigma 1.5; LR = the classic MATLAB-bicubic files';
await writeFile(
  `${base}.json`,
  JSON.stringify(
    {
      date,
      machine,
      note: a.note,
      protocol,
      esrgan: ready,
      ours: ours.map(({ label, dir, preset, precision }) => ({ label, dir, preset, precision })),
      summary,
      rows,
    },
    null,
    2,
  ) + '\n',
);
const md = [
  `# Side by side with esrgan-thick (${date})`,
  '',
  `Machine: ${machine}${a.note ? `; ${a.note}` : ''}. ${protocol}. Interleaved image by image in one run; seconds per image are wall time of the tool's model work (no PNG I/O): ours \`upscale\` on the decoded LR (ORT CPU EP), esrgan-thick tfjs ${String(ready.tfjs)} ${String(ready.backend)} (one thread).`,
  `Command: \`node dist/benchmarks/versus.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| set | factor | tool | evaluations | PSNR-Y | SSIM-Y | s/image | time / esrgan |',
  '|---|---|---|---|---|---|---|---|',
  ...summary.map(
    (s) =>
      `| ${s.set} | x${s.factor} | ${s.tool} | ${s.evaluations ?? ''} | ${s.psnrY.toFixed(3)} | ${s.ssimY.toFixed(4)} | ${s.tool === 'bicubic' ? '' : s.secondsPerImage.toFixed(3)} | ${s.timeVsEsrgan === null ? '' : s.timeVsEsrgan.toFixed(2)} |`,
  ),
  '',
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(md.join('\n'));
console.log(`wrote ${base}.{json,md}`);
