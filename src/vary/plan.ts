/**
 * Planning a `vary` run before the model is loaded: expand the inputs, leave out those under the output folder (a
 * rerun with -o inside the input tree must not vary its own samples), name every sample's output in the mirrored
 * layout (`<dir>/<name>-t<T>-s<seed>.png`), check the outputs (two samples to one file, an input written over,
 * existing files) and estimate each sample's work from the image headers.
 */
import { sep, dirname, extname, join } from 'node:path';
import type { InputItem } from '../jobs/inputs.js';
import { overwritePolicy } from '../jobs/outcome.js';
import { InputError, OutputError, UsageError } from '../errors.js';
import { probeImage } from '../image/io.js';
import { pathExists, realTarget } from '../io-safety/paths.js';
import type { ModelManifest } from '../model/manifest.js';
import type { TilingOptions } from '../model/denoiser.js';
import { estimateWork, resolveSettings } from '../upscale.js';
import { expandVaryInputs, posixRel } from './inputs.js';
import { RECORDS_FILE, readRecords, type RecordLog } from './records.js';
import { sampleSeed, sampleUpscaleOptions, type VarySettings } from './settings.js';

export interface SampleJob {
  t: number;
  /** 1..K within its t. */
  sample: number;
  seed: number;
  /** The output path (under the output folder). */
  path: string;
  /** The output relative to the output folder, with / (the record key). */
  output: string;
}

export interface SourceJob {
  input: string;
  /** The source's relative path with / (its place in the dataset; names its outputs and seeds). */
  source: string;
  samples: SampleJob[];
  /** Work of one sample at each t (megapixel-evaluations), NaN where the header could not be read. */
  work: Map<number, number>;
}

export interface VaryPlan {
  outDir: string;
  recordsPath: string;
  settings: VarySettings;
  sources: SourceJob[];
  /** Outputs (record keys) that exist already. */
  existing: Set<string>;
  log: RecordLog;
  force: boolean;
  resume: boolean;
}

export interface PlanOptions {
  force?: boolean;
  resume?: boolean;
  tiling?: TilingOptions;
}

/** `<dir of rel>/<stem>-t<T>-s<seed>.png`, with /. */
export function sampleOutput(source: string, t: number, seed: number): string {
  const ext = extname(source);
  const stem = ext ? source.slice(0, -ext.length) : source;
  return `${stem}-t${t}-s${seed}.png`;
}

/** Inputs outside the output folder, each real file once. */
async function freshItems(items: readonly InputItem[], outDir: string): Promise<InputItem[]> {
  const outReal = await realTarget(outDir);
  const seen = new Set<string>();
  const fresh: InputItem[] = [];
  for (const it of items) {
    const real = await realTarget(it.path);
    if (seen.has(real) || real.startsWith(outReal + sep)) continue;
    seen.add(real);
    fresh.push(it);
  }
  if (fresh.length === 0) throw new InputError(`No inputs outside the output folder ${outDir}`);
  return fresh;
}

function sourceJob(it: InputItem, outDir: string, s: VarySettings): SourceJob {
  const source = posixRel(it.rel);
  const samples: SampleJob[] = [];
  for (const t of s.ts) {
    for (let k = 1; k <= s.samples; k++) {
      const seed = sampleSeed(s.seed, source, t, k);
      const output = sampleOutput(source, t, seed);
      samples.push({ t, sample: k, seed, output, path: join(outDir, ...output.split('/')) });
    }
  }
  return { input: it.path, source, samples, work: new Map() };
}

/** Two samples to one file is a UsageError, an input written over an OutputError; returns the outputs that exist. */
async function checkOutputs(jobs: readonly SourceJob[], inputs: ReadonlySet<string>): Promise<Set<string>> {
  const byOut = new Map<string, string>();
  const existing = new Set<string>();
  for (const j of jobs) {
    for (const sj of j.samples) {
      const prev = byOut.get(sj.output);
      if (prev !== undefined) {
        throw new UsageError(`Inputs ${prev} and ${j.input} would both write ${sj.path}; give them distinct names or use separate runs`);
      }
      byOut.set(sj.output, j.input);
      if (inputs.has(await realTarget(sj.path))) {
        throw new OutputError(`Refusing to write over the input ${sj.path}; choose another output folder`);
      }
      if (await pathExists(sj.path)) existing.add(sj.output);
    }
  }
  return existing;
}

function refuseExisting(jobs: readonly SourceJob[], existing: ReadonlySet<string>): never {
  const first = jobs.flatMap((j) => j.samples).find((sj) => existing.has(sj.output))!.path;
  throw new OutputError(
    existing.size === 1
      ? `Output ${first} exists; use --force to overwrite it or --resume to skip it`
      : `${existing.size} outputs exist (e.g. ${first}); use --force to overwrite them or --resume to skip them`,
  );
}

/** Each sample's work by t, from the image header (NaN when unreadable: the file fails in its turn). */
async function estimate(job: SourceJob, s: VarySettings, manifest: ModelManifest, tiling: TilingOptions | undefined): Promise<void> {
  const info = await probeImage(job.input, { limitInputPixels: false }).catch(() => null);
  for (const t of s.ts) {
    const us = resolveSettings(sampleUpscaleOptions(s, t, 0), manifest, s.device);
    job.work.set(t, info ? estimateWork(us, manifest, info.height, info.width, tiling).megapixelEvaluations : NaN);
  }
}

/** Plans a run of `inputs` (files, folders, globs) into `outDir`; nothing is written. */
export async function planVary(
  inputs: readonly string[],
  outDir: string,
  s: VarySettings,
  manifest: ModelManifest,
  o: PlanOptions = {},
): Promise<VaryPlan> {
  const { force, resume } = overwritePolicy(o);
  const items = await freshItems(await expandVaryInputs(inputs), outDir);
  const sources = items.map((it) => sourceJob(it, outDir, s));
  const inputsReal = new Set(await Promise.all(items.map((it) => realTarget(it.path))));
  const existing = await checkOutputs(sources, inputsReal);
  if (existing.size > 0 && !force && !resume) refuseExisting(sources, existing);
  for (const j of sources) await estimate(j, s, manifest, o.tiling);
  const recordsPath = join(outDir, RECORDS_FILE);
  return { outDir, recordsPath, settings: s, sources, existing, log: await readRecords(recordsPath), force, resume };
}

/** The folder of an output (created before the sample is written). */
export const folderOf = (sj: SampleJob): string => dirname(sj.path);
