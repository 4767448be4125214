/**
 * `sr upscale IN -o OUT` and `sr upscale DIR|GLOB|IN... -o OUTDIR`: parses the flags and calls the library's
 * `upscaleInputs` (which runs every check, cheapest and most certain first, before the model loads), refuses a job
 * over LARGE_JOB_SECONDS without --yes from its plan (at the speed measured on this machine, else the model's
 * reference speed) and, for one file, again from the estimate at model load (the speed timed then), says the
 * estimate of a job over ANNOUNCE_SECONDS, renders progress, the result line or the batch summary, and writes the
 * --json report. Batches report bad files and go on; the exit is 3 when any failed.
 */
import type { Command } from 'commander';
import { upscaleInputs, type PlannedWork, type UpscaleInputsOptions, type UpscaleInputsOutcome } from '../batch/upscale-inputs.js';
import { InputError, UsageError, escapeControls } from '../errors.js';
import { OUTPUT_EXTENSIONS } from '../image/io.js';
import { DEFAULT_MAX_INPUT_PIXELS } from '../io-safety/limits.js';
import { checkSideFile } from '../io-safety/paths.js';
import { DEFAULT_FACTOR, type TimeEstimate, type WorkEstimate } from '../upscale.js';
import { integerInRange, oneOf, positiveInteger } from '../validate.js';
import { type CliContext, commandLine } from './context.js';
import { addMethodOptions, noiseNote, parseDevice, parseMethodFlags, type MethodFlags } from './method-flags.js';
import { parseNumber } from './parse.js';
import { createProgressLine } from './progress.js';
import { LARGE_JOB_SECONDS, fileEvents, noteWriter, writeReport } from './shared.js';

interface Flags extends MethodFlags {
  output?: string;
  factor?: string;
  model?: string;
  device?: string;
  maxPixels?: string;
  format?: string;
  quality?: string;
  stripMetadata?: boolean;
  force?: boolean;
  resume?: boolean;
  json?: string;
  uncertainty?: string;
  quiet?: boolean;
  yes?: boolean;
  queue?: string;
}

/** A job estimated to take longer than this says so as it starts. */
const ANNOUNCE_SECONDS = 10;

const FORMATS = OUTPUT_EXTENSIONS.map((e) => e.slice(1));

export function registerUpscale(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('upscale')
    .description('super-resolve images with Boomerang (upsample, noise to t, reverse diffusion; N passes)')
    .argument(
      '<inputs...>',
      'an image (PNG, JPEG, WebP, TIFF, AVIF, GIF: content is sniffed), or a folder, a glob ("photos/*.jpg", ** crosses folders), or several',
    )
    .option(
      '-o, --output <path>',
      'output image (the format follows the extension: .png .jpg .webp .tif .avif), or a folder when the input is a folder, a glob or several files',
    )
    .option('-f, --factor <n>', 'integer enlargement factor', String(DEFAULT_FACTOR));
  addMethodOptions(cmd)
    .option(
      '--max-pixels <n>',
      `largest input width*height to decode (guard against decompression bombs; default ${DEFAULT_MAX_INPUT_PIXELS} = 8192x8192)`,
    )
    .option('--format <ext>', `output format for folder outputs: ${FORMATS.join(' | ')} (default: the input's, or png)`)
    .option('--quality <n>', 'encoder quality 1..100 for jpg, webp and avif outputs (default 80 for jpg and webp, 50 for avif)')
    .option(
      '--strip-metadata',
      "write outputs without the input's EXIF, XMP and ICC profile (kept by default; the pixels are then converted to sRGB)",
    )
    .option('--force', 'overwrite existing output files')
    .option('--resume', 'skip inputs whose output file already exists (batch jobs)')
    .option(
      '--uncertainty <map.png>',
      'with --samples K (K >= 2): also write the per-pixel std of the K samples as a PNG (black: the samples agree; pale yellow: 32 grey levels or more)',
    )
    .option('--json <file>', 'write a machine-readable report (per file: input, output, status, error, seconds, settings, time estimate)')
    .option(
      '-y, --yes',
      `start a job estimated to take over ${LARGE_JOB_SECONDS / 60} minutes (without it, such a job is refused with its estimate)`,
    )
    .option(
      '--queue <url>',
      'run the files on the workers of this Redis (sr worker), e.g. redis://127.0.0.1:6379; they share the input and output folders',
    )
    .option('-q, --quiet', 'no progress output')
    .action(async (inputs: string[], flags: Flags) => {
      // the input is checked first, by commander: it names what is missing in the order given
      if (flags.output === undefined) throw new UsageError("required option '-o, --output <path>' not specified");
      const options = toOptions(flags);
      const quiet = flags.quiet ?? false;
      const line = createProgressLine(ctx.stderr, quiet);
      const started = performance.now(); // the progress line's clock: the time printed at the end is the same one
      let outcome: UpscaleInputsOutcome;
      let plan: { label: string; confirmed: boolean } = { label: '', confirmed: false };
      try {
        outcome = await upscaleInputs(inputs, flags.output, options, {
          ...fileEvents(line, ctx.signal),
          onPlan: async (work) => {
            // the report is an output like the others: checked with them, before any work (issue 25 #6, #7)
            if (flags.json) await checkSideFile(flags.json, 'report', work);
            plan = { label: work.label, confirmed: confirmLarge(work, flags, ctx) };
            if (work.kind === 'batch') announceBatch(work, flags, ctx);
          },
          onEstimate: (e) => {
            if (e.seconds === null) return;
            // the guard again, at the speed timed on this machine now (the plan went by the manifest's)
            if (!plan.confirmed && e.seconds > LARGE_JOB_SECONDS) {
              const text = `${plan.label}: ${costText(e.tileEvaluations, e.tiles, e.seconds, e.source, e.secondsPerEvaluation)}`;
              if (!flags.yes) throw new UsageError(`${text}; run again with --yes to start it, or lower --factor, --cascade or --steps`);
              if (!quiet) line.say(`sr: ${text}; starting (--yes)`);
              plan.confirmed = true;
            } else if (!quiet && e.seconds > ANNOUNCE_SECONDS) {
              line.say(`sr: ${plan.label}: ${costText(e.tileEvaluations, e.tiles, e.seconds, e.source, e.secondsPerEvaluation)}`);
            }
            line.expect(e.seconds);
          },
          onNote: noteWriter(ctx.stderr, quiet),
        });
      } finally {
        line.done();
      }
      if (flags.json) await writeReport(flags.json, outcome.report, { command: commandLine(ctx), options: { ...flags, inputs } });
      if (outcome.kind === 'file') fileDone(outcome, (performance.now() - started) / 1000, flags, ctx);
      else batchDone(outcome, flags.output, flags, ctx);
    });
}

/**
 * One file: what was written, with the settings used, or that it was skipped. `seconds` is the command's time
 * (model load included, as on the progress line), not the report's per-file time of the image alone.
 */
function fileDone({ report }: UpscaleInputsOutcome, seconds: number, flags: Flags, ctx: CliContext): void {
  if (flags.quiet) return;
  const r = report.files[0]!;
  if (r.status === 'skipped') {
    ctx.stderr.write(`sr: ${escapeControls(r.outputs.join(', '))} exist${r.outputs.length === 1 ? 's' : ''}; skipped (--resume)\n`);
    return;
  }
  const s = r.settings!;
  ctx.stderr.write(
    `wrote ${escapeControls([...r.outputs, ...(flags.uncertainty ? [flags.uncertainty] : [])].join(', '))} (${r.width}x${r.height}, x${s.factor}, t=${s.passes.join(',')}, ${s.steps} steps, ` +
      `${s.sampler}, consistency ${s.consistency}${s.backProject ? `, back-projected ${s.backProject}x` : ''}${s.input === 'jpeg' ? (s.jpegDetected !== null ? `, JPEG input (found in the pixels: quality ${s.jpegDetected})` : ', JPEG input') : ''}${s.recorrupt ? ' (re-corrupted start)' : ''}${s.jpegConstraint ? ', kept to its quantisation intervals' : ''}${noiseNote(s)}, seed ${s.seed}` +
      `${s.samples > 1 ? `, ${s.samples} samples ${s.reduce}` : ''}) in ${seconds.toFixed(1)} s on ${s.device} with model ${s.model}${s.precision === 'float' ? '' : ` (${s.precision})`}\n`,
  );
}

/** A batch: the summary line, then the exit: the stop's error, or an InputError when any file failed. */
function batchDone({ report, stoppedBy }: UpscaleInputsOutcome, output: string, flags: Flags, ctx: CliContext): void {
  const s = report.summary;
  if (!flags.quiet || s.failed > 0) {
    const parts = [`${s.ok} ok`];
    if (s.failed) parts.push(`${s.failed} failed`);
    if (s.skipped) parts.push(`${s.skipped} skipped (outputs exist, --resume)`);
    if (s.interrupted || s.pending) parts.push(`${s.interrupted + s.pending} not done`);
    ctx.stderr.write(
      `sr: ${parts.join(', ')} of ${s.total} files in ${report.seconds.toFixed(1)} s -> ${escapeControls(output)}` +
        (flags.json ? ` (report ${escapeControls(flags.json)})` : '') +
        '\n',
    );
  }
  if (stoppedBy) throw stoppedBy;
  if (s.failed > 0)
    throw new InputError(`${s.failed} of ${s.total} files failed (see the lines above${flags.json ? ` and ${flags.json}` : ''})`);
}

/**
 * Refuses a job whose estimated time is over LARGE_JOB_SECONDS unless --yes was given, saying what it would cost;
 * with --yes, says the estimate and goes on. Whether the job was over the limit (and so confirmed by --yes).
 */
function confirmLarge(work: PlannedWork, flags: Flags, ctx: CliContext): boolean {
  const { seconds, tiles, evals, source } = totals(work);
  if (seconds <= LARGE_JOB_SECONDS) return false;
  const text = `${work.label}: ${costText(evals, tiles, seconds, source)}`;
  if (!flags.yes) throw new UsageError(`${text}; run again with --yes to start it, or lower --factor, --cascade or --steps`);
  if (!flags.quiet) ctx.stderr.write(`sr: ${text}; starting (--yes)\n`);
  return true;
}

/** A batch over ANNOUNCE_SECONDS (and under the limit, which says it already) says its estimate as it starts. */
function announceBatch(work: PlannedWork, flags: Flags, ctx: CliContext): void {
  const { seconds, tiles, evals, source } = totals(work);
  if (flags.quiet || seconds <= ANNOUNCE_SECONDS || seconds > LARGE_JOB_SECONDS) return;
  ctx.stderr.write(`sr: ${work.label}: ${costText(evals, tiles, seconds, source)}\n`);
}

function totals(work: PlannedWork): { seconds: number; tiles: number; evals: number; source: TimeEstimate['source'] } {
  const known = work.estimates.filter((e): e is WorkEstimate => e !== null);
  return {
    seconds: known.reduce((a, e) => a + (e.seconds ?? 0), 0),
    tiles: known.reduce((a, e) => a + e.tiles, 0),
    evals: known.reduce((a, e) => a + e.tiles * e.evaluations, 0),
    // measured only when every file's figure was
    source: known.length > 0 && known.every((e) => e.speed === 'measured') ? 'measured' : 'manifest',
  };
}

/** "N model evaluations (M tiles), about X <where the speed comes from>". */
function costText(evals: number, tiles: number, seconds: number, source: TimeEstimate['source'], perEval: number | null = null): string {
  const each = perEval !== null ? `, ${perEval < 1 ? perEval.toFixed(2) : perEval.toFixed(1)} s each` : '';
  const where =
    source === 'measured'
      ? `at the speed measured on this machine${each}`
      : source === 'calibrated'
        ? `at the speed timed on this machine just now${each}`
        : "at the model's reference speed (a 2-core CPU; not yet measured on this machine)";
  return (
    `${evals.toLocaleString('en-US')} model evaluations (${tiles.toLocaleString('en-US')} tile${tiles === 1 ? '' : 's'}), ` +
    `about ${duration(seconds)} ${where}`
  );
}

const duration = (s: number): string =>
  s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

function toOptions(f: Flags): UpscaleInputsOptions {
  const o: UpscaleInputsOptions = parseMethodFlags(f);
  if (f.factor !== undefined) o.factor = positiveInteger('factor', parseNumber('--factor', f.factor));
  if (f.model !== undefined) o.model = f.model;
  if (f.device !== undefined) o.device = parseDevice(f.device);
  if (f.maxPixels !== undefined) o.maxPixels = positiveInteger('--max-pixels', parseNumber('--max-pixels', f.maxPixels));
  if (f.format !== undefined) o.format = oneOf('--format', f.format.toLowerCase().replace(/^\./, ''), FORMATS);
  if (f.quality !== undefined) o.quality = integerInRange('--quality', parseNumber('--quality', f.quality), 1, 100);
  if (f.stripMetadata) o.stripMetadata = true;
  if (f.force) o.force = true;
  if (f.resume) o.resume = true;
  if (f.queue !== undefined) o.queue = f.queue;
  if (f.uncertainty !== undefined) o.uncertaintyMap = f.uncertainty;
  return o;
}
