/**
 * `sr devices` (probeDevices): the WebGPU adapters found (device-scan.ts), what auto and webgpu would do with them, and
 * an in-process check that runs a one-node graph on the WebGPU EP.
 */
import ort from 'onnxruntime-node';
import { autoDrivers, firstLine, openWebgpu } from './dawn.js';
import { scanDevices } from './device-scan.js';
import * as devices from './devices.js';
import type { Adapter, DeviceScan } from './devices.js';
import type { Device } from './session.js';

/** What `probeDevices` found and would do. */
export interface DeviceReport {
  /** What was found: loader, drivers, GPUs, adapters (device-scan.ts). */
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
  const decision = devices.decideAuto(scan);
  const missing = devices.webgpuBlocker(scan);
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
        note: `using the WebGPU adapter ${decision.adapter ? devices.describeAdapter(decision.adapter) : '(not identified)'}`,
      }
    : {
        device: 'cpu' as const,
        adapter: null,
        note: decision.tryWebgpu ? `no WebGPU adapter found, using the CPU (${check?.error ?? 'it did not open'})` : decision.cpuNote,
      };
  const webgpuWorks = missing === null && (check === undefined || check.ok || check.drivers === 'hardware');
  const webgpu = webgpuWorks
    ? { adapter: devices.hardwareAdapters(scan)[0] ?? devices.softwareAdapters(scan)[0] ?? null, warning: devices.softwareWarning(scan) }
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
