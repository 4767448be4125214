/**
 * The model runner: the ONLY module that knows about onnxruntime-node. Loads a model folder (manifest.json +
 * model.onnx), checks the ONNX file against the manifest's sha256, opens an inference session on the requested
 * execution provider, and runs batches of [B, 3, H, W] float32 images at per-image steps t.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { DeviceError, ModelError } from '../errors.js';
import { loadManifest, type ModelManifest } from './manifest.js';
import { resolveModelDir } from './locate.js';

/** What a caller may ask for: a device, or auto (webgpu when a hardware adapter is found, else cpu). */
export const DEVICE_REQUESTS = ['cpu', 'webgpu', 'auto'] as const;
export type DeviceRequest = (typeof DEVICE_REQUESTS)[number];
export type Device = 'cpu' | 'webgpu';

export interface LoadModelOptions {
  /** cpu (default), webgpu, or auto (webgpu when an adapter is found, else cpu). */
  device?: DeviceRequest;
  /** CPU threads for the CPU execution provider (default: all cores). */
  threads?: number;
  /** Check model.onnx against the manifest's sha256 (default true). */
  verify?: boolean;
  /**
   * CPU EP: let idle intra-op threads spin between operators (ORT's own default). Default false: on a 2-core
   * machine the spinning worker took CPU from the JavaScript sampler step between runs and, under load, from
   * the model itself (benchmarks/results/speed-cpu-*: both faster with spinning off).
   */
  spinning?: boolean;
  /**
   * An ONNX file to load instead of the manifest's model.onnx, with the same contract (inputs x, t; output of the
   * manifest's kind), e.g. a float16-compute export (benchmarks/gpu-fp16.py). Not checked against the sha256.
   */
  onnxFile?: string;
  /** WebGPU EP settings (ignored on the CPU). */
  webgpu?: WebGpuOptions;
}

export interface WebGpuOptions {
  /** Tensor layout the EP converts the graph to; ORT's default is NHWC. */
  layout?: 'NCHW' | 'NHWC';
  /** Dawn validation: ORT's default, or 'disabled' (less CPU work per dispatch). */
  validation?: 'disabled' | 'wgpuOnly' | 'basic' | 'full';
  /** ORT graph capture/replay (needs GPU-resident inputs and outputs; see timeEvaluations). */
  graphCapture?: boolean;
}

export interface ModelSession {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly device: Device;
  /** Runs the UNet on x = [batch, 3, height, width] (flat, row-major) at steps t (one per image). */
  run(x: Float32Array, batch: number, height: number, width: number, t: ArrayLike<number>): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** What loadModel opened a session from, kept per session for timeEvaluations (which opens variants of it). */
interface Opened {
  bytes: Buffer;
  options: ort.InferenceSession.SessionOptions;
  session: ort.InferenceSession;
  outputName: string;
}
const opened = new WeakMap<ModelSession, Opened>();

export async function loadModel(spec?: string, options: LoadModelOptions = {}): Promise<ModelSession> {
  const dir = resolveModelDir(spec);
  const manifest = await loadManifest(dir);
  const onnxPath = options.onnxFile ?? `${dir}/model.onnx`;
  let bytes: Buffer;
  try {
    bytes = await readFile(onnxPath);
  } catch (err) {
    throw new ModelError(`Cannot read model file ${onnxPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (options.verify !== false && options.onnxFile === undefined) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== manifest.sha256) {
      throw new ModelError(`Model file ${onnxPath} is corrupt or does not match its manifest (sha256 ${actual.slice(0, 12)}…, expected ${manifest.sha256.slice(0, 12)}…)`);
    }
  }
  const request = options.device ?? 'cpu';
  const threads = options.threads ?? availableParallelism();
  const cpuOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
  const gpuOptions = webgpuSessionOptions(options.webgpu ?? {});
  let session: ort.InferenceSession;
  let device: Device;
  let used = cpuOptions;
  if (request === 'cpu') {
    session = await createSession(bytes, cpuOptions, onnxPath);
    device = 'cpu';
  } else {
    try {
      session = await ort.InferenceSession.create(bytes, gpuOptions);
      device = 'webgpu';
      used = gpuOptions;
    } catch (err) {
      if (request === 'webgpu') {
        throw new DeviceError(`WebGPU is not available here: ${firstLine(err)} (use --device cpu or auto)`, { cause: err });
      }
      session = await createSession(bytes, cpuOptions, onnxPath);
      device = 'cpu';
    }
  }
  const inputNames = session.inputNames;
  if (!inputNames.includes('x') || !inputNames.includes('t')) {
    await session.release();
    throw new ModelError(`Model file ${onnxPath} does not follow the contract: expected inputs x and t, found ${inputNames.join(', ')}`);
  }
  const outputName = session.outputNames[0]!;
  const model: ModelSession = {
    dir,
    manifest,
    device,
    async run(x, batch, height, width, t) {
      if (height % manifest.multiple !== 0 || width % manifest.multiple !== 0) {
        throw new RangeError(`Model input ${height}x${width} is not a multiple of ${manifest.multiple}`);
      }
      const xs = new ort.Tensor('float32', x, [batch, 3, height, width]);
      const ts = new ort.Tensor('float32', t instanceof Float32Array ? t : Float32Array.from(t), [batch]);
      const result = await session.run({ x: xs, t: ts });
      const out = result[outputName]!;
      const data = out.data as Float32Array;
      out.dispose?.();
      return data;
    },
    async dispose() {
      opened.delete(model);
      await session.release();
    },
  };
  opened.set(model, { bytes, options: used, session, outputName });
  return model;
}

function webgpuSessionOptions(o: WebGpuOptions): ort.InferenceSession.SessionOptions {
  const ep: Record<string, unknown> = { name: 'webgpu' };
  if (o.layout !== undefined) ep.preferredLayout = o.layout;
  if (o.validation !== undefined) ep.validationMode = o.validation;
  return {
    executionProviders: [ep as unknown as ort.InferenceSession.ExecutionProviderConfig],
    graphOptimizationLevel: 'all',
    // not among the node binding's named WebGPU options; the EP reads it from the session config
    ...(o.graphCapture ? { extra: { 'ep.webgpuexecutionprovider.enableGraphCapture': '1' } } : {}),
  };
}

export interface TimingOptions {
  batch: number;
  height: number;
  width: number;
  /** Timed runs (after `warmup` untimed ones). */
  iterations: number;
  warmup?: number;
  /**
   * Keep each output on the GPU and feed it back as the next run's x (webgpu only): no copies between CPU and
   * GPU, the floor a GPU-resident sampler loop could reach. Default false: x and the output go through CPU
   * memory as in ModelSession.run. (The binding's IO binding: gpu-buffer tensors as feeds and fetches.)
   */
  resident?: boolean;
  /** With resident: also turn on graph capture/replay (a separate session). */
  graphCapture?: boolean;
}

export interface Timing {
  /**
   * Milliseconds per run (each run evaluates `batch` images): median and minimum over the timed runs; resident:
   * the wall time of all timed runs (ended by one download) over their number, for both.
   */
  msPerRun: number;
  minMsPerRun: number;
  runs: number;
  resident: boolean;
  graphCapture: boolean;
}

/**
 * Times model evaluations at a fixed shape, for benchmarks. Resident runs open a second session (same bytes and
 * options) whose outputs stay in GPU buffers; the input is uploaded once, then each run reads the previous
 * output's buffer and writes into a fixed one (values do not matter for timing, only the graph and the shape).
 * Throws what ORT throws when the EP cannot do it.
 */
export async function timeEvaluations(model: ModelSession, o: TimingOptions): Promise<Timing> {
  const info = opened.get(model);
  if (!info) throw new ModelError('timeEvaluations needs a model opened by loadModel (and not disposed)');
  const { batch, height, width } = o;
  const n = batch * 3 * height * width;
  const x0 = new Float32Array(n);
  for (let i = 0; i < n; i++) x0[i] = 0.9 * Math.sin(0.37 * i);
  const t = new ort.Tensor('float32', new Float32Array(batch).fill(100), [batch]);
  const times: number[] = [];
  const warmup = o.warmup ?? 3;
  if (!o.resident) {
    for (let k = 0; k < warmup + o.iterations; k++) {
      const t0 = performance.now();
      await model.run(x0, batch, height, width, t.data as Float32Array);
      if (k >= warmup) times.push(performance.now() - t0);
    }
    return summarise(times, false, false);
  }
  if (model.device !== 'webgpu') throw new DeviceError('Resident (GPU-buffer) timing needs the webgpu device');
  const base = info.options;
  const options: ort.InferenceSession.SessionOptions = {
    ...base,
    preferredOutputLocation: 'gpu-buffer',
    ...(o.graphCapture ? { extra: { ...(base.extra ?? {}), 'ep.webgpuexecutionprovider.enableGraphCapture': '1' } } : {}),
  };
  const session = await ort.InferenceSession.create(info.bytes, options);
  const created: ort.Tensor[] = [];
  try {
    // Two GPU buffers of the output's shape: A (made from a CPU input) and B. Then every run reads A and writes
    // B (IO binding), so the buffers stay put between runs, as graph replay needs.
    const cpuX = new ort.Tensor('float32', x0, [batch, 3, height, width]);
    const a = (await session.run({ x: cpuX, t }))[info.outputName] as ort.Tensor;
    created.push(a);
    const b = (await session.run({ x: a, t }))[info.outputName] as ort.Tensor;
    created.push(b);
    const fetches = { [info.outputName]: b };
    for (let k = 0; k < warmup; k++) await session.run({ x: a, t }, fetches);
    await b.getData(false); // wait for the warm-up work
    const t0 = performance.now();
    for (let k = 0; k < o.iterations; k++) await session.run({ x: a, t }, fetches);
    await b.getData(false); // the GPU may still be working: one download waits for all of it
    const ms = (performance.now() - t0) / o.iterations;
    return { msPerRun: ms, minMsPerRun: ms, runs: o.iterations, resident: true, graphCapture: o.graphCapture ?? false };
  } finally {
    for (const tensor of created) tensor.dispose();
    await session.release();
  }
}

function summarise(times: number[], resident: boolean, graphCapture: boolean): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  return { msPerRun: sorted[Math.floor(sorted.length / 2)]!, minMsPerRun: sorted[0]!, runs: times.length, resident, graphCapture };
}

async function createSession(bytes: Buffer, options: ort.InferenceSession.SessionOptions, path: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (err) {
    throw new ModelError(`Cannot load model file ${path}: ${firstLine(err)}`, { cause: err });
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /Failed to get a WebGPU adapter[^\n.]*|[^\n]+/.exec(msg);
  return (m?.[0] ?? msg).trim().slice(0, 200);
}
