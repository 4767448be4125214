/**
 * precision auto, the default: int8 only on the CPU, for a model with an int8 variant of the same weights, on a CPU
 * with VNNI; float otherwise, silently. The CPU's flags are given (a CpuFlags, a cpuinfo text or SR_CPU_FLAGS), so
 * these hold on any machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuFlags, vnniFlag, type CpuFlags } from '../src/model/cpu-flags.js';
import { loadManifest } from '../src/model/manifest.js';
import { resolveModelDir } from '../src/model/locate.js';
import { loadModel, resolvePrecision, type DeviceScan } from '../src/model/session.js';
import { UsageError } from '../src/errors.js';
import { resolveSettings, upscale } from '../src/upscale.js';
import { root, sr, tempDir } from './cli-helpers.js';

const defaultDir = resolveModelDir('default');
const fixtureInput = join(root, 'fixtures', 'flowers-32.png');
const vnni: CpuFlags = { flags: new Set(['sse2', 'avx2', 'avx512f', 'avx512_vnni']), source: 'test' };
const avx2: CpuFlags = { flags: new Set(['sse2', 'avx2', 'fma']), source: 'test' };
const unknown: CpuFlags = { flags: null, source: 'darwin/arm64' };
const noAdapters: DeviceScan = { platform: 'linux', checked: true, loader: null, drivers: [], gpus: [], adapters: [] };
const gpu: DeviceScan = {
  ...noAdapters,
  loader: '/usr/lib/libvulkan.so.1',
  adapters: [
    { name: 'GPU', vendor: 'NVIDIA', type: 'discrete GPU', software: false, driver: 'nvidia_icd.json', library: 'libGLX_nvidia.so.0' },
  ],
};

/** Runs `fn` with SR_CPU_FLAGS set to `flags`, then puts the variable back. */
async function withCpuFlags<R>(flags: string, fn: () => Promise<R> | R): Promise<R> {
  const before = process.env.SR_CPU_FLAGS;
  process.env.SR_CPU_FLAGS = flags;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.SR_CPU_FLAGS;
    else process.env.SR_CPU_FLAGS = before;
  }
}

/** A model folder with the default model's files (linked) and its int8 variant's model_sha256 another model's. */
async function staleVariant(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-auto-'));
  for (const f of ['model.onnx', 'model-int8.onnx']) await symlink(join(defaultDir, f), join(dir, f));
  const m = JSON.parse(await readFile(join(defaultDir, 'manifest.json'), 'utf8'));
  m.variants.int8.model_sha256 = 'c'.repeat(64);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}

test('the CPU flags: SR_CPU_FLAGS, else the flags line of /proc/cpuinfo on Linux x86, else unknown', () => {
  const cpuinfo = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n\nprocessor\t: 1\n';
  const linux = { env: {}, platform: 'linux' as const, arch: 'x64' };
  assert.equal(vnniFlag(cpuFlags({ ...linux, readCpuinfo: () => cpuinfo })), 'avx512_vnni');
  assert.equal(vnniFlag(cpuFlags({ ...linux, readCpuinfo: () => 'flags\t: fpu sse2 avx2 avx_vnni\n' })), 'avx_vnni');
  assert.equal(vnniFlag(cpuFlags({ ...linux, readCpuinfo: () => 'flags\t: fpu sse2 avx2 fma\n' })), null);
  assert.deepEqual(cpuFlags({ ...linux, readCpuinfo: () => null }), { flags: null, source: '/proc/cpuinfo unreadable' });
  assert.equal(cpuFlags({ env: {}, platform: 'linux', arch: 'arm64', readCpuinfo: () => cpuinfo }).flags, null);
  assert.equal(cpuFlags({ env: {}, platform: 'darwin', arch: 'x64', readCpuinfo: () => cpuinfo }).flags, null);
  // the override wins over the probe, anywhere; empty means no flags
  const over = cpuFlags({ env: { SR_CPU_FLAGS: 'avx2, avx512_vnni' }, platform: 'darwin', arch: 'arm64' });
  assert.equal(vnniFlag(over), 'avx512_vnni');
  assert.equal(over.source, 'SR_CPU_FLAGS');
  assert.equal(vnniFlag(cpuFlags({ ...linux, env: { SR_CPU_FLAGS: '' }, readCpuinfo: () => cpuinfo })), null);
});

test('auto resolves to int8 on a VNNI CPU and to float without VNNI, flags unknown, on webgpu, or with no usable variant', async () => {
  const manifest = await loadManifest(defaultDir);
  const fixture = await loadManifest(resolveModelDir('fixture'));
  const stale = await loadManifest(await staleVariant());
  const at = (o: Partial<Parameters<typeof resolvePrecision>[1]>) => resolvePrecision('auto', { device: 'cpu', manifest, ...o });
  assert.deepEqual(at({ cpu: vnni }), { precision: 'int8', reason: 'CPU has avx512_vnni' });
  assert.deepEqual(at({ cpu: avx2 }), { precision: 'float', reason: 'no VNNI on this CPU' });
  assert.equal(at({ cpu: unknown }).precision, 'float');
  assert.equal(at({ cpu: vnni, device: 'webgpu' }).precision, 'float');
  // device auto: int8 only where no WebGPU adapter will be tried (the CPU it resolves to)
  assert.equal(at({ cpu: vnni, device: 'auto', deviceScan: noAdapters }).precision, 'int8');
  assert.equal(at({ cpu: vnni, device: 'auto', deviceScan: gpu }).precision, 'float');
  assert.match(at({ cpu: vnni, manifest: fixture }).reason, /has no int8 variant/);
  assert.equal(at({ cpu: vnni, manifest: fixture }).precision, 'float');
  assert.equal(at({ cpu: vnni, manifest: stale }).precision, 'float');
  assert.match(at({ cpu: vnni, manifest: stale }).reason, /made from other weights/);
  // explicit precisions are themselves (their errors are loadModel's)
  assert.equal(resolvePrecision('float', { device: 'cpu', manifest, cpu: vnni }).precision, 'float');
  assert.equal(resolvePrecision('int8', { device: 'cpu', manifest: fixture, cpu: avx2 }).precision, 'int8');
});

test('loadModel precision auto: int8 with VNNI, float without; a stale variant falls back to float, no error', async () => {
  const on = await loadModel('default', { precision: 'auto', cpuFlags: vnni });
  const off = await loadModel('default', { precision: 'auto', cpuFlags: avx2 });
  const none = await loadModel('fixture', { precision: 'auto', cpuFlags: vnni });
  const stale = await loadModel(await staleVariant(), { precision: 'auto', cpuFlags: vnni });
  try {
    assert.equal(on.precision, 'int8');
    assert.equal(off.precision, 'float');
    assert.equal(none.precision, 'float');
    assert.equal(stale.precision, 'float');
  } finally {
    for (const m of [on, off, none, stale]) await m.dispose();
  }
  // loadModel's own default stays float; unknown values name auto
  const plain = await loadModel('default', { cpuFlags: vnni });
  assert.equal(plain.precision, 'float');
  await plain.dispose();
  await assert.rejects(
    loadModel('default', { precision: 'int16' as never }),
    (e: unknown) => e instanceof UsageError && /Expected one of auto, float, int8 for precision/.test(e.message),
  );
});

test("upscale's default is auto: the settings record what ran (SR_CPU_FLAGS)", async () => {
  const manifest = await loadManifest(defaultDir);
  await withCpuFlags('avx2', async () => {
    assert.equal(resolveSettings({}, manifest).precision, 'float');
    assert.equal((await upscale(fixtureInput, { seed: 1 })).settings.precision, 'float');
  });
  await withCpuFlags('avx512_vnni', async () => {
    assert.equal(resolveSettings({}, manifest).precision, 'int8');
    assert.equal(resolveSettings({}, manifest, 'webgpu').precision, 'float');
    assert.equal(resolveSettings({ precision: 'float' }, manifest).precision, 'float');
    assert.equal((await upscale(fixtureInput, { seed: 1 })).settings.precision, 'int8');
    assert.equal((await upscale(fixtureInput, { seed: 1, model: 'fixture', steps: 2, t: 20 })).settings.precision, 'float');
  });
});

test('sr upscale: auto by default, the wrote line says int8 where it ran; sr info says what auto picks and why', async () => {
  const dir = tempDir('auto');
  await withCpuFlags('avx512_vnni', async () => {
    const r = await sr(['upscale', fixtureInput, '-o', join(dir, 'a.png'), '--seed', '1', '--json', join(dir, 'a.json')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /on cpu with model default \(int8\)/);
    assert.match(await readFile(join(dir, 'a.json'), 'utf8'), /"precision": ?"int8"/);
    const info = await sr(['info']);
    assert.match(info.stdout, /precision {3}auto on the CPU here: int8 \(CPU has avx512_vnni\)/);
  });
  await withCpuFlags('avx2', async () => {
    const r = await sr(['upscale', fixtureInput, '-o', join(dir, 'b.png'), '--seed', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\(int8\)/);
    const info = await sr(['info']);
    assert.match(info.stdout, /precision {3}auto on the CPU here: float \(no VNNI on this CPU\)/);
  });
});
