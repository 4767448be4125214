/**
 * `sr explore`: one grid of settings run on the user's own image (no ground truth), resumable, then a page to
 * compare the candidates. The candidates are the presets named, and every t × cascade of the lists (the other
 * method options shared by all); with neither, the model's default and each of its presets. Every candidate runs
 * with one seed and K samples; its image is what `sr upscale` with the same flags writes (the reduced K samples),
 * scored without ground truth (scores.ts) and, for K ≥ 2, with its uncertainty map (uncertainty.ts).
 *
 * Files under `out`: explore.jsonl (the resume log, one line per candidate done), images/ (the bicubic enlargement,
 * each candidate's output and uncertainty map, named by a hash of what makes them, so a changed setting never
 * reuses an old file), explore.json (everything the page shows) and index.html (page.ts). A rerun with the same
 * folder computes only the candidates the log lacks (same input bytes, model, settings, seed and tiling).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { OutputError, UsageError, throwIfAborted } from '../errors.js';
import { decodeImage, encodeImage, probeImage } from '../image/io.js';
import { detectJpegHistory } from '../image/jpeg-history.js';
import { NO_METADATA, type ImageMetadata } from '../image/metadata.js';
import { dims } from '../image/tensor.js';
import { upsample } from '../image/upsample.js';
import { makeFolder } from '../io-safety/atomic.js';
import { checkOutputSize, DEFAULT_MAX_INPUT_PIXELS } from '../io-safety/limits.js';
import { checkTile } from '../model/denoiser.js';
import { resolveModelDir } from '../model/locate.js';
import { loadManifest, type ModelManifest } from '../model/manifest.js';
import { deviceRequest, resolvePrecision, type DeviceRequest, type ModelSession } from '../model/session.js';
import type { RunContext, WorkProgress } from '../run-context.js';
import {
  DEFAULT_FACTOR,
  estimateInputNoise,
  estimateWork,
  progressFraction,
  resolveSettings,
  upscale,
  withModel,
  type UpscaleSettings,
  type WorkEstimate,
} from '../upscale.js';
import { integerInRange, oneOf, positiveInteger } from '../validate.js';
import { appendLine, readLines } from './log.js';
import { type CandidateOptions, upscaleCommand } from './command.js';
import { explorePage, type ExploreData } from './page.js';
import { lumaOf, scoreCandidate, type ExploreScores } from './scores.js';
import { UNCERTAINTY_COLORS, UNCERTAINTY_SCALE_MAX, uncertaintyImage } from '../metrics/uncertainty.js';
import { toJson, writeTextAtomic } from '../report/write.js';

export type { ExploreData } from './page.js';

/** The method options every candidate shares (the `sr upscale` flags other than t, cascade and preset). */
export type SharedMethodOptions = Pick<
  CandidateOptions,
  'steps' | 'upsampler' | 'backProject' | 'sampler' | 'eta' | 'consistency' | 'input' | 'tiling'
>;

/** What to explore, on which image, into which folder. */
export interface ExploreOptions {
  /** The image file (the user's own: no ground truth). */
  input: string;
  /** The output folder (created; a rerun with the same folder resumes). */
  out: string;
  /** Integer enlargement factor. Default 4. */
  factor?: number;
  /** t of the grid (each combined with each cascade). */
  ts?: readonly number[];
  /** Passes N of the grid (each combined with each t; without ts, at the model's t). */
  cascades?: readonly number[];
  /** Presets of the model's manifest, each one candidate (the shared options override them, as in sr upscale). */
  presets?: readonly string[];
  /** Samples K per candidate. Default: the candidate's own (a preset's), at least 2, so that it has a map. */
  samples?: number;
  /** How the K samples combine into the candidate's image: mean (default) or median. */
  reduce?: 'mean' | 'median';
  /** One seed for every candidate (they compare on the same noise). Default 0. */
  seed?: number;
  /** Options every candidate shares. */
  method?: SharedMethodOptions;
  /** A shipped model name or a model folder (default: the shipped default), or a loaded model. */
  model?: string | ModelSession;
  device?: DeviceRequest;
  /** Largest input width × height to decode. Default 8192 × 8192. */
  maxPixels?: number;
  /** The input as the commands on the page name it (default `input`). */
  commandInput?: string;
}

/** An exploration's run context: its stop signal and progress, and its plan before any work. */
export interface ExploreContext extends Omit<RunContext<WorkProgress>, 'onWarning'> {
  /** After every check, before anything is written or the model loads: the work left; throw to stop there. */
  onPlan?: ((plan: ExplorePlan) => void | Promise<void>) | undefined;
}

/** One candidate: its settings, files, the command that repeats it and (once run) its scores. */
export interface ExploreCandidate {
  /** Short, file-safe: "t100-N3", "preset-detail", "model-default". */
  id: string;
  /** For people: "t=100, cascade 3", "preset detail", "model default". */
  label: string;
  options: CandidateOptions;
  settings: UpscaleSettings;
  /** The resume key: a hash of the input's bytes, the model, the settings and the tiling. */
  key: string;
  /** Relative to the output folder. */
  image: string;
  uncertainty: string | null;
  /** The `sr upscale …` line that writes this image (and its map). */
  command: string;
  scores: ExploreScores | null;
  seconds: number | null;
  evaluations: number | null;
}

/** The work planned, handed to `onPlan`. */
export interface ExplorePlan {
  input: string;
  width: number;
  height: number;
  factor: number;
  candidates: readonly ExploreCandidate[];
  /** The candidates the log lacks, and each one's estimated work. */
  todo: readonly ExploreCandidate[];
  estimates: readonly WorkEstimate[];
}

/** What `explore` did and wrote. */
export interface ExploreResult {
  out: string;
  candidates: ExploreCandidate[];
  /** The bicubic enlargement (the page's "before") and its scores. */
  bicubic: { image: string; scores: ExploreScores };
  computed: number;
  skipped: number;
  files: { page: string; json: string; log: string };
}

export const EXPLORE_FILES = { page: 'index.html', json: 'explore.json', log: 'explore.jsonl' } as const;

interface LogLine {
  key: string;
  id: string;
  scores: ExploreScores;
  seconds: number;
  evaluations: number;
  at: string;
}

const hash = (v: string | Buffer): string => createHash('sha256').update(v).digest('hex');

/** The candidates' options before resolution: presets, then the t × cascade grid; neither: default and presets. */
function candidateSpecs(o: ExploreOptions, m: ModelManifest): { id: string; label: string; own: Partial<CandidateOptions> }[] {
  const specs: { id: string; label: string; own: Partial<CandidateOptions> }[] = [];
  const presets = o.presets ?? [];
  const grid = o.ts !== undefined || o.cascades !== undefined;
  if (presets.length === 0 && !grid) {
    specs.push({ id: 'model-default', label: 'model default', own: {} });
    for (const p of Object.keys(m.presets)) specs.push({ id: `preset-${p}`, label: `preset ${p}`, own: { preset: p } });
    return specs;
  }
  for (const p of presets) {
    if (typeof p !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(p))
      throw new UsageError(`Expected a preset name but received ${JSON.stringify(p)}`);
    specs.push({ id: `preset-${p}`, label: `preset ${p}`, own: { preset: p } });
  }
  if (grid) {
    const list = (name: string, v: readonly number[] | undefined) => {
      if (v !== undefined && (!Array.isArray(v) || v.length === 0)) {
        throw new UsageError(`Expected a non-empty list for ${name} but received ${JSON.stringify(v)}`);
      }
      return v === undefined ? [undefined] : [...new Set(v)];
    };
    for (const t of list('t', o.ts)) {
      for (const n of list('cascade', o.cascades)) {
        const id = [t !== undefined ? `t${t}` : '', n !== undefined ? `N${n}` : ''].filter(Boolean).join('-');
        const label = [t !== undefined ? `t=${t}` : '', n !== undefined ? `cascade ${n}` : ''].filter(Boolean).join(', ');
        specs.push({ id, label, own: { ...(t !== undefined ? { t } : {}), ...(n !== undefined ? { cascade: n } : {}) } });
      }
    }
  }
  return specs;
}

/** Runs (or resumes) an exploration and writes its page. */
export async function explore(options: ExploreOptions, ctx: ExploreContext = {}): Promise<ExploreResult> {
  const factor = positiveInteger('factor', options.factor ?? DEFAULT_FACTOR);
  const seed = integerInRange('seed', options.seed ?? 0, 0, 0xffffffff);
  if (options.samples !== undefined) positiveInteger('samples', options.samples);
  const reduce = oneOf('reduce', options.reduce ?? 'mean', ['mean', 'median'] as const);
  const maxPixels = positiveInteger('maxPixels', options.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS);
  if (typeof options.model !== 'object') deviceRequest(options.device);
  // the output folder: a folder or nothing yet
  const outStat = await stat(options.out).catch(() => null);
  if (outStat && !outStat.isDirectory()) throw new OutputError(`Cannot write into ${options.out}: it is a file, not a folder`);
  // the input's header, then the sizes (nothing decoded yet)
  const info = await probeImage(options.input, { limitInputPixels: maxPixels });
  checkOutputSize(info.height, info.width, factor, options.input);
  const manifest = typeof options.model === 'object' ? options.model.manifest : await loadManifest(resolveModelDir(options.model));
  checkTile(manifest.multiple, options.method?.tiling?.tile);
  // precision auto (what `sr upscale` runs, so each candidate's command repeats it) resolved once: every candidate's
  // settings and key, and the load
  const precision =
    typeof options.model === 'object'
      ? (options.model.precision ?? 'float')
      : resolvePrecision('auto', { device: deviceRequest(options.device), manifest }).precision;
  const bytes = await readFile(options.input);
  const decoded = await decodeImage(options.input, { limitInputPixels: maxPixels, keepIccProfile: true });
  // the input's noise, read once for every candidate (each counts it only where its input kind looks for it)
  const sourceNoise = estimateInputNoise(decoded.rgb);
  // and a JPEG in the pixels of a non-JPEG input (each candidate counts it only under input auto or jpeg)
  const sourceJpegHistory = decoded.jpegQuality === null ? detectJpegHistory(decoded.rgb) : null;
  const inputSha = hash(bytes);
  const modelArg = typeof options.model === 'string' ? options.model : undefined;
  const stem = basename(options.input, extname(options.input)).replace(/[^A-Za-z0-9_.-]+/g, '_') || 'image';
  const candidates: ExploreCandidate[] = [];
  for (const spec of candidateSpecs(options, manifest)) {
    const base: CandidateOptions = { factor, ...spec.own, ...(options.method ?? {}), seed };
    if (reduce !== 'mean') base.reduce = reduce;
    if (options.samples !== undefined) base.samples = options.samples;
    let settings = resolveSettings(
      { ...base, sourceJpegQuality: decoded.jpegQuality, sourceJpegHistory, sourceNoise },
      manifest,
      'cpu',
      precision,
    );
    if (settings.samples < 2 && options.samples === undefined) {
      base.samples = 2;
      settings = resolveSettings(
        { ...base, sourceJpegQuality: decoded.jpegQuality, sourceJpegHistory, sourceNoise },
        manifest,
        'cpu',
        precision,
      );
    } else if (settings.samples > 1) base.samples = settings.samples; // explicit in the command
    if (settings.samples < 2) delete base.reduce;
    // the noise estimate changes no pixel by itself (the noise removed, and the input kind, are in the key)
    const { preset: _preset, device: _device, noiseEstimate: _estimate, ...pixels } = settings;
    const key = hash(JSON.stringify({ input: inputSha, model: manifest.sha256, settings: pixels, tile: base.tiling?.tile ?? null }));
    const same = candidates.find((c) => c.key === key);
    if (same) {
      // the same run as an earlier candidate (e.g. a preset equal to a grid point): one candidate, both names
      same.label += ` = ${spec.label}`;
      continue;
    }
    const id = spec.id;
    const tag = `${id}-${key.slice(0, 8)}`;
    const uncertainty = settings.samples >= 2 ? `images/${tag}-uncertainty.png` : null;
    candidates.push({
      id,
      label: spec.label,
      options: base,
      settings,
      key,
      image: `images/${tag}.png`,
      uncertainty,
      command: upscaleCommand(options.commandInput ?? options.input, `${stem}-${id}.png`, base, {
        model: modelArg,
        device: options.device,
        uncertainty: uncertainty ? `${stem}-${id}-uncertainty.png` : null,
      }),
      scores: null,
      seconds: null,
      evaluations: null,
    });
  }
  const logPath = join(options.out, EXPLORE_FILES.log);
  const logged = new Map((await readLines<LogLine>(logPath)).filter((l) => typeof l.key === 'string').map((l) => [l.key, l]));
  const todo: ExploreCandidate[] = [];
  for (const c of candidates) {
    const line = logged.get(c.key);
    const filesThere = line !== undefined && (await allExist(options.out, [c.image, ...(c.uncertainty ? [c.uncertainty] : [])]));
    if (line && filesThere) Object.assign(c, { scores: line.scores, seconds: line.seconds, evaluations: line.evaluations });
    else todo.push(c);
  }
  const estimates = todo.map((c) => estimateWork(c.settings, manifest, info.height, info.width, c.options.tiling));
  await ctx.onPlan?.({
    input: options.input,
    width: info.width,
    height: info.height,
    factor,
    candidates,
    todo,
    estimates,
  });
  throwIfAborted(ctx.signal);
  await makeFolder(join(options.out, 'images'));
  // the page shows the images in the input's colour space: its ICC profile only (no EXIF: the page need not carry GPS)
  const metadata: ImageMetadata = { ...NO_METADATA, icc: decoded.metadata.icc };
  const lr = decoded.rgb;
  const { height, width } = dims(lr);
  const bicubic = upsample(lr, factor, 'bicubic');
  const bicubicY = lumaOf(bicubic);
  const bicubicFile = `images/bicubic-x${factor}-${inputSha.slice(0, 8)}.png`;
  if (!(await allExist(options.out, [bicubicFile]))) await encodeImage({ rgb: bicubic }, join(options.out, bicubicFile), { metadata });
  const bicubicScores = scoreCandidate(bicubic, lr, factor, bicubicY, null);
  if (todo.length > 0) {
    const total = estimates.reduce((a, e) => a + e.megapixelEvaluations, 0) || 1;
    let done = 0;
    await withModel(
      typeof options.model === 'object'
        ? { model: options.model }
        : { ...(options.model !== undefined ? { model: options.model } : {}), device: options.device ?? 'cpu', precision },
      async (model) => {
        for (const [i, c] of todo.entries()) {
          throwIfAborted(ctx.signal);
          const weight = estimates[i]!.megapixelEvaluations;
          const label = `${c.label} (${i + 1}/${todo.length})`;
          ctx.onProgress?.({ done, total, label });
          const r = await upscale(
            lr,
            {
              ...c.options,
              sourceJpegQuality: decoded.jpegQuality,
              sourceJpegGrid: decoded.jpegGrid,
              sourceJpegHistory,
              sourceNoise,
              model,
              uncertainty: c.uncertainty !== null,
            },
            {
              signal: ctx.signal,
              onProgress: (e) => {
                if (e.stage === 'boomerang' && e.totalSteps > 0) {
                  ctx.onProgress?.({
                    done: done + progressFraction(e) * weight,
                    total,
                    label: `${label} sample ${e.sample}/${e.samples}`,
                  });
                }
              },
            },
          );
          const scores = scoreCandidate(r.image, lr, factor, bicubicY, r.uncertainty);
          await encodeImage({ rgb: r.image }, join(options.out, c.image), {
            metadata,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          if (c.uncertainty && r.uncertainty) {
            await encodeImage({ rgb: uncertaintyImage(r.uncertainty) }, join(options.out, c.uncertainty), {
              ...(ctx.signal ? { signal: ctx.signal } : {}),
            });
          }
          const line: LogLine = {
            key: c.key,
            id: c.id,
            scores,
            seconds: round(r.stats.seconds),
            evaluations: r.stats.evaluations,
            at: new Date().toISOString(),
          };
          await appendLine(logPath, line);
          Object.assign(c, { scores, seconds: line.seconds, evaluations: line.evaluations });
          done += weight;
          ctx.onProgress?.({ done, total, label });
        }
      },
    );
  }
  const result: ExploreResult = {
    out: options.out,
    candidates,
    bicubic: { image: bicubicFile, scores: bicubicScores },
    computed: todo.length,
    skipped: candidates.length - todo.length,
    files: {
      page: join(options.out, EXPLORE_FILES.page),
      json: join(options.out, EXPLORE_FILES.json),
      log: logPath,
    },
  };
  const data: ExploreData = {
    tool: 'boomerang-sr',
    input: { path: options.commandInput ?? options.input, width, height, sha256: inputSha, jpegQuality: decoded.jpegQuality },
    factor,
    seed,
    model: { name: manifest.name, sha256: manifest.sha256 },
    cwd: process.cwd(),
    scale: { max: UNCERTAINTY_SCALE_MAX, colors: UNCERTAINTY_COLORS },
    bicubic: result.bicubic,
    candidates: candidates.map((c) => ({
      id: c.id,
      label: c.label,
      image: c.image,
      uncertainty: c.uncertainty,
      command: c.command,
      scores: c.scores!,
      seconds: c.seconds,
      evaluations: c.evaluations,
      settings: c.settings,
    })),
  };
  await writeTextAtomic(result.files.json, toJson(data));
  await writeTextAtomic(result.files.page, explorePage(data));
  return result;
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

async function allExist(dir: string, files: readonly string[]): Promise<boolean> {
  for (const f of files) if (!(await stat(join(dir, f)).catch(() => null))?.isFile()) return false;
  return true;
}
