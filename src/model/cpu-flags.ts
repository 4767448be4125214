/**
 * The CPU's instruction-set flags, for `--precision auto`: int8 (a static QDQ model on the CPU EP) was measured 2.0x
 * faster than float on a CPU with AVX-512 VNNI (benchmarks/results/int8-timing-2026-12-07-idle.md) and not measured
 * on CPUs without VNNI (AVX2-only x86, ARM), where int8 can be slower or saturate; auto runs it only with VNNI.
 *
 * Where the flags come from: the SR_CPU_FLAGS environment variable when set (space- or comma-separated; empty for
 * none: for tests and for overriding the probe), else the `flags` line of /proc/cpuinfo on Linux x86; anywhere else
 * (another platform or architecture, no /proc/cpuinfo) nothing is known and auto runs float.
 */
import { readFileSync } from 'node:fs';

/** The flags that mean VNNI (int8 dot products): AVX-512 VNNI, or the AVX (VEX-encoded) VNNI of later CPUs. */
export const VNNI_FLAGS = ['avx512_vnni', 'avx_vnni'] as const;

/** Where the CPU's flags are read from (the defaults: this process's environment, platform, architecture, /proc/cpuinfo). */
export interface CpuFlagsSource {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  /** The text of /proc/cpuinfo, or null where it cannot be read. */
  readCpuinfo?: () => string | null;
}

/** The CPU's flags, and where they were read (for messages); null flags where nothing is known. */
export interface CpuFlags {
  flags: ReadonlySet<string> | null;
  source: string;
}

let cached: CpuFlags | null = null;

/** The CPU's flags (cached for the process when read from the defaults; a source given is read every time). */
export function cpuFlags(source?: CpuFlagsSource): CpuFlags {
  if (source === undefined && cached !== null && process.env.SR_CPU_FLAGS === undefined) return cached;
  const found = readCpuFlags(source ?? {});
  if (source === undefined && process.env.SR_CPU_FLAGS === undefined) cached = found;
  return found;
}

function readCpuFlags(s: CpuFlagsSource): CpuFlags {
  const env = s.env ?? process.env;
  const given = env.SR_CPU_FLAGS;
  if (given !== undefined) return { flags: new Set(given.split(/[\s,]+/).filter(Boolean)), source: 'SR_CPU_FLAGS' };
  const platform = s.platform ?? process.platform;
  const arch = s.arch ?? process.arch;
  if (platform !== 'linux' || (arch !== 'x64' && arch !== 'ia32')) return { flags: null, source: `${platform}/${arch}` };
  const text = (s.readCpuinfo ?? readProcCpuinfo)();
  if (text === null) return { flags: null, source: '/proc/cpuinfo unreadable' };
  const line = text.split('\n').find((l) => /^flags\s*:/.test(l));
  if (line === undefined) return { flags: null, source: '/proc/cpuinfo has no flags' };
  return {
    flags: new Set(
      line
        .slice(line.indexOf(':') + 1)
        .trim()
        .split(/\s+/),
    ),
    source: '/proc/cpuinfo',
  };
}

function readProcCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

/** The first VNNI flag the CPU has, or null (none, or its flags unknown). */
export function vnniFlag(f: CpuFlags): string | null {
  return VNNI_FLAGS.find((v) => f.flags?.has(v)) ?? null;
}
