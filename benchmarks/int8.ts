/**
 * Issue 21 item 4: an int8 static-quantised (QDQ) model against the shipped float model, on quality and speed.
 *
 *   npx tsc -p tsconfig.json && node dist/benchmarks/int8.js --int8 NAME=FILE[,NAME=FILE…] [--val /tmp/ab/val]
 *       [--limit 48] [--factors 4,8[,4-jpeg75…]] [--sizes 256,512] [--rounds 9] [--timing-only] [--quality-only] [--tuning]
 *       [--time-arms NAME,…]
 *       [--label TEXT] [--note TEXT]
 *   node dist/benchmarks/int8.js --dump-calib OUTDIR --calib-hr DIR     (calibration inputs for quantize.py)
 *
 * 1. Quality: PSNR-Y/SSIM-Y at the model's default settings (the shipped manifest's: 2 evaluations, DDIM η 0) on
 *    the first --limit held-out validation crops (models/train/val_crops.py; LR in <val>-lr/x<f>), through `evaluate`
 *    (the product's `upscale`), for the shipped model.onnx ("float", its float16 weights computed in float32) and
 *    each --int8 file loaded with loadModel(…, { onnxFile }) for the same manifest. Per arm: mean PSNR-Y/SSIM-Y, the
 *    drop against float, and the worst per-crop drop.
 * 2. Timing: ms per evaluation (batch 1, one square tile per --sizes) of every arm, interleaved: each round runs
 *    each arm once per size (order rotated per round), after 2 warm-up runs each; median and min over the rounds.
 *    --timing-only runs just this (short: about a minute on a 2-core machine), to rerun on an idle machine.
 * 3. --tuning: the float model's CPU session variants (threads 1 / all cores; memory arena off; memory pattern off)
 *    timed the same way.
 * The result records the CPU (model name, the SIMD flags that decide which int8 kernels ORT runs: avx2,
 * avx512_vnni, avx_vnni, amx…), the load average and the processes using CPU beside this one: timings taken while
 * other work runs are indicative only.
 *
 * --dump-calib: runs the shipped model at the default settings on <calib-hr> (LR in <calib-hr>-lr/x4 and x8, made by
 * quantize.py crops from the training split) and writes every model input as x_NNNN.npy / t_NNNN.npy, the data
 * quantize.py calibrates on: what the model sees in use (the enlargement at the factor's level, then the re-corrupted
 * second pass at t=400), not a synthetic stand-in.
 *
 * Writes benchmarks/results/int8-<date>[-label].{json,md} (--timing-only: int8-timing-<date>[-label].*).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { evaluate, type Evaluation } from '../src/eval/evaluate.js';
import { loadModel, type LoadModelOptions, type ModelSession } from '../src/model/session.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    int8: { type: 'string', default: '' },
    val: { type: 'string', default: '/tmp/ab/val' },
    limit: { type: 'string', default: '48' },
    factors: { type: 'string', default: '4,8' },
    sizes: { type: 'string', default: '256,512' },
    rounds: { type: 'string', default: '9' },
    'timing-only': { type: 'boolean', default: false },
    'quality-only': { type: 'boolean', default: false },
    tuning: { type: 'boolean', default: false },
    'time-arms': { type: 'string', default: '' },
    label: { type: 'string', default: '' },
    note: { type: 'string', default: '' },
    model: { type: 'string', default: join(root, 'models', 'default') },
    'dump-calib': { type: 'string' },
    'calib-hr': { type: 'string' },
  },
});

/** One float32 array as a .npy file (version 1.0, little-endian '<f4', C order). */
function npy(data: Float32Array, shape: readonly number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

if (a['dump-calib']) {
  const out = a['dump-calib'];
  const hr = a['calib-hr'];
  if (!hr) throw new Error('--dump-calib needs --calib-hr DIR (training crops from quantize.py crops)');
  if (resolve(hr) === resolve(a.val)) throw new Error('--calib-hr is the validation folder: calibrate on training crops only');
  await mkdir(out, { recursive: true });
  const model = await loadModel(a.model);
  let n = 0;
  const recording: ModelSession = {
    ...model,
    async run(x, batch, height, width, t) {
      await writeFile(join(out, `x_${String(n).padStart(4, '0')}.npy`), npy(x, [batch, 3, height, width]));
      await writeFile(join(out, `t_${String(n).padStart(4, '0')}.npy`), npy(Float32Array.from(t), [batch]));
      n++;
      return model.run(x, batch, height, width, t);
    },
    dispose: () => model.dispose(),
  };
  for (const c of a.factors.split(',')) {
    const f = Number.parseInt(c, 10);
    const r = await evaluate({
      hr,
      lr: `${hr.replace(/\/$/, '')}-lr/x${c}`,
      factor: f,
      model: recording,
      method: { kind: 'boomerang', options: { seed: 0 } },
    });
    console.log(`x${c}: ${r.images.length} crops, ${n} inputs so far`);
  }
  await model.dispose();
  console.log(`wrote ${n} model inputs (x_NNNN.npy, t_NNNN.npy) to ${out}`);
  process.exit(0);
}

interface Arm {
  name: string;
  file: string | null;
  /** Session options beyond the product's (the --tuning variants). */
  load?: Partial<LoadModelOptions>;
  model?: ModelSession;
}
const arms: Arm[] = [
  { name: 'float', file: null },
  ...a.int8
    .split(',')
    .filter(Boolean)
    .map((s) => {
      const i = s.indexOf('=');
      if (i <= 0) throw new Error(`--int8: expected NAME=FILE, got ${s}`);
      return { name: s.slice(0, i), file: s.slice(i + 1) };
    }),
];
const limit = Number(a.limit);
/** Conditions: a factor, or a factor and the LR folder's suffix (4-jpeg75: <val>-lr/x4-jpeg75, the LR saved as JPEG). */
const conditions = a.factors.split(',').map((c) => ({ label: `x${c}`, factor: Number.parseInt(c, 10), dir: `x${c}` }));
const sizes = a.sizes.split(',').map(Number);
const rounds = Number(a.rounds);
const date = new Date().toISOString().slice(0, 10);

/** The CPU as /proc/cpuinfo gives it, with the flags that pick ORT's int8 (and float) kernels. */
function cpuInfo(): { model: string; logical: number; physical: number | null; flags: string[] } {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { model: os.cpus()[0]?.model ?? 'unknown', logical: os.availableParallelism(), physical: null, flags: [] };
  }
  const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const all = (field('flags') ?? '').split(/\s+/);
  const wanted = [
    'avx2',
    'fma',
    'f16c',
    'avx512f',
    'avx512bw',
    'avx512vl',
    'avx512_vnni',
    'avx512_bf16',
    'avx_vnni',
    'amx_int8',
    'amx_bf16',
  ];
  const cores = new Set([...text.matchAll(/^physical id\s*:\s*(\d+)[\s\S]*?^core id\s*:\s*(\d+)/gm)].map((m) => `${m[1]}/${m[2]}`));
  return {
    model: field('model name') ?? 'unknown',
    logical: os.availableParallelism(),
    physical: cores.size || null,
    flags: wanted.filter((f) => all.includes(f)),
  };
}

/** Busy CPU time of the whole machine so far (ms, from /proc/stat: all but idle and iowait), or null. */
function machineBusyMs(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return ((user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return null;
  }
}

/** Runs `fn` and measures how much of the machine's CPU others (not this process) used meanwhile, in cores. */
async function othersDuring<T>(fn: () => Promise<T>): Promise<{ value: T; otherCores: number | null; wallS: number }> {
  const b0 = machineBusyMs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const b1 = machineBusyMs();
  const c = process.cpuUsage(c0);
  const mine = (c.user + c.system) / 1000;
  return {
    value,
    otherCores: b0 === null || b1 === null ? null : Math.round(((b1 - b0 - mine) / wall) * 100) / 100,
    wallS: Math.round(wall / 100) / 10,
  };
}

/** What else uses the CPU now (ps %CPU ≥ 5, which ps averages over each process's life), and the load average. */
function busy(): { loadavg: number[]; others: string[] } {
  let others: string[] = [];
  try {
    others = execFileSync('ps', ['-eo', 'pid=,ni=,pcpu=,args=', '--sort=-pcpu'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && Number(l.split(/\s+/)[2]) >= 5 && Number(l.split(/\s+/)[0]) !== process.pid)
      .map((l) => l.slice(0, 160));
  } catch {
    /* no ps: recorded as none seen */
  }
  return { loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), others };
}

async function open(arm: Arm): Promise<ModelSession> {
  arm.model ??= await loadModel(a.model, { ...(arm.file ? { onnxFile: arm.file } : {}), ...arm.load });
  return arm.model;
}

// 1. quality
interface QualityRow {
  arm: string;
  factor: number;
  condition: string;
  psnrY: number;
  ssimY: number;
  dropPsnrY: number;
  dropSsimY: number;
  worstCropDrop: number;
  worstCrop: string;
  evaluations: number;
  seconds: number;
}
const quality: QualityRow[] = [];
/** PSNR-Y of every crop, per factor and arm (x4 → arm → name → dB), for looking at where int8 loses. */
const perCrop: Record<string, Record<string, Record<string, number>>> = {};
const before = busy();
if (!a['timing-only']) {
  for (const { label, factor: f, dir } of conditions) {
    const results: Record<string, Evaluation> = {};
    for (const arm of arms) {
      const r = await evaluate({
        hr: a.val,
        lr: `${a.val.replace(/\/$/, '')}-lr/${dir}`,
        factor: f,
        model: await open(arm),
        method: { kind: 'boomerang', options: { seed: 0 } },
        limit,
      });
      results[arm.name] = r;
      perCrop[label] ??= {};
      perCrop[label]![arm.name] = Object.fromEntries(r.images.map((i) => [i.name, Math.round(i.psnrY * 1e4) / 1e4]));
      const ref = results.float!;
      const refBy = new Map(ref.images.map((i) => [i.name, i.psnrY]));
      let worst = { drop: Number.NEGATIVE_INFINITY, name: '' };
      for (const im of r.images) {
        const d = refBy.get(im.name)! - im.psnrY;
        if (d > worst.drop) worst = { drop: d, name: im.name };
      }
      const row: QualityRow = {
        arm: arm.name,
        factor: f,
        condition: label,
        psnrY: r.mean.psnrY,
        ssimY: r.mean.ssimY,
        dropPsnrY: ref.mean.psnrY - r.mean.psnrY,
        dropSsimY: ref.mean.ssimY - r.mean.ssimY,
        worstCropDrop: worst.drop,
        worstCrop: worst.name,
        evaluations: r.mean.evaluations,
        seconds: r.mean.seconds,
      };
      quality.push(row);
      console.log(
        `${label} ${arm.name}: PSNR-Y ${row.psnrY.toFixed(4)} SSIM-Y ${row.ssimY.toFixed(5)} drop ${row.dropPsnrY.toFixed(4)} dB (worst crop ${worst.drop.toFixed(3)})`,
      );
    }
  }
}

// 2. timing, interleaved
interface TimingRow {
  arm: string;
  size: number;
  medianMs: number;
  minMs: number;
  /**
   * CPU time of this process per evaluation (all its threads), median: less moved by other processes than wall
   * time, since time spent waiting for a core is not counted (cache and memory sharing still are).
   */
  cpuMs: number;
  runs: number;
  /** Float's median wall ms over this arm's. */
  speedup: number;
  /** The same from the minimums, and from CPU ms. */
  speedupMin: number;
  speedupCpu: number;
}
async function timeArms(list: Arm[]): Promise<TimingRow[]> {
  const rows: TimingRow[] = [];
  for (const size of sizes) {
    const n = 3 * size * size;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.9 * Math.sin(0.37 * i);
    const t = [400];
    const times = new Map<string, number[]>(list.map((arm) => [arm.name, []]));
    const cpus = new Map<string, number[]>(list.map((arm) => [arm.name, []]));
    for (const arm of list) for (let k = 0; k < 2; k++) await (await open(arm)).run(x, 1, size, size, t);
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < list.length; j++) {
        const arm = list[(j + r) % list.length]!;
        const m = await open(arm);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await m.run(x, 1, size, size, t);
        times.get(arm.name)!.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpus.get(arm.name)!.push((c.user + c.system) / 1000);
      }
    }
    const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
    const base = median(times.get(list[0]!.name)!);
    const baseMin = Math.min(...times.get(list[0]!.name)!);
    const baseCpu = median(cpus.get(list[0]!.name)!);
    for (const arm of list) {
      const v = times.get(arm.name)!;
      const cpu = median(cpus.get(arm.name)!);
      rows.push({
        arm: arm.name,
        size,
        medianMs: median(v),
        minMs: Math.min(...v),
        cpuMs: cpu,
        runs: v.length,
        speedup: base / median(v),
        speedupMin: baseMin / Math.min(...v),
        speedupCpu: baseCpu / cpu,
      });
      console.log(
        `${size}² ${arm.name}: ${median(v).toFixed(1)} ms/evaluation (min ${Math.min(...v).toFixed(1)}, CPU ${cpu.toFixed(1)} ms)`,
      );
    }
  }
  return rows;
}
// --time-arms NAME,…: time only these (float always first); default all
const timed = a['time-arms'] ? arms.filter((x) => x.name === 'float' || a['time-arms']!.split(',').includes(x.name)) : arms;
const timedRun = await othersDuring(() => (a['quality-only'] ? Promise.resolve([]) : timeArms(timed)));
const timing = timedRun.value;
let tuning: TimingRow[] = [];
let tuningOtherCores: number | null = null;
if (a.tuning) {
  const threads = os.availableParallelism();
  const variants: Arm[] = [
    { name: `float, product session (threads ${threads}, arena on, pattern on)`, file: null },
    { name: 'threads 1', file: null, load: { threads: 1 } },
    { name: 'memory arena off', file: null, load: { memArena: false } },
    { name: 'memory pattern off', file: null, load: { memPattern: false } },
  ];
  const run = await othersDuring(() => timeArms(variants));
  tuning = run.value;
  tuningOtherCores = run.otherCores;
  for (const v of variants) await v.model?.dispose();
}
const after = busy();
for (const arm of arms) await arm.model?.dispose();

// 3. report
const cpu = cpuInfo();
const base = join(root, 'benchmarks', 'results', `int8${a['timing-only'] ? '-timing' : ''}-${date}${a.label ? `-${a.label}` : ''}`);
const result = {
  date,
  command: `node dist/benchmarks/int8.js ${process.argv.slice(2).join(' ')}`,
  cpu,
  node: process.version,
  onnxruntime: JSON.parse(readFileSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version as string,
  running: { before, after, note: a.note, timingOtherCores: timedRun.otherCores, timingWallSeconds: timedRun.wallS, tuningOtherCores },
  arms: arms.map((x) => ({ name: x.name, file: x.file ?? join(a.model, 'model.onnx') })),
  settings: 'the model defaults (manifest defaults: t 400, cascade 2, steps 1, DDIM eta 0, ibp, back-projection 3), seed 0',
  val: a.val,
  limit,
  protocol: 'PSNR-Y/SSIM-Y: BT.601 Y, shave = factor, peak 255, SSIM 11x11 Gaussian sigma 1.5',
  quality,
  perCrop,
  timing: { sizes, rounds, warmup: 2, batch: 1, t: 400, rows: timing },
  tuning,
};
await mkdir(dirname(base), { recursive: true });
await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
const f3 = (v: number) => v.toFixed(3);
const md = [
  `# int8 (QDQ static) against the shipped float model (${date})`,
  '',
  `CPU: ${cpu.model}, ${cpu.logical} logical / ${cpu.physical ?? '?'} physical cores, flags ${cpu.flags.join(' ')}; onnxruntime-node ${result.onnxruntime}, Node ${process.version}.`,
  `Load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')}. During the timing (${timedRun.wallS} s) other processes used ${timedRun.otherCores ?? '?'} of the ${cpu.logical} cores (/proc/stat less this process). Processes with ps %CPU ≥ 5 (averaged over each one's life) at the start: ${before.others.length ? '' : 'none'}`,
  ...before.others.map((l) => `    ${l}`),
  ...(a.note ? ['', `Note: ${a.note}`] : []),
  '',
  `Command: \`${result.command}\``,
  '',
  ...(quality.length
    ? [
        `## Quality: ${limit} held-out validation crops (${a.val}), the model's default settings, through \`evaluate\` (\`upscale\`)`,
        '',
        '| condition | arm | PSNR-Y | SSIM-Y | PSNR-Y drop vs float | SSIM-Y drop | worst crop drop |',
        '|---|---|---|---|---|---|---|',
        ...quality.map(
          (q) =>
            `| ${q.condition} | ${q.arm} | ${q.psnrY.toFixed(4)} | ${q.ssimY.toFixed(5)} | ${q.arm === 'float' ? '' : `${f3(q.dropPsnrY)} dB`} | ${q.arm === 'float' ? '' : q.dropSsimY.toFixed(5)} | ${q.arm === 'float' ? '' : `${f3(q.worstCropDrop)} dB (${q.worstCrop})`} |`,
        ),
        '',
        'Drop: float minus int8 (positive: int8 is worse). Ship rule (issue 21): PSNR-Y drop ≤ 0.02 dB at x4 and x8.',
        '',
      ]
    : []),
  ...(timing.length
    ? [
        `## ms per evaluation (batch 1, t 400, interleaved: ${rounds} rounds after 2 warm-up runs each)`,
        '',
        '| tile | arm | median ms | min ms | CPU ms (median) | speed-up vs float: median / min / CPU |',
        '|---|---|---|---|---|---|',
        ...timing.map(
          (r) =>
            `| ${r.size}² | ${r.arm} | ${r.medianMs.toFixed(1)} | ${r.minMs.toFixed(1)} | ${r.cpuMs.toFixed(1)} | ${r.speedup.toFixed(2)}x / ${r.speedupMin.toFixed(2)}x / ${r.speedupCpu.toFixed(2)}x |`,
        ),
        '',
        (timedRun.otherCores ?? 1) > 0.1
          ? '**Indicative only**: other processes were using the CPU (above); rerun with `--timing-only` on an idle machine.'
          : 'Taken with no other process using the CPU.',
        '',
      ]
    : []),
  ...(tuning.length
    ? [
        '## CPU session variants (the float model, same interleaved timing)',
        '',
        `Other processes used ${tuningOtherCores ?? '?'} of the ${cpu.logical} cores meanwhile.`,
        '',
        '| tile | variant | median ms | min ms | CPU ms (median) | speed vs the product session: median / min / CPU |',
        '|---|---|---|---|---|---|',
        ...tuning.map(
          (r) =>
            `| ${r.size}² | ${r.arm} | ${r.medianMs.toFixed(1)} | ${r.minMs.toFixed(1)} | ${r.cpuMs.toFixed(1)} | ${r.speedup.toFixed(2)}x / ${r.speedupMin.toFixed(2)}x / ${r.speedupCpu.toFixed(2)}x |`,
        ),
        '',
      ]
    : []),
];
await writeFile(`${base}.md`, md.join('\n'));
console.log(`wrote ${base}.{json,md}`);
