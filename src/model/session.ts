/**
 * The model runner: loads a model folder (manifest.json + model.onnx), checks the ONNX file against the manifest's
 * sha256, opens an inference session on the requested execution provider, and runs batches of [B, 3, H, W] float32
 * images at per-image steps t. onnxruntime-node is used in src/model/ only: here, and in what this file leaves to
 * others: dawn.ts (opening WebGPU sessions, the Vulkan drivers Dawn sees), probe.ts (`sr devices`), timing.ts
 * (benchmark timing).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { DeviceError, ModelError, UsageError } from '../errors.js';
import { oneOf } from '../validate.js';
import { loadManifest, type ModelManifest } from './manifest.js';
import { cpuFlags, vnniFlag, type CpuFlags } from './cpu-flags.js';
import { resolveModelDir } from './locate.js';
import { autoDrivers, firstLine, openWebgpu } from './dawn.js';
import {
  decideAuto,
  describeAdapter,
  hardwareAdapters,
  softwareAdapters,
  softwareWarning,
  webgpuBlocker,
  type Adapter,
  type DeviceScan,
} from './devices.js';
import { scanDevices } from './device-scan.js';

export type { Adapter, AdapterType, DeviceScan, Gpu, VulkanDriver } from './devices.js';
export type { CpuFlags } from './cpu-flags.js';
export { scanDevices } from './device-scan.js';

/**
 * What a caller may ask for: a device, or auto: webgpu only on a hardware adapter (a GPU), else cpu. A software
 * adapter (lavapipe/llvmpipe, SwiftShader: any CPU-type Vulkan device) is skipped by auto, with a note: it runs
 * the model 20-50x slower than the CPU EP. --device webgpu still uses one, with a warning. How adapters are
 * found: device-scan.ts (onnxruntime-node does not report the adapter Dawn picks).
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

/**
 * Which build of the weights runs: float (model.onnx) or int8 (the manifest's `variants.int8` file, a static QDQ
 * quantisation for the CPU EP: benchmarks/results/int8-2026-12-07-decision.md).
 */
export const PRECISIONS = ['float', 'int8'] as const;
/** One of PRECISIONS: float (model.onnx) or int8 (the manifest's int8 variant, CPU only). */
export type Precision = (typeof PRECISIONS)[number];
/** What a caller may ask for: a precision, or auto (resolvePrecision: int8 where it was measured to pay, else float). */
export const PRECISION_REQUESTS = ['auto', 'float', 'int8'] as const;
/** One of PRECISION_REQUESTS. */
export type PrecisionRequest = (typeof PRECISION_REQUESTS)[number];
/** A precision option checked at the library's boundary: undefined is auto; anything outside PRECISION_REQUESTS a UsageError. */
export function precisionOf(v: unknown): PrecisionRequest {
  return v === undefined ? 'auto' : oneOf('precision', v, PRECISION_REQUESTS);
}

/** A precision request resolved: the precision that runs, and why (for `sr info` and notes). */
export interface ResolvedPrecision {
  precision: Precision;
  reason: string;
}

/**
 * Resolves a precision request for a model on a device, before the model file is read. float and int8 are
 * themselves (their errors are loadModel's). auto is int8 only when all hold: the device is the CPU (cpu, or auto
 * where no WebGPU adapter will be tried: decideAuto), the model has an int8 variant made from the same weights
 * (variant.modelSha256 is the manifest's sha256), and the CPU has VNNI (cpu-flags.ts: avx512_vnni or avx_vnni; int8
 * was measured 2.0x faster with it and not measured without). Otherwise float, silently.
 */
export function resolvePrecision(
  request: PrecisionRequest,
  at: { device: DeviceRequest; manifest: ModelManifest; cpu?: CpuFlags; deviceScan?: DeviceScan },
): ResolvedPrecision {
  if (request !== 'auto') return { precision: request, reason: 'asked' };
  const float = (reason: string): ResolvedPrecision => ({ precision: 'float', reason });
  if (at.device === 'webgpu') return float('int8 runs on the CPU only');
  const variant = at.manifest.variants.int8;
  if (variant === undefined) return float(`model ${at.manifest.name} has no int8 variant`);
  if (variant.modelSha256 !== at.manifest.sha256) return float(`the int8 variant of ${at.manifest.name} was made from other weights`);
  const flags = at.cpu ?? cpuFlags();
  const vnni = vnniFlag(flags);
  if (vnni === null) return float(flags.flags === null ? `CPU flags not known (${flags.source})` : 'no VNNI on this CPU');
  if (at.device === 'auto' && decideAuto(at.deviceScan ?? scanDevices()).tryWebgpu) return float('--device auto may use WebGPU');
  return { precision: 'int8', reason: `CPU has ${vnni}` };
}

/**
 * The sha256 of the file a session runs (the variant's for int8), which keys what is measured of it (speed.ts): the
 * manifest's for a float session, or one that was not made by loadModel.
 */
export function sessionSha256(model: Pick<ModelSession, 'manifest' | 'precision'>): string {
  return modelFileSha256(model.manifest, model.precision ?? 'float');
}

/** The sha256 of a model's file at a precision (the manifest's, or its variant's), falling back to the manifest's. */
export function modelFileSha256(manifest: ModelManifest, precision: Precision = 'float'): string {
  return precision === 'float' ? manifest.sha256 : (manifest.variants[precision]?.sha256 ?? manifest.sha256);
}

/** How `loadModel` opens a model: the device, threads, and whether to check the file against the manifest. */
export interface LoadModelOptions {
  /** cpu (default), webgpu, or auto (webgpu on a hardware adapter, else cpu). */
  device?: DeviceRequest;
  /**
   * float (default here: model.onnx), int8 (the manifest's int8 variant, checked against its own sha256; CPU EP only:
   * device webgpu is a UsageError, and auto runs it on the CPU; a model without an int8 variant is a UsageError), or
   * auto (resolvePrecision, once, here; the session's `precision` says which ran). upscale's options default to auto.
   */
  precision?: PrecisionRequest;
  /** The CPU's flags for precision auto (default: cpuFlags(), read once per process). */
  cpuFlags?: CpuFlags;
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
   * CPU EP: ORT's memory arena (a pool that keeps freed buffers for reuse) and memory pattern (buffer offsets planned
   * from the first run of a shape and reused while the shape stays). Default: ORT's own, both on. For measuring
   * (benchmarks/int8.ts --tuning); the product keeps the defaults.
   */
  memArena?: boolean;
  memPattern?: boolean;
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
  /** Which build of the weights runs (LoadModelOptions.precision); absent on sessions not made by loadModel: float. */
  readonly precision?: Precision;
  /**
   * The WebGPU adapter as far as it is known (device-scan.ts: from the Vulkan drivers and GPUs, which Dawn chooses
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
export interface Opened {
  bytes: Buffer;
  options: ort.InferenceSession.SessionOptions;
  session: ort.InferenceSession;
  outputName: string;
}
const opened = new WeakMap<ModelSession, Opened>();

/** What `model` was opened from (timing.ts reopens it), or undefined for a session loadModel did not make or one disposed. */
export function openedFrom(model: ModelSession): Readonly<Opened> | undefined {
  return opened.get(model);
}

/**
 * Loads a model once for any number of runs: `spec` is a shipped model's name (default: `default`) or a model
 * folder (manifest.json + model.onnx). The manifest is validated and model.onnx checked against its sha256 before
 * onnxruntime opens it. Throws UsageError for a device outside DEVICE_REQUESTS (before anything is read), ModelError
 * for a missing or invalid model, DeviceError when the asked device cannot run.
 */
export async function loadModel(spec?: string, options: LoadModelOptions = {}): Promise<ModelSession> {
  const asked = deviceRequest(options.device);
  const requested = options.precision === undefined ? 'float' : precisionOf(options.precision);
  if (requested === 'int8' && asked === 'webgpu') {
    throw new UsageError(
      '--precision int8 runs on the CPU only (a QDQ int8 model for the CPU EP): use --device cpu, or --precision float on webgpu',
    );
  }
  if (requested === 'int8' && options.onnxFile !== undefined) throw new UsageError('Expected precision int8 or an onnxFile, not both');
  const dir = resolveModelDir(spec);
  const manifest = options.manifest ?? (await loadManifest(dir));
  // auto: resolved once, here (an ONNX file given is run as it is: float)
  const precision =
    requested === 'auto' && options.onnxFile !== undefined
      ? 'float'
      : resolvePrecision(requested, {
          device: asked,
          manifest,
          ...(options.cpuFlags ? { cpu: options.cpuFlags } : {}),
          ...(options.deviceScan ? { deviceScan: options.deviceScan } : {}),
        }).precision;
  const variant = precision === 'float' ? null : manifest.variants[precision];
  if (variant === undefined) {
    const has = Object.keys(manifest.variants);
    throw new UsageError(
      `Model ${manifest.name} has no ${precision} variant (its manifest lists ${has.length ? has.join(', ') : 'none'}); use --precision float, or make one with models/train/quantize.py`,
    );
  }
  if (variant && variant.modelSha256 !== manifest.sha256) {
    throw new ModelError(
      `Model ${manifest.name}'s ${precision} variant ${variant.file} was made from other weights (model.onnx sha256 ${variant.modelSha256.slice(0, 12)}…, the manifest's is ${manifest.sha256.slice(0, 12)}…): make it again with models/train/quantize.py`,
    );
  }
  const onnxPath = options.onnxFile ?? `${dir}/${variant ? variant.file : 'model.onnx'}`;
  const sha256 = variant ? variant.sha256 : manifest.sha256;
  const bytes = await readModelFile(onnxPath, options.verify !== false && options.onnxFile === undefined ? sha256 : null);
  const notes: DeviceNote[] = [];
  const note = (level: DeviceNote['level'], message: string) => {
    const n = { level, message };
    notes.push(n);
    options.onNote?.(n);
  };
  const open: Opening = { bytes, onnxPath, cpu: cpuSessionOptions(options), gpu: webgpuSessionOptions(options.webgpu ?? {}), note };
  // int8 is a CPU-EP path: auto does not try WebGPU with it
  const request = precision === 'int8' && asked === 'auto' ? 'cpu' : asked;
  if (request !== asked) note('info', '--device auto: using the CPU (int8 runs on the CPU only)');
  const chosen =
    request === 'cpu'
      ? { session: await createSession(bytes, open.cpu, onnxPath), device: 'cpu' as const, adapter: null, used: open.cpu }
      : request === 'auto'
        ? await openAuto(open, options.deviceScan ?? scanDevices())
        : await openWebgpuOnly(open, options.deviceScan ?? scanDevices());
  return wrapSession(dir, manifest, onnxPath, notes, bytes, chosen, precision);
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
    ...(options.memArena !== undefined ? { enableCpuMemArena: options.memArena } : {}),
    ...(options.memPattern !== undefined ? { enableMemPattern: options.memPattern } : {}),
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
  precision: Precision,
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
    precision,
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

async function createSession(bytes: Buffer, options: ort.InferenceSession.SessionOptions, path: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (err) {
    throw new ModelError(`Cannot load model file ${path}: ${firstLine(err)}`, { cause: err });
  }
}
