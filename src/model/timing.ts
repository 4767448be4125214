/** Timing model evaluations at a fixed shape, for benchmarks (benchmarks/speed.ts): through CPU memory as a run does, or GPU-resident. */
import ort from 'onnxruntime-node';
import { DeviceError, ModelError } from '../errors.js';
import { openedFrom, type ModelSession } from './session.js';

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
  const info = openedFrom(model);
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
