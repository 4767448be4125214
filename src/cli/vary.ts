/**
 * `sr vary IN… -o OUTDIR --t 100,300 --samples 4 [--report]` and `sr vary --report OUTDIR`: K samples of every
 * image per t (Boomerang at factor 1, vanilla), written as <name>-t<T>-s<seed>.png in the input tree's layout, one
 * record per sample in OUTDIR/records.jsonl; the report (distance to source, re-identification, diversity per t).
 * Order of checks as sr upscale: flags (2) → manifest (4) → inputs and outputs (3, 5) → model file (4) → work.
 */
import type { Command } from 'commander';
import { InputError, UsageError, escapeControls } from '../errors.js';
import { overwritePolicy } from '../jobs/outcome.js';
import { positiveInteger } from '../validate.js';
import type { VaryDatasetOptions, VaryOutcome } from '../vary/dataset.js';
import { varyDataset } from '../vary/vary-dataset.js';
import { formatVaryTable, writeVaryReport } from '../vary/report.js';
import { VARY_MODEL, checkConsistency } from '../vary/settings.js';
import { parseDevice, parseMethodFlags, type MethodFlags } from './method-flags.js';
import { parseNumber, parseNumberList } from './parse.js';
import { type CliContext, commandLine } from './context.js';
import { checkSideFile } from '../io-safety/paths.js';
import { fileEvents, noteWriter, writeReport } from './shared.js';
import { createProgressLine } from './progress.js';

interface Flags extends MethodFlags {
  output?: string;
  model: string;
  device: string;
  maxPixels?: string;
  force?: boolean;
  resume?: boolean;
  json?: string;
  report?: boolean;
  quiet?: boolean;
  queue?: string;
}

export function registerVary(program: Command, ctx: CliContext): void {
  program
    .command('vary')
    .description('local samples of images for augmentation or an anonymised copy (Boomerang at factor 1; t sets how far a sample may move)')
    .argument(
      '[inputs...]',
      'images, folders (walked recursively; the layout is kept) or quoted globs; with --report alone, the output folder',
    )
    .option('-o, --output <dir>', "output folder: <name>-t<T>-s<seed>.png per sample, in the input tree's layout, and records.jsonl")
    .option('--t <list>', "diffusion step(s) to noise to, 1..T-1, e.g. 100,300 (default: the model's t); larger = further from the source")
    .option('--samples <k>', 'samples per image and t (default 1)')
    .option(
      '--seed <n>',
      "the run's seed; each sample's seed derives from it, the image's relative path, t and the sample index (default 0)",
    )
    .option('--cascade <n>', 'Boomerang passes at t (default 1)')
    .option('--steps <n>', "reverse steps per pass, evenly spaced (default: the model's; capped at t)")
    .option('--sampler <kind>', "ancestral | ddim (default: the model's, else ancestral)")
    .option('--eta <x>', 'DDIM eta in 0..1')
    .option('--consistency <kind>', 'none only: at factor 1, ddnm and ibp would project every sample back onto its source')
    .option(
      '--model <name|dir>',
      "shipped model name or a model folder (default: the Gaussian prior, the paper's local sampling)",
      VARY_MODEL,
    )
    .option('--device <kind>', 'cpu | webgpu | auto', 'cpu')
    .option(
      '--tile <px>',
      'largest tile side (default 640, a multiple of the model multiple); larger images are covered with equal tiles up to it',
    )
    .option('--max-pixels <n>', 'largest input width*height to decode (guard against decompression bombs)')
    .option('--force', 'overwrite existing samples (their records are replaced)')
    .option('--resume', 'skip samples whose file exists (a rerun of an interrupted job)')
    .option('--json <file>', 'write a machine-readable report of the run (per file: status, error, samples written and skipped)')
    .option('--report', 'after the run (or alone, on an existing output folder): the table per t, report.md, report.json and a plot')
    .option(
      '--queue <url>',
      'run the sources on the workers of this Redis (sr worker), e.g. redis://127.0.0.1:6379; they share the folders',
    )
    .option('-q, --quiet', 'no progress output')
    .action(async (inputs: string[], flags: Flags) => {
      const options = toOptions(flags);
      if (inputs.length === 0 || flags.output === undefined) {
        const dir = reportOnly(inputs, flags);
        await report(dir, flags.quiet ?? false, ctx);
        return;
      }
      const outcome = await runVary(inputs, flags.output, options, flags, ctx);
      if (flags.report && !outcome.stoppedBy && outcome.report.summary.ok + outcome.report.summary.skipped > 0) {
        await report(flags.output, flags.quiet ?? false, ctx);
      }
      finish(outcome, flags, ctx);
    });
}

/** The folder of `sr vary --report DIR` (or `--report -o DIR`); a UsageError for anything else. */
function reportOnly(inputs: readonly string[], flags: Flags): string {
  if (!flags.report) {
    throw new UsageError(
      inputs.length === 0
        ? 'Expected input images, folders or globs (or --report OUTDIR)'
        : "required option '-o, --output <dir>' not specified",
    );
  }
  const dirs = flags.output !== undefined ? [flags.output] : inputs;
  if (dirs.length !== 1) throw new UsageError('Expected one output folder with --report and no -o, e.g. sr vary --report out/');
  return dirs[0]!;
}

/** Flags into options, strictly (a bad flag is a UsageError before anything is read). */
function toOptions(f: Flags): VaryDatasetOptions {
  const { t: _list, ...method } = f; // vary's --t is a list, parsed below
  const m = parseMethodFlags(method);
  checkConsistency(m.consistency);
  if (Array.isArray(m.cascade)) {
    throw new UsageError(
      `Expected a number of passes for --cascade in vary (t sets the distance) but received ${JSON.stringify(f.cascade)}`,
    );
  }
  const o: VaryDatasetOptions = { model: f.model, device: parseDevice(f.device) };
  if (f.t !== undefined) o.t = parseNumberList('--t', f.t).map((v) => positiveInteger('--t', v));
  if (m.samples !== undefined) o.samples = positiveInteger('--samples', m.samples);
  if (m.seed !== undefined) o.seed = m.seed;
  if (m.cascade !== undefined) o.cascade = positiveInteger('--cascade', m.cascade);
  if (m.steps !== undefined) o.steps = positiveInteger('--steps', m.steps);
  if (m.sampler !== undefined) o.sampler = m.sampler;
  if (m.eta !== undefined) o.eta = m.eta;
  if (m.tiling !== undefined) o.tiling = m.tiling;
  if (f.maxPixels !== undefined) o.maxPixels = positiveInteger('--max-pixels', parseNumber('--max-pixels', f.maxPixels));
  overwritePolicy(f); // before any input is read, also for --report
  if (f.force) o.force = true;
  if (f.resume) o.resume = true;
  if (f.queue !== undefined) o.queue = f.queue;
  return o;
}

/** The run (the library's varyDataset), with a progress line, the device notes and the --json report. */
async function runVary(inputs: string[], outDir: string, options: VaryDatasetOptions, flags: Flags, ctx: CliContext): Promise<VaryOutcome> {
  const quiet = flags.quiet ?? false;
  if (flags.json) await checkSideFile(flags.json, 'report', { inputs, outputDir: outDir }); // before any work
  const line = createProgressLine(ctx.stderr, quiet);
  let outcome: VaryOutcome;
  try {
    outcome = await varyDataset(inputs, outDir, options, { ...fileEvents(line, ctx.signal), onNote: noteWriter(ctx.stderr, quiet) });
  } finally {
    line.done();
  }
  if (flags.json) await writeReport(flags.json, outcome.report, { command: commandLine(ctx), options: { ...flags, inputs } });
  return outcome;
}

/** The summary line, then the exit: the stop's error, or an InputError when any file failed. */
function finish({ report, stoppedBy }: VaryOutcome, flags: Flags, ctx: CliContext): void {
  const s = report.summary;
  if (!flags.quiet || s.failed > 0) {
    const parts = [`${s.ok} ok`];
    if (s.failed) parts.push(`${s.failed} failed`);
    if (s.skipped) parts.push(`${s.skipped} skipped (samples exist, --resume)`);
    if (s.interrupted || s.pending) parts.push(`${s.interrupted + s.pending} not done`);
    ctx.stderr.write(
      `sr: ${parts.join(', ')} of ${s.total} files (${s.samplesWritten} samples written, ${s.samplesSkipped} skipped) ` +
        `in ${report.seconds.toFixed(1)} s -> ${escapeControls(`${report.outputDir}${flags.json ? ` (report ${flags.json})` : ''}`)}\n`,
    );
  }
  if (stoppedBy) throw stoppedBy;
  if (s.failed > 0) {
    throw new InputError(`${s.failed} of ${s.total} files failed (see the lines above${flags.json ? ` and ${flags.json}` : ''})`);
  }
}

/** The table on stdout; report.md, report.json and the plot in the folder. */
async function report(dir: string, quiet: boolean, ctx: CliContext): Promise<void> {
  const onWarning = (m: string) => ctx.stderr.write(`sr: warning: ${escapeControls(m)}\n`);
  const { analysis, files } = await writeVaryReport(dir, { signal: ctx.signal, onWarning });
  ctx.stdout.write(formatVaryTable(analysis) + '\n');
  if (!quiet) ctx.stderr.write(`sr: report ${files.markdown}, ${files.json}, ${files.svg}, ${files.png}\n`);
}
