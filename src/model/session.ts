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
import { oneOf } from '../validate.js';
import { loadManifest, type ModelManifest } from './manifest.js';
import { resolveModelDir } from './locate.js';
import {
  decideAuto,
  describeAdapter,
  hardwareAdapters,
  scanDevices,
  softwareAdapters,
  softwareWarning,
  webgpuBlocker,
  type Adapter,
  type DeviceScan,
} from './devices.js';

export type { Adapter, AdapterType, DeviceScan, Gpu, VulkanDriver } from './devices.js';
export { scanDevices } from './devices.js';

/**
 * What a caller may ask for: a device, or auto: webgpu only on a hardware adapter (a GPU), else cpu. A software
 * adapter (lavapipe/llvmpipe, SwiftShader: any CPU-type Vulkan device) is skipped by auto, with a note: it runs
 * the model 20-50x slower than the CPU EP. --device webgpu still uses one, with a warning. How adapters are
 * found: devices.ts (onnxruntime-node does not report the adapter Dawn picks).
 */
export const DEVICE_REQUESTS = ['cpu', 'webgpu', 'auto'] as const;
/** One of DEVICE_REQUESTS. */
export type DeviceRequest = (typeof DEVICE_REQUESTS)[number];
/**
 * A device option checked at the library's boundary: undefined is cpu; anything outside DEVICE_REQUESTS ('CPU',
 * 'tpu', '') is a UsageError naming the allowed values (unchecked, it fell through to the WebGPU branch).
 */
export function deviceRequest(v: unknown): DeviceRequest {
  return v === undefined ? 'cpu' : oneOf('device', v, DEVICE_REQUESTS);
}
/** The execution provider a session runs on. */
export type Device = 'cpu' | 'webgpu';

/** How `loadModel` opens a model: the device, threads, and whether to check the file against the manifest. */
export interface LoadModelOptions {
  /** cpu (default), webgpu, or auto (webgpu on a hardware adapter, else cpu). */
  device?: DeviceRequest;
  /**
   * Called with each note about the device (auto's choice and why; webgpu on a software adapter: a warning). The
   * library writes nothing to stderr itself; the same notes are in ModelSession.notes.
   */
  onNote?: (note: DeviceNote) => void;
  /** The adapter scan to decide with (default: scanDevices() at load time); for tests and callers that scanned. */
  deviceScan?: DeviceScan;
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
  /** This model folder's manifest when the caller has loaded it already (it is not read again). */
  manifest?: ModelManifest;
}

export interface WebGpuOptions {
  /** Tensor layout the EP converts the graph to; ORT's default is NHWC. */
  layout?: 'NCHW' | 'NHWC';
  /** Dawn validation: ORT's default, or 'disabled' (less CPU work per dispatch). */
  validation?: 'disabled' | 'wgpuOnly' | 'basic' | 'full';
  /** ORT graph capture/replay (needs GPU-resident inputs and outputs; see timeEvaluations). */
  graphCapture?: boolean;
}

/** A line about the device choice, without the "sr: " prefix. */
export interface DeviceNote {
  level: 'info' | 'warning';
  message: string;
}

/** A loaded model: its manifest and folder, the device it runs on, and its UNet. `dispose()` frees it. */
export interface ModelSession {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly device: Device;
  /**
   * The WebGPU adapter as far as it is known (devices.ts: from the Vulkan drivers and GPUs, which Dawn chooses
   * among; not reported by Dawn itself); null on the CPU or where it cannot be told. Absent on sessions that
   * were not made by loadModel.
   */
  readonly adapter?: Adapter | null;
  /** Notes about the device choice, in order (also given to LoadModelOptions.onNote). */
  readonly notes?: readonly DeviceNote[];
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

/**
 * Loads a model once for any number of runs: `spec` is a shipped model's name (default: `default`) or a model
 * folder (manifest.json + model.onnx). The manifest is validated and model.onnx checked against its sha256 before
 * onnxruntime opens it. Throws UsageError for a device outside DEVICE_REQUESTS (before anything is read), ModelError
 * for a missing or invalid model, DeviceError when the asked device cannot run.
 */
export async function loadModel(spec?: string, options: LoadModelOptions = {}): Promise<ModelSession> {
  const request = deviceRequest(options.device);
  const dir = resolveModelDir(spec);
  const manifest = options.manifest ?? (await loadManifest(dir));
  const onnxPath = options.onnxFile ?? `${dir}/model.onnx`;
  const bytes = await readModelFile(onnxPath, options.verify !== false && options.onnxFile === undefined ? manifest.sha256 : null);
  const notes: DeviceNote[] = [];
  const note = (level: DeviceNote['level'], message: string) => {
    const n = { level, message };
    notes.push(n);
    options.onNote?.(n);
  };
  const open: Opening = { bytes, onnxPath, cpu: cpuSessionOptions(options), gpu: webgpuSessionOptions(options.webgpu ?? {}), note };
  const chosen =
    request === 'cpu'
      ? { session: await createSession(bytes, open.cpu, onnxPath), device: 'cpu' as const, adapter: null, used: open.cpu }
      : request === 'auto'
        ? await openAuto(open, options.deviceScan ?? scanDevices())
        : await openWebgpuOnly(open, options.deviceScan ?? scanDevices());
  return wrapSession(dir, manifest, onnxPath, notes, bytes, chosen);
}

/** The model file's bytes, checked against the manifest's sha256 when one is given. */
async function readModelFile(onnxPath: string, sha256: string | null): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(onnxPath);
  } catch (err) {
    throw new ModelError(`Cannot read model file ${onnxPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (sha256 !== null) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) {
      throw new ModelError(
        `Model file ${onnxPath} is corrupt or does not match its manifest (sha256 ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…)`,
      );
    }
  }
  return bytes;
}

function cpuSessionOptions(options: LoadModelOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

/** What opening a session on either device needs. */
interface Opening {
  bytes: Buffer;
  onnxPath: string;
  cpu: ort.InferenceSession.SessionOptions;
  gpu: ort.InferenceSession.SessionOptions;
  note: (level: DeviceNote['level'], message: string) => void;
}

/** The session opened, on which device and adapter, with which options (kept to reopen it). */
interface Chosen {
  session: ort.InferenceSession;
  device: Device;
  adapter: Adapter | null;
  used: ort.InferenceSession.SessionOptions;
}

/** --device auto: WebGPU on a hardware adapter when it opens, else the CPU; a note says which and why. */
async function openAuto(o: Opening, scan: DeviceScan): Promise<Chosen> {
  const decision = decideAuto(scan);
  let failure = '';
  if (decision.tryWebgpu) {
    try {
      const session = await openWebgpu(o.bytes, o.gpu, autoDrivers(scan));
      const a = decision.adapter;
      o.note(
        'info',
        `--device auto: using the WebGPU adapter ${a ? describeAdapter(a) : `(${scan.checked ? 'not identified' : `adapters are not checked on ${scan.platform}`})`}`,
      );
      return { session, device: 'webgpu', adapter: a, used: o.gpu };
    } catch (err) {
      failure = firstLine(err);
    }
  }
  const session = await createSession(o.bytes, o.cpu, o.onnxPath);
  const why = decision.tryWebgpu
    ? `no WebGPU adapter found, using the CPU (${decision.adapter ? `${decision.adapter.name} did not open: ` : ''}${failure})`
    : decision.cpuNote;
  o.note('info', `--device auto: ${why}`);
  return { session, device: 'cpu', adapter: null, used: o.cpu };
}

/** --device webgpu: the WebGPU EP or a DeviceError; a warning when the adapter is a software one. */
async function openWebgpuOnly(o: Opening, scan: DeviceScan): Promise<Chosen> {
  // certain that Dawn would find nothing (no loader, no driver): say so in one line, before Dawn prints its own
  // warnings on stderr
  const missing = webgpuBlocker(scan);
  if (missing !== null) throw new DeviceError(`WebGPU is not available here: ${missing} (use --device cpu or auto)`);
  let session: ort.InferenceSession;
  try {
    session = await openWebgpu(o.bytes, o.gpu, null);
  } catch (err) {
    throw new DeviceError(`WebGPU is not available here: ${firstLine(err)} (use --device cpu or auto)`, { cause: err });
  }
  const warning = softwareWarning(scan);
  if (warning !== null) o.note('warning', warning);
  // Dawn asks for a high-performance adapter: a GPU when Vulkan lists one, the software one only without
  const adapter = hardwareAdapters(scan)[0] ?? softwareAdapters(scan)[0] ?? null;
  return { session, device: 'webgpu', adapter, used: o.gpu };
}

/** The ModelSession over an opened session, after checking the model's inputs against the contract. */
async function wrapSession(
  dir: string,
  manifest: ModelManifest,
  onnxPath: string,
  notes: readonly DeviceNote[],
  bytes: Buffer,
  { session, device, adapter, used }: Chosen,
): Promise<ModelSession> {
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
    adapter: device === 'webgpu' ? adapter : null,
    notes,
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
    // errors only: ORT warns on every webgpu session that shape ops stay on the CPU (by design, not a problem)
    logSeverityLevel: 3,
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

/**
 * Whether this process has asked Dawn for an adapter yet. Dawn enumerates the Vulkan drivers once per process
 * (measured: after a first attempt, changing VK_* variables changes nothing, and a failed first attempt makes
 * every later one fail too), so only the first WebGPU session decides which drivers Dawn sees.
 */
let dawnStarted = false;

/**
 * Opens a WebGPU session. With `onlyDrivers` (ICD manifest paths), and when Dawn has not started in this process,
 * the Vulkan loader is shown only those drivers while Dawn starts (VK_DRIVER_FILES, and VK_ICD_FILENAMES for
 * loaders older than 1.3.207), then the environment is put back.
 */
async function openWebgpu(
  bytes: Buffer,
  options: ort.InferenceSession.SessionOptions,
  onlyDrivers: readonly string[] | null,
): Promise<ort.InferenceSession> {
  const restore = !dawnStarted && onlyDrivers !== null ? showOnlyDrivers(onlyDrivers) : null;
  dawnStarted = true;
  try {
    return await ort.InferenceSession.create(bytes, options);
  } finally {
    restore?.();
  }
}

/**
 * The drivers auto lets Dawn see: the hardware adapters' drivers when software ones are installed too. Dawn
 * prefers a GPU to a CPU-type adapter, so this only matters when the GPU's driver fails (e.g. a container without
 * the GPU's device nodes, a driver/kernel mismatch): then Dawn would quietly take lavapipe and auto would be 20x
 * slower, the bug auto exists to avoid. null: leave the drivers as they are.
 */
function autoDrivers(scan: DeviceScan): string[] | null {
  if (!scan.checked || softwareAdapters(scan).length === 0) return null;
  const hw = [...new Set(hardwareAdapters(scan).map((a) => a.driver))];
  return hw.length > 0 ? hw : null;
}

function showOnlyDrivers(files: readonly string[]): () => void {
  const keys = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'] as const;
  const saved = keys.map((k) => [k, process.env[k]] as const);
  process.env.VK_DRIVER_FILES = files.join(':');
  process.env.VK_ICD_FILENAMES = files.join(':');
  delete process.env.VK_ADD_DRIVER_FILES;
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export interface DeviceReport {
  /** What was found: loader, drivers, GPUs, adapters (devices.ts). */
  scan: DeviceScan;
  /** What --device auto would choose, and its note. */
  auto: { device: Device; adapter: Adapter | null; note: string };
  /** What --device webgpu would use (the adapter as known), or null where it would fail. */
  webgpu: { adapter: Adapter | null; warning: string | null } | null;
  /**
   * The in-process check: a one-node graph opened and run on the WebGPU EP (absent with check: false). With a
   * hardware adapter and software ones beside it, the check runs the way auto would (hardware drivers only).
   */
  check?: { ok: boolean; seconds: number; error?: string; drivers: 'all' | 'hardware' };
}

/**
 * Lists the WebGPU adapters and what auto and webgpu would do with them. With check (default true) and an
 * adapter listed (or a platform that cannot be scanned), also opens the WebGPU EP in this process and runs a
 * tiny graph on it: this starts Dawn for the process (see openWebgpu).
 */
export async function probeDevices(o: { check?: boolean; deviceScan?: DeviceScan } = {}): Promise<DeviceReport> {
  const scan = o.deviceScan ?? scanDevices();
  const decision = decideAuto(scan);
  const missing = webgpuBlocker(scan);
  let check: DeviceReport['check'];
  if (o.check !== false && missing === null) {
    const drivers = decision.tryWebgpu ? autoDrivers(scan) : null;
    const t0 = performance.now();
    try {
      await runProbeGraph(drivers);
      check = { ok: true, seconds: (performance.now() - t0) / 1000, drivers: drivers ? 'hardware' : 'all' };
    } catch (err) {
      check = { ok: false, seconds: (performance.now() - t0) / 1000, error: firstLine(err), drivers: drivers ? 'hardware' : 'all' };
    }
  }
  const autoGpu = decision.tryWebgpu && (check === undefined || check.ok);
  const auto = autoGpu
    ? {
        device: 'webgpu' as const,
        adapter: decision.adapter,
        note: `using the WebGPU adapter ${decision.adapter ? describeAdapter(decision.adapter) : '(not identified)'}`,
      }
    : {
        device: 'cpu' as const,
        adapter: null,
        note: decision.tryWebgpu ? `no WebGPU adapter found, using the CPU (${check?.error ?? 'it did not open'})` : decision.cpuNote,
      };
  const webgpuWorks = missing === null && (check === undefined || check.ok || check.drivers === 'hardware');
  const webgpu = webgpuWorks
    ? { adapter: hardwareAdapters(scan)[0] ?? softwareAdapters(scan)[0] ?? null, warning: softwareWarning(scan) }
    : null;
  return { scan, auto, webgpu, ...(check ? { check } : {}) };
}

/** y = x + x on four floats, on the WebGPU EP only; throws unless it opens and gives 2x. */
async function runProbeGraph(drivers: readonly string[] | null): Promise<void> {
  const session = await openWebgpu(probeModel(), { executionProviders: ['webgpu'], graphOptimizationLevel: 'disabled' }, drivers);
  try {
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]);
    const y = (await session.run({ x })).y!;
    const data = y.data as Float32Array;
    if (![2, 4, 6, 8].every((v, i) => data[i] === v))
      throw new Error(`the WebGPU EP computed ${Array.from(data).join(',')} for 2x(1,2,3,4)`);
  } finally {
    await session.release();
  }
}

/** The ONNX bytes (protobuf) of a one-node model, y = Add(x, x) on float[4], opset 13. */
function probeModel(): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  const int = (field: number, n: number) => [...varint(field << 3), ...varint(n)];
  const bytes = (field: number, b: number[]) => [...varint((field << 3) | 2), ...varint(b.length), ...b];
  const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
  const tensor4 = (name: string) => [
    ...str(1, name), // ValueInfoProto.name
    ...bytes(2, bytes(1, [...int(1, 1), ...bytes(2, bytes(1, int(1, 4)))])), // type.tensor_type{float, shape [4]}
  ];
  const node = [...str(1, 'x'), ...str(1, 'x'), ...str(2, 'y'), ...str(3, 'probe'), ...str(4, 'Add')];
  const graph = [...bytes(1, node), ...str(2, 'webgpu-probe'), ...bytes(11, tensor4('x')), ...bytes(12, tensor4('y'))];
  return Buffer.from([...int(1, 8), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 13)])]);
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
  // ORT's message starts with its source location and check; Dawn's reason is at the end
  const m = /Failed to get a WebGPU adapter[^\n]*/.exec(msg) ?? /[^\n]+/.exec(msg);
  return (m?.[0] ?? msg).trim().slice(0, 200);
}
