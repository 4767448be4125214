/**
 * What a scan of the WebGPU adapters found (DeviceScan and its parts) and what is decided over it, for
 * `--device auto`, `--device webgpu` and `sr devices`: the hardware and software adapters, why none is usable, the
 * auto decision and the software-adapter warning, each a pure function of the scan. The scan itself (the Vulkan
 * loader, its drivers and the GPUs, looked up on the filesystem) is device-scan.ts's.
 *
 * An adapter is a (hardware driver, GPU it drives) pair or a software driver: what the Vulkan loader would list.
 * The scan cannot tell a hardware driver that is installed but broken; dawn.ts covers that case for auto by
 * letting Dawn see only the hardware drivers (autoDrivers there).
 */

/** The Vulkan device type, as vulkaninfo names it (CPU: a software driver). */
export type AdapterType = 'discrete GPU' | 'integrated GPU' | 'virtual GPU' | 'GPU' | 'CPU';

export interface VulkanDriver {
  /** The ICD manifest (JSON) path. */
  manifest: string;
  /** The library it loads (ICD.library_path), or null when the manifest could not be read. */
  library: string | null;
  kind: 'software' | 'hardware' | 'unknown';
  /** Short name: lavapipe, SwiftShader, NVIDIA, radv, anv, … or the library's name. */
  label: string;
  vendor: string;
  /** Why a manifest was left out (unreadable, no library_path); absent when it is usable. */
  problem?: string;
}

export interface Gpu {
  name: string;
  vendor: string;
  /** PCI vendor and device ids (0x…), when known. */
  vendorId: string | null;
  deviceId: string | null;
  /** The kernel driver (nvidia, amdgpu, i915, xe, nouveau, virtio_gpu, …). */
  kernelDriver: string;
  /** The device node a Vulkan driver opens (/dev/dri/renderD128, /dev/nvidia0). */
  node: string;
  /** The PCI bus address, when known. */
  bus: string | null;
  type: AdapterType;
}

export interface Adapter {
  name: string;
  vendor: string;
  type: AdapterType;
  /** A CPU-type adapter (a software Vulkan driver): works, but far slower than the CPU execution provider. */
  software: boolean;
  /** The driver's manifest and library. */
  driver: string;
  library: string;
  /** The GPU's device node, for a hardware adapter. */
  node?: string;
}

export interface DeviceScan {
  platform: string;
  /** false off Linux: nothing was looked at, and auto tries WebGPU as it always did. */
  checked: boolean;
  /** Where libvulkan.so.1 was found, or null. */
  loader: string | null;
  drivers: VulkanDriver[];
  gpus: Gpu[];
  /** What Vulkan would enumerate: hardware adapters first, then software ones (empty without a loader). */
  adapters: Adapter[];
}

export interface ScanOptions {
  /** Environment to read the VK_* and XDG_* variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A folder standing in for / (tests). */
  root?: string;
  /** Platform (default process.platform). */
  platform?: NodeJS.Platform;
}

/** How much slower lavapipe ran the shipped models than the CPU EP on a 2-core VM: 23x for a whole sr upscale, 45-50x per model run at 256x256 (docs/webgpu.md). */
export const SOFTWARE_SLOWDOWN = '20-50x';

export const hardwareAdapters = (s: DeviceScan): Adapter[] => s.adapters.filter((a) => !a.software);
export const softwareAdapters = (s: DeviceScan): Adapter[] => s.adapters.filter((a) => a.software);

/** One adapter in words: "llvmpipe (lavapipe) [Mesa, CPU]", "NVIDIA H200 [NVIDIA, discrete GPU]". */
export function describeAdapter(a: Adapter): string {
  return `${a.name} [${a.vendor}, ${a.type}]`;
}

/**
 * What certainly keeps Dawn from finding any adapter (no Vulkan loader, no readable driver manifest), or null.
 * --device webgpu refuses in one line on this, before Dawn starts (which prints its own warnings on stderr); it
 * does not refuse on the GPU detection, the part of the scan most likely to miss something.
 */
export function webgpuBlocker(s: DeviceScan): string | null {
  const m = missingReason(s);
  return m !== null && (s.loader === null || s.drivers.every((d) => d.problem !== undefined)) ? m : null;
}

/** Why there is no adapter at all, or null when there is one (or the scan did not look). */
export function missingReason(s: DeviceScan): string | null {
  if (!s.checked || s.adapters.length > 0) return null;
  if (s.loader === null) return 'no Vulkan loader (libvulkan.so.1) found; install libvulkan1 and a Vulkan driver (docs/webgpu.md)';
  const usable = s.drivers.filter((d) => d.problem === undefined);
  if (usable.length === 0)
    return `no Vulkan driver (ICD manifest) found${s.drivers.length > 0 ? ` (${s.drivers.length} unreadable)` : ''}; install the GPU's Vulkan driver (docs/webgpu.md)`;
  const labels = [...new Set(usable.map((d) => d.label))].join(', ');
  const orphans = gpusWithoutDriver(s);
  return (
    `no GPU for the installed Vulkan drivers (${labels})` +
    (orphans.length > 0
      ? `; ${orphans.map((g) => g.name).join(', ')} needs its vendor's Vulkan driver (docs/webgpu.md)`
      : ': no /dev/dri render node or /dev/nvidia* device')
  );
}

/** The GPUs found that no installed Vulkan driver drives (e.g. NVIDIA's driver without its Vulkan ICD). */
export function gpusWithoutDriver(s: DeviceScan): Gpu[] {
  return s.gpus.filter((g) => !s.adapters.some((a) => a.node === g.node));
}

export interface AutoDecision {
  /** Try webgpu (a hardware adapter is listed, or the platform was not checked), else the CPU. */
  tryWebgpu: boolean;
  /** The adapter auto expects Dawn to take (the first hardware one). */
  adapter: Adapter | null;
  /** The note for the CPU case: why not webgpu. */
  cpuNote: string;
}

/** What --device auto does with a scan: WebGPU only on a hardware adapter. */
export function decideAuto(s: DeviceScan): AutoDecision {
  if (!s.checked) return { tryWebgpu: true, adapter: null, cpuNote: 'no WebGPU adapter found, using the CPU' };
  const hw = hardwareAdapters(s);
  if (hw.length > 0) return { tryWebgpu: true, adapter: hw[0]!, cpuNote: 'no WebGPU adapter found, using the CPU' };
  const sw = softwareAdapters(s);
  if (sw.length > 0) {
    return {
      tryWebgpu: false,
      adapter: null,
      cpuNote:
        `no WebGPU adapter found, using the CPU (skipped the software adapter ${sw.map(describeAdapter).join(', ')}: ` +
        `it runs on the CPU, ${SOFTWARE_SLOWDOWN} slower than the CPU EP; --device webgpu uses it anyway` +
        `${gpusWithoutDriver(s)
          .map((g) => `; ${g.name} has no Vulkan driver`)
          .join('')})`,
    };
  }
  return { tryWebgpu: false, adapter: null, cpuNote: `no WebGPU adapter found, using the CPU (${missingReason(s) ?? 'none listed'})` };
}

/** The warning for --device webgpu when the only adapters are software ones, else null. */
export function softwareWarning(s: DeviceScan): string | null {
  if (!s.checked || hardwareAdapters(s).length > 0) return null;
  const sw = softwareAdapters(s);
  if (sw.length === 0) return null;
  return (
    `--device webgpu: the WebGPU adapter is ${describeAdapter(sw[0]!)}, a software Vulkan driver that runs on the CPU: ` +
    `expect it to be ${SOFTWARE_SLOWDOWN} slower than --device cpu`
  );
}
