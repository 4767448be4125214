/**
 * The webgpu group (issue 12): adapter detection (always), the adapter-missing path (always), and the WebGPU EP
 * against the CPU EP (the shipped models, and `sr upscale` tiled and batched), which need a WebGPU adapter.
 *
 * Without an adapter the EP tests are skipped, unless SR_REQUIRE_WEBGPU=1 (set by .ci/run when it installed a
 * Vulkan driver): then they fail, so a CI run that meant to test WebGPU cannot pass without running it.
 * SR_WEBGPU_REPORT=<file>: write what ran (adapter, counts, seconds) as JSON for CI to print.
 *
 * Tolerances: model outputs within 1e-4 of the CPU EP (measured on lavapipe, Mesa 25.0: 1.7e-6 for the fixture at
 * 64x64, 4e-6 for the default model at 64x64, 5.7e-6 at 256x256); `sr upscale` PNGs within 1/255 per channel
 * (measured: identical, or one channel of one pixel off by 1 from a value that rounds the other way).
 */
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { scanDevices } from '../src/model/device-scan.js';
import { decideAuto, missingReason, softwareWarning, webgpuBlocker, type DeviceScan } from '../src/model/devices.js';
import { probeDevices } from '../src/model/probe.js';
import { loadModel } from '../src/model/session.js';
import { sr, srProcess } from './cli-helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const flowers32 = join(root, 'fixtures', 'flowers-32.png');
const flowers64 = join(root, 'fixtures', 'flowers-64.png');
const REQUIRE = process.env.SR_REQUIRE_WEBGPU === '1';
const started = performance.now();

// Does the WebGPU EP open and run here? (a one-node graph; starts Dawn for this process with all drivers)
const report = await probeDevices();
const gpuOk = report.check?.ok === true;
const adapter = report.webgpu?.adapter ?? null;
const software = report.webgpu?.warning != null;
const noGpuReason = `no WebGPU adapter here (${report.check?.error ?? missingReason(report.scan) ?? 'not checked'})`;
const counts = { ran: 0, onWebgpu: 0, skipped: 0, failed: 0 };

/** A test that runs on the WebGPU EP: skipped without an adapter, failed instead with SR_REQUIRE_WEBGPU=1. */
function gpuTest(name: string, fn: (t: TestContext) => Promise<void>, unless: string | false = false): void {
  const skip = !gpuOk && !REQUIRE ? noGpuReason : gpuOk ? unless : false;
  if (skip) counts.skipped++;
  test(name, { skip }, async (t) => {
    try {
      assert.ok(gpuOk, `SR_REQUIRE_WEBGPU=1 but the WebGPU EP does not run: ${noGpuReason}`);
      await fn(t);
      counts.ran++;
      counts.onWebgpu++;
    } catch (err) {
      counts.failed++;
      throw err;
    }
  });
}

/** A test of the group that needs no adapter (detection, the missing-adapter path). */
function groupTest(name: string, fn: (t: TestContext) => Promise<void> | void, skip: string | false = false): void {
  if (skip) counts.skipped++;
  test(name, { skip }, async (t) => {
    try {
      await fn(t);
      counts.ran++;
    } catch (err) {
      counts.failed++;
      throw err;
    }
  });
}

after(() => {
  const summary = {
    adapter: adapter ? `${adapter.name} [${adapter.vendor}, ${adapter.type}]` : null,
    software,
    require: REQUIRE,
    webgpuRuns: gpuOk,
    ...counts,
    seconds: (performance.now() - started) / 1000,
    check: report.check ?? null,
    auto: report.auto,
  };
  if (process.env.SR_WEBGPU_REPORT) writeFileSync(process.env.SR_WEBGPU_REPORT, JSON.stringify(summary, null, 2) + '\n');
});

// `sr` runs the CLI in this process, whose Dawn has already seen this machine's drivers; a test that hides or fakes
// drivers runs it as a fresh process (srProcess), since Dawn reads them once per process

async function maxPixelDiff(a: string, b: string): Promise<number> {
  const [x, y] = await Promise.all([
    sharp(a).raw().toBuffer({ resolveWithObject: true }),
    sharp(b).raw().toBuffer({ resolveWithObject: true }),
  ]);
  assert.deepEqual([x.info.width, x.info.height, x.info.channels], [y.info.width, y.info.height, y.info.channels]);
  let max = 0;
  for (let i = 0; i < x.data.length; i++) max = Math.max(max, Math.abs(x.data[i]! - y.data[i]!));
  return max;
}

function golden(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.9 * Math.sin(0.37 * i);
  return x;
}

// ---------------------------------------------------------------------------------------------------------------
// Fake machines for the detection: a folder standing in for /

function machine(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sr-devices-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    symlinkSync(target, join(dir, path));
  }
  return dir;
}
const icd = (library: string) => JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } });
const LOADER = { '/usr/lib/x86_64-linux-gnu/libvulkan.so.1': '' };
/** What Debian's mesa-vulkan-drivers installs: radv, anv, hasvk, Venus, gfxstream and lavapipe. */
const MESA = Object.fromEntries(
  ['radeon', 'intel', 'intel_hasvk', 'virtio', 'gfxstream', 'lvp'].map((n) => [
    `/usr/share/vulkan/icd.d/${n}_icd.json`,
    icd(`libvulkan_${n}.so`),
  ]),
);
const scan = (dir: string, env: NodeJS.ProcessEnv = {}): DeviceScan => scanDevices({ root: dir, env, platform: 'linux' });

describe('adapter detection (no GPU needed)', () => {
  groupTest('Mesa drivers without a GPU: lavapipe is the only adapter, a software one; auto skips it, webgpu warns', () => {
    const s = scan(machine({ ...LOADER, ...MESA }));
    assert.equal(s.loader, '/usr/lib/x86_64-linux-gnu/libvulkan.so.1');
    assert.equal(s.drivers.length, 6);
    assert.deepEqual(
      s.adapters.map((a) => [a.name, a.vendor, a.type, a.software]),
      [['llvmpipe (lavapipe)', 'Mesa', 'CPU', true]],
    );
    assert.equal(missingReason(s), null);
    const d = decideAuto(s);
    assert.equal(d.tryWebgpu, false);
    assert.match(
      d.cpuNote,
      /^no WebGPU adapter found, using the CPU \(skipped the software adapter llvmpipe \(lavapipe\) \[Mesa, CPU\]: .*slower than the CPU EP/,
    );
    assert.match(
      softwareWarning(s) ?? '',
      /^--device webgpu: the WebGPU adapter is llvmpipe \(lavapipe\) \[Mesa, CPU\], a software Vulkan driver .*slower than --device cpu$/,
    );
  });

  groupTest("an NVIDIA GPU with NVIDIA's ICD (as on the GPU machine: VK_DRIVER_FILES) is a hardware adapter; auto takes it", () => {
    const dir = machine({
      ...LOADER,
      ...MESA,
      '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json': icd('libGLX_nvidia.so.0'),
      '/proc/driver/nvidia/gpus/0000:18:00.0/information':
        'Model: \t\t NVIDIA H200\nIRQ: \t\t 42\nDevice Minor: \t\t 0\nBus Location: \t\t 0000:18:00.0\n',
      '/dev/nvidia0': '',
      '/dev/nvidiactl': '',
    });
    const s = scan(dir, { VK_DRIVER_FILES: '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json' });
    assert.deepEqual(
      s.drivers.map((d) => d.label),
      ['NVIDIA'],
    );
    assert.deepEqual(
      s.adapters.map((a) => [a.name, a.vendor, a.type, a.software]),
      [['NVIDIA H200', 'NVIDIA', 'discrete GPU', false]],
    );
    const d = decideAuto(s);
    assert.equal(d.tryWebgpu, true);
    assert.equal(d.adapter?.name, 'NVIDIA H200');
    assert.equal(softwareWarning(s), null);
    // the same machine with Mesa's drivers searched too: the GPU first, lavapipe after it; still no warning
    const both = scan(dir, { VK_ADD_DRIVER_FILES: '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json' });
    assert.deepEqual(
      both.adapters.map((a) => a.name),
      ['NVIDIA H200', 'llvmpipe (lavapipe)'],
    );
    assert.equal(decideAuto(both).adapter?.name, 'NVIDIA H200');
    assert.equal(softwareWarning(both), null);
    // without the device node (a container that sees /proc but was given no GPU) there is no GPU
    const noNode = machine({
      ...LOADER,
      '/usr/share/vulkan/icd.d/nvidia_icd.json': icd('libEGL_nvidia.so.0'),
      '/proc/driver/nvidia/gpus/0000:18:00.0/information': 'Model: NVIDIA H200\nDevice Minor: 0\n',
    });
    assert.deepEqual(scan(noNode).adapters, []);
    assert.match(missingReason(scan(noNode)) ?? '', /^no GPU for the installed Vulkan drivers \(NVIDIA\): no \/dev\/dri/);
    // the GPU without NVIDIA's Vulkan ICD (only Mesa's drivers): auto says so
    const noIcd = scan(machine({ ...LOADER, ...MESA, '/dev/nvidia0': '', '/dev/nvidiactl': '' }));
    assert.equal(noIcd.gpus.length, 1);
    assert.match(decideAuto(noIcd).cpuNote, /; NVIDIA GPU has no Vulkan driver\)$/);
    assert.equal(webgpuBlocker(scan(noNode)), null); // --device webgpu still lets Dawn try: GPU detection may miss
    // the device nodes without /proc/driver/nvidia (a container): a GPU, not named
    const noProc = machine({
      ...LOADER,
      '/usr/share/vulkan/icd.d/nvidia_icd.json': icd('libEGL_nvidia.so.0'),
      '/dev/nvidia0': '',
      '/dev/nvidia1': '',
      '/dev/nvidiactl': '',
    });
    assert.deepEqual(
      scan(noProc).adapters.map((a) => [a.name, a.node]),
      [
        ['NVIDIA GPU', '/dev/nvidia0'],
        ['NVIDIA GPU', '/dev/nvidia1'],
      ],
    );
  });

  groupTest('an AMD render node is driven by radv, not by anv; a node this process cannot open is no GPU', () => {
    // sysfs as the kernel lays it out, with relative links
    const sys = '/sys/devices/pci0000:00/0000:03:00.0';
    const gpu = {
      [`${sys}/vendor`]: '0x1002\n',
      [`${sys}/device`]: '0x73bf\n',
      '/sys/bus/pci/drivers/amdgpu/bind': '',
      '/sys/class/drm/renderD128/dev': '226:128\n',
    };
    const links = {
      '/sys/class/drm/renderD128/device': '../../../devices/pci0000:00/0000:03:00.0',
      [`${sys}/driver`]: '../../../bus/pci/drivers/amdgpu',
    };
    const dir = machine({ ...LOADER, ...MESA, ...gpu, '/dev/dri/renderD128': '' }, links);
    const s = scan(dir);
    assert.deepEqual(
      s.gpus.map((g) => [g.vendor, g.kernelDriver, g.node, g.bus]),
      [['AMD', 'amdgpu', '/dev/dri/renderD128', '0000:03:00.0']],
    );
    assert.deepEqual(
      s.adapters.map((a) => [a.vendor, a.software, a.driver]),
      [
        ['AMD', false, '/usr/share/vulkan/icd.d/radeon_icd.json'],
        ['Mesa', true, '/usr/share/vulkan/icd.d/lvp_icd.json'],
      ],
    );
    assert.equal(decideAuto(s).tryWebgpu, true);
    const hidden = machine({ ...LOADER, ...MESA, ...gpu }, links);
    assert.deepEqual(scan(hidden).gpus, []);
  });

  groupTest('no loader, no drivers, and the loader variables (VK_DRIVER_FILES, VK_LOADER_DRIVERS_DISABLE/SELECT)', () => {
    const noLoader = scan(machine(MESA));
    assert.equal(noLoader.loader, null);
    assert.deepEqual(noLoader.adapters, []);
    assert.match(missingReason(noLoader) ?? '', /^no Vulkan loader \(libvulkan\.so\.1\) found/);
    assert.equal(webgpuBlocker(noLoader), missingReason(noLoader));
    assert.match(decideAuto(noLoader).cpuNote, /^no WebGPU adapter found, using the CPU \(no Vulkan loader/);
    const dir = machine({ ...LOADER, ...MESA });
    assert.deepEqual(scan(dir, { VK_LOADER_DRIVERS_DISABLE: 'lvp_*' }).adapters, []);
    assert.deepEqual(
      scan(dir, { VK_LOADER_DRIVERS_SELECT: '*lvp*' }).drivers.map((d) => d.label),
      ['lavapipe'],
    );
    const gone = scan(dir, { VK_DRIVER_FILES: '/nonexistent/none_icd.json' });
    assert.deepEqual(
      gone.drivers.map((d) => d.problem),
      ['cannot be read'],
    );
    assert.match(missingReason(gone) ?? '', /^no Vulkan driver \(ICD manifest\) found/);
    assert.equal(webgpuBlocker(gone), missingReason(gone));
    // off Linux nothing is looked at and auto tries WebGPU as before
    const mac = scanDevices({ platform: 'darwin' });
    assert.equal(mac.checked, false);
    assert.equal(decideAuto(mac).tryWebgpu, true);
  });

  groupTest('sr devices lists the adapters and what --device auto would choose', async () => {
    const r = await sr(['devices']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Vulkan loader /m);
    assert.match(r.stdout, /^--device auto +(cpu|webgpu): /m);
    for (const a of report.scan.adapters) assert.ok(r.stdout.includes(a.name), `${a.name} in\n${r.stdout}`);
    const j = await sr(['devices', '--json', '--no-check']);
    assert.equal(j.status, 0, j.stderr);
    const parsed = JSON.parse(j.stdout);
    assert.equal(parsed.auto.device, report.auto.device);
    assert.deepEqual(parsed.scan.adapters, report.scan.adapters);
  });
});

describe('no adapter: --device webgpu fails in one line (exit 6), auto uses the CPU', () => {
  const none = { VK_DRIVER_FILES: '/nonexistent/none_icd.json', VK_ICD_FILENAMES: '/nonexistent/none_icd.json' };
  const args = (out: string, device: string) => [
    'upscale',
    flowers32,
    '-o',
    out,
    '--factor',
    '2',
    '--t',
    '20',
    '--steps',
    '2',
    '--seed',
    '1',
    '--model',
    'fixture',
    '--device',
    device,
  ];

  groupTest('webgpu: exit 6, one line, no output file', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-webgpu-')), 'none.png');
    const r = srProcess(args(out, 'webgpu'), none);
    assert.equal(r.status, 6, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^sr: WebGPU is not available here: .*\(use --device cpu or auto\)\n$/);
    assert.equal(existsSync(out), false);
  });

  groupTest('auto: runs on the CPU and says why', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-webgpu-')), 'auto.png');
    const r = srProcess(args(out, 'auto'), none);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^sr: --device auto: no WebGPU adapter found, using the CPU \(no Vulkan (driver|loader)/m);
    assert.match(r.stderr, / on cpu with model fixture/);
  });

  groupTest(
    "a driver that Dawn cannot open: exit 6 with Dawn's reason",
    () => {
      // a manifest that looks like lavapipe but loads nothing: the scan lists it, Dawn finds no adapter
      const dir = machine({ '/fake_lvp_icd.json': icd('/nonexistent/libvulkan_lvp.so') });
      const out = join(dir, 'dawn.png');
      const r = srProcess(args(out, 'webgpu'), {
        VK_DRIVER_FILES: join(dir, 'fake_lvp_icd.json'),
        VK_ICD_FILENAMES: join(dir, 'fake_lvp_icd.json'),
      });
      assert.equal(r.status, 6, r.stderr);
      // Dawn's own lines are filtered out by the binary (dawn-stderr.ts); ours is the last line
      assert.match(
        r.stderr.trim().split('\n').at(-1)!,
        /^sr: WebGPU is not available here: Failed to get a WebGPU adapter: No supported adapters \(use --device cpu or auto\)$/,
      );
      assert.equal(existsSync(out), false);
    },
    report.scan.loader === null ? 'no Vulkan loader here' : false,
  );
});

describe('the WebGPU EP against the CPU EP', () => {
  gpuTest('the fixture model: webgpu within 1e-4 of cpu at 64x64, batch 2, t = 10 and 500', async (t) => {
    t.diagnostic(`adapter: ${adapter ? `${adapter.name} [${adapter.vendor}, ${adapter.type}]` : 'not identified'}`);
    const n = 2 * 3 * 64 * 64;
    const x = golden(n);
    const cpu = await loadModel('fixture', { device: 'cpu' });
    const gpu = await loadModel('fixture', { device: 'webgpu' });
    try {
      assert.equal(gpu.device, 'webgpu');
      assert.deepEqual(gpu.adapter, adapter);
      assert.equal(
        gpu.notes?.some((m) => m.level === 'warning' && /software Vulkan driver/.test(m.message)),
        software,
      );
      const [a, b] = [await cpu.run(x, 2, 64, 64, [10, 500]), await gpu.run(x, 2, 64, 64, [10, 500])];
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
      t.diagnostic(`fixture 64x64 b2: max |webgpu - cpu| = ${max.toExponential(2)}`);
      assert.ok(max <= 1e-4, `max |diff| ${max}`);
    } finally {
      await Promise.all([cpu.dispose(), gpu.dispose()]);
    }
  });

  gpuTest('the default model: webgpu within 1e-4 of cpu at 64x64', async (t) => {
    const n = 3 * 64 * 64;
    const x = golden(n);
    const cpu = await loadModel('default', { device: 'cpu' });
    const gpu = await loadModel('default', { device: 'webgpu' });
    try {
      const [a, b] = [await cpu.run(x, 1, 64, 64, [250]), await gpu.run(x, 1, 64, 64, [250])];
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
      t.diagnostic(`default 64x64: max |webgpu - cpu| = ${max.toExponential(2)}`);
      assert.ok(max <= 1e-4, `max |diff| ${max}`);
    } finally {
      await Promise.all([cpu.dispose(), gpu.dispose()]);
    }
  });

  const method = ['--factor', '2', '--t', '20', '--steps', '2', '--seed', '1', '--model', 'fixture'];

  gpuTest('sr upscale, tiled (9 tiles of 32, in batches of 5 and 4 on webgpu): the same image as on the CPU', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-webgpu-'));
    const [a, b] = [join(dir, 'cpu.png'), join(dir, 'webgpu.png')];
    const rc = await sr(['upscale', flowers32, '-o', a, ...method, '--tile', '32', '--device', 'cpu']);
    assert.equal(rc.status, 0, rc.stderr);
    const rg = await sr(['upscale', flowers32, '-o', b, ...method, '--tile', '32', '--device', 'webgpu']);
    assert.equal(rg.status, 0, rg.stderr);
    assert.match(rg.stderr, / on webgpu with model fixture/);
    assert.equal(/sr: warning: --device webgpu: the WebGPU adapter is .*software/.test(rg.stderr), software, rg.stderr);
    const d = await maxPixelDiff(a, b);
    t.diagnostic(`tiled: max pixel difference ${d}/255`);
    assert.ok(d <= 1, `${d}/255`);
  });

  gpuTest('sr upscale, a batch of two files: the same images as on the CPU', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sr-webgpu-'));
    mkdirSync(join(dir, 'in'));
    copyFileSync(flowers32, join(dir, 'in', 'a.png'));
    copyFileSync(flowers64, join(dir, 'in', 'b.png'));
    for (const device of ['cpu', 'webgpu']) {
      const r = await sr(['upscale', join(dir, 'in'), '-o', join(dir, device), ...method, '--device', device]);
      assert.equal(r.status, 0, r.stderr);
    }
    assert.deepEqual(
      readdirSync(join(dir, 'webgpu'))
        .filter((f) => f.endsWith('.png'))
        .sort(),
      ['a.png', 'b.png'],
    );
    for (const f of ['a.png', 'b.png']) {
      const d = await maxPixelDiff(join(dir, 'cpu', f), join(dir, 'webgpu', f));
      t.diagnostic(`batch ${f}: max pixel difference ${d}/255`);
      assert.ok(d <= 1, `${f}: ${d}/255`);
    }
  });

  gpuTest('--device auto skips a software adapter (on the CPU, saying why); with a GPU it takes the GPU', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sr-webgpu-')), 'auto.png');
    const r = await sr(['upscale', flowers32, '-o', out, ...method, '--device', 'auto']);
    assert.equal(r.status, 0, r.stderr);
    if (software) {
      assert.match(r.stderr, /^sr: --device auto: no WebGPU adapter found, using the CPU \(skipped the software adapter .*\)$/m);
      assert.match(r.stderr, / on cpu with model fixture/);
    } else {
      assert.match(r.stderr, /^sr: --device auto: using the WebGPU adapter /m);
      assert.match(r.stderr, / on webgpu with model fixture/);
    }
  });

  gpuTest(
    'auto with a GPU whose driver fails does not fall back to the software adapter',
    async () => {
      // a fresh process (Dawn reads the drivers once per process), told of a GPU whose driver does not exist
      const session = pathToFileURL(join(root, 'dist', 'src', 'model', 'session.js')).href;
      const script = `
      import { loadModel, scanDevices } from ${JSON.stringify(session)};
      const s = scanDevices();
      s.adapters.unshift({ name: 'Broken GPU', vendor: 'Test', type: 'discrete GPU', software: false, driver: '/nonexistent/broken_icd.json', library: 'libbroken.so' });
      const m = await loadModel('fixture', { device: 'auto', deviceScan: s });
      console.log(JSON.stringify({ device: m.device, notes: m.notes, env: process.env.VK_DRIVER_FILES ?? null }));
      await m.dispose();`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: root });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      assert.equal(got.device, 'cpu', r.stdout);
      assert.match(got.notes[0].message, /^--device auto: no WebGPU adapter found, using the CPU \(Broken GPU did not open: /);
      assert.equal(got.env, process.env.VK_DRIVER_FILES ?? null); // the environment is put back
    },
    software ? false : 'needs a software adapter, which Dawn would otherwise take',
  );
});
