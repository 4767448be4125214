/**
 * Opening WebGPU sessions, and the Vulkan environment around them: which drivers Dawn (onnxruntime's WebGPU EP)
 * is shown when it starts, and ORT's and Dawn's errors as one line.
 */
import ort from 'onnxruntime-node';
import { hardwareAdapters, softwareAdapters, type DeviceScan } from './devices.js';

/**
 * Whether this process has asked Dawn for an adapter yet. Dawn enumerates the Vulkan drivers once per process
 * (measured with onnxruntime-node 1.30.0's Dawn: after a first attempt, changing VK_* variables changes nothing, and a failed first attempt makes
 * every later one fail too), so only the first WebGPU session decides which drivers Dawn sees.
 */
let dawnStarted = false;

/**
 * Opens a WebGPU session. With `onlyDrivers` (ICD manifest paths), and when Dawn has not started in this process,
 * the Vulkan loader is shown only those drivers while Dawn starts (VK_DRIVER_FILES, and VK_ICD_FILENAMES for
 * loaders older than 1.3.207), then the environment is put back.
 */
export async function openWebgpu(
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
 * the GPU's device nodes, a driver/kernel mismatch): then Dawn would quietly take lavapipe and auto would be
 * 20-50x slower, the bug auto exists to avoid. null: leave the drivers as they are.
 */
export function autoDrivers(scan: DeviceScan): string[] | null {
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

/** The line of an ORT or Dawn error that says what went wrong (Dawn's reason, else the first line), at most 200 characters. */
export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // ORT's message starts with its source location and check; Dawn's reason is at the end
  const m = /Failed to get a WebGPU adapter[^\n]*/.exec(msg) ?? /[^\n]+/.exec(msg);
  return (m?.[0] ?? msg).trim().slice(0, 200);
}
