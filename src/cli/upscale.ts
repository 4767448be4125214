/**
 * `sr upscale IN -o OUT` and `sr upscale DIR|GLOB|IN... -o OUTDIR`. Order of checks, so the cheapest and most
 * certain error wins: flags (usage, 2) → the model's manifest, which t/preset are checked against (model, 4) →
 * inputs: header, pixel limit, output size (input 3 / usage 2) → outputs: the input itself, existing files,
 * the folder (output, 5) → the model file's sha256 (model, 4) → work. Batches report bad files and go on.
 */
import { stat } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import type { Command } from 'commander';
import { InputError, OutputError, UsageError } from '../errors.js';
import { OUTPUT_EXTENSIONS, formatFromPath } from '../image/io.js';
import { DEFAULT_MAX_INPUT_PIXELS } from '../io-safety/limits.js';
import { pathExists, realTarget, sameFile } from '../io-safety/paths.js';
import { loadManifest, type ModelManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { loadModel, type ModelSession } from '../model/session.js';
import { estimateWork, outputFiles, resolveSettings, type UpscaleFileOptions, type WorkEstimate } from '../upscale.js';
import { oneOf, positiveInteger } from '../validate.js';
import { checkJobs, ensureOutDir, planJobs, preflight, probeSizes, processFile, runBatch, writeJson, type BatchReport } from './batch.js';
import { expandInputs } from './inputs.js';
import { parseNumber } from './parse.js';
import { addMethodOptions, parseDevice, parseMethodFlags, type MethodFlags } from './method-flags.js';
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
}

/** Jobs estimated to take longer than this on the CPU EP need --yes. */
const LARGE_JOB_SECONDS = 600;

const FORMATS = OUTPUT_EXTENSIONS.map((e) => e.slice(1));

export function registerUpscale(program: Command, signal: AbortSignal): void {
  const cmd = program
    .command('upscale')
    .description('super-resolve images with Boomerang (upsample, noise to t, reverse diffusion; N passes)')
    .argument('<inputs...>', 'an image (PNG, JPEG, WebP, TIFF, AVIF, GIF: content is sniffed), or a folder, a glob ("photos/*.jpg", ** crosses folders), or several')
    .option('-o, --output <path>', 'output image (the format follows the extension: .png .jpg .webp .tif .avif), or a folder when the input is a folder, a glob or several files')
    .option('-f, --factor <n>', 'integer enlargement factor', '4');
  addMethodOptions(cmd)
    .option('--max-pixels <n>', `largest input width*height to decode (guard against decompression bombs; default ${DEFAULT_MAX_INPUT_PIXELS} = 8192x8192)`)
    .option('--format <ext>', `output format for folder outputs: ${FORMATS.join(' | ')} (default: the input's, or png)`)
    .option('--force', 'overwrite existing output files')
    .option('--resume', 'skip inputs whose output file already exists (batch jobs)')
    .option('--json <file>', 'write a machine-readable report (per file: input, output, status, error, seconds, settings)')
    .option('-y, --yes', `start a job estimated to take over ${LARGE_JOB_SECONDS / 60} minutes on the CPU (without it, such a job is refused with its estimate)`)
    .option('-q, --quiet', 'no progress output')
    .action(async (inputs: string[], flags: Flags) => {
      // 1. flags alone (the input is checked first, by commander: it names what is missing in the order given)
      if (flags.output === undefined) throw new UsageError("required option '-o, --output <path>' not specified");
      const options = toOptions(flags);
      const maxPixels = flags.maxPixels === undefined ? DEFAULT_MAX_INPUT_PIXELS : positiveInteger('--max-pixels', parseNumber('--max-pixels', flags.maxPixels));
      const format = flags.format === undefined ? undefined : oneOf('--format', flags.format.toLowerCase().replace(/^\./, ''), FORMATS);
      if (flags.force && flags.resume) throw new UsageError('Use either --force (overwrite existing outputs) or --resume (skip them), not both');
      const { items, batch } = await expandInputs(inputs);
      const outIsDir = (await stat(flags.output).catch(() => null))?.isDirectory() ?? false;
      const toFolder = batch || outIsDir || /[\\/]$/.test(flags.output);
      if (!toFolder) {
        if (format !== undefined) throw new UsageError('--format applies to folder outputs; for one file the extension of -o decides');
        formatFromPath(flags.output);
      }
      // 2. the manifest: t, steps, cascade and preset are checked against it
      const manifest = await loadManifest(resolveModelDir(flags.model));
      const resolved = resolveSettings(options, manifest);
      const tile = options.tiling?.tile;
      if (tile !== undefined && tile % manifest.multiple !== 0) {
        throw new UsageError(`Expected tile to be a positive multiple of ${manifest.multiple} but received ${tile}`);
      }
      const cliOptions = { ...flags, output: flags.output, inputs };
      const command = ['sr', 'upscale', ...process.argv.slice(3)].join(' ');
      const quiet = flags.quiet ?? false;
      if (toFolder) {
        // 3–5 for a batch: plan and check every output, then load the model once
        // never take earlier outputs as inputs: with the output folder inside an input tree (e.g.
        // `sr upscale "photos/**/*.png" -o photos/big` run twice), files under it are left out
        const outReal = await realTarget(flags.output);
        const fresh = [];
        for (const it of items) {
          const base = await realTarget(it.base);
          const nested = outReal.startsWith(base + sep) && (await realTarget(it.path)).startsWith(outReal + sep);
          if (!nested) fresh.push(it);
        }
        if (fresh.length === 0) throw new InputError(`No inputs outside the output folder ${flags.output}`);
        const jobs = planJobs(fresh, flags.output, format).map((j) => ({ ...j, files: outputFiles(j.output, resolved) }));
        const { jobs: unique, existing } = await checkJobs(jobs, { force: flags.force ?? false, resume: flags.resume ?? false });
        const sizes = await probeSizes(unique);
        const estimates = sizes.map((sz) => (sz ? estimateWork(resolved, manifest, sz.height, sz.width, options.tiling) : null));
        confirmLarge(estimates, `${unique.length} files`, flags);
        await ensureOutDir(flags.output);
        const model = await openModel(flags.model, options.device, quiet);
        let report: BatchReport;
        try {
          report = await runBatch(unique, {
            model, options, maxPixels, force: flags.force ?? false, signal, resume: flags.resume ?? false, quiet, existing,
            outDir: flags.output, json: flags.json, command, cliOptions, work: estimates.map((e) => e?.megapixelEvaluations ?? NaN),
          });
        } finally {
          await model.dispose();
        }
        const failed = report.summary.failed;
        if (failed > 0) {
          throw new InputError(`${failed} of ${report.summary.total} files failed (see the lines above${flags.json ? ` and ${flags.json}` : ''})`);
        }
        return;
      }
      // 3. one input
      const input = items[0]!.path;
      const output = flags.output;
      const info = await preflight(input, options.factor ?? 4, maxPixels);
      confirmLarge([estimateWork(resolved, manifest, info.height, info.width, options.tiling)], input, flags);
      // 4. the output
      const files = outputFiles(output, resolved);
      for (const file of files) if (await sameFile(input, file)) throw new OutputError(`Refusing to write over the input ${input}`);
      const present = [];
      for (const file of files) if (await pathExists(file)) present.push(file);
      if (present.length > 0) {
        if (flags.resume && present.length === files.length) {
          if (!quiet) process.stderr.write(`sr: ${files.join(', ')} exist${files.length === 1 ? 's' : ''}; skipped (--resume)\n`);
          return;
        }
        if (!flags.force) throw new OutputError(`Output ${present[0]} exists; use --force to overwrite it`);
      }
      const dir = dirname(output);
      if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new OutputError(`Cannot write ${output}: no such folder ${dir}`);
      // 5. the model file, then the work
      const model = await openModel(flags.model, options.device, quiet);
      const line = createProgressLine({ quiet });
      const started = new Date();
      try {
        const r = await processFile({ input, output }, {
          model, options, maxPixels, force: flags.force ?? false, signal,
          onWarning: (m) => process.stderr.write(`sr: warning: ${m}\n`),
          onFileProgress: (f, label) => line.update(f, 1, label),
        });
        const s = r.settings!;
        line.done(`wrote ${files.join(', ')} (${r.width}x${r.height}, x${s.factor}, t=${s.passes.join(',')}, ${s.steps} steps, ` +
          `${s.sampler}, consistency ${s.consistency}, seed ${s.seed}${s.samples > 1 ? `, ${s.samples} samples ${s.reduce}` : ''}) ` +
          `in ${r.seconds.toFixed(1)} s on ${s.device} with model ${s.model}`);
        if (flags.json) {
          await writeJson(flags.json, {
            tool: 'boomerang-sr', command, started: started.toISOString(), seconds: r.seconds, outputDir: null, model: s.model,
            options: cliOptions, summary: { total: 1, ok: 1, failed: 0, skipped: 0, interrupted: 0, pending: 0 }, files: [r],
          } satisfies BatchReport);
        }
      } finally {
        line.done();
        await model.dispose();
      }
    });
}

/**
 * Refuses a job whose estimated CPU time is over LARGE_JOB_SECONDS unless --yes was given, saying what it would
 * cost; with --yes, says the estimate and goes on.
 */
function confirmLarge(estimates: readonly (WorkEstimate | null)[], what: string, flags: Flags): void {
  const known = estimates.filter((e): e is WorkEstimate => e !== null);
  const seconds = known.reduce((a, e) => a + (e.cpuSeconds ?? 0), 0);
  if (seconds <= LARGE_JOB_SECONDS) return;
  const tiles = known.reduce((a, e) => a + e.tiles, 0);
  const evals = known.reduce((a, e) => a + e.tiles * e.evaluations, 0);
  const text = `${what}: ${evals.toLocaleString('en-US')} model evaluations (${tiles.toLocaleString('en-US')} tile${tiles === 1 ? '' : 's'}), ` +
    `about ${duration(seconds)} on a 2-core CPU at the model's measured speed`;
  if (!flags.yes) throw new UsageError(`${text}; run again with --yes to start it, or lower --factor, --cascade or --steps`);
  if (!flags.quiet) process.stderr.write(`sr: ${text}; starting (--yes)\n`);
}

const duration = (s: number): string => (s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

/** Loads the model once; with --device auto, says which device was found. */
async function openModel(spec: string | undefined, device: UpscaleFileOptions['device'], quiet: boolean): Promise<ModelSession> {
  const model = await loadModel(spec, { device: device ?? 'cpu' });
  if (device === 'auto' && !quiet) {
    process.stderr.write(`sr: --device auto: ${model.device === 'webgpu' ? 'using the WebGPU adapter' : 'no WebGPU adapter found, using the CPU'}\n`);
  }
  return model;
}

function toOptions(f: Flags): UpscaleFileOptions {
  const o: UpscaleFileOptions = parseMethodFlags(f);
  if (f.factor !== undefined) o.factor = positiveInteger('factor', parseNumber('--factor', f.factor));
  if (f.model !== undefined) o.model = f.model;
  if (f.device !== undefined) o.device = parseDevice(f.device);
  return o;
}
