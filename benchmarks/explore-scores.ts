/**
 * Do the ground-truth-free scores of `sr explore` rank settings the way the ground-truth scores do? (issue 23,
 * item 3.) On held-out validation crops (models/train/val_crops.py; never Set5/Set14), each crop's LR is made by
 * MATLAB-style bicubic (uint8), and every setting of a grid that spans fidelity against detail runs on it as
 * `sr explore` runs a candidate (one seed, K samples reduced by their mean, the uncertainty map). Per setting:
 *
 *   no reference (src/explore/scores.ts, `scoreCandidate`, exactly as `sr explore`): fidelity (PSNR-Y of the
 *   output bicubic-downscaled against the LR), detail (HF energy over the bicubic enlargement's), invention (mean
 *   per-pixel luma std across the K samples);
 *   ground truth (src/metrics `measure`, the evaluation protocol, shave = factor): PSNR-Y, detail ratio, and the
 *   RMSE of Y (for invention).
 *
 * Reported: per crop, Spearman's ρ across the settings of (fidelity, PSNR-Y), (detail, GT detail ratio) and
 * (invention, RMSE-Y); their mean, spread and share above 0 over the crops; the pooled ρ over every (crop,
 * setting); ρ of the settings' mean scores; and, per pixel, how the uncertainty map follows the error.
 *
 *   npx tsc -p . && nice -n 5 node dist/benchmarks/explore-scores.js --val /tmp/val23 [--limit 48] [--factor 4]
 *       [--samples 4] [--seed 0] [--grid 'default:preset=fidelity;gaussian:t=50,cascade=3;…'] [--label NAME]
 *
 * A grid entry is MODEL[:key=value,…] with MODEL a shipped model name or folder and the keys of `sr upscale`
 * (preset, t, cascade, steps, sampler, eta, backProject, consistency, upsampler). Entries that resolve to the
 * same settings run once, under all their names. The files are rewritten after every crop, so a stopped run
 * leaves the crops it finished; `--from FILE.json` (with the same --val, --limit and grid) rewrites the report from
 * a run's JSON without running anything.
 *
 * Writes benchmarks/results/explore-scores-<date>[-label].{json,md}.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadTestSet } from '../src/eval/dataset.js';
import { lumaOf, scoreCandidate, type ExploreScores } from '../src/explore/scores.js';
import { upsample } from '../src/image/upsample.js';
import { measure } from '../src/metrics/index.js';
import { pearson, spearman } from '../src/metrics/rank.js';
import { loadModel, type ModelSession } from '../src/model/session.js';
import { resolveSettings, upscale, type UpscaleOptions } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The default grid: the shipped model (soft-resample) at its presets and a few steps/sampler variants, and
 * the Gaussian prior at t 25…200 × cascade 1, 3, from the most faithful settings to the most inventive.
 */
const DEFAULT_GRID = [
  'default:preset=default',
  'default:preset=fidelity',
  'default:preset=balanced',
  'default:preset=detail',
  'default:sampler=ancestral',
  'default:sampler=ancestral,steps=2',
  'default:preset=detail,steps=1',
  'default:preset=detail,steps=4',
  'default:backProject=0',
  'default:consistency=none',
  ...[25, 50, 100, 200].flatMap((t) => [1, 3].map((n) => `gaussian:t=${t},cascade=${n}`)),
  'gaussian:t=400,cascade=1',
].join(';');

const { values: a } = parseArgs({
  options: {
    val: { type: 'string' },
    limit: { type: 'string' },
    factor: { type: 'string', default: '4' },
    samples: { type: 'string', default: '4' },
    seed: { type: 'string', default: '0' },
    grid: { type: 'string', default: DEFAULT_GRID },
    label: { type: 'string', default: '' },
    /** Rewrite the report from this run's JSON (the same grid) without running anything. */
    from: { type: 'string' },
  },
});
if (!a.val) {
  console.error(
    'usage: node dist/benchmarks/explore-scores.js --val HRDIR [--limit N] [--factor 4] [--samples 4] [--seed 0] [--grid SPEC] [--label NAME]',
  );
  process.exit(2);
}
const factor = Number(a.factor);
const samples = Number(a.samples);
const seed = Number(a.seed);
const NUMERIC = new Set(['t', 'cascade', 'steps', 'eta', 'backProject']);
const KEYS = new Set([...NUMERIC, 'preset', 'sampler', 'consistency', 'upsampler']);

interface Setting {
  /** Every grid entry that resolved to these settings ("default:preset=default = default:preset=detail"). */
  name: string;
  model: string;
  options: Partial<UpscaleOptions>;
  /** The resolved settings, for the report. */
  resolved: string;
  key: string;
}

const models = new Map<string, ModelSession>();
const settings: Setting[] = [];
for (const entry of a.grid
  .split(';')
  .map((s) => s.trim())
  .filter(Boolean)) {
  const [model, rest] = entry.split(':') as [string, string | undefined];
  const options: Record<string, string | number> = {};
  for (const kv of (rest ?? '').split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined || !KEYS.has(k)) throw new Error(`--grid: bad entry ${JSON.stringify(kv)} in ${entry}`);
    options[k] = NUMERIC.has(k) ? Number(v) : v;
  }
  if (!models.has(model)) models.set(model, await loadModel(model));
  const session = models.get(model)!;
  const s = resolveSettings({ ...(options as Partial<UpscaleOptions>), factor, seed, samples }, session.manifest);
  const { preset: _p, device: _d, ...pixels } = s;
  const key = `${session.manifest.sha256}\n${JSON.stringify(pixels)}`;
  const same = settings.find((x) => x.key === key);
  if (same) {
    same.name += ` = ${entry}`;
    continue;
  }
  const resolved =
    `${session.manifest.name}: passes ${s.passes.join(',')}, ${s.steps} steps ${s.sampler}${s.sampler === 'ddim' ? ` η ${s.eta}` : ''}, ` +
    `${s.upsampler}${s.backProject ? ` bp${s.backProject}` : ''}, ${s.consistency}`;
  settings.push({ name: entry, model, options: options as Partial<UpscaleOptions>, resolved, key });
}

interface Measured {
  setting: string;
  /** No-reference scores, as `sr explore` computes them. */
  fidelity: number;
  detail: number | null;
  invention: number | null;
  /** Ground truth. */
  psnrY: number;
  detailRatio: number;
  rmseY: number;
  /** Per pixel: Pearson correlation of the uncertainty map and |Y error| of the output; null for a constant map. */
  mapErrorR: number | null;
  seconds: number;
  evaluations: number;
}
interface Crop {
  name: string;
  bicubic: ExploreScores & { psnrY: number; detailRatio: number };
  rows: Measured[];
}

const set = await loadTestSet({ hr: a.val, factor, ...(a.limit ? { limit: Number(a.limit) } : {}) });
const previous = a.from
  ? (JSON.parse(await readFile(a.from, 'utf8'), (k, v) =>
      // a fidelity of Infinity (the output downscales exactly to the LR) is written as "Infinity"; JSON.stringify's null in older files
      k === 'fidelity' && (v === null || v === 'Infinity') ? Number.POSITIVE_INFINITY : v,
    ) as { date: string; command: string; seconds: number; crops: Crop[] })
  : null;
const date = previous?.date ?? new Date().toISOString().slice(0, 10);
const base = a.from
  ? a.from.replace(/\.json$/, '')
  : join(root, 'benchmarks', 'results', `explore-scores-${date}${a.label ? `-${a.label}` : ''}`);
const crops: Crop[] = previous?.crops ?? [];
const started = performance.now() - (previous?.seconds ?? 0) * 1000;
const command = previous?.command ?? `nice -n 5 node dist/benchmarks/explore-scores.js ${process.argv.slice(2).join(' ')}`;

type Score = 'fidelity' | 'detail' | 'invention';
type Truth = 'psnrY' | 'detailRatio' | 'rmseY';
const num = (v: number | null) => (v === null ? Number.NaN : v);
/** ρ across a crop's settings (those of one model only, when given). */
function rho(c: Crop, s: Score, t: Truth, model?: string): number {
  const rows = model === undefined ? c.rows : c.rows.filter((r) => modelOf.get(r.setting) === model);
  return spearman(
    rows.map((r) => num(r[s])),
    rows.map((r) => num(r[t])),
  );
}
const modelOf = new Map(settings.map((s) => [s.name, s.model]));
function fmt(v: number, d = 2): string {
  return Number.isFinite(v) ? v.toFixed(d) : v === Number.POSITIVE_INFINITY ? '∞' : '–';
}
function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (i - lo);
}
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : Number.NaN);

const PAIRS: { score: Score; truth: Truth; text: string; expect: string }[] = [
  { score: 'fidelity', truth: 'psnrY', text: 'fidelity vs PSNR-Y', expect: '+1 if fidelity ranks settings as PSNR-Y does' },
  {
    score: 'detail',
    truth: 'detailRatio',
    text: 'detail vs GT detail ratio',
    expect: '+1 if detail ranks settings as the GT detail ratio does',
  },
  { score: 'invention', truth: 'rmseY', text: 'invention vs RMSE-Y', expect: '+1 if more invention means more error' },
];

/**
 * Each pair's figures over all the settings, and over each model's settings alone (whether a score still ranks
 * when the two models' different levels do not carry it).
 */
function summary() {
  const scopes: (string | undefined)[] = [undefined, ...(models.size > 1 ? [...models.keys()] : [])];
  return scopes.flatMap((model) =>
    PAIRS.map((p) => {
      const per = crops.map((c) => rho(c, p.score, p.truth, model)).filter(Number.isFinite);
      const sorted = [...per].sort((x, y) => x - y);
      const sd = Math.sqrt(mean(per.map((v) => (v - mean(per)) ** 2)));
      const mine = (rows: Measured[]) => (model === undefined ? rows : rows.filter((r) => modelOf.get(r.setting) === model));
      const pooled = spearman(
        crops.flatMap((c) => mine(c.rows).map((r) => num(r[p.score]))),
        crops.flatMap((c) => mine(c.rows).map((r) => num(r[p.truth]))),
      );
      // the settings' means over the crops: does the score order the settings, on average, as the truth does?
      // (medians for fidelity: a setting whose output downscales exactly to the LR scores Infinity)
      const bySetting = settings
        .filter((s) => model === undefined || s.model === model)
        .map((s) => {
          const rs = crops.map((c) => c.rows.find((r) => r.setting === s.name)!);
          return { score: median(rs.map((r) => num(r[p.score]))), truth: mean(rs.map((r) => num(r[p.truth]))) };
        });
      const ofMeans = spearman(
        bySetting.map((x) => x.score),
        bySetting.map((x) => x.truth),
      );
      return {
        pair: p.text,
        scope: model === undefined ? 'all settings' : `${model} model's settings only`,
        settings: bySetting.length,
        score: p.score,
        truth: p.truth,
        expect: p.expect,
        crops: per.length,
        mean: mean(per),
        sd,
        median: quantile(sorted, 0.5),
        q10: quantile(sorted, 0.1),
        q90: quantile(sorted, 0.9),
        min: sorted[0] ?? Number.NaN,
        max: sorted[sorted.length - 1] ?? Number.NaN,
        positive: per.filter((v) => v > 0).length / Math.max(per.length, 1),
        pooled,
        ofSettingMeans: ofMeans,
      };
    }),
  );
}

function median(xs: number[]): number {
  return quantile(
    xs.filter((v) => !Number.isNaN(v)).sort((x, y) => x - y),
    0.5,
  );
}

/** A plain reading of one pair's figures: well (mean ρ ≥ 0.7), moderately (≥ 0.4), weakly (≥ 0.1), not or inversely. */
function verdict(s: ReturnType<typeof summary>[number]): string {
  const m = s.mean;
  const how = !Number.isFinite(m)
    ? 'cannot be judged (no crop had two settings with different values)'
    : m >= 0.7
      ? 'ranks the settings well'
      : m >= 0.4
        ? 'ranks the settings moderately'
        : m >= 0.1
          ? 'ranks the settings weakly'
          : m > -0.1
            ? 'does not rank the settings (no relation)'
            : 'ranks the settings in reverse';
  // a mean ρ pulled up by a few crops while about half the crops go the other way is not a ranking one can use
  const chance = Number.isFinite(m) && m > 0 && m < 0.4 && s.positive < 2 / 3;
  if (s.score === 'detail') {
    const p = s.pooled;
    const across = p >= 0.7 ? 'well' : p >= 0.4 ? 'moderately' : p >= 0.1 ? 'weakly' : p > -0.1 ? 'not at all' : 'in reverse';
    return `**${s.pair}**, ${s.scope}: ρ = 1 within every crop by construction (not a test, see below); across photos (pooled) ρ ${fmt(p)}: a detail score compares with another photo's ${across}; across setting means ρ ${fmt(s.ofSettingMeans)}.`;
  }
  return `**${s.pair}**, ${s.scope}: ${chance ? 'ranks the settings badly, little better than chance' : how} within a crop (mean ρ ${fmt(m)}, ρ > 0 on ${(100 * s.positive).toFixed(0)}% of crops); across setting means ρ ${fmt(s.ofSettingMeans)}, pooled ρ ${fmt(s.pooled)}. Expected: ${s.expect}.`;
}

function settingTable() {
  return settings.map((s) => {
    const rs = crops.map((c) => c.rows.find((r) => r.setting === s.name)!);
    const maps = rs.map((r) => r.mapErrorR).filter((v): v is number => v !== null);
    return {
      setting: s.name,
      resolved: s.resolved,
      fidelity: median(rs.map((r) => r.fidelity)),
      detail: mean(rs.map((r) => num(r.detail))),
      invention: mean(rs.map((r) => num(r.invention))),
      psnrY: mean(rs.map((r) => r.psnrY)),
      detailRatio: mean(rs.map((r) => r.detailRatio)),
      mapErrorR: maps.length ? mean(maps) : Number.NaN,
      seconds: mean(rs.map((r) => r.seconds)),
      evaluations: rs[0]?.evaluations ?? 0,
    };
  });
}

async function save(): Promise<void> {
  const sum = summary();
  const table = settingTable();
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}`;
  const seconds = previous ? previous.seconds : (performance.now() - started) / 1000;
  const protocol =
    'No-reference scores: src/explore/scores.ts scoreCandidate, as sr explore (fidelity = PSNR-Y of the output MATLAB-bicubic-downscaled by the factor against the LR, no shave; detail = HF energy of the output over the bicubic enlargement on Y, shave = factor; invention = mean per-pixel luma std across the K samples). Ground truth: src/metrics measure (BT.601 Y, shave = factor, peak 255; detail ratio = HF energy of output / truth on Y); RMSE-Y = 255 / 10^(PSNR-Y/20). ρ = Spearman (fractional ranks for ties; src/metrics/rank.ts).';
  await mkdir(dirname(base), { recursive: true });
  await writeFile(
    `${base}.json`,
    `${JSON.stringify(
      {
        date,
        machine,
        command,
        val: a.val,
        factor,
        samples,
        seed,
        lr: 'MATLAB-style bicubic of the HR crop (antialiased, a = -0.5, uint8)',
        protocol,
        seconds,
        settings: settings.map(({ name, model, options, resolved }) => ({ name, model, options, resolved })),
        summary: sum,
        perSetting: table,
        crops,
      },
      (_k, v) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v),
      2,
    )}\n`,
  );
  const ordered = (n: number) => fmt(n, 3);
  const md = [
    `# Do sr explore's ground-truth-free scores rank settings as the ground truth does? (${date})`,
    '',
    `Data: ${crops.length} held-out validation crops, ${set.images[0] ? `${set.images[0].hr.shape[2]}×${set.images[0].hr.shape[1]}` : ''} (${a.val}; models/train/val_crops.py --data ../shared/data/train --count 48: the held-out split, never trained on; not Set5/Set14), ×${factor}, LR made from each crop by MATLAB-style bicubic (antialiased, uint8). Each crop is a photo a user would explore: ${settings.length} settings (below) run on its LR as \`sr explore\` runs a candidate: seed ${seed}, K = ${samples} samples reduced by their mean, with the uncertainty map.`,
    `Protocol: ${protocol}`,
    `Command: \`${command}\``,
    `Machine: ${machine}, Node ${process.version}; ${seconds.toFixed(0)} s in all, run niced beside a training job and other work (times are not benchmarks). Nothing else in this run.`,
    '',
    '## Rank correlations',
    '',
    `Per crop: Spearman's ρ across the ${settings.length} settings; then the mean, spread and median of the ${crops.length} crops' ρ, the share of crops with ρ > 0, the pooled ρ over all ${crops.length * settings.length} (crop, setting) pairs (it mixes crops, so it also rewards scores that follow how hard a crop is), and ρ between the settings' mean scores and mean ground-truth scores over the crops (what choosing a setting for a set of photos relies on).`,
    '',
    '| pair | settings | mean ρ per crop (± sd) | median [10th, 90th pct] | min, max | crops with ρ > 0 | pooled ρ | ρ of setting means |',
    '|---|---|---|---|---|---|---|---|',
    ...sum.map(
      (s) =>
        `| ${s.pair} | ${s.scope} (${s.settings}) | ${ordered(s.mean)} ± ${ordered(s.sd)} | ${ordered(s.median)} [${ordered(s.q10)}, ${ordered(s.q90)}] | ${ordered(s.min)}, ${ordered(s.max)} | ${(100 * s.positive).toFixed(0)}% of ${s.crops} | ${ordered(s.pooled)} | ${ordered(s.ofSettingMeans)} |`,
    ),
    '',
    ...sum.map((s) => `- ${verdict(s)}`),
    '',
    "How to read these: (1) within one crop the detail score and the GT detail ratio are the same output's high-frequency energy over two constants (the bicubic enlargement's and the truth's), so their ρ within a crop is 1 by construction; only the pooled ρ tests something: whether a detail score compares across photos, i.e. how much of the truth's detail it stands for. (2) Fidelity above about 50 dB means the output downscales to the 8-bit LR up to rounding (back-projection and ibp enforce it): among such settings fidelity differences are rounding, not quality. (3) The rows over all settings mix two models whose levels differ (the soft-resample default is ahead of the Gaussian prior in PSNR-Y and behind it in invention), so each model's settings are also ranked alone. (4) The patch grid moves between evaluations, so even a deterministic sampler's K samples (DDIM η 0) differ a little: their invention measures that, not sampling noise.",
    '',
    '## Settings (means over the crops)',
    '',
    '| setting | resolved | fidelity (dB, median) | detail (× bicubic) | invention (grey levels) | PSNR-Y | GT detail ratio | map vs error r | evaluations | s/crop |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...table.map(
      (t) =>
        `| ${t.setting} | ${t.resolved} | ${fmt(t.fidelity)} | ${fmt(t.detail, 3)} | ${fmt(t.invention, 2)} | ${fmt(t.psnrY)} | ${fmt(t.detailRatio, 3)} | ${fmt(t.mapErrorR, 2)} | ${t.evaluations} | ${fmt(t.seconds, 2)} |`,
    ),
    `| bicubic (reference, not in ρ) | | ${fmt(median(crops.map((c) => c.bicubic.fidelity)))} | ${fmt(mean(crops.map((c) => num(c.bicubic.detail))), 3)} | – | ${fmt(mean(crops.map((c) => c.bicubic.psnrY)))} | ${fmt(mean(crops.map((c) => c.bicubic.detailRatio)), 3)} | | 0 | |`,
    '',
    'Fidelity is shown as the median over the crops: a setting whose output bicubic-downscales exactly to the 8-bit LR scores Infinity (ranked as the highest). Setting means in the ρ column use the same median for fidelity.',
    '',
    '"map vs error r": per pixel, the Pearson correlation of the uncertainty map with |Y error| of the output, averaged over the crops (– for a setting whose K samples are identical).',
    '',
  ];
  await writeFile(`${base}.md`, `${md.join('\n')}\n`);
}

// the run (after the helpers above: they are consts)
for (const im of previous ? [] : set.images) {
  const t0 = performance.now();
  const bic = upsample(im.lr, factor, 'bicubic');
  const bicubicY = lumaOf(bic);
  const bm = measure(bic, im.hr, { shave: factor });
  const crop: Crop = {
    name: im.name,
    bicubic: { ...scoreCandidate(bic, im.lr, factor, bicubicY, null), psnrY: bm.psnrY, detailRatio: bm.detailRatio },
    rows: [],
  };
  const hrY = lumaOf(im.hr);
  for (const s of settings) {
    const r = await upscale(im.lr, { ...s.options, factor, seed, samples, model: models.get(s.model)!, uncertainty: true });
    const scores = scoreCandidate(r.image, im.lr, factor, bicubicY, r.uncertainty);
    const m = measure(r.image, im.hr, { shave: factor });
    // the map against the error, per pixel (no shave: the map covers the whole output)
    const srY = lumaOf(r.image);
    const err = Array.from(srY.data, (v, i) => Math.abs(v - hrY.data[i]!));
    const map = r.uncertainty ? Array.from(r.uncertainty.std) : null;
    const mapErrorR = map ? pearson(map, err) : Number.NaN;
    crop.rows.push({
      setting: s.name,
      fidelity: scores.fidelity,
      detail: scores.detail,
      invention: scores.invention,
      psnrY: m.psnrY,
      detailRatio: m.detailRatio,
      rmseY: 255 / 10 ** (m.psnrY / 20),
      mapErrorR: Number.isFinite(mapErrorR) ? mapErrorR : null,
      seconds: r.stats.seconds,
      evaluations: r.stats.evaluations,
    });
  }
  crops.push(crop);
  console.log(
    `${crops.length}/${set.images.length} ${im.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s; ρ fidelity/PSNR ${fmt(rho(crop, 'fidelity', 'psnrY'))}, detail/ratio ${fmt(rho(crop, 'detail', 'detailRatio'))}, invention/RMSE ${fmt(rho(crop, 'invention', 'rmseY'))}`,
  );
  await save();
}
if (previous) await save();
for (const m of models.values()) await m.dispose();
console.log(`wrote ${base}.{json,md}`);
