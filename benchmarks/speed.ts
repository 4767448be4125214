/**
 * Speed: per-evaluation latency of the UNet and end-to-end `sr upscale` jobs through the library, on one device.
 *
 *   npx tsc -p . && node dist/benchmarks/speed.js [--device cpu|webgpu] [--model default|DIR] [--out DIR] [--quick]
 *       [--label TEXT] [--note TEXT] [--batches 1,2,4,8] [--threads N] [--tile-batch N] [--reps N] [--tiled-steps N]
 *       [--fp16-onnx FILE] [--variants default,nchw,novalidation,fp16,fp16-novalidation] [--torch FILE]
 *       [--before DIR [--before-name TEXT]] [--no-cli] [--no-resident] [--as-gpu (tests: webgpu paths on the CPU)]
 *
 * 1. Latency: one 256×256 evaluation at each batch (ms per run, ms per image, images/s), the median of timed runs
 *    after warm-up. CPU: with and without ORT's thread spinning at batch 1. webgpu: per variant (EP defaults,
 *    NCHW layout, Dawn validation off, a float16-compute ONNX given by --fp16-onnx), and at batch 1 and the best
 *    batch the same evaluation with the data kept on the GPU (IO binding) and with graph capture, to show what
 *    the copies through the CPU cost. Accuracy: the device's output (and the fp16 ONNX's) against the CPU EP's.
 * 2. Jobs through the library (`upscale`, what `sr upscale` calls): ×8 32→256, t=100, cascade 3, the model's
 *    default steps; ×4 512→2048, tiled (512 tiles, overlap 32, tiles batched on webgpu), t=100, one pass, the
 *    default steps (--quick or --tiled-steps: fewer, stated in the result). Each: seconds, model seconds,
 *    evaluations, pipeline overhead = (total − model)/total. Then the ×8 job through the CLI in a child process.
 * 3. --before DIR: the ×8 job's overhead with an earlier build (DIR/dist/src/upscale.js, e.g. from `git archive`)
 *    side by side with this one, alternating, in this process.
 * 4. --torch FILE: a PyTorch reference (benchmarks/torch_reference.py) of the same model on the same GPU; adds
 *    webgpu_vs_pytorch_latency_b1 and webgpu_vs_pytorch_throughput.
 *
 * Without --model: models/default, else /tmp/probe-model (a stand-in with the default's architecture), else the
 * fixture; the result says which. Writes <out>/speed-<device>-<date>[-label].json and .md (default out:
 * benchmarks/results). Exits 1 (after writing the files) when the device could not be opened.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { defaultTileBatch } from '../src/model/denoiser.js';
import { loadModel, type LoadModelOptions, type ModelSession, type WebGpuOptions } from '../src/model/session.js';
import { timeEvaluations } from '../src/model/timing.js';
import { upscale, type UpscaleOptions, type UpscaleResult } from '../src/upscale.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
function arg(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? argv[i + 1] : undefined;
}
const num = (name: string): number | undefined => {
  const v = arg(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`Expected a number for --${name} but received ${v}`);
  return n;
};

const device = (arg('device') ?? 'cpu') as 'cpu' | 'webgpu';
if (device !== 'cpu' && device !== 'webgpu') throw new Error(`Expected cpu or webgpu for --device but received ${device}`);
const quick = flag('quick');
// --as-gpu (tests only): the webgpu code paths (variants, resident timing, jobs per variant, comparison) run with
// the CPU EP, where the WebGPU options are ignored and resident timing fails (recorded); for checking this script
// on a machine without a GPU.
const gpu = device === 'webgpu' || flag('as-gpu');
const batches = (arg('batches') ?? (gpu ? '1,2,4,8,16' : '1,2,4,8')).split(',').map(Number);
const threads = num('threads');
const reps = num('reps') ?? (gpu ? (quick ? 3 : 5) : quick ? 1 : 2);
const fp16Onnx = arg('fp16-onnx');
const outDir = resolve(arg('out') ?? join(root, 'benchmarks', 'results'));
const label = arg('label');
const started = new Date();
const loadStart = os.loadavg();
const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;
const log = (s: string): void => {
  process.stderr.write(`speed[${device}]: ${s}\n`);
};

function pickModel(): { spec: string; note: string } {
  const given = arg('model');
  if (given) return { spec: given, note: 'as asked' };
  if (existsSync(join(root, 'models', 'default', 'model.onnx'))) return { spec: 'default', note: 'the shipped default model' };
  if (existsSync('/tmp/probe-model/model.onnx')) {
    return {
      spec: '/tmp/probe-model',
      note: 'models/default missing: the training probe (same architecture as the default: p=4, base 64, 6.1M parameters, float16 weights) stands in',
    };
  }
  return { spec: 'fixture', note: 'models/default and /tmp/probe-model missing: the tiny fixture stands in (NOT representative)' };
}

function gpuName(): string | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim().split('\n')[0]!.trim() : null;
}

/** A textured image in [-1, 1]: gradients, waves and deterministic fine detail (nothing trivially flat). */
function texturedImage(size: number): ImageTensor {
  const img = createImage(3, size, size);
  let s = 12345;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = ((s >>> 24) - 128) / 512;
      const p = y * size + x;
      img.data[p] = Math.max(-1, Math.min(1, (2 * x) / size - 1 + n));
      img.data[size * size + p] = Math.max(-1, Math.min(1, (2 * y) / size - 1 + 0.3 * Math.sin(x / 3) + n));
      img.data[2 * size * size + p] = Math.max(-1, Math.min(1, 0.7 * Math.sin((x + y) / 5) + n));
    }
  }
  return img;
}

interface Variant {
  name: string;
  options: LoadModelOptions;
}

function variants(): Variant[] {
  const base: LoadModelOptions = { device, ...(threads ? { threads } : {}) };
  if (!gpu) return [{ name: 'default', options: base }];
  const wg = (w: WebGpuOptions, file?: string): LoadModelOptions => ({ ...base, webgpu: w, ...(file ? { onnxFile: file } : {}) });
  const all: Variant[] = [
    { name: 'default', options: wg({}) },
    { name: 'nchw', options: wg({ layout: 'NCHW' }) },
    { name: 'novalidation', options: wg({ validation: 'disabled' }) },
  ];
  if (fp16Onnx) {
    all.push({ name: 'fp16', options: wg({}, fp16Onnx) }, { name: 'fp16-novalidation', options: wg({ validation: 'disabled' }, fp16Onnx) });
  }
  const want = arg('variants')?.split(',');
  return want ? all.filter((v) => want.includes(v.name)) : all;
}

interface LatencyRow {
  variant: string;
  batch: number;
  msPerRun?: number;
  msPerImage?: number;
  imagesPerSecond?: number;
  runs?: number;
  error?: string;
  mode: string;
}

/** Median ms per run at [batch, 3, 256, 256], with a calibration run to size the number of timed runs. */
async function latency(
  model: ModelSession,
  variant: string,
  batch: number,
  mode: 'cpu-io' | 'gpu-resident' | 'graph-capture',
): Promise<LatencyRow> {
  const shape = { batch, height: 256, width: 256 };
  const resident = mode !== 'cpu-io';
  const graphCapture = mode === 'graph-capture';
  try {
    const cal = await timeEvaluations(model, { ...shape, iterations: gpu ? 3 : 1, warmup: gpu ? 3 : 1, resident, graphCapture });
    const budget = gpu ? (quick ? 600 : 1500) : quick ? 1200 : 3500;
    const iterations = Math.max(gpu ? 10 : 3, Math.min(gpu ? 200 : 30, Math.ceil(budget / Math.max(cal.msPerRun, 0.1))));
    const r = await timeEvaluations(model, { ...shape, iterations, warmup: gpu ? 2 : 0, resident, graphCapture });
    return {
      variant,
      batch,
      mode,
      msPerRun: round(r.msPerRun, 3),
      msPerImage: round(r.msPerRun / batch, 3),
      imagesPerSecond: round((1000 * batch) / r.msPerRun, 1),
      runs: r.runs,
    };
  } catch (err) {
    return { variant, batch, mode, error: firstLine(err) };
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}

interface JobRun {
  seconds: number;
  modelSeconds: number;
  evaluations: number;
  overhead: number;
  msPerEvaluation: number;
}

function jobRun(r: UpscaleResult): JobRun {
  const { seconds, modelSeconds, evaluations } = r.stats;
  return {
    seconds: round(seconds, 3),
    modelSeconds: round(modelSeconds, 3),
    evaluations,
    overhead: round((seconds - modelSeconds) / seconds, 4),
    msPerEvaluation: round((1000 * modelSeconds) / evaluations, 2),
  };
}

function median<T>(xs: T[], key: (x: T) => number): T {
  return [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
}

interface JobResult {
  name: string;
  settings: Record<string, unknown>;
  first: JobRun | null;
  runs: JobRun[];
  median: JobRun | null;
  error?: string;
}

type UpscaleFn = (input: ImageTensor, options: UpscaleOptions) => Promise<UpscaleResult>;

async function job(
  name: string,
  fn: UpscaleFn,
  model: ModelSession,
  input: ImageTensor,
  options: UpscaleOptions,
  repeats: number,
  warm: UpscaleOptions | null,
): Promise<JobResult> {
  const settings = { input: `${input.shape[2]}x${input.shape[1]}`, ...options, model: model.manifest.name, device: model.device };
  try {
    const first = warm ? jobRun(await fn(input, { ...options, ...warm, model })) : null;
    const runs: JobRun[] = [];
    for (let k = 0; k < repeats; k++) runs.push(jobRun(await fn(input, { ...options, model })));
    return { name, settings, first, runs, median: median(runs, (r) => r.seconds) };
  } catch (err) {
    return { name, settings, first: null, runs: [], median: null, error: firstLine(err) };
  }
}

const x8: UpscaleOptions = { factor: 8, t: 100, cascade: 3, seed: 1 };

/** The ×8 job through the real CLI in a child process (process start, model load, decode and encode included). */
async function cliRuns(
  spec: string,
  input: ImageTensor,
  n: number,
): Promise<Array<{ wallSeconds: number; status: number | null; stderr: string }>> {
  const sharp = (await import('sharp')).default;
  const dir = await mkdtemp(join(os.tmpdir(), 'sr-speed-'));
  try {
    const size = input.shape[1]!;
    const rgb = Buffer.alloc(size * size * 3);
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(((input.data[c * size * size + p]! + 1) / 2) * 255);
    }
    const png = join(dir, 'in.png');
    await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(png);
    const out: Array<{ wallSeconds: number; status: number | null; stderr: string }> = [];
    for (let k = 0; k < n; k++) {
      const args = [
        join(root, 'dist', 'src', 'cli', 'index.js'),
        'upscale',
        png,
        '-o',
        join(dir, `out${k}.png`),
        '--factor',
        '8',
        '--t',
        '100',
        '--cascade',
        '3',
        '--seed',
        '1',
        '--model',
        spec,
        '--device',
        device,
        '-q',
      ];
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 600_000 });
      out.push({
        wallSeconds: round((performance.now() - t0) / 1000, 3),
        status: r.status,
        stderr: (r.stderr ?? '').trim().split('\n').slice(-2).join(' | ').slice(0, 300),
      });
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Outputs against the CPU EP's float32 output on the same 256×256 input (t = 10, 100, 500): max and mean |Δ| and
 * relative L2, for the device's float32 session (webgpu) and the float16-compute ONNX (--fp16-onnx) on the device.
 */
async function accuracy(spec: string, base: LoadModelOptions): Promise<Record<string, unknown>> {
  const candidates: Array<[string, LoadModelOptions]> = [];
  if (gpu) candidates.push(['webgpu fp32', base]);
  if (fp16Onnx) candidates.push([`${device} fp16 ONNX`, { ...base, onnxFile: fp16Onnx }]);
  if (!candidates.length) return { skipped: 'nothing to compare (cpu without --fp16-onnx)' };
  const ref = await loadModel(spec, { device: 'cpu', ...(threads ? { threads } : {}) });
  const n = 3 * 256 * 256;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.9 * Math.sin(0.37 * i);
  const ts = [10, 100, 500];
  const refs: Float32Array[] = [];
  for (const t of ts) refs.push(await ref.run(x, 1, 256, 256, [t]));
  await ref.dispose();
  const rows: Record<string, unknown>[] = [];
  for (const [name, options] of candidates) {
    let mv: ModelSession | null = null;
    try {
      mv = await loadModel(spec, options);
      for (let k = 0; k < ts.length; k++) {
        const ya = refs[k]!;
        const yb = await mv.run(x, 1, 256, 256, [ts[k]!]);
        let max = 0,
          sum = 0,
          num2 = 0,
          den2 = 0;
        for (let i = 0; i < n; i++) {
          const d = Math.abs(ya[i]! - yb[i]!);
          max = Math.max(max, d);
          sum += d;
          num2 += d * d;
          den2 += ya[i]! * ya[i]!;
        }
        rows.push({ what: name, t: ts[k], maxAbs: round(max, 6), meanAbs: round(sum / n, 7), relL2: round(Math.sqrt(num2 / den2), 7) });
      }
    } catch (err) {
      rows.push({ what: name, error: firstLine(err) });
    } finally {
      await mv?.dispose();
    }
  }
  return { reference: 'CPU EP, float32 ONNX', rows };
}

interface TorchRef {
  gpu?: string;
  torch?: string;
  latency?: Record<string, Array<{ batch: number; msPerRun: number; msPerImage: number; imagesPerSecond: number }>>;
  sampler?: Record<string, { seconds: number; evaluations: number }>;
}

function compare(torch: TorchRef, rows: LatencyRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ok = rows.filter((r) => r.mode === 'cpu-io' && r.msPerRun !== undefined);
  const names = [...new Set(ok.map((r) => r.variant))];
  for (const flavour of Object.keys(torch.latency ?? {})) {
    const ref = torch.latency![flavour]!;
    const refB1 = ref.find((r) => r.batch === 1);
    const refBest = ref.reduce((m, r) => (r.imagesPerSecond > m.imagesPerSecond ? r : m), ref[0]!);
    for (const v of names) {
      const mine = ok.filter((r) => r.variant === v);
      const b1 = mine.find((r) => r.batch === 1);
      const best = mine.reduce((m, r) => (r.imagesPerSecond! > m.imagesPerSecond! ? r : m), mine[0]!);
      out[`${v}_vs_${flavour}`] = {
        latency_b1: b1 && refB1 ? round(refB1.msPerRun / b1.msPerRun!, 3) : null,
        throughput: best && refBest ? round(best.imagesPerSecond! / refBest.imagesPerSecond, 3) : null,
        webgpu_b1_ms: b1?.msPerRun ?? null,
        pytorch_b1_ms: refB1?.msPerRun ?? null,
        webgpu_best: best ? { batch: best.batch, imagesPerSecond: best.imagesPerSecond } : null,
        pytorch_best: refBest ? { batch: refBest.batch, imagesPerSecond: refBest.imagesPerSecond } : null,
      };
    }
  }
  return out;
}

async function main(): Promise<number> {
  const { spec, note } = pickModel();
  const result: Record<string, unknown> = {
    benchmark: 'speed',
    date: started.toISOString(),
    command: `node dist/benchmarks/speed.js ${argv.join(' ')}`.trim(),
    device,
    quick,
    machine: {
      cpu: os.cpus()[0]?.model ?? '?',
      cores: os.cpus().length,
      memoryGB: Math.round(os.totalmem() / 2 ** 30),
      gpu: gpu ? gpuName() : null,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadavgStart: loadStart.map((v) => round(v)),
      note: arg('note') ?? null,
    },
    model: { spec, note },
  };
  const baseOptions: LoadModelOptions = { device, ...(threads ? { threads } : {}) };
  let model: ModelSession;
  try {
    model = await loadModel(spec, baseOptions);
  } catch (err) {
    result.error = `${(err as Error).name}: ${firstLine(err)}`;
    log(`cannot open the model on ${device}: ${String(result.error)}`);
    await write(result);
    return 1;
  }
  const m = model.manifest;
  result.model = {
    spec,
    note,
    name: m.name,
    params: m.params,
    patch: m.patch,
    multiple: m.multiple,
    prediction: m.prediction,
    architecture: m.raw.architecture ?? null,
    weights: m.raw.weights ?? 'float32',
    sha256: m.sha256.slice(0, 16),
    defaults: m.defaults,
  };
  await model.dispose();

  // 1. latency per variant and batch
  const rows: LatencyRow[] = [];
  const vs = variants();
  for (const v of vs) {
    let mv: ModelSession;
    try {
      mv = await loadModel(spec, v.options);
    } catch (err) {
      rows.push({ variant: v.name, batch: 0, mode: 'cpu-io', error: firstLine(err) });
      continue;
    }
    for (const b of batches) {
      const r = await latency(mv, v.name, b, 'cpu-io');
      rows.push(r);
      log(`latency ${v.name} batch ${b}: ${r.error ?? `${r.msPerRun} ms/run, ${r.imagesPerSecond} images/s`}`);
    }
    await mv.dispose();
  }
  result.latency = rows;
  const okRows = rows.filter((r) => r.msPerRun !== undefined && r.mode === 'cpu-io');
  const b1 = (v: string) => okRows.find((r) => r.variant === v && r.batch === 1)?.msPerRun ?? Infinity;
  const bestVariant = okRows.length ? [...new Set(okRows.map((r) => r.variant))].sort((a, b) => b1(a) - b1(b))[0]! : 'default';
  result.bestVariantAtBatch1 = bestVariant;

  if (!gpu) {
    // ORT's thread spinning, side by side (alternating), batch 1
    const spin: Record<string, unknown>[] = [];
    const on = await loadModel(spec, { ...baseOptions, spinning: true });
    const off = await loadModel(spec, { ...baseOptions, spinning: false });
    for (let k = 0; k < (quick ? 1 : 3); k++) {
      for (const [name, mv] of [
        ['spinning', on],
        ['no spinning (default)', off],
      ] as const) {
        const r = await latency(mv, name, 1, 'cpu-io');
        spin.push({ threads: name, round: k + 1, msPerRun: r.msPerRun ?? null, error: r.error });
      }
    }
    await on.dispose();
    await off.dispose();
    result.spinning = spin;
    log(`spinning: ${spin.map((s) => `${String(s.threads)} ${String(s.msPerRun)}`).join(', ')}`);
  }
  const comparePyTorch = (): void => {
    const torchFile = arg('torch');
    if (torchFile) {
      try {
        const torch = JSON.parse(readFileSync(torchFile, 'utf8')) as TorchRef;
        const cmp = compare(torch, rows);
        result.pytorch = {
          file: torchFile,
          gpu: torch.gpu ?? null,
          torch: torch.torch ?? null,
          latency: torch.latency ?? null,
          sampler: torch.sampler ?? null,
        };
        result.comparison = cmp;
        const headline = cmp.default_vs_tf32 as { latency_b1: number | null; throughput: number | null } | undefined;
        result.webgpu_vs_pytorch_latency_b1 = headline?.latency_b1 ?? null;
        result.webgpu_vs_pytorch_throughput = headline?.throughput ?? null;
        const best = cmp[`${bestVariant}_vs_tf32`] as { latency_b1: number | null; throughput: number | null } | undefined;
        result.webgpu_vs_pytorch_best_variant = {
          variant: bestVariant,
          latency_b1: best?.latency_b1 ?? null,
          throughput: best?.throughput ?? null,
        };
        result.comparison_note =
          'headline: webgpu with the EP defaults vs PyTorch eager TF32 (cuDNN and matmul TF32 on); ratios > 1 favour webgpu';
      } catch (err) {
        result.pytorch = { file: torchFile, error: firstLine(err) };
        result.webgpu_vs_pytorch_latency_b1 = null;
        result.webgpu_vs_pytorch_throughput = null;
      }
    }
  };
  comparePyTorch();
  await write(result);

  // 2. jobs through the library, with the EP defaults and (webgpu) the best variant at batch 1
  const jobs: JobResult[] = [];
  const small = texturedImage(32);
  const large = texturedImage(512);
  const tiledSteps = num('tiled-steps') ?? (quick ? 2 : m.defaults.steps);
  const tileBatch = num('tile-batch');
  const jobVariants = gpu ? [...new Set(['default', bestVariant])] : ['default'];
  for (const name of jobVariants) {
    const v = vs.find((x) => x.name === name)!;
    let mv: ModelSession;
    try {
      mv = await loadModel(spec, v.options);
    } catch (err) {
      jobs.push({ name: `jobs [${name}]`, settings: {}, first: null, runs: [], median: null, error: firstLine(err) });
      continue;
    }
    const suffix = gpu ? ` [${name}]` : '';
    log(`job x8 32->256${suffix} ...`);
    jobs.push(
      await job(`x8 32->256, t=100, cascade 3, ${m.defaults.steps} steps${suffix}`, upscale, mv, small, x8, reps, { cascade: 1, steps: 2 }),
    );
    const tiling = { tile: 512, overlap: 32, ...(tileBatch ? { batch: tileBatch } : {}) };
    const tiles = 25;
    log(`job x4 512->2048 tiled${suffix} (${tiledSteps} steps) ...`);
    jobs.push(
      await job(
        `x4 512->2048 tiled (512/32, ${tileBatch ?? defaultTileBatch(mv.device, tiles)} tiles per run), t=100, 1 pass, ${tiledSteps} steps${tiledSteps < m.defaults.steps ? ' (shortened: --quick/--tiled-steps)' : ''}${suffix}`,
        upscale,
        mv,
        large,
        { factor: 4, t: 100, cascade: 1, steps: tiledSteps, seed: 1, tiling },
        1,
        gpu ? { steps: 1 } : null,
      ),
    );
    await mv.dispose();
  }
  result.jobs = jobs;
  const x8job = jobs[0]?.median;
  result.targets = targets(x8job);
  await write(result);

  // the copies through the CPU: the same evaluation with the data kept on the GPU, and graph capture
  if (gpu && !flag('no-resident')) {
    const res: LatencyRow[] = [];
    for (const name of [...new Set(['default', bestVariant])]) {
      const v = vs.find((x) => x.name === name);
      if (!v) continue;
      const best = okRows
        .filter((r) => r.variant === name)
        .reduce<LatencyRow | null>((mx, r) => (!mx || r.imagesPerSecond! > mx.imagesPerSecond! ? r : mx), null);
      let mv: ModelSession;
      try {
        mv = await loadModel(spec, v.options);
      } catch (err) {
        res.push({ variant: name, batch: 0, mode: 'gpu-resident', error: firstLine(err) });
        continue;
      }
      for (const b of [...new Set([1, best?.batch ?? 8])]) {
        for (const mode of ['gpu-resident', 'graph-capture'] as const) {
          const r = await latency(mv, name, b, mode);
          res.push(r);
          log(`${mode} ${name} batch ${b}: ${r.error ?? `${r.msPerRun} ms/run`}`);
        }
      }
      await mv.dispose();
    }
    result.resident = res;
  }
  result.accuracy = await accuracy(spec, baseOptions).catch((err: unknown) => ({ error: firstLine(err) }));

  await write(result);

  // 3. overhead before/after (an earlier build, alternating with this one)
  const before = arg('before');
  if (before) {
    const lib = (await import(pathToFileURL(join(resolve(before), 'dist', 'src', 'upscale.js')).href)) as { upscale: UpscaleFn };
    const oldSession = (await import(pathToFileURL(join(resolve(before), 'dist', 'src', 'model', 'session.js')).href)) as {
      loadModel: typeof loadModel;
    };
    const oldModel = await oldSession.loadModel(spec, baseOptions);
    const newModel = await loadModel(spec, baseOptions);
    const newSpin = await loadModel(spec, { ...baseOptions, spinning: true });
    const cmp: Record<string, JobRun[]> = { before: [], after: [], 'after, spinning on': [] };
    await upscale(small, { ...x8, cascade: 1, steps: 2, model: newModel });
    for (let k = 0; k < (quick ? 1 : 2); k++) {
      cmp.before!.push(jobRun(await lib.upscale(small, { ...x8, model: oldModel })));
      cmp.after!.push(jobRun(await upscale(small, { ...x8, model: newModel })));
      cmp['after, spinning on']!.push(jobRun(await upscale(small, { ...x8, model: newSpin })));
      log(
        `overhead round ${k + 1}: before ${cmp.before!.at(-1)!.overhead}, after ${cmp.after!.at(-1)!.overhead}, after+spin ${cmp['after, spinning on']!.at(-1)!.overhead}`,
      );
    }
    for (const mv of [oldModel, newModel, newSpin]) await mv.dispose();
    result.overheadBeforeAfter = { before: `${resolve(before)}${arg('before-name') ? ` (${arg('before-name')!})` : ''}`, runs: cmp };
  }

  // 4. the CLI
  if (!flag('no-cli')) {
    log('CLI x8 job ...');
    try {
      result.cli = {
        job: 'sr upscale in.png -o out.png --factor 8 --t 100 --cascade 3 --seed 1 (32x32 input)',
        runs: await cliRuns(spec, small, quick ? 1 : 2),
      };
    } catch (err) {
      result.cli = { error: firstLine(err) };
    }
  }

  result.complete = true;
  await write(result);
  return 0;
}

function targets(x8job: JobRun | null | undefined): Record<string, unknown> {
  return {
    x8Seconds: x8job?.seconds ?? null,
    x8Target: gpu ? '< 0.5 s warm, end to end in the CLI (library figure here; CLI wall time under cli)' : '< 15 s on a 2-core CPU',
    x8Overhead: x8job?.overhead ?? null,
    overheadTarget: '< 5% outside the model',
  };
}

/** Writes the JSON and Markdown (after every section, so a run cut short still leaves what it measured). */
async function write(result: Record<string, unknown>): Promise<void> {
  result.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  const mc = result.machine as Record<string, unknown>;
  mc.loadavgEnd = os.loadavg().map((v) => round(v));
  mc.loaded = Math.max(loadStart[0]!, os.loadavg()[0]!) > 0.5;
  await mkdir(outDir, { recursive: true });
  const stamp = started.toISOString().slice(0, 10);
  const base = join(outDir, `speed-${device}-${stamp}${label ? '-' + label.replace(/[^a-z0-9-]+/gi, '-').toLowerCase() : ''}`);
  await writeFile(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
  await writeFile(`${base}.md`, markdown(result));
  log(`wrote ${base}.json and .md`);
}

function markdown(r: Record<string, unknown>): string {
  const mc = r.machine as Record<string, unknown>;
  const md = r.model as Record<string, unknown>;
  const L: string[] = [];
  const where =
    r.device === 'webgpu' ? `webgpu on ${String(mc.gpu ?? 'an unnamed GPU')}` : `CPU: ${String(mc.cpu)}, ${String(mc.cores)} cores`;
  L.push(`# Speed: ${where} (${String(r.date).slice(0, 10)})`, '');
  L.push(
    `- machine: ${String(mc.cpu)} × ${String(mc.cores)} cores, ${String(mc.memoryGB)} GB${mc.gpu ? `; GPU ${String(mc.gpu)}` : ''}; node ${String(mc.node)}`,
  );
  L.push(
    `- load average at start ${JSON.stringify(mc.loadavgStart)}, at end ${JSON.stringify(mc.loadavgEnd ?? null)}: ${mc.loaded ? '**loaded** (other work ran: timings are noisy; compare only figures taken side by side)' : 'idle'}${mc.note ? `; ${String(mc.note)}` : ''}`,
  );
  L.push(
    `- model: ${String(md.spec)} — ${String(md.note)}${md.params ? ` (${String(md.name)}, ${String(md.params)} parameters, ${String(md.weights)} weights, sha256 ${String(md.sha256)}…)` : ''}`,
  );
  L.push(`- command: \`${String(r.command)}\`${r.quick ? ' (--quick: shorter runs, fewer steps in the tiled job)' : ''}`, '');
  if (r.error) {
    L.push(`**Could not open the model on ${String(r.device)}: ${String(r.error)}**`, '');
    return L.join('\n');
  }
  if (!r.complete) L.push('**Incomplete: the run stopped (or is still running) after the sections below.**', '');
  L.push('## One 256×256 evaluation', '', '| variant | batch | ms/run | ms/image | images/s |', '|---|---|---|---|---|');
  for (const x of (r.latency as LatencyRow[] | undefined) ?? []) {
    L.push(
      `| ${x.variant} | ${x.batch} | ${x.msPerRun ?? '—'} | ${x.msPerImage ?? '—'} | ${x.imagesPerSecond ?? (x.error ? `error: ${x.error}` : '—')} |`,
    );
  }
  if (r.spinning) {
    L.push(
      '',
      'ORT thread spinning at batch 1, alternating: ' +
        (r.spinning as Record<string, unknown>[]).map((s) => `${String(s.threads)} ${String(s.msPerRun)} ms`).join('; '),
    );
  }
  if (r.resident) {
    L.push(
      '',
      '## Data kept on the GPU (IO binding) and graph capture, vs through the CPU',
      '',
      '| variant | batch | mode | ms/run | ms/image |',
      '|---|---|---|---|---|',
    );
    for (const x of r.resident as LatencyRow[])
      L.push(`| ${x.variant} | ${x.batch} | ${x.mode} | ${x.msPerRun ?? `error: ${x.error ?? '?'}`} | ${x.msPerImage ?? '—'} |`);
  }
  const acc = r.accuracy as Record<string, unknown> | undefined;
  if (acc?.rows) {
    L.push(
      '',
      `Outputs against the ${String(acc.reference)} (same 256×256 input): ` +
        (acc.rows as Record<string, unknown>[])
          .map((a) =>
            a.error
              ? `${String(a.what)}: error ${String(a.error)}`
              : `${String(a.what)} t=${String(a.t)}: max |Δ| ${String(a.maxAbs)}, rel L2 ${String(a.relL2)}`,
          )
          .join('; '),
    );
  } else if (acc?.error) L.push('', `accuracy: error ${String(acc.error)}`);
  if (r.jobs)
    L.push(
      '',
      '## Jobs through the library (`upscale`)',
      '',
      '| job | first run | median s | model s | overhead | ms/eval | evaluations | runs |',
      '|---|---|---|---|---|---|---|---|',
    );
  for (const j of (r.jobs as JobResult[] | undefined) ?? []) {
    if (j.error || !j.median) {
      L.push(`| ${j.name} | | error: ${j.error ?? '?'} | | | | | |`);
      continue;
    }
    const x = j.median;
    L.push(
      `| ${j.name} | ${j.first ? `${j.first.seconds} s (warm-up, short)` : '—'} | ${x.seconds} | ${x.modelSeconds} | ${(100 * x.overhead).toFixed(1)}% | ${x.msPerEvaluation} | ${x.evaluations} | ${j.runs.map((q) => q.seconds).join(', ')} |`,
    );
  }
  const oba = r.overheadBeforeAfter as { before: string; runs: Record<string, JobRun[]> } | undefined;
  if (oba) {
    L.push(
      '',
      `## Pipeline overhead of the ×8 job, before/after (alternating in one process; before = ${oba.before})`,
      '',
      '| build | seconds | model s | overhead | ms outside the model per step |',
      '|---|---|---|---|---|',
    );
    for (const [k, runs] of Object.entries(oba.runs)) {
      for (const x of runs)
        L.push(
          `| ${k} | ${x.seconds} | ${x.modelSeconds} | ${(100 * x.overhead).toFixed(1)}% | ${round((1000 * (x.seconds - x.modelSeconds)) / x.evaluations, 1)} |`,
        );
    }
  }
  const cli = r.cli as
    | { job?: string; runs?: Array<{ wallSeconds: number; status: number | null; stderr: string }>; error?: string }
    | undefined;
  if (cli) {
    L.push(
      '',
      `## CLI: ${cli.job ?? ''}`,
      '',
      cli.runs
        ? cli.runs
            .map((c, i) => `- run ${i + 1}: ${c.wallSeconds} s wall, exit ${String(c.status)}${c.status ? ` (${c.stderr})` : ''}`)
            .join('\n')
        : `error: ${String(cli.error)}`,
    );
  }
  if (r.comparison) {
    L.push(
      '',
      '## Against PyTorch on the same GPU',
      '',
      `PyTorch ${String((r.pytorch as Record<string, unknown>).torch)}; ${String(r.comparison_note)}.`,
      '',
      `**webgpu_vs_pytorch_latency_b1 = ${String(r.webgpu_vs_pytorch_latency_b1)}**, **webgpu_vs_pytorch_throughput = ${String(r.webgpu_vs_pytorch_throughput)}**; best variant ${JSON.stringify(r.webgpu_vs_pytorch_best_variant)}`,
      '',
      '| webgpu variant vs PyTorch | latency ratio b1 | throughput ratio (best batches) | webgpu b1 ms | PyTorch b1 ms | webgpu best | PyTorch best |',
      '|---|---|---|---|---|---|---|',
    );
    for (const [k, v] of Object.entries(r.comparison as Record<string, Record<string, unknown>>)) {
      L.push(
        `| ${k} | ${String(v.latency_b1)} | ${String(v.throughput)} | ${String(v.webgpu_b1_ms)} | ${String(v.pytorch_b1_ms)} | ${JSON.stringify(v.webgpu_best)} | ${JSON.stringify(v.pytorch_best)} |`,
      );
    }
    const s = (r.pytorch as Record<string, unknown>).sampler as Record<string, { seconds: number; evaluations: number }> | null;
    if (s)
      L.push(
        '',
        'PyTorch ×8 sampler loop (t=100, cascade 3, same steps, eager): ' +
          Object.entries(s)
            .map(([k, v]) => `${k} ${v.seconds} s (${v.evaluations} evaluations)`)
            .join('; '),
      );
  } else if (r.pytorch) L.push('', `PyTorch reference: ${JSON.stringify(r.pytorch)}`);
  const tg = (r.targets ?? targets(null)) as Record<string, unknown>;
  L.push(
    '',
    `Targets: ×8 job ${String(tg.x8Seconds)} s (${String(tg.x8Target)}); overhead ${tg.x8Overhead === null ? '—' : `${(100 * Number(tg.x8Overhead)).toFixed(1)}%`} (${String(tg.overheadTarget)}). Peak RSS ${String(r.peakRssMB)} MB.`,
    '',
  );
  return L.join('\n');
}

process.exitCode = await main();
