/**
 * `sr upscale IN -o OUT` and `sr upscale DIR|GLOB|IN... -o OUTDIR`. Order of checks, so the cheapest and most
 * certain error wins: flags (usage, 2) → the model's manifest, which t/preset are checked against (model, 4) →
 * inputs: header, pixel limit, output size (input 3 / usage 2) → outputs: the input itself, existing files,
 * the folder (output, 5) → the model file's sha256 (model, 4) → work. Batches report bad files and go on.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  ensureOutDir,
  planBatch,
  planFile,
  processFile,
  runPlan,
  type BatchEvents,
  type BatchOptions,
  type BatchOutcome,
} from '../batch/batch.js';
import { expandInputs, type InputItem } from '../batch/inputs.js';
import { InputError, UsageError } from '../errors.js';
import { OUTPUT_EXTENSIONS, formatFromPath } from '../image/io.js';
import { DEFAULT_MAX_INPUT_PIXELS } from '../io-safety/limits.js';
import { loadManifest, type ModelManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { connectQueue } from '../queue/connection.js';
import { resolveSettings, type UpscaleSettings, type WorkEstimate } from '../upscale.js';
import { oneOf, positiveInteger } from '../validate.js';
import { parseNumber } from './parse.js';
import { addMethodOptions, parseDevice, parseMethodFlags, type MethodFlags } from './method-flags.js';
import { type CliContext, commandLine } from './context.js';
import { fileEvents, openModel, writeReport } from './shared.js';
import { createProgressLine } from './progress.js';

interface Flags extends MethodFlags {
  output?: string;
  factor?: string;
  model?: string;
  device?: string;
  maxPixels?: string;
  format?: string;
  force?: boolean;
  resume?: boolean;
  json?: string;
  quiet?: boolean;
  yes?: boolean;
  queue?: string;
}

/** Jobs estimated to take longer than this on the CPU EP need --yes. */
const LARGE_JOB_SECONDS = 600;

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
    .option('-f, --factor <n>', 'integer enlargement factor', '4');
  addMethodOptions(cmd)
    .option(
      '--max-pixels <n>',
      `largest input width*height to decode (guard against decompression bombs; default ${DEFAULT_MAX_INPUT_PIXELS} = 8192x8192)`,
    )
    .option('--format <ext>', `output format for folder outputs: ${FORMATS.join(' | ')} (default: the input's, or png)`)
    .option('--force', 'overwrite existing output files')
    .option('--resume', 'skip inputs whose output file already exists (batch jobs)')
    .option('--json <file>', 'write a machine-readable report (per file: input, output, status, error, seconds, settings)')
    .option(
      '-y, --yes',
      `start a job estimated to take over ${LARGE_JOB_SECONDS / 60} minutes on the CPU (without it, such a job is refused with its estimate)`,
    )
    .option(
      '--queue <url>',
      'run the files on the workers of this Redis (sr worker), e.g. redis://127.0.0.1:6379; they share the input and output folders',
    )
    .option('-q, --quiet', 'no progress output')
    .action(async (inputs: string[], flags: Flags) => {
      const job = await prepare(inputs, flags, ctx);
      if (job.toFolder) await runBatch(job, flags, ctx);
      else await runOne(job, inputs[0]!, flags, ctx);
    });
}

/** What both paths share once the flags and the manifest are checked. */
interface Prepared {
  output: string;
  options: BatchOptions;
  items: InputItem[];
  toFolder: boolean;
  manifest: ModelManifest;
  resolved: UpscaleSettings;
  quiet: boolean;
  meta: { command: string; options: Record<string, unknown> };
}

/** Steps 1–2: the flags alone, whether this is a batch, then the manifest (t, steps, cascade, preset, tile checked once). */
async function prepare(inputs: string[], flags: Flags, ctx: CliContext): Promise<Prepared> {
  // the input is checked first, by commander: it names what is missing in the order given
  if (flags.output === undefined) throw new UsageError("required option '-o, --output <path>' not specified");
  const output = flags.output;
  const options = toOptions(flags);
  if (flags.force && flags.resume)
    throw new UsageError('Use either --force (overwrite existing outputs) or --resume (skip them), not both');
  const { items, batch } = await expandInputs(inputs);
  const outIsDir = (await stat(output).catch(() => null))?.isDirectory() ?? false;
  const toFolder = batch || outIsDir || /[\\/]$/.test(output);
  if (flags.queue !== undefined && !toFolder) {
    throw new UsageError('--queue runs batches: give a folder, a glob or several files and an output folder');
  }
  if (!toFolder) {
    if (options.format !== undefined) throw new UsageError('--format applies to folder outputs; for one file the extension of -o decides');
    formatFromPath(output);
  }
  const manifest = await loadManifest(resolveModelDir(flags.model));
  const resolved = resolveSettings(options, manifest);
  const tile = options.tiling?.tile;
  if (tile !== undefined && tile % manifest.multiple !== 0) {
    throw new UsageError(`Expected tile to be a positive multiple of ${manifest.multiple} but received ${tile}`);
  }
  const meta = { command: commandLine(ctx), options: { ...flags, inputs } };
  return { output, options, items, toFolder, manifest, resolved, quiet: flags.quiet ?? false, meta };
}

/** Steps 3–5 for a batch: plan and check every output (the library), then the model once, here or on the queue. */
async function runBatch(p: Prepared, flags: Flags, ctx: CliContext): Promise<void> {
  const { output, options, manifest, quiet } = p;
  const plan = await planBatch(p.items, output, p.resolved, manifest, options);
  confirmLarge(plan.estimates, `${plan.jobs.length} files`, flags, ctx);
  const queue = flags.queue !== undefined ? await connectQueue(flags.queue) : null; // unreachable: nothing written
  await ensureOutDir(output);
  const line = createProgressLine(ctx.stderr, quiet);
  const events: BatchEvents = fileEvents(line, ctx.signal);
  const model = queue ? null : await openModel(ctx.stderr, flags.model, options.device, quiet);
  let outcome: BatchOutcome;
  try {
    outcome = model
      ? await runPlan(plan, model, options, events)
      : await (await import('../batch/queued.js')).runPlanQueued(plan, queue!, flags.model, manifest, options, events);
  } finally {
    line.done();
    await model?.dispose();
  }
  const { report, stoppedBy } = outcome;
  if (flags.json) await writeReport(flags.json, report, p.meta);
  const s = report.summary;
  if (!quiet || s.failed > 0) {
    const parts = [`${s.ok} ok`];
    if (s.failed) parts.push(`${s.failed} failed`);
    if (s.skipped) parts.push(`${s.skipped} skipped (outputs exist, --resume)`);
    if (s.interrupted || s.pending) parts.push(`${s.interrupted + s.pending} not done`);
    ctx.stderr.write(
      `sr: ${parts.join(', ')} of ${s.total} files in ${report.seconds.toFixed(1)} s -> ${output}` +
        (flags.json ? ` (report ${flags.json})` : '') +
        '\n',
    );
  }
  if (stoppedBy) throw stoppedBy;
  if (s.failed > 0)
    throw new InputError(`${s.failed} of ${s.total} files failed (see the lines above${flags.json ? ` and ${flags.json}` : ''})`);
}

/** Steps 3–5 for one input: its header and output(s) (the library), then the model file's sha256, then the work. */
async function runOne(p: Prepared, input: string, flags: Flags, ctx: CliContext): Promise<void> {
  const { options, quiet } = p;
  const one = await planFile(input, p.output, p.resolved, p.manifest, options);
  confirmLarge([one.estimate], one.job.input, flags, ctx);
  const files = one.job.files!;
  if (one.skip) {
    if (!quiet) ctx.stderr.write(`sr: ${files.join(', ')} exist${files.length === 1 ? 's' : ''}; skipped (--resume)\n`);
    return;
  }
  const model = await openModel(ctx.stderr, flags.model, options.device, quiet);
  const line = createProgressLine(ctx.stderr, quiet);
  const started = new Date();
  try {
    const r = await processFile(
      one.job,
      model,
      options,
      { signal: ctx.signal, onWarning: (m) => line.say(`sr: warning: ${m}`), onFraction: (f, label) => line.update(f, 1, label) },
      one.info,
    );
    const s = r.settings!;
    line.done(
      `wrote ${files.join(', ')} (${r.width}x${r.height}, x${s.factor}, t=${s.passes.join(',')}, ${s.steps} steps, ` +
        `${s.sampler}, consistency ${s.consistency}${s.backProject ? `, back-projected ${s.backProject}x` : ''}, seed ${s.seed}` +
        `${s.samples > 1 ? `, ${s.samples} samples ${s.reduce}` : ''}) in ${r.seconds.toFixed(1)} s on ${s.device} with model ${s.model}`,
    );
    if (flags.json) {
      const summary = { total: 1, ok: 1, failed: 0, skipped: 0, interrupted: 0, pending: 0 };
      const report = {
        tool: 'boomerang-sr',
        started: started.toISOString(),
        seconds: r.seconds,
        outputDir: null,
        model: s.model,
        summary,
        files: [r],
      };
      await writeReport(flags.json, report, p.meta);
    }
  } finally {
    line.done();
    await model.dispose();
  }
}

/**
 * Refuses a job whose estimated CPU time is over LARGE_JOB_SECONDS unless --yes was given, saying what it would
 * cost; with --yes, says the estimate and goes on.
 */
function confirmLarge(estimates: readonly (WorkEstimate | null)[], what: string, flags: Flags, ctx: CliContext): void {
  const known = estimates.filter((e): e is WorkEstimate => e !== null);
  const seconds = known.reduce((a, e) => a + (e.cpuSeconds ?? 0), 0);
  if (seconds <= LARGE_JOB_SECONDS) return;
  const tiles = known.reduce((a, e) => a + e.tiles, 0);
  const evals = known.reduce((a, e) => a + e.tiles * e.evaluations, 0);
  const text =
    `${what}: ${evals.toLocaleString('en-US')} model evaluations (${tiles.toLocaleString('en-US')} tile${tiles === 1 ? '' : 's'}), ` +
    `about ${duration(seconds)} on a 2-core CPU at the model's measured speed`;
  if (!flags.yes) throw new UsageError(`${text}; run again with --yes to start it, or lower --factor, --cascade or --steps`);
  if (!flags.quiet) ctx.stderr.write(`sr: ${text}; starting (--yes)\n`);
}

const duration = (s: number): string => (s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

function toOptions(f: Flags): BatchOptions {
  const o: BatchOptions = parseMethodFlags(f);
  if (f.factor !== undefined) o.factor = positiveInteger('factor', parseNumber('--factor', f.factor));
  if (f.model !== undefined) o.model = f.model;
  if (f.device !== undefined) o.device = parseDevice(f.device);
  if (f.maxPixels !== undefined) o.maxPixels = positiveInteger('--max-pixels', parseNumber('--max-pixels', f.maxPixels));
  if (f.format !== undefined) o.format = oneOf('--format', f.format.toLowerCase().replace(/^\./, ''), FORMATS);
  if (f.force) o.force = true;
  if (f.resume) o.resume = true;
  return o;
}
