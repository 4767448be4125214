/**
 * `sr devices`: the WebGPU adapters found (name, vendor, type), what `--device auto` would choose and why, and
 * whether the WebGPU EP opens here (a one-node graph run on it). How adapters are found: src/model/device-scan.ts.
 */
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { gpusWithoutDriver } from '../model/devices.js';
import { probeDevices, type DeviceReport } from '../model/probe.js';

interface Flags {
  json?: boolean;
  check?: boolean;
}

export function registerDevices(program: Command, ctx: CliContext): void {
  program
    .command('devices')
    .description('list the WebGPU adapters found (name, vendor, type) and which device --device auto would choose')
    .option('--json', 'print the report as JSON')
    .option('--no-check', 'do not open the WebGPU EP to check that it runs (only look at the Vulkan drivers and GPUs)')
    .action(async (flags: Flags) => {
      const report = await probeDevices({ check: flags.check !== false });
      ctx.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    });
}

/** The report as aligned lines of text. */
export function formatReport(r: DeviceReport): string {
  const s = r.scan;
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(17)}${v}`);
  if (!s.checked) {
    row('adapters', `not listed on ${s.platform} (only Linux's Vulkan drivers are looked at)`);
  } else {
    row('Vulkan loader', s.loader ?? 'not found (libvulkan.so.1: apt-get install libvulkan1)');
    const drivers = s.drivers.map((d) => `${d.label}${d.kind === 'software' ? ' (software)' : ''}${d.problem ? ` (${d.problem})` : ''}`);
    const folders = [...new Set(s.drivers.map((d) => dirname(d.manifest)))];
    const orphans = gpusWithoutDriver(s);
    row('Vulkan drivers', drivers.length === 0 ? 'none found' : `${drivers.join(', ')} in ${folders.join(', ')}`);
    row(
      'GPUs',
      s.gpus.length === 0
        ? 'none found (no /dev/dri render node or NVIDIA device that this process can open)'
        : s.gpus
            .map(
              (g) => `${g.name} [${g.kernelDriver}, ${g.node}]${orphans.includes(g) ? ' (no Vulkan driver for it: docs/webgpu.md)' : ''}`,
            )
            .join('; '),
    );
    row('adapters', s.adapters.length === 0 ? 'none' : String(s.adapters.length));
    const w = [
      Math.max(4, ...s.adapters.map((a) => a.name.length)),
      Math.max(6, ...s.adapters.map((a) => a.vendor.length)),
      Math.max(4, ...s.adapters.map((a) => a.type.length)),
    ] as const;
    if (s.adapters.length > 0) {
      lines.push(`  ${'name'.padEnd(w[0])}  ${'vendor'.padEnd(w[1])}  ${'type'.padEnd(w[2])}  kind      driver`);
      for (const a of s.adapters) {
        lines.push(
          `  ${a.name.padEnd(w[0])}  ${a.vendor.padEnd(w[1])}  ${a.type.padEnd(w[2])}  ${(a.software ? 'software' : 'hardware').padEnd(8)}  ${a.driver}`,
        );
      }
    }
  }
  if (r.check) {
    row(
      'WebGPU EP',
      r.check.ok
        ? `opens and runs (a test graph in ${r.check.seconds.toFixed(2)} s${r.check.drivers === 'hardware' ? ', hardware drivers only' : ''})`
        : `does not open: ${r.check.error ?? '?'}`,
    );
  } else {
    row('WebGPU EP', s.checked && s.adapters.length === 0 ? 'not tried (no adapter)' : 'not checked (--no-check)');
  }
  row('--device auto', `${r.auto.device}: ${r.auto.note}`);
  row(
    '--device webgpu',
    r.webgpu === null
      ? 'fails (exit 6): no adapter'
      : `${r.webgpu.adapter ? r.webgpu.adapter.name : 'the adapter Dawn picks'}${r.webgpu.warning ? ' (with a warning: software, slow)' : ''}`,
  );
  return lines.join('\n') + '\n';
}
