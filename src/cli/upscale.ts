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
import { formatFromPath } from '../image/io.js';
import { DEFAULT_MAX_INPUT_PIXELS } from '../io-safety/limits.js';
import { pathExists, realTarget, sameFile } from '../io-safety/paths.js';
import { loadManifest, type ModelManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { loadModel, type ModelSession } from '../model/session.js';
import { resolveSettings, type UpscaleFileOptions } from '../upscale.js';
import { oneOf, positiveInteger } from '../validate.js';
import { checkJobs, ensureOutDir, planJobs, preflight, processFile, runBatch, writeJson, type BatchReport } from './batch.js';
import { expandInputs } from './inputs.js';
import { parseNumber } from './parse.js';
import { parseDevice, parseMethodFlags, type MethodFlags } from './method-flags.js';
import { createProgressLine } from './progress.js';

interface Flags extends MethodFlags {
  output: string;
  factor?: string;
  model?: string;
  device?: string;
  maxPixels?: string;
  format?: string;
  force?: boolean;
  resume?: boolean;
  json?: string;
  quiet?: boolean;
}

const FORMATS = ['png', 'jpg', 'jpeg', 'webp', 'tif', 'tiff', 'avif'];

export function registerUpscale(program: Command, signal: AbortSignal): void {
  program
    .command('upscale')
    .description('super-resolve images with Boomerang (upsample, noise to t, reverse diffusion; N passes)')
    .argument('<inputs...>', 'an image (PNG, JPEG, WebP, TIFF, AVIF, GIF: content is sniffed), or a folder, a glob ("photos/*.jpg", ** crosses folders), or several')
    .requiredOption('-o, --output <path>', 'output image (the format follows the extension: .png .jpg .webp .tif .avif), or a folder when the input is a folder, a glob or several files')
    .option('-f, --factor <n>', 'integer enlargement factor', '4')
    .option('--t <step>', "diffusion step to noise to, 1..T-1 (default: the model's; larger = more detail, less fidelity)")
    .option('--cascade <n|list>', "Boomerang passes N at t, or a list of t per pass (e.g. 100,60,30) (default: the model's)")
    .option('--steps <n>', "reverse steps per pass, evenly spaced (default: the model's; capped at t)")
    .option('--upsampler <kind>', "nearest | bilinear | bicubic | lanczos, centre-aligned (default: the model's, else bicubic)")
    .option('--sampler <kind>', "ancestral (DDPM) | ddim (default: the model's, else ancestral)")
    .option('--eta <x>', 'DDIM eta in 0..1 (0 = deterministic reverse pass)')
    .option('--consistency <kind>', "none (vanilla Boomerang) | ddnm (exact agreement with the input under average pooling) | ibp (back-projection through a bicubic degradation) (default: the model's, else ddnm)")
    .option('--seed <n>', 'seed for repeatable results (default: random, printed)')
    .option('--samples <k>', 'independent samples to combine')
    .option('--reduce <how>', 'mean | median | none: how to combine samples', 'mean')
    .option('--preset <name>', "a preset from the model's manifest (see sr info); explicit flags override it")
    .option('--model <name|dir>', 'shipped model name or a model folder', 'default')
    .option('--device <kind>', 'cpu | webgpu | auto', 'cpu')
    .option('--tile <px>', 'tile size for large images (a multiple of the model multiple)')
    .option('--max-pixels <n>', `largest input width*height to decode (guard against decompression bombs; default ${DEFAULT_MAX_INPUT_PIXELS} = 8192x8192)`)
    .option('--format <ext>', `output format for folder outputs: ${FORMATS.join(' | ')} (default: the input's, or png)`)
    .option('--force', 'overwrite existing output files')
    .option('--resume', 'skip inputs whose output file already exists (batch jobs)')
    .option('--json <file>', 'write a machine-readable report (per file: input, output, status, error, seconds, settings)')
    .option('-q, --quiet', 'no progress output')
    .action(async (inputs: string[], flags: Flags) => {
      // 1. flags alone
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
      resolveSettings(options, manifestOnly(manifest));
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
        const jobs = planJobs(fresh, flags.output, format);
        const { jobs: unique, existing } = await checkJobs(jobs, { force: flags.force ?? false, resume: flags.resume ?? false });
        await ensureOutDir(flags.output);
        const model = await openModel(flags.model, options.device, quiet);
        let report: BatchReport;
        try {
          report = await runBatch(unique, {
            model, options, maxPixels, force: flags.force ?? false, signal, resume: flags.resume ?? false, quiet, existing,
            outDir: flags.output, json: flags.json, command, cliOptions,
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
      await preflight(input, options.factor ?? 4, maxPixels);
      // 4. the output
      if (await sameFile(input, output)) throw new OutputError(`Refusing to write over the input ${input}`);
      if (await pathExists(output)) {
        if (flags.resume) {
          if (!quiet) process.stderr.write(`sr: ${output} exists; skipped (--resume)\n`);
          return;
        }
        if (!flags.force) throw new OutputError(`Output ${output} exists; use --force to overwrite it`);
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
        line.done(`wrote ${output} (${r.width}x${r.height}, x${s.factor}, t=${s.passes.join(',')}, ${s.steps} steps, ` +
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

/** A stand-in session carrying only the manifest, to check settings before the model file is read. */
function manifestOnly(manifest: ModelManifest): ModelSession {
  return {
    dir: '', manifest, device: 'cpu',
    run: () => Promise.reject(new Error('model not loaded')),
    dispose: () => Promise.resolve(),
  };
}

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
