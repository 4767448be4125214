/**
 * Finds the WebGPU adapters this machine can offer by looking at the filesystem, without onnxruntime: scanDevices
 * assembles a DeviceScan (types in devices.ts, which decides over it for `--device auto` and `sr devices`).
 *
 * Why not ask onnxruntime: onnxruntime-node 1.30 says nothing about the adapter its WebGPU EP (Dawn) picks.
 * `env.webgpu` is an empty object in Node (`adapter`/`device` exist only in onnxruntime-web), a session has no
 * adapter property, `listSupportedBackends()` gives only names, the verbose log (logSeverityLevel 0) prints the
 * EP options and "WebGPU EP Context is created for: Instance=…, Device=…" and no adapter, and profiling output
 * names kernels only; the EP's options (`powerPreference`, `dawnBackendType`) pick, they do not report. True of
 * onnxruntime-node 1.30.0 (package.json pins it; check its .d.ts files again on an upgrade).
 *
 * What is detected instead, on Linux (elsewhere nothing is known and `checked` is false):
 *  1. the Vulkan loader Dawn dlopens, libvulkan.so.1: in /etc/ld.so.cache, LD_LIBRARY_PATH, onnxruntime's own
 *     folder or the usual lib folders;
 *  2. the Vulkan drivers (ICD manifests, JSON) the loader reads, in its order: VK_DRIVER_FILES or the older
 *     VK_ICD_FILENAMES (which replace the search), else VK_ADD_DRIVER_FILES, then `vulkan/icd.d` under
 *     XDG_CONFIG_HOME, XDG_CONFIG_DIRS (/etc/xdg), /usr/local/etc, /etc, XDG_DATA_HOME, XDG_DATA_DIRS
 *     (/usr/local/share:/usr/share); VK_LOADER_DRIVERS_SELECT / VK_LOADER_DRIVERS_DISABLE are applied to the
 *     manifests' file names;
 *  3. each driver's kind, from the name of the library its manifest loads: lavapipe (libvulkan_lvp), SwiftShader
 *     (libvk_swiftshader) and anything named llvmpipe/softpipe are software drivers (Vulkan device type CPU): they
 *     are always there. A hardware driver (NVIDIA's, radv, amdvlk, anv, hasvk, NVK, Venus, …) yields an adapter
 *     only for a GPU it drives: mesa-vulkan-drivers installs radv and anv on every machine, GPU or not;
 *  4. the GPUs: render nodes /dev/dri/renderD* that this process can open, with their kernel driver and PCI
 *     vendor/device from /sys/class/drm (names from pci.ids when installed), and NVIDIA's proprietary driver through
 *     /dev/nvidia<minor> and /proc/driver/nvidia/gpus/<bus>/information (the model name).
 * An adapter is a (hardware driver, GPU it drives) pair or a software driver: what the Vulkan loader would list.
 * The scan cannot tell a hardware driver that is installed but broken; dawn.ts covers that case for auto by
 * letting Dawn see only the hardware drivers (autoDrivers there).
 */
import { accessSync, constants, existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import type { Adapter, AdapterType, DeviceScan, Gpu, ScanOptions, VulkanDriver } from './devices.js';

interface DriverInfo {
  kind: VulkanDriver['kind'];
  label: string;
  vendor: string;
  /** Kernel drivers of the GPUs this Vulkan driver drives. */
  kernel: readonly string[];
  /** Adapter name for a software driver. */
  name?: string;
}

/** Library name (without lib/.so) → what the driver is. First match wins. */
const KNOWN_DRIVERS: ReadonlyArray<[RegExp, DriverInfo]> = [
  [/lvp|lavapipe|llvmpipe/i, { kind: 'software', label: 'lavapipe', vendor: 'Mesa', kernel: [], name: 'llvmpipe (lavapipe)' }],
  [/swiftshader/i, { kind: 'software', label: 'SwiftShader', vendor: 'Google', kernel: [], name: 'SwiftShader' }],
  [/softpipe/i, { kind: 'software', label: 'softpipe', vendor: 'Mesa', kernel: [], name: 'softpipe (Mesa)' }],
  [/nvidia/i, { kind: 'hardware', label: 'NVIDIA', vendor: 'NVIDIA', kernel: ['nvidia', 'nvidia-drm', 'nvidia_drm'] }],
  [/radeon/i, { kind: 'hardware', label: 'radv', vendor: 'AMD', kernel: ['amdgpu'] }],
  [/amdvlk|amd_icd/i, { kind: 'hardware', label: 'amdvlk', vendor: 'AMD', kernel: ['amdgpu'] }],
  [/intel_hasvk/i, { kind: 'hardware', label: 'hasvk', vendor: 'Intel', kernel: ['i915'] }],
  [/intel/i, { kind: 'hardware', label: 'anv', vendor: 'Intel', kernel: ['i915', 'xe'] }],
  [/nouveau/i, { kind: 'hardware', label: 'NVK', vendor: 'NVIDIA', kernel: ['nouveau'] }],
  [/virtio/i, { kind: 'hardware', label: 'Venus', vendor: 'virtio', kernel: ['virtio_gpu', 'virtio-gpu'] }],
  [/gfxstream/i, { kind: 'hardware', label: 'gfxstream', vendor: 'Google', kernel: ['virtio_gpu', 'virtio-gpu', 'goldfish'] }],
  [/freedreno/i, { kind: 'hardware', label: 'turnip', vendor: 'Qualcomm', kernel: ['msm', 'kgsl'] }],
  [/panfrost|panvk/i, { kind: 'hardware', label: 'PanVK', vendor: 'Arm', kernel: ['panfrost', 'panthor'] }],
  [/broadcom/i, { kind: 'hardware', label: 'v3dv', vendor: 'Broadcom', kernel: ['v3d'] }],
  [/asahi/i, { kind: 'hardware', label: 'honeykrisp', vendor: 'Apple', kernel: ['asahi'] }],
  [/powervr|pvr/i, { kind: 'hardware', label: 'PowerVR', vendor: 'Imagination', kernel: ['pvrsrvkm', 'powervr'] }],
  [/dzn|dozen/i, { kind: 'hardware', label: 'dozen', vendor: 'Microsoft', kernel: ['dxg'] }],
];

const PCI_VENDORS: Record<string, string> = {
  '0x10de': 'NVIDIA',
  '0x1002': 'AMD',
  '0x1022': 'AMD',
  '0x8086': 'Intel',
  '0x1af4': 'virtio',
  '0x1414': 'Microsoft',
  '0x5143': 'Qualcomm',
  '0x13b5': 'Arm',
  '0x106b': 'Apple',
  '0x1010': 'Imagination',
  '0x15ad': 'VMware',
  '0x1234': 'QEMU',
};

/** The adapter a hardware (or unknown) Vulkan driver gives for one GPU. */
function gpuAdapter(g: Gpu, driver: string, library: string): Adapter {
  return { name: g.name, vendor: g.vendor, type: g.type, software: false, driver, library, node: g.node };
}

/** Looks at the Vulkan loader, drivers and GPUs (see the file comment). Synchronous, a few milliseconds. */
export function scanDevices(o: ScanOptions = {}): DeviceScan {
  const platform = o.platform ?? process.platform;
  if (platform !== 'linux') return { platform, checked: false, loader: null, drivers: [], gpus: [], adapters: [] };
  const fsx = rooted(o.root ?? '/');
  const env = o.env ?? process.env;
  const loader = findLoader(fsx, env);
  const drivers = findDrivers(fsx, env);
  const gpus = findGpus(fsx);
  const adapters: Adapter[] = [];
  if (loader !== null) {
    for (const d of drivers) {
      if (d.problem !== undefined || d.library === null) continue;
      const info = classify(d.library);
      if (d.kind === 'hardware') {
        for (const g of gpus) {
          if (!info.kernel.includes(g.kernelDriver)) continue;
          adapters.push(gpuAdapter(g, d.manifest, d.library));
        }
      } else if (d.kind === 'unknown') {
        // a driver we do not know: an adapter for any GPU no known driver claims (it may be its driver)
        for (const g of gpus) {
          const claimed = drivers.some(
            (k) => k.kind === 'hardware' && k.library !== null && classify(k.library).kernel.includes(g.kernelDriver),
          );
          if (!claimed) adapters.push(gpuAdapter(g, d.manifest, d.library));
        }
      }
    }
    for (const d of drivers) {
      if (d.kind !== 'software' || d.problem !== undefined || d.library === null) continue;
      const info = classify(d.library);
      adapters.push({
        name: info.name ?? d.label,
        vendor: info.vendor,
        type: 'CPU',
        software: true,
        driver: d.manifest,
        library: d.library,
      });
    }
  }
  return { platform, checked: true, loader, drivers, gpus, adapters };
}

// ---------------------------------------------------------------------------------------------------------------

interface RootedFs {
  /** The real path for an absolute path under the root. */
  p(path: string): string;
  exists(path: string): boolean;
  read(path: string, encoding?: BufferEncoding): string | null;
  list(path: string): string[];
  link(path: string): string | null;
  canOpen(path: string): boolean;
}

function rooted(root: string): RootedFs {
  const p = (path: string) => (root === '/' ? path : join(root, path));
  return {
    p,
    exists: (path) => existsSync(p(path)),
    read: (path, encoding = 'utf8') => {
      try {
        return readFileSync(p(path), encoding);
      } catch {
        return null;
      }
    },
    list: (path) => {
      try {
        return readdirSync(p(path)).sort();
      } catch {
        return [];
      }
    },
    link: (path) => {
      try {
        return readlinkSync(p(path));
      } catch {
        return null;
      }
    },
    canOpen: (path) => {
      try {
        accessSync(p(path), constants.R_OK | constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

function findLoader(fsx: RootedFs, env: NodeJS.ProcessEnv): string | null {
  const name = 'libvulkan.so.1';
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => isAbsolute(d)), ortFolder()];
  for (const d of dirs) if (d && fsx.exists(join(d, name))) return join(d, name);
  const cache = fsx.read('/etc/ld.so.cache', 'latin1');
  if (cache !== null) {
    // entries are NUL-terminated strings: "libvulkan.so.1" then its path
    const m = new RegExp(`\\0(/[^\\0]*/${name.replace(/\./g, '\\.')})\\0`).exec(cache);
    if (m && fsx.exists(m[1]!)) return m[1]!;
  }
  const std = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib'];
  for (const base of ['/usr/lib', '/lib']) for (const e of fsx.list(base)) if (/-linux-gnu/.test(e)) std.push(join(base, e));
  for (const d of std) if (fsx.exists(join(d, name))) return join(d, name);
  return null;
}

/** onnxruntime-node's native folder (Dawn also looks for the loader beside itself). */
function ortFolder(): string {
  try {
    // …/node_modules/onnxruntime-node/dist/index.js → …/bin/napi-v6/<platform>/<arch> (resolved, not loaded)
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    return join(dirname(dirname(main)), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return '';
  }
}

function findDrivers(fsx: RootedFs, env: NodeJS.ProcessEnv): VulkanDriver[] {
  const listed = (v: string | undefined) => (v ?? '').split(':').filter((x) => x !== '');
  const override = listed(env.VK_DRIVER_FILES).length > 0 ? listed(env.VK_DRIVER_FILES) : listed(env.VK_ICD_FILENAMES);
  let entries: string[];
  if (override.length > 0) {
    entries = override;
  } else {
    const home = env.HOME ?? safeHome();
    const xdgConfigHome = env.XDG_CONFIG_HOME || (home ? join(home, '.config') : '');
    const xdgDataHome = env.XDG_DATA_HOME || (home ? join(home, '.local', 'share') : '');
    const configDirs = listed(env.XDG_CONFIG_DIRS || '/etc/xdg');
    const dataDirs = listed(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share');
    entries = [
      ...listed(env.VK_ADD_DRIVER_FILES),
      ...[xdgConfigHome, ...configDirs, '/usr/local/etc', '/etc', xdgDataHome, ...dataDirs]
        .filter((d) => d !== '')
        .map((d) => join(d, 'vulkan', 'icd.d')),
    ];
  }
  const files: string[] = [];
  for (const e of entries) {
    if (!isAbsolute(e)) continue;
    let isDir = false;
    try {
      isDir = statSync(fsx.p(e)).isDirectory();
    } catch {
      if (override.length === 0) continue;
    }
    if (isDir)
      for (const f of fsx.list(e)) {
        if (f.endsWith('.json')) files.push(join(e, f));
      }
    else files.push(e);
  }
  const select = listed(env.VK_LOADER_DRIVERS_SELECT?.replace(/,/g, ':'));
  const disable = listed(env.VK_LOADER_DRIVERS_DISABLE?.replace(/,/g, ':'));
  const seen = new Set<string>();
  const out: VulkanDriver[] = [];
  for (const file of files) {
    if (seen.has(file)) continue;
    seen.add(file);
    const name = basename(file);
    if (select.length > 0 && !select.some((g) => glob(g, name))) continue;
    if (disable.some((g) => glob(g, name))) continue;
    out.push(readDriver(fsx, file));
  }
  return out;
}

function readDriver(fsx: RootedFs, manifest: string): VulkanDriver {
  const text = fsx.read(manifest);
  if (text === null) return { manifest, library: null, kind: 'unknown', label: basename(manifest), vendor: '?', problem: 'cannot be read' };
  let library: unknown;
  try {
    library = (JSON.parse(text) as { ICD?: { library_path?: unknown } }).ICD?.library_path;
  } catch {
    return { manifest, library: null, kind: 'unknown', label: basename(manifest), vendor: '?', problem: 'not valid JSON' };
  }
  if (typeof library !== 'string' || library === '') {
    return { manifest, library: null, kind: 'unknown', label: basename(manifest), vendor: '?', problem: 'no ICD.library_path' };
  }
  const info = classify(library);
  return { manifest, library, kind: info.kind, label: info.label, vendor: info.vendor };
}

function classify(library: string): DriverInfo {
  const name = basename(library)
    .replace(/^lib/, '')
    .replace(/\.so(\..*)?$|\.dll$|\.dylib$/, '');
  for (const [re, info] of KNOWN_DRIVERS) if (re.test(name)) return info;
  return { kind: 'unknown', label: name, vendor: '?', kernel: [] };
}

/** The Vulkan loader's filter globs: * anywhere, case-sensitive, on the manifest file name. */
function glob(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

function findGpus(fsx: RootedFs): Gpu[] {
  const gpus: Gpu[] = [];
  // NVIDIA's proprietary driver: devices /dev/nvidia<minor> (with /dev/nvidiactl), named by
  // /proc/driver/nvidia/gpus/<bus>/information where this process can read it
  const info = new Map<string, { model?: string; bus: string }>();
  for (const bus of fsx.list('/proc/driver/nvidia/gpus')) {
    const text = fsx.read(`/proc/driver/nvidia/gpus/${bus}/information`) ?? '';
    const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
    const model = field('Model');
    info.set(field('Device Minor') ?? '0', { bus, ...(model ? { model } : {}) });
  }
  if (fsx.canOpen('/dev/nvidiactl')) {
    for (const e of fsx.list('/dev')) {
      const minor = /^nvidia(\d+)$/.exec(e)?.[1];
      if (minor === undefined || !fsx.canOpen(`/dev/${e}`)) continue;
      const i = info.get(minor);
      gpus.push({
        name: i?.model ?? 'NVIDIA GPU',
        vendor: 'NVIDIA',
        vendorId: '0x10de',
        deviceId: null,
        kernelDriver: 'nvidia',
        node: `/dev/${e}`,
        bus: i?.bus ?? null,
        type: 'discrete GPU',
      });
    }
  }
  // DRM render nodes (Mesa's drivers, NVK, and NVIDIA's with nvidia-drm)
  for (const e of fsx.list('/sys/class/drm')) {
    if (!/^renderD\d+$/.test(e)) continue;
    const node = `/dev/dri/${e}`;
    if (!fsx.canOpen(node)) continue; // e.g. a container that sees the host's /sys but not its /dev/dri
    const dev = `/sys/class/drm/${e}/device`;
    const kernelDriver = basename(fsx.link(`${dev}/driver`) ?? '?');
    const bus = (() => {
      const l = fsx.link(dev);
      return l && /^[0-9a-f]{4}:[0-9a-f]{2}:/i.test(basename(l)) ? basename(l) : null;
    })();
    if (bus !== null && gpus.some((g) => g.bus === bus)) continue; // the NVIDIA GPU already listed
    const vendorId = fsx.read(`${dev}/vendor`)?.trim().toLowerCase() ?? null;
    const deviceId = fsx.read(`${dev}/device`)?.trim().toLowerCase() ?? null;
    const vendor = (vendorId && PCI_VENDORS[vendorId]) ?? kernelDriver;
    const kd = kernelDriver === 'nvidia-drm' || kernelDriver === 'nvidia_drm' ? 'nvidia' : kernelDriver;
    if (kd === 'nvidia' && gpus.some((g) => g.kernelDriver === 'nvidia' && g.bus === null)) continue; // unnamed, listed
    const type: AdapterType = kd === 'virtio_gpu' ? 'virtual GPU' : kd === 'nvidia' ? 'discrete GPU' : 'GPU';
    const name = pciName(fsx, vendorId, deviceId) ?? `${vendor} GPU${deviceId ? ` ${deviceId}` : ''} (${kernelDriver})`;
    gpus.push({ name, vendor, vendorId, deviceId, kernelDriver: kd, node, bus, type });
  }
  // WSL: the host's GPUs through D3D12 (dozen)
  if (fsx.canOpen('/dev/dxg'))
    gpus.push({
      name: 'WSL GPU (D3D12)',
      vendor: 'Microsoft',
      vendorId: null,
      deviceId: null,
      kernelDriver: 'dxg',
      node: '/dev/dxg',
      bus: null,
      type: 'GPU',
    });
  return gpus;
}

/** "Vendor Device" from pci.ids, when installed (pciutils/hwdata). */
function pciName(fsx: RootedFs, vendorId: string | null, deviceId: string | null): string | null {
  if (!vendorId || !deviceId) return null;
  const text = fsx.read('/usr/share/misc/pci.ids') ?? fsx.read('/usr/share/hwdata/pci.ids');
  if (text === null) return null;
  const v = vendorId.replace(/^0x/, ''),
    d = deviceId.replace(/^0x/, '');
  const at = text.search(new RegExp(`^${v}  `, 'm'));
  if (at < 0) return null;
  const block = text.slice(at, at + 400_000).split('\n');
  const vendor = block[0]!.slice(v.length + 2).trim();
  for (let i = 1; i < block.length; i++) {
    const line = block[i]!;
    if (line !== '' && !line.startsWith('\t') && !line.startsWith('#')) break;
    if (line.startsWith(`\t${d}  `))
      return `${vendor.replace(/ Corporation| Inc\.|, Inc\.| \[.*\]/g, '')} ${line.slice(d.length + 3).trim()}`;
  }
  return null;
}

function safeHome(): string {
  try {
    return homedir();
  } catch {
    return '';
  }
}
