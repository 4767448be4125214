/**
 * Peak memory of a large job: a ×4 upscale of a 1024×1024 image to 4096×4096 on the CPU, run through the real
 * CLI in a child process, with the peak resident set size taken from `/usr/bin/time -v` (or, where that is
 * missing, the child's VmHWM polled from /proc). The step count is kept small: memory, not quality, is measured
 * here (whole-image arrays and the tiles do not grow with steps). Target: within 2 GB resident.
 *
 *   npx tsc -p . && node dist/benchmarks/memory.js [--model default|DIR] [--size 1024] [--factor 4]
 *                                                  [--t 20] [--steps 2] [--cascade N] [--tile 512] [--label text]
 *                                                  [--interrupt-after S]
 *
 * --interrupt-after S sends SIGINT S seconds into the run and records how long the CLI took to exit after it, its
 * status (130 expected) and whether anything was left in the output folder (the 9600x9600 case:
 * --size 32 --factor 300; such a job is past the 10-minute estimate, so --yes is passed).
 *
 * Without --model: models/default when present, else /tmp/probe-model, else the fixture (the report says which).
 * Writes benchmarks/results/memory-<date>.json and .md.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'index.js');
const TARGET_MB = 2048;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function pickModel(): { spec: string; note: string } {
  const given = arg('model', '');
  if (given) return { spec: given, note: 'as asked' };
  if (existsSync(join(root, 'models', 'default', 'model.onnx'))) return { spec: 'default', note: 'the shipped default model' };
  if (existsSync('/tmp/probe-model/model.onnx'))
    return { spec: '/tmp/probe-model', note: 'models/default missing: the training probe model (same architecture family) stands in' };
  return {
    spec: 'fixture',
    note: 'models/default and /tmp/probe-model missing: the tiny fixture stands in (NOT representative of the default model)',
  };
}

/** A textured test image (smooth gradients plus deterministic high-frequency detail), so nothing is trivially flat. */
async function makeInput(path: string, size: number): Promise<void> {
  const buf = Buffer.alloc(size * size * 3);
  let s = 12345;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) - 128;
      const i = (y * size + x) * 3;
      buf[i] = Math.max(0, Math.min(255, (x * 255) / size + n * 0.25));
      buf[i + 1] = Math.max(0, Math.min(255, (y * 255) / size + 40 * Math.sin(x / 7) + n * 0.25));
      buf[i + 2] = Math.max(0, Math.min(255, 128 + 90 * Math.sin((x + y) / 23) + n * 0.25));
    }
  }
  await sharp(buf, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(path);
}

interface Run {
  peakKB: number;
  source: string;
  wallSeconds: number;
  status: number | null;
  stderr: string;
}

async function run(args: string[], interruptAfter = 0): Promise<Run & { stopSeconds: number | null }> {
  const useTime = existsSync('/usr/bin/time');
  const cmd = useTime ? '/usr/bin/time' : process.execPath;
  const full = useTime ? ['-v', process.execPath, cli, ...args] : [cli, ...args];
  const t0 = performance.now();
  const child = spawn(cmd, full, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let polled = 0;
  const poll = setInterval(() => {
    try {
      // with /usr/bin/time the node process is its child; without, it is `child` itself
      const pids = useTime
        ? readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)
        : [String(child.pid)];
      for (const pid of pids) {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) polled = Math.max(polled, Number(m[1]));
      }
    } catch {
      // not started yet or already gone
    }
  }, 100);
  let signalled = 0;
  const timer =
    interruptAfter > 0
      ? setTimeout(() => {
          signalled = performance.now();
          // the node process itself (under /usr/bin/time it is time's child), as a terminal's Ctrl-C reaches it
          const pids = useTime
            ? readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)
            : [String(child.pid)];
          for (const pid of pids) process.kill(Number(pid), 'SIGINT');
        }, interruptAfter * 1000)
      : null;
  const status = await new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const stopSeconds = signalled ? (performance.now() - signalled) / 1000 : null;
  if (timer) clearTimeout(timer);
  clearInterval(poll);
  const wallSeconds = (performance.now() - t0) / 1000;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  if (m)
    return { peakKB: Number(m[1]), source: '/usr/bin/time -v (ru_maxrss of the node process)', wallSeconds, status, stderr, stopSeconds };
  return { peakKB: polled, source: 'VmHWM from /proc, polled every 100 ms', wallSeconds, status, stderr, stopSeconds };
}

const size = Number(arg('size', '1024'));
const factor = Number(arg('factor', '4'));
const t = arg('t', '20');
const steps = arg('steps', '2');
const tile = arg('tile', '');
const cascade = arg('cascade', '');
const interruptAfter = Number(arg('interrupt-after', '0'));
const label = arg('label', '');
const { spec, note } = pickModel();
const dir = await mkdtemp(join(tmpdir(), 'sr-memory-'));
try {
  const input = join(dir, `in-${size}.png`);
  const output = join(dir, `out-${size * factor}.png`);
  await makeInput(input, size);
  const args = [
    'upscale',
    input,
    '-o',
    output,
    '--factor',
    String(factor),
    '--model',
    spec,
    '--device',
    'cpu',
    '--t',
    t,
    '--steps',
    steps,
    '--seed',
    '1',
    '-q',
    '--yes',
    ...(tile ? ['--tile', tile] : []),
    ...(cascade ? ['--cascade', cascade] : []),
  ];
  process.stderr.write(
    `memory benchmark: ${size}x${size} x${factor} with model ${spec} (${note}), t=${t}, steps=${steps}${tile ? `, tile ${tile}` : ''} ...\n`,
  );
  const r = await run(args, interruptAfter);
  if (r.status !== 0 && !interruptAfter) {
    process.stderr.write(r.stderr);
    throw new Error(`the upscale exited with status ${r.status}`);
  }
  const left = (await readdir(dir)).filter((f) => f !== `in-${size}.png`);
  const meta = interruptAfter ? { width: size * factor, height: size * factor } : await sharp(output).metadata();
  const manifest = JSON.parse(
    await readFile(join(spec.includes('/') ? spec : join(root, 'models', spec), 'manifest.json'), 'utf8'),
  ) as Record<string, unknown>;
  const peakMB = r.peakKB / 1024;
  const result = {
    date: new Date().toISOString(),
    label: label || null,
    model: {
      spec,
      note,
      name: manifest.name,
      params: manifest.params,
      multiple: manifest.multiple,
      weights: manifest.weights ?? 'float32',
    },
    settings: {
      input: `${size}x${size}`,
      output: `${meta.width}x${meta.height}`,
      factor,
      t: Number(t),
      steps: Number(steps),
      cascade: cascade ? Number(cascade) : "model's default",
      tile: tile ? Number(tile) : 'default (512)',
      device: 'cpu',
      seed: 1,
    },
    interrupt: interruptAfter
      ? { after: interruptAfter, exitSecondsAfterSigint: r.stopSeconds, status: r.status, leftInOutputFolder: left }
      : null,
    peakRssMB: Math.round(peakMB),
    peakSource: r.source,
    targetMB: TARGET_MB,
    withinTarget: peakMB <= TARGET_MB,
    wallSeconds: Math.round(r.wallSeconds * 10) / 10,
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      totalMemGB: Math.round(totalmem() / 2 ** 30),
      note: 'shared with a background training job; wall time is not a speed figure',
    },
  };
  const stamp = result.date.slice(0, 10);
  const outDir = join(root, 'benchmarks', 'results');
  await mkdir(outDir, { recursive: true });
  const base = join(outDir, `memory-${stamp}${label ? '-' + label.replace(/[^a-z0-9-]+/gi, '-') : ''}`);
  await writeFile(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
  await writeFile(
    `${base}.md`,
    [
      `# Memory: ${result.settings.input} x${factor} -> ${result.settings.output} on the CPU (${stamp})`,
      '',
      `Peak resident memory: **${result.peakRssMB} MB** (target ${TARGET_MB} MB: ${result.withinTarget ? 'within' : 'OVER'}), from ${r.source}.`,
      ...(result.interrupt
        ? [
            '',
            `Interrupted: SIGINT ${interruptAfter} s into the run; exited **${result.interrupt.exitSecondsAfterSigint?.toFixed(2)} s** later with status ${r.status}; left in the output folder: ${left.length ? left.join(', ') : 'nothing'}.`,
          ]
        : []),
      '',
      `- model: ${spec} — ${note} (${String(manifest.name)}, ${String(manifest.params)} parameters, ${String(result.model.weights)} weights)`,
      `- settings: t=${t}, steps=${steps} (few steps on purpose: memory does not grow with steps; 2 rather than 1 so the ancestral sampler's noise buffer is included), tile ${result.settings.tile}, seed 1`,
      `- wall time ${result.wallSeconds} s (${result.machine.cpus} cores shared with other work; not a speed figure)`,
      `- node ${process.version}, ${result.machine.cpuModel}`,
      '',
      'Run: `npx tsc -p . && node dist/benchmarks/memory.js` (see the header of benchmarks/memory.ts for flags).',
      '',
    ].join('\n'),
  );
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`wrote ${base}.json and .md\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
