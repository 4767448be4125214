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

export type DeviceRequest = 'cpu' | 'webgpu' | 'auto';
export type Device = 'cpu' | 'webgpu';

export interface LoadModelOptions {
  /** cpu (default), webgpu, or auto (webgpu when an adapter is found, else cpu). */
  device?: DeviceRequest;
  /** CPU threads for the CPU execution provider (default: all cores). */
  threads?: number;
  /** Check model.onnx against the manifest's sha256 (default true). */
  verify?: boolean;
}

export interface ModelSession {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly device: Device;
  /** Runs the UNet on x = [batch, 3, height, width] (flat, row-major) at steps t (one per image). */
  run(x: Float32Array, batch: number, height: number, width: number, t: ArrayLike<number>): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export async function loadModel(spec?: string, options: LoadModelOptions = {}): Promise<ModelSession> {
  const dir = resolveModelDir(spec);
  const manifest = await loadManifest(dir);
  const onnxPath = `${dir}/model.onnx`;
  let bytes: Buffer;
  try {
    bytes = await readFile(onnxPath);
  } catch (err) {
    throw new ModelError(`Cannot read model file ${onnxPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (options.verify !== false) {
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
  };
  let session: ort.InferenceSession;
  let device: Device;
  if (request === 'cpu') {
    session = await createSession(bytes, cpuOptions, onnxPath);
    device = 'cpu';
  } else {
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
      device = 'webgpu';
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
  return {
    dir,
    manifest,
    device,
    async run(x, batch, height, width, t) {
      if (height % manifest.multiple !== 0 || width % manifest.multiple !== 0) {
        throw new RangeError(`Model input ${height}x${width} is not a multiple of ${manifest.multiple}`);
      }
      const xs = new ort.Tensor('float32', x, [batch, 3, height, width]);
      const ts = new ort.Tensor('float32', Float32Array.from(t), [batch]);
      const result = await session.run({ x: xs, t: ts });
      const out = result[outputName]!;
      const data = out.data as Float32Array;
      out.dispose?.();
      return data;
    },
    async dispose() {
      await session.release();
    },
  };
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
