/**
 * `sr sweep --hr DIR [--lr DIR] --factor 4,8 --t 50,100,200,400 --cascade 1,2,3 [--upsampler …] [--consistency …]
 * [--steps …] [--samples K] [--reduce …] [--limit N] --out DIR`: the grid with the baselines, resumable, then the
 * Pareto front, the recommended settings (printed and saved), plots and the report. Parses the flags and calls
 * the library's `runSweep` and `writeSweepReport`.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { UsageError } from '../errors.js';
import type { SamplerKind } from '../diffusion/samplers.js';
import type { Kernel } from '../image/upsample.js';
import type { DetailMeasure } from '../eval/pareto.js';
import { protocolLine } from '../eval/protocol.js';
import { RULE_TEXT } from '../eval/recommend.js';
import { settingText, summaryColumns, writeSweepReport } from '../eval/report.js';
import { runSweep, type SweepOptions, type SweepResult } from '../eval/sweep.js';
import { fmt, textTable } from '../report/table.js';
import type { Consistency } from '../diffusion/consistency.js';
import { DEFAULT_FACTOR, type Reduce } from '../upscale.js';
import { parseNumber, parseNumberList } from './parse.js';
import { parseDevice } from './method-flags.js';
import { createProgressLine } from './progress.js';

interface Flags {
  hr: string;
  lr?: string;
  factor: string;
  t: string;
  cascade?: string;
  upsampler?: string;
  backProject?: string;
  consistency?: string;
  steps?: string;
  samples: string;
  reduce: string;
  sampler?: string;
  eta?: string;
  seed: string;
  limit?: string;
  model: string;
  device: string;
  tile?: string;
  detail: string;
  saveImages: string;
  out: string;
  report: boolean;
  queue?: string;
  quiet?: boolean;
}

const words = (flag: string, v: string): string[] => {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`Expected a comma-separated list for ${flag} but received ${JSON.stringify(v)}`);
  return parts;
};

export function registerSweep(program: Command, ctx: CliContext): void {
  program
    .command('sweep')
    .description(
      'measure a grid of Boomerang settings and the baselines on a test set; resumable; Pareto front, recommendations, plots, report',
    )
    .requiredOption('--hr <dir>', 'folder of ground-truth images')
    .option('--lr <dir>', 'folder of LR inputs matched by name (one factor); default: LR made by MATLAB-compatible bicubic')
    .option('-f, --factor <list>', 'enlargement factors', String(DEFAULT_FACTOR))
    .option('--t <list>', 'diffusion steps to noise to, or none (the baselines only, no model)', '50,100,200,400')
    .option('--cascade <list>', "numbers of Boomerang passes N (each at t) (default: the model's, as sr upscale)")
    .option('--upsampler <list>', "upsamplers feeding the model: nearest, bilinear, bicubic, lanczos (default: the model's)")
    .option(
      '--back-project <list>',
      "back-projection iterations on the upsampled start, 0 = none; each also measured alone, without the model (default: the model's, else 0)",
    )
    .option('--consistency <list>', "none, ddnm, ibp (default: the model's, as sr upscale)")
    .option('--steps <list>', "reverse steps per pass, capped at t (default: the model's)")
    .option('--samples <list>', 'independent samples K per image', '1')
    .option('--reduce <list>', 'how K samples combine: mean, median, none (none: samples scored apart, averaged)', 'mean')
    .option('--sampler <kind>', 'ancestral | ddim')
    .option('--eta <x>', 'DDIM eta in 0..1')
    .option('--seed <n>', 'seed of the sweep: each image draws its own noise from it and its name, the same in every cell', '0')
    .option('--limit <n>', 'only the first N images by name')
    .option('--model <name|dir>', 'shipped model name or a model folder', 'default')
    .option('--device <kind>', 'cpu | webgpu | auto', 'cpu')
    .option('--tile <px>', 'largest tile side (default 640); larger images are covered with equal tiles up to it')
    .option('--detail <measure>', 'detail axis of the trade-off: ratio (|1 - detail ratio|) or gmsd', 'ratio')
    .option('--save-images <which>', 'save Boomerang outputs: first (image), all, none', 'first')
    .option('--no-report', 'skip the plots and report')
    .requiredOption('--out <dir>', 'output folder (a rerun with the same folder resumes)')
    .option(
      '--queue <url>',
      'run the cells on the workers of this Redis (sr worker), e.g. redis://127.0.0.1:6379; they share --hr and --out',
    )
    .option('-q, --quiet', 'no progress output')
    .action(async (flags: Flags) => {
      const options = toOptions(flags);
      const line = createProgressLine(ctx.stderr, flags.quiet ?? false);
      const result = await runSweep(options, {
        signal: ctx.signal,
        onProgress: (e) =>
          line.update(
            e.done,
            e.total,
            e.workers !== undefined
              ? `${e.records}/${e.recordsTotal} results, ${e.workers} workers; ${e.cell}`
              : `${e.records}/${e.recordsTotal} results, ${e.cell} on ${e.image}`,
          ),
      });
      line.done(`sweep: ${result.meta.run.computed} results computed, ${result.meta.run.skipped} already in ${result.files.log}`);
      ctx.stdout.write(formatSweep(result) + '\n');
      if (flags.report) {
        const files = await writeSweepReport(result);
        ctx.stdout.write(`report: ${files.markdown}, ${files.html} (${files.plots.length} plot files, ${files.crops.length} crops)\n`);
      }
      ctx.stdout.write(
        `data: ${result.files.csv}, ${result.files.summaryCsv}, ${result.files.summaryJson}, ${result.files.recommendations}\n`,
      );
    });
}

function toOptions(f: Flags): SweepOptions {
  const o: SweepOptions = {
    hr: f.hr,
    out: f.out,
    factors: parseNumberList('--factor', f.factor),
    ts: f.t.trim() === 'none' ? [] : parseNumberList('--t', f.t),
    samples: parseNumberList('--samples', f.samples),
    reduces: words('--reduce', f.reduce) as Reduce[],
    seed: parseNumber('--seed', f.seed),
    model: f.model,
  };
  if (f.cascade !== undefined) o.cascades = parseNumberList('--cascade', f.cascade);
  if (f.upsampler !== undefined) o.upsamplers = words('--upsampler', f.upsampler) as Kernel[];
  if (f.backProject !== undefined) o.backProjects = parseNumberList('--back-project', f.backProject);
  if (f.consistency !== undefined) o.consistencies = words('--consistency', f.consistency) as Consistency[];
  if (f.lr !== undefined) o.lr = f.lr;
  if (f.steps !== undefined) o.steps = parseNumberList('--steps', f.steps);
  if (f.sampler !== undefined) o.sampler = f.sampler as SamplerKind;
  if (f.eta !== undefined) o.eta = parseNumber('--eta', f.eta);
  if (f.limit !== undefined) o.limit = parseNumber('--limit', f.limit);
  if (f.tile !== undefined) o.tiling = { tile: parseNumber('--tile', f.tile) };
  o.device = parseDevice(f.device);
  if (f.queue !== undefined) o.queue = f.queue;
  if (f.detail !== 'ratio' && f.detail !== 'gmsd')
    throw new UsageError(`Expected one of ratio, gmsd for --detail but received ${JSON.stringify(f.detail)}`);
  o.detail = f.detail as DetailMeasure;
  if (!['first', 'all', 'none'].includes(f.saveImages))
    throw new UsageError(`Expected one of first, all, none for --save-images but received ${JSON.stringify(f.saveImages)}`);
  o.saveImages = f.saveImages as 'first' | 'all' | 'none';
  return o;
}

/** The recommendations and the Pareto table of each factor, with the protocol. */
export function formatSweep(r: SweepResult): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(
    `model ${m.model ? `${m.model.name} (${m.model.sha256.slice(0, 12)}…)` : 'none'}, seed ${m.seed}, ${Object.entries(m.images)
      .map(([f, n]) => `x${f}: ${n.length} images`)
      .join(', ')}`,
  );
  for (const a of r.analyses) {
    const mine = r.rows.filter((x) => x.factor === a.factor);
    out.push('', `x${a.factor} recommended settings:`);
    for (const rec of a.recommendations) {
      out.push(
        `  ${RULE_TEXT[rec.rule].padEnd(42)} ${rec.row ? `${settingText(rec.row)}  (PSNR-Y ${fmt.db(rec.row.psnrY)} dB, detail ${fmt.ratio(rec.row.detailRatio)}, GMSD ${fmt.gmsd(rec.row.gmsd)})` : '—'}  ${rec.why}`,
      );
    }
    out.push('', `x${a.factor} Pareto front and baselines:`);
    const front = a.front.map((id) => mine.find((x) => x.id === id)!).filter(Boolean);
    out.push(textTable([...front, ...mine.filter((x) => x.kind !== 'boomerang')], summaryColumns()));
    out.push(protocolLine(a.factor));
  }
  return out.join('\n');
}
