/**
 * `sr explore IN -o DIR [--t LIST] [--cascade LIST] [--preset LIST] [--samples K] …`: parses the flags, calls the
 * library's `explore` (every check before the model loads; resumable), prints its up-front estimate and refuses
 * one over LARGE_JOB_SECONDS without --yes, renders progress, and says where the page is.
 */
import type { Command } from 'commander';
import { CONSISTENCY_KINDS } from '../diffusion/consistency.js';
import { SAMPLER_KINDS } from '../diffusion/samplers.js';
import { UsageError, escapeControls } from '../errors.js';
import { explore, type ExploreOptions, type ExplorePlan, type SharedMethodOptions } from '../explore/explore.js';
import { KERNELS } from '../image/upsample.js';
import { DEFAULT_FACTOR, INPUT_KINDS } from '../upscale.js';
import { oneOf, positiveInteger } from '../validate.js';
import type { CliContext } from './context.js';
import { parseDevice } from './method-flags.js';
import { parseNumber, parseNumberList } from './parse.js';
import { createProgressLine } from './progress.js';
import { costText, guardCost, LARGE_JOB_SECONDS } from './shared.js';

interface Flags {
  output?: string;
  factor: string;
  t?: string;
  cascade?: string;
  preset?: string;
  samples?: string;
  reduce?: string;
  seed: string;
  steps?: string;
  upsampler?: string;
  backProject?: string;
  sampler?: string;
  eta?: string;
  consistency?: string;
  input?: string;
  model?: string;
  device?: string;
  tile?: string;
  maxPixels?: string;
  yes?: boolean;
  quiet?: boolean;
}

export function registerExplore(program: Command, ctx: CliContext): void {
  program
    .command('explore')
    .description(
      'run a grid of settings on your own image (no ground truth) and write a page to compare them: scores, uncertainty maps, the command for each',
    )
    .argument('<input>', 'the image to explore (PNG, JPEG, WebP, TIFF, AVIF, GIF)')
    .option(
      '-o, --output <dir>',
      'output folder: index.html, explore.json, explore.jsonl and images/ (a rerun with the same folder resumes)',
    )
    .option('-f, --factor <n>', 'integer enlargement factor', String(DEFAULT_FACTOR))
    .option('--t <list>', 'diffusion steps to noise to, e.g. 25,50,100,200 (each with each --cascade)')
    .option('--cascade <list>', "numbers of Boomerang passes N, e.g. 1,3 (default: the model's)")
    .option('--preset <list>', "presets of the model's manifest, e.g. fidelity,detail (sr info lists them), each one candidate")
    .option(
      '--samples <k>',
      "samples per candidate; K >= 2 gives its uncertainty map and invention score (default: the candidate's, at least 2)",
    )
    .option('--reduce <how>', 'mean | median: how the K samples make the candidate image (default: mean)')
    .option('--seed <n>', 'one seed for every candidate, so they compare on the same noise', '0')
    .option('--steps <n>', "reverse steps per pass for every candidate (default: the model's; capped at t)")
    .option('--upsampler <kind>', `${KERNELS.join(' | ')} for every candidate`)
    .option('--back-project <n>', 'back-projection iterations on the upsampled start for every candidate')
    .option('--sampler <kind>', `${SAMPLER_KINDS.join(' | ')}`)
    .option('--eta <x>', 'DDIM eta in 0..1')
    .option('--consistency <kind>', `${CONSISTENCY_KINDS.join(' | ')} for every candidate`)
    .option('--input <kind>', `${INPUT_KINDS.join(' | ')}: how the input was degraded (as sr upscale)`)
    .option('--model <name|dir>', 'shipped model name or a model folder (default: default)')
    .option('--device <kind>', 'cpu | webgpu | auto (default: cpu)')
    .option('--tile <px>', 'tile size for large images (a multiple of the model multiple)')
    .option('--max-pixels <n>', 'largest input width*height to decode (guard against decompression bombs)')
    .option('-y, --yes', `start an exploration estimated to take over ${LARGE_JOB_SECONDS / 60} minutes on the CPU`)
    .option('-q, --quiet', 'no progress output')
    .action(async (input: string, flags: Flags) => {
      if (flags.output === undefined) throw new UsageError("required option '-o, --output <dir>' not specified");
      const options = toOptions(input, flags.output, flags);
      const quiet = flags.quiet ?? false;
      const line = createProgressLine(ctx.stderr, quiet);
      const onPlan = (plan: ExplorePlan) => {
        const label = `${escapeControls(input)}: ${plan.todo.length} of ${plan.candidates.length} candidates to compute`;
        guardCost(label, plan.estimates, flags, ctx.stderr);
        if (!quiet) {
          const done = plan.candidates.length - plan.todo.length;
          ctx.stderr.write(
            `sr: explore ${escapeControls(input)} (${plan.width}x${plan.height}, x${plan.factor}): ${plan.candidates.length} candidates` +
              (done > 0 ? `, ${done} already in ${escapeControls(flags.output!)}` : '') +
              (plan.todo.length > 0 ? `; ${plan.todo.length} to compute: ${costText(plan.estimates)}` : '; nothing to compute') +
              '\n',
          );
        }
      };
      let result: Awaited<ReturnType<typeof explore>>;
      try {
        result = await explore(options, { signal: ctx.signal, onProgress: (e) => line.update(e.done, e.total, e.label), onPlan });
      } finally {
        line.done();
      }
      if (!quiet) {
        ctx.stderr.write(
          `sr: ${result.computed} computed, ${result.skipped} already done; open ${escapeControls(result.files.page)} ` +
            `(data ${escapeControls(result.files.json)})\n`,
        );
      }
    });
}

function toOptions(input: string, out: string, f: Flags): ExploreOptions {
  const o: ExploreOptions = { input, out, factor: positiveInteger('factor', parseNumber('--factor', f.factor)) };
  if (f.t !== undefined) o.ts = parseNumberList('--t', f.t);
  if (f.cascade !== undefined) o.cascades = parseNumberList('--cascade', f.cascade);
  if (f.preset !== undefined) {
    const names = f.preset.split(',').map((s) => s.trim());
    if (names.some((n) => n === ''))
      throw new UsageError(`Expected a comma-separated list for --preset but received ${JSON.stringify(f.preset)}`);
    o.presets = names;
  }
  if (f.samples !== undefined) o.samples = positiveInteger('samples', parseNumber('--samples', f.samples));
  if (f.reduce !== undefined) o.reduce = oneOf('reduce', f.reduce, ['mean', 'median'] as const);
  o.seed = parseNumber('--seed', f.seed);
  const m: SharedMethodOptions = {};
  if (f.steps !== undefined) m.steps = parseNumber('--steps', f.steps);
  if (f.upsampler !== undefined) m.upsampler = oneOf('upsampler', f.upsampler, KERNELS);
  if (f.backProject !== undefined) m.backProject = parseNumber('--back-project', f.backProject);
  if (f.sampler !== undefined) m.sampler = oneOf('sampler', f.sampler, SAMPLER_KINDS);
  if (f.eta !== undefined) m.eta = parseNumber('--eta', f.eta);
  if (f.consistency !== undefined) m.consistency = oneOf('consistency', f.consistency, CONSISTENCY_KINDS);
  if (f.input !== undefined) m.input = oneOf('input', f.input, INPUT_KINDS);
  if (f.tile !== undefined) m.tiling = { tile: positiveInteger('tile', parseNumber('--tile', f.tile)) };
  o.method = m;
  if (f.model !== undefined) o.model = f.model;
  if (f.device !== undefined) o.device = parseDevice(f.device);
  if (f.maxPixels !== undefined) o.maxPixels = positiveInteger('--max-pixels', parseNumber('--max-pixels', f.maxPixels));
  return o;
}
