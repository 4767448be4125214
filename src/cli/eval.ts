/**
 * `sr eval --hr DIR (--sr DIR | --lr DIR | --factor F) [method flags] [--json FILE] [--csv FILE]`: score SR outputs
 * against ground truth, or make them first (Boomerang or a baseline) from given LR images or from LR made by
 * MATLAB-bicubic downsampling. Parses and validates the flags, then calls the library's `evaluate`.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { UsageError } from '../errors.js';
import { evaluate, type EvaluateOptions, type Evaluation } from '../eval/evaluate.js';
import { BASELINE_NAMES, baselineMethod, type Method } from '../eval/methods.js';
import type { ImageScore, MeanScore } from '../eval/score.js';
import { fmt, metricColumns, textTable, type Column } from '../report/table.js';
import { toCsv, toJson, writeTextAtomic } from '../report/write.js';
import { checkSideFile } from '../io-safety/paths.js';
import { progressFraction } from '../upscale.js';
import { parseNumber } from './parse.js';
import { addMethodOptions, noiseNote, parseDevice, parseMethodFlags, type MethodFlags } from './method-flags.js';
import { createProgressLine } from './progress.js';

interface Flags extends MethodFlags {
  hr: string;
  sr?: string;
  lr?: string;
  factor?: string;
  shave?: string;
  method: string;
  model?: string;
  device?: string;
  limit?: string;
  save?: string;
  json?: string;
  csv?: string;
  quiet?: boolean;
}

const METHOD_FLAGS = [
  't',
  'cascade',
  'steps',
  'upsampler',
  'backProject',
  'sampler',
  'eta',
  'consistency',
  'seed',
  'samples',
  'reduce',
  'preset',
  'model',
  'device',
  'precision',
  'tile',
] as const;

export function registerEval(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('eval')
    .description('score SR outputs against ground truth, or make them (Boomerang or a baseline) from LR images and score them')
    .requiredOption('--hr <dir>', 'folder of ground-truth images (names matched with the others; _HR/_LR/_SR suffixes ignored)')
    .option('--sr <dir>', 'folder of finished SR outputs to score (needs --factor or --shave)')
    .option('--lr <dir>', 'folder of LR inputs to enlarge (the factor is inferred from the sizes unless given)')
    .option('-f, --factor <n>', 'enlargement factor; alone, LR is made from HR by MATLAB-compatible bicubic imresize')
    .option('--shave <px>', 'pixels removed from each border before measuring (default: the factor)')
    .option('--method <name>', `boomerang | ${BASELINE_NAMES.join(' | ')}`, 'boomerang');
  addMethodOptions(cmd)
    .option('--limit <n>', 'only the first N images by name')
    .option('--save <dir>', 'write the outputs here as <name>_SR.png')
    .option('--json <file>', 'write the per-image and mean figures as JSON')
    .option('--csv <file>', 'write the per-image figures and the mean as CSV')
    .option('-q, --quiet', 'no progress output')
    .action(async (flags: Flags, cmd: Command) => {
      const options = toOptions(flags, (name) => cmd.getOptionValueSource(name) === 'cli');
      // the files written at the end are checked before any work
      const run = { inputs: [flags.hr, flags.sr, flags.lr].filter((d): d is string => d !== undefined), outputDir: flags.save ?? null };
      if (flags.json) await checkSideFile(flags.json, 'JSON file', run);
      if (flags.csv) await checkSideFile(flags.csv, 'CSV file', run);
      const line = createProgressLine(ctx.stderr, flags.quiet ?? false);
      const r = await evaluate(options, {
        signal: ctx.signal,
        onProgress: (e) => {
          if (e.stage !== 'boomerang') return;
          const within = progressFraction(e);
          line.update(e.index + within, e.total, `${e.name} pass ${e.pass}/${e.passes} step ${e.step}/${e.totalSteps}`);
        },
        onImage: (e) => line.update(e.index + 1, e.total, `${e.score.name} ${fmt.db(e.score.psnrY)} dB`),
      });
      line.done();
      ctx.stdout.write(formatEvaluation(r) + '\n');
      if (flags.json) await writeTextAtomic(flags.json, toJson(r));
      if (flags.csv) await writeTextAtomic(flags.csv, evaluationCsv(r));
    });
}

function toOptions(f: Flags, given: (name: string) => boolean): EvaluateOptions {
  const o: EvaluateOptions = { hr: f.hr };
  if (f.sr !== undefined) o.sr = f.sr;
  if (f.lr !== undefined) o.lr = f.lr;
  if (f.factor !== undefined) o.factor = parseNumber('--factor', f.factor);
  if (f.shave !== undefined) o.shave = parseNumber('--shave', f.shave);
  if (f.limit !== undefined) o.limit = parseNumber('--limit', f.limit);
  if (f.save !== undefined) o.saveDir = f.save;
  if (f.sr !== undefined && f.lr !== undefined) throw new UsageError('Expected --sr or --lr, not both');
  if (f.sr === undefined && f.lr === undefined && f.factor === undefined) throw new UsageError('Expected --sr DIR, --lr DIR or --factor F');
  const methodFlags = METHOD_FLAGS.filter((k) => given(k));
  if (f.sr !== undefined) {
    if (methodFlags.length || given('method') || f.save !== undefined) {
      const flags = [...methodFlags, ...(given('method') ? ['method'] : []), ...(f.save ? ['save'] : [])].map(flagName);
      throw new UsageError(`--sr scores finished outputs; ${flags.join(', ')} ${flags.length === 1 ? 'needs' : 'need'} --lr or --factor`);
    }
    return o;
  }
  if (f.method !== 'boomerang') {
    const method = baselineMethod(f.method);
    // an upsampler back-projected K times is a baseline too (the "alone" rows of a sweep)
    const takesBp = method.kind === 'upsampler';
    const extra = methodFlags.filter((k) => k !== 'model' && k !== 'device' && !(takesBp && k === 'backProject'));
    if (extra.length) {
      const flags = extra.map(flagName);
      const only = takesBp ? '--method boomerang (an upsampler baseline takes --back-project)' : '--method boomerang';
      throw new UsageError(
        `--method ${f.method} is a baseline; ${flags.join(', ')} ${flags.length === 1 ? 'applies' : 'apply'} only to ${only}`,
      );
    }
    if (method.kind === 'upsampler' && f.backProject !== undefined) {
      method.backProject = parseNumber('--back-project', f.backProject);
    }
    o.method = method;
    return o;
  }
  const u: Method & { kind: 'boomerang' } = { kind: 'boomerang', options: {} };
  u.options = parseMethodFlags(f);
  if (f.device !== undefined) o.device = parseDevice(f.device);
  if (f.model !== undefined) o.model = f.model;
  o.method = u;
  return o;
}

/** The flag as typed: backProject → --back-project. */
const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

type Row = ImageScore | (MeanScore & { name: string; width?: number; height?: number });

/** The per-image table, the mean, the method and the protocol, as printed by `sr eval`. */
export function formatEvaluation(r: Evaluation): string {
  const cols: Column<Row>[] = [
    { header: 'image', value: (x) => x.name, right: false },
    { header: 'size', value: (x) => (x.width ? `${x.width}x${x.height}` : '') },
    ...metricColumns<Row>(),
    { header: 's', value: (x) => fmt.seconds(x.seconds) },
  ];
  const rows: Row[] = [...r.images, { ...r.mean, name: `mean of ${r.mean.images}` }];
  const s = r.settings;
  const how = s
    ? `${r.method}: model ${s.model} on ${s.device}, x${s.factor}, t=${s.passes.join(',')}, ${s.steps} steps, ${s.upsampler}${s.backProject ? ` back-projected ${s.backProject}x` : ''}, ${s.sampler}, consistency ${s.consistency}${s.input === 'jpeg' ? ', JPEG input' : ''}${noiseNote(s)}, seed ${s.seed}` +
      (s.samples > 1 ? `, ${s.samples} samples ${s.reduce}` : '')
    : r.method;
  return [
    `${how}; ${r.sourceText}${r.factor ? `; x${r.factor}` : ''}`,
    ...r.notes.map((n) => `note: ${n}`),
    textTable(rows, cols),
    r.protocol,
  ].join('\n');
}

export function evaluationCsv(r: Evaluation): string {
  const cols = ['name', 'width', 'height', 'psnrY', 'ssimY', 'psnrRgb', 'detailRatio', 'gmsd', 'seconds', 'evaluations'];
  return toCsv([...r.images, { ...r.mean, name: 'mean' }], cols);
}
