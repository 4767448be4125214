/**
 * Quality benchmark on the classic pairs (../shared/data/pairs: Set5 and Set14, ×4 and ×8, LR made by MATLAB's
 * bicubic imresize): the baselines (nearest, bilinear, bicubic, lanczos — centre-aligned — and MATLAB bicubic)
 * and a grid of Boomerang settings, through the sweep runner (resumable: the work folder keeps each sweep's log,
 * its full report and plots). Writes benchmarks/results/quality-<date>[-label].md and .json with the protocol,
 * the published bicubic figures and UpscalerJS's figures as rows labelled "quoted", and checks that the MATLAB
 * bicubic row reproduces the published Set5 ×4 28.42 ± 0.02 dB (exit 1 if not).
 *
 *   npx tsc -p . && node dist/benchmarks/quality.js [--sets Set5,Set14] [--scales 4,8] [--t 50,100 | --t none]
 *       [--cascade 1] [--steps N] [--samples 1] [--reduce mean] [--consistency ddnm] [--upsampler bicubic]
 *       [--back-project 0] [--limit N] [--model default|DIR] [--seed 0] [--data DIR] [--work DIR] [--label text]
 *   or  node dist/benchmarks/quality.js --presets fidelity,detail,default [--sets …] [--scales …] [--model …]
 *
 * --presets measures the named presets of the model's manifest (each one setting: its t, cascade, steps,
 * back-projection, consistency, upsampler, samples K averaged), with the baselines, instead of a grid.
 * --t none measures the baselines only (no model; seconds). Without --model: models/default when present, else
 * /tmp/probe-model, else the fixture (the report says which). On a 2-core CPU a 256×256 model evaluation of the
 * default model takes ~0.15–0.25 s; a Set5 ×4 image is up to 512×512: keep the grid small there.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Kernel } from '../src/image/upsample.js';
import { protocolLine } from '../src/eval/protocol.js';
import { RULE_TEXT } from '../src/eval/recommend.js';
import { settingText, sharedSettings, writeSweepReport, type SettingRow } from '../src/eval/report.js';
import { runSweep } from '../src/eval/sweep.js';
import { fmt } from '../src/report/table.js';
import { toMarkdown, type Block } from '../src/report/document.js';
import { toJson, writeTextAtomic } from '../src/report/write.js';
import type { Consistency, Reduce } from '../src/upscale.js';
import { loadManifest, type PresetSettings } from '../src/model/manifest.js';
import { resolveModelDir } from '../src/model/locate.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Figures quoted from the published bicubic tables and the data set's README (UpscalerJS, same protocol), by set and scale. */
export const QUOTED: Readonly<Record<string, { label: string; psnrY: number; ssimY: number | null; note: string }[]>> = {
  'Set5 x4': [
    { label: 'bicubic, published (MATLAB)', psnrY: 28.42, ssimY: 0.8104, note: 'published' },
    { label: 'UpscalerJS esrgan-thick', psnrY: 29.94, ssimY: 0.8522, note: 'pairs/README.md; ~6.3 s/image on one core (tfjs wasm)' },
    { label: 'UpscalerJS esrgan-slim', psnrY: 28.6, ssimY: null, note: 'pairs/README.md' },
  ],
  'Set14 x4': [
    { label: 'bicubic, published (MATLAB)', psnrY: 26.0, ssimY: 0.7027, note: 'published; these files give 26.09' },
    { label: 'UpscalerJS esrgan-thick', psnrY: 27.16, ssimY: 0.7408, note: 'pairs/README.md' },
    { label: 'UpscalerJS esrgan-slim', psnrY: 26.27, ssimY: null, note: 'pairs/README.md' },
  ],
  'Set5 x8': [
    { label: 'UpscalerJS esrgan-thick', psnrY: 25.56, ssimY: 0.7037, note: 'pairs/README.md' },
    { label: 'UpscalerJS esrgan-slim', psnrY: 23.91, ssimY: null, note: 'pairs/README.md' },
  ],
  'Set14 x8': [
    { label: 'UpscalerJS esrgan-thick', psnrY: 24.01, ssimY: 0.5985, note: 'pairs/README.md' },
    { label: 'UpscalerJS esrgan-slim', psnrY: 22.89, ssimY: null, note: 'pairs/README.md' },
  ],
};

/** The published MATLAB-bicubic Set5 ×4 figure the baseline must reproduce. */
export const BICUBIC_CHECK = { set: 'Set5', scale: 4, psnrY: 28.42, tolerance: 0.02 };

const { values: a } = parseArgs({
  options: {
    sets: { type: 'string', default: 'Set5,Set14' },
    scales: { type: 'string', default: '4,8' },
    t: { type: 'string', default: '50,100' },
    cascade: { type: 'string', default: '1' },
    steps: { type: 'string' },
    samples: { type: 'string', default: '1' },
    reduce: { type: 'string', default: 'mean' },
    consistency: { type: 'string', default: 'ddnm' },
    upsampler: { type: 'string', default: 'bicubic' },
    'back-project': { type: 'string', default: '0' },
    presets: { type: 'string' },
    limit: { type: 'string' },
    model: { type: 'string' },
    seed: { type: 'string', default: '0' },
    data: { type: 'string', default: join(root, '..', 'shared', 'data', 'pairs') },
    work: { type: 'string', default: join(root, 'tmp', 'quality') },
    label: { type: 'string' },
  },
});

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const nums = (s: string) => list(s).map(Number);

function pickModel(): { spec: string; note: string } {
  if (a.model) return { spec: a.model, note: 'as asked' };
  if (existsSync(join(root, 'models', 'default', 'model.onnx'))) return { spec: 'default', note: 'the shipped default model' };
  if (existsSync('/tmp/probe-model/model.onnx'))
    return { spec: '/tmp/probe-model', note: 'models/default missing: the training probe model stands in' };
  return { spec: 'fixture', note: 'models/default and /tmp/probe-model missing: the tiny fixture stands in (NOT representative)' };
}

interface SetResult {
  set: string;
  scale: number;
  images: string[];
  /** Each row with the sampler and η its sweep ran. */
  rows: SettingRow[];
  recommendations: { rule: string; cell: string | null; why: string }[];
  quoted: (typeof QUOTED)[string];
  report: string | null;
}

/** One single-cell grid per named preset of the model's manifest. */
async function presetGridsOf(spec: string, names: string[]) {
  const manifest = await loadManifest(resolveModelDir(spec));
  return names.map((name) => {
    const p: PresetSettings | undefined = name === 'defaults' ? manifest.defaults : manifest.presets[name];
    if (!p) throw new Error(`model ${manifest.name} has no preset ${name} (it has ${Object.keys(manifest.presets).join(', ')})`);
    if (Array.isArray(p.cascade)) throw new Error(`preset ${name} has a list of t per pass; give it as a grid instead`);
    const sampler = p.sampler ?? manifest.defaults.sampler;
    const eta = p.eta ?? manifest.defaults.eta;
    // what the preset leaves out falls back to the model's defaults, then the library's, as `sr upscale --preset` does
    const d = manifest.defaults;
    return {
      name,
      // the preset's sampler too (a sweep runs one sampler; without this a DDIM preset ran ancestral)
      ...(sampler ? { sampler } : {}),
      ...(eta !== undefined ? { eta } : {}),
      ts: [p.t ?? manifest.defaults.t],
      cascades: [p.cascade ?? (typeof d.cascade === 'number' ? d.cascade : 1)],
      steps: [p.steps ?? d.steps],
      upsamplers: [p.upsampler ?? d.upsampler ?? 'bicubic'] as Kernel[],
      consistencies: [p.consistency ?? d.consistency ?? 'ddnm'] as Consistency[],
      backProjects: [p.backProject ?? d.backProject ?? 0],
      samples: [p.samples ?? d.samples ?? 1],
    };
  });
}

let presetGrids: Awaited<ReturnType<typeof presetGridsOf>> | null = null;

async function main(): Promise<number> {
  const ts = a.t === 'none' ? [] : nums(a.t);
  const model = ts.length || a.presets ? pickModel() : null;
  if (a.presets) presetGrids = await presetGridsOf(model!.spec, list(a.presets));
  const started = performance.now();
  const results: SetResult[] = [];
  for (const set of list(a.sets)) {
    for (const scale of nums(a.scales)) {
      const dir = join(a.data, set, `image_SRF_${scale}`);
      if (!existsSync(dir)) throw new Error(`No pairs folder ${dir}`);
      const out = join(a.work, `${set}-x${scale}`);
      process.stderr.write(`${set} x${scale}: ${dir} -> ${out}\n`);
      let last = 0;
      // a grid, or one single-setting sweep per preset (rows gathered, baselines once)
      const grids = presetGrids ?? [
        {
          name: null,
          ts,
          cascades: nums(a.cascade),
          upsamplers: list(a.upsampler) as Kernel[],
          consistencies: list(a.consistency) as Consistency[],
          backProjects: nums(a['back-project']),
          ...(a.steps ? { steps: nums(a.steps) } : {}),
        },
      ];
      const rows = new Map<string, SettingRow>();
      let r: Awaited<ReturnType<typeof runSweep>> | null = null;
      for (const { name, ...grid } of grids) {
        if (name) process.stderr.write(`  preset ${name}: ${JSON.stringify(grid)}\n`);
        r = await runSweep(
          {
            hr: dir,
            lr: dir,
            factors: [scale],
            samples: nums(a.samples),
            reduces: list(a.reduce) as Reduce[],
            ...grid, // a preset's own samples win over --samples
            ...(a.limit ? { limit: Number(a.limit) } : {}),
            ...(model ? { model: model.spec } : {}),
            seed: Number(a.seed),
            out,
          },
          {
            onProgress: (e) => {
              const now = performance.now();
              if (now - last < 10000) return;
              last = now;
              process.stderr.write(
                `  ${((100 * e.done) / Math.max(e.total, 1e-9)).toFixed(0)}% ${e.records}/${e.recordsTotal} ${e.cell} on ${e.image}\n`,
              );
            },
          },
        );
        for (const row of r.rows) {
          if (row.kind !== 'boomerang') rows.set(row.id, row);
          else {
            const ran = { ...row, sampler: r.meta.sampler, eta: r.meta.eta };
            rows.set(name ? `${row.id} (preset ${name})` : row.id, name ? { ...ran, id: `${row.id} (preset ${name})` } : ran);
          }
        }
      }
      const report = presetGrids ? null : await writeSweepReport(r!, { title: `Quality: ${set} ×${scale}` });
      const an = r!.analyses[0]!;
      results.push({
        set,
        scale,
        images: r!.meta.images[scale] ?? [],
        rows: [...rows.values()],
        recommendations: presetGrids ? [] : an.recommendations.map((x) => ({ rule: x.rule, cell: x.row?.id ?? null, why: x.why })),
        quoted: QUOTED[`${set} x${scale}`] ?? [],
        report: report?.markdown ?? null,
      });
    }
  }
  // the published figure is a mean over the whole set: no check on a --limit subset
  const bicubic = a.limit
    ? undefined
    : results.find((x) => x.set === BICUBIC_CHECK.set && x.scale === BICUBIC_CHECK.scale)?.rows.find((x) => x.kind === 'matlab-bicubic');
  const check = bicubic
    ? { ...BICUBIC_CHECK, measured: bicubic.psnrY, pass: Math.abs(bicubic.psnrY - BICUBIC_CHECK.psnrY) <= BICUBIC_CHECK.tolerance + 1e-9 }
    : null;
  const date = new Date().toISOString().slice(0, 10);
  const name = `quality-${date}${a.label ? '-' + a.label.replace(/[^A-Za-z0-9.-]+/g, '_') : ''}`;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  // the grid flags only when a grid ran: with --presets each preset brings its own settings
  const config = {
    ...(a.presets
      ? { presets: a.presets }
      : {
          t: a.t,
          backProject: a['back-project'],
          cascade: a.cascade,
          steps: a.steps ?? "model's default",
          samples: a.samples,
          reduce: a.reduce,
          consistency: a.consistency,
          upsampler: a.upsampler,
        }),
    sets: a.sets,
    scales: a.scales,
    limit: a.limit ?? 'all',
    seed: a.seed,
  };
  const settings = sharedSettings(results.flatMap((x) => x.rows));
  const json = {
    date: new Date().toISOString(),
    protocol: protocolLine(),
    machine,
    model,
    config,
    command: `node dist/benchmarks/quality.js ${process.argv.slice(2).join(' ')}`,
    settings,
    check,
    results,
    seconds: (performance.now() - started) / 1000,
  };
  const blocks = document(json);
  await writeTextAtomic(join(root, 'benchmarks', 'results', `${name}.json`), toJson(json));
  await writeTextAtomic(join(root, 'benchmarks', 'results', `${name}.md`), toMarkdown(blocks));
  process.stdout.write(toMarkdown(blocks));
  process.stdout.write(`\nwrote benchmarks/results/${name}.md and .json\n`);
  return check && !check.pass ? 1 : 0;
}

function document(j: {
  protocol: string;
  machine: string;
  model: { spec: string; note: string } | null;
  config: Record<string, string>;
  command: string;
  settings: { shared: string[]; perRow: string[] };
  check: { measured: number; pass: boolean; psnrY: number; tolerance: number } | null;
  results: SetResult[];
  seconds: number;
}): Block[] {
  const b: Block[] = [{ kind: 'heading', level: 1, text: 'Quality on the classic pairs (Set5, Set14)' }];
  b.push({ kind: 'paragraph', text: `**${j.protocol}**` });
  b.push({
    kind: 'list',
    items: [
      'Data: ../shared/data/pairs (HR cropped to a multiple of the scale; LR by MATLAB bicubic imresize, as distributed / bit-exact re-implementation).',
      'Baselines: nearest, bilinear, bicubic (Keys a = −0.5), lanczos3, all centre-aligned (no half-pixel shift), and MATLAB bicubic imresize (the published baseline).',
      `Boomerang: ${j.model ? `model ${j.model.spec} (${j.model.note})` : 'not run (--t none)'}; ${j.config.presets ? '' : 'grid '}${Object.entries(
        j.config,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
      // only what every Boomerang row ran with; the rest is stated in each row
      ...(j.settings.shared.length || j.settings.perRow.length
        ? [
            `Every Boomerang row ran with ${j.settings.shared.join(', ') || 'no setting in common'}${j.settings.perRow.length ? `; each row's method names its own ${j.settings.perRow.join(', ')}` : ''}.`,
          ]
        : []),
      `Command: \`${j.command}\``,
      'Rows marked "quoted" are copied from the data set\'s README (published bicubic figures and UpscalerJS\'s, same protocol), not measured here.',
      `Machine: ${j.machine}; s/image is wall time per image; total ${j.seconds.toFixed(0)} s.`,
      j.check
        ? `Check: MATLAB bicubic Set5 ×4 measured ${j.check.measured.toFixed(3)} dB, published ${j.check.psnrY} ± ${j.check.tolerance}: **${j.check.pass ? 'PASS' : 'FAIL'}**.`
        : `Check: not made (${j.config.limit !== 'all' ? '--limit: not the whole set' : 'Set5 ×4 not in this run'}).`,
    ],
  });
  for (const r of j.results) {
    b.push({ kind: 'heading', level: 2, text: `${r.set} ×${r.scale} (${r.images.length} images)` });
    const rows: string[][] = [];
    for (const q of r.quoted)
      rows.push([`${q.label} (quoted)`, fmt.db(q.psnrY), q.ssimY === null ? '—' : fmt.ssim(q.ssimY), '', '', '', '', q.note]);
    const measured = (x: (typeof r.rows)[number], label: string, source: string) => [
      label,
      fmt.db(x.psnrY),
      fmt.ssim(x.ssimY),
      fmt.db(x.psnrRgb),
      fmt.ratio(x.detailRatio),
      fmt.gmsd(x.gmsd),
      fmt.seconds(x.seconds),
      source,
    ];
    for (const x of r.rows.filter((x) => x.kind !== 'boomerang')) rows.push(measured(x, settingText(x), 'measured'));
    for (const x of r.rows.filter((x) => x.kind === 'boomerang')) {
      const recs = r.recommendations.filter((q) => q.cell === x.id).map((q) => RULE_TEXT[q.rule as keyof typeof RULE_TEXT]);
      const preset = /\(preset \w+\)/.exec(x.id)?.[0];
      const source = ['measured', ...(x.pareto ? ['Pareto front'] : []), ...recs].join('; ');
      const sampler = j.settings.perRow.includes('sampler') ? ` ${x.sampler}${x.sampler === 'ddim' ? ` η ${x.eta}` : ''}` : '';
      rows.push(measured(x, `Boomerang ${settingText(x)}${sampler}${preset ? ` ${preset}` : ''}`, source));
    }
    b.push({
      kind: 'table',
      headers: ['method', 'PSNR-Y', 'SSIM-Y', 'PSNR-RGB', 'detail ratio', 'GMSD', 's/image', 'source'],
      rows,
      left: [0, 7],
    });
    b.push({ kind: 'paragraph', text: protocolLine(r.scale) });
    if (r.report)
      b.push({ kind: 'paragraph', text: `Full sweep report (plots, crops, every figure): \`${r.report.replace(root + '/', '')}\`` });
  }
  return b;
}

process.exitCode = await main();
