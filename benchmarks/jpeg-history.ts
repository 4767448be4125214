/**
 * The JPEG-history detector (src/image/jpeg-history.ts) on held-out validation crops: its false positives on clean LR
 * (must be none), its detection rate and quality error on LR saved as JPEG and decoded (a PNG of a JPEG), and what
 * `--input auto` gains from it with the default model at ×4 on PNG-of-JPEG-75 (the reported crops): PSNR-Y over
 * bicubic with detection (input auto), without (input clean, the old behaviour), and from the JPEG file itself.
 * Also a no-change check on Set5/Set14 (their HR and LR at ×2/×4/×8): no detection.
 *
 *   npx tsc -p . && node dist/benchmarks/jpeg-history.js --val /tmp/ab/val [--psnr 48] [--sets ../shared/data]
 *
 * Crops 48.. (sorted by name) are the tuning set, 0..47 the reported one. Writes
 * benchmarks/results/jpeg-history-<date>[-label].{json,md}.
 */
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeImage, encodeImage } from '../src/image/io.js';
import { DETECT_MIN_EVIDENCE, DETECT_MIN_FREQUENCIES, detectJpegHistory, fitJpegHistory } from '../src/image/jpeg-history.js';
import type { ImageTensor } from '../src/image/tensor.js';
import { matlabImresize, upsample } from '../src/image/upsample.js';
import { measure } from '../src/metrics/index.js';
import { loadModel } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    factors: { type: 'string', default: '2,4,8' },
    qualities: { type: 'string', default: '50,75,90' },
    psnr: { type: 'string', default: '48' },
    sets: { type: 'string', default: '' },
    label: { type: 'string', default: '' },
  },
});
if (!a.val) {
  console.error('usage: node dist/benchmarks/jpeg-history.js --val DIR [--factors 2,4,8] [--qualities 50,75,90] [--psnr N] [--sets DIR]');
  process.exit(2);
}
const names = readdirSync(a.val)
  .filter((n) => n.endsWith('.png'))
  .sort();
const tmp = await mkdtemp(join(tmpdir(), 'sr-jpeg-history-'));
const factors = a.factors.split(',').map(Number);
const qualities = a.qualities.split(',').map(Number);

/** The LR saved as JPEG at `quality` (sharp) and decoded: a PNG of a JPEG, and the file's own decode. */
async function viaJpeg(lr: ImageTensor, quality: number, key: string) {
  const file = join(tmp, `${key}.jpg`);
  await encodeImage({ rgb: lr }, file, { quality });
  return decodeImage(file);
}

interface Row {
  image: string;
  set: 'tuning' | 'reported';
  factor: number;
  condition: string;
  detected: boolean;
  quality: number | null;
  /** The best fit's evidence (nats) and frequencies with their own, detected or not. */
  evidence: number | null;
  frequencies: number | null;
}
const rows: Row[] = [];
const hrs = new Map<string, ImageTensor>();
for (const [i, name] of names.entries()) {
  const hr = (await decodeImage(join(a.val, name))).rgb;
  hrs.set(name, hr);
  const set = i < 48 ? 'reported' : 'tuning';
  for (const factor of factors) {
    const lr = matlabImresize(hr, 1 / factor);
    const conds: [string, ImageTensor][] = [['clean', lr]];
    for (const q of qualities) conds.push([`jpeg${q}`, (await viaJpeg(lr, q, `${i}-x${factor}-${q}`)).rgb]);
    for (const [condition, img] of conds) {
      const fit = fitJpegHistory(img);
      const h = detectJpegHistory(img);
      rows.push({
        image: name,
        set,
        factor,
        condition,
        detected: h !== null,
        quality: h?.quality ?? null,
        evidence: fit?.evidence ?? null,
        frequencies: fit?.frequencies ?? null,
      });
    }
  }
}
const conditions = ['clean', ...qualities.map((q) => `jpeg${q}`)];
const summary = factors.flatMap((factor) =>
  conditions.flatMap((condition) =>
    (['tuning', 'reported'] as const).map((set) => {
      const rs = rows.filter((r) => r.factor === factor && r.condition === condition && r.set === set);
      const found = rs.filter((r) => r.detected);
      const truth = condition === 'clean' ? null : Number(condition.slice(4));
      const errs = truth === null ? [] : found.map((r) => Math.abs(r.quality! - truth));
      const ev = rs.map((r) => r.evidence ?? 0).sort((p, q) => p - q);
      return {
        factor,
        condition,
        set,
        crops: rs.length,
        detected: found.length,
        exact: truth === null ? null : errs.filter((e) => e === 0).length,
        within5: truth === null ? null : errs.filter((e) => e <= 5).length,
        meanAbsQualityError: errs.length ? errs.reduce((s, e) => s + e, 0) / errs.length : null,
        evidenceMin: ev[0] ?? 0,
        evidenceMedian: ev[Math.floor(ev.length / 2)] ?? 0,
        evidenceMax: ev[ev.length - 1] ?? 0,
        frequenciesMax: Math.max(0, ...rs.map((r) => r.frequencies ?? 0)),
      };
    }),
  ),
);

// Set5/Set14: HR and LR at each factor, no detection expected (evaluation images: a no-change check, not tuned on)
const setRows: { image: string; factor: number; detected: boolean; quality: number | null }[] = [];
if (a.sets) {
  for (const s of ['Set5', 'Set14']) {
    const dir = join(a.sets, s);
    for (const n of readdirSync(dir)
      .filter((f) => f.endsWith('.png'))
      .sort()) {
      const hr = (await decodeImage(join(dir, n))).rgb;
      for (const factor of [1, ...factors]) {
        const img = factor === 1 ? hr : matlabImresize(hr, 1 / factor);
        const h = detectJpegHistory(img);
        setRows.push({ image: `${s}/${n}`, factor, detected: h !== null, quality: h?.quality ?? null });
      }
    }
  }
}

// PSNR-Y over bicubic at ×4, PNG-of-JPEG-75, the first N crops: input auto (detection) vs clean vs the JPEG file
const psnrRows: { image: string; detected: boolean; auto: number; clean: number; file: number }[] = [];
const nPsnr = Number(a.psnr);
if (nPsnr > 0) {
  const model = await loadModel('default', { precision: 'float' });
  const factor = 4;
  for (const [i, name] of names.slice(0, nPsnr).entries()) {
    const hr = hrs.get(name)!;
    const lr = matlabImresize(hr, 1 / factor);
    const decoded = await viaJpeg(lr, 75, `psnr-${i}`);
    const png = decoded.rgb; // the same pixels, nothing known of the file
    const bic = measure(upsample(png, factor, 'bicubic'), hr, { shave: factor }).psnrY;
    const run = async (o: Parameters<typeof upscale>[1]) =>
      measure((await upscale(png, { model, factor, seed: 0, ...o })).image, hr, { shave: factor }).psnrY - bic;
    const auto = await run({ input: 'auto' });
    const clean = await run({ input: 'clean' });
    const file = await run({ sourceJpegQuality: decoded.jpegQuality, sourceJpegGrid: decoded.jpegGrid });
    psnrRows.push({ image: name, detected: detectJpegHistory(png) !== null, auto, clean, file });
    console.error(`${i + 1}/${nPsnr} ${name}: auto ${auto.toFixed(3)} clean ${clean.toFixed(3)} file ${file.toFixed(3)}`);
  }
  await model.dispose();
}
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);
const psnrSummary = psnrRows.length
  ? {
      crops: psnrRows.length,
      detected: psnrRows.filter((r) => r.detected).length,
      auto: mean(psnrRows.map((r) => r.auto)),
      clean: mean(psnrRows.map((r) => r.clean)),
      file: mean(psnrRows.map((r) => r.file)),
      autoBelowBicubic: psnrRows.filter((r) => r.auto < 0).length,
      cleanBelowBicubic: psnrRows.filter((r) => r.clean < 0).length,
      autoBelowClean: psnrRows.filter((r) => r.auto < r.clean - 1e-9).length,
    }
  : null;

const date = new Date().toISOString().slice(0, 10);
const base = join(root, 'benchmarks', 'results', `jpeg-history-${date}${a.label ? `-${a.label}` : ''}`);
await mkdir(dirname(base), { recursive: true });
const protocol = `${names.length} held-out validation crops (${a.val}, 128 px, sorted; 0..47 reported, 48.. tuning); LR = matlabImresize x1/factor (uint8); jpegQ = that LR saved as JPEG by sharp (4:2:0) at quality Q and decoded, given as pixels only (a PNG of a JPEG); detector = detectJpegHistory (a JPEG: evidence ≥ ${DETECT_MIN_EVIDENCE} nats over ≥ ${DETECT_MIN_FREQUENCIES} frequencies)`;
const setSummary = a.sets
  ? {
      images: new Set(setRows.map((r) => r.image)).size,
      checks: setRows.length,
      detected: setRows.filter((r) => r.detected).map((r) => `${r.image} x${r.factor}`),
    }
  : null;
await writeFile(
  `${base}.json`,
  `${JSON.stringify({ date, protocol, summary, setSummary, psnrSummary, rows, setRows, psnrRows }, null, 2)}\n`,
);
const f2 = (v: number | null) => (v === null ? '–' : v.toFixed(2));
const md = [
  `# JPEG history in PNG inputs (${date})`,
  '',
  `${protocol}.`,
  `Command: \`node dist/benchmarks/jpeg-history.js ${process.argv.slice(2).join(' ')}\``,
  '',
  '| factor (LR side) | LR | crops | set | detected | quality exact | within 5 | mean abs quality error | evidence min / median / max (nats) | most frequencies |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...summary.map(
    (s) =>
      `| x${s.factor} (${128 / s.factor} px) | ${s.condition} | ${s.crops} | ${s.set} | ${s.detected} | ${s.exact ?? '–'} | ${s.within5 ?? '–'} | ${f2(s.meanAbsQualityError)} | ${s.evidenceMin.toFixed(0)} / ${s.evidenceMedian.toFixed(0)} / ${s.evidenceMax.toFixed(0)} | ${s.frequenciesMax} |`,
  ),
  '',
  ...(setSummary
    ? [
        `Set5/Set14 (${setSummary.images} images; HR and LR at x${factors.join('/x')}, ${setSummary.checks} checks): ${setSummary.detected.length} detected${setSummary.detected.length ? ` (${setSummary.detected.join(', ')})` : ''}.`,
        '',
      ]
    : []),
  ...(psnrSummary
    ? [
        `Default model, x4, seed 0, the first ${psnrSummary.crops} crops' LR saved as JPEG 75, PSNR-Y gain over bicubic (dB, shave 4) on the decoded pixels:`,
        '',
        '| run | mean gain | crops below bicubic |',
        '|---|---|---|',
        `| PNG, input auto (detected in ${psnrSummary.detected}/${psnrSummary.crops}) | ${psnrSummary.auto.toFixed(3)} | ${psnrSummary.autoBelowBicubic} |`,
        `| PNG, input clean (the old auto) | ${psnrSummary.clean.toFixed(3)} | ${psnrSummary.cleanBelowBicubic} |`,
        `| the JPEG file (its quality and table) | ${psnrSummary.file.toFixed(3)} | ${psnrRows.filter((r) => r.file < 0).length} |`,
        '',
        `Auto below clean on ${psnrSummary.autoBelowClean} crops.`,
        '',
      ]
    : []),
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(md.join('\n'));
