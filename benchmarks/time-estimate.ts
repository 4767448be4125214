/**
 * Time: the estimate `sr upscale` prints against the wall time (issue 22 item 3). Runs `sr upscale` in a child
 * process (stderr a pipe, as in a log) on a synthetic image, by default 1024x680 at x4 and x8 with the default model,
 * and records per run: the estimate at model load (the --json report's, exact, and the line printed), where its
 * speed came from, the wall time of the command and of the work after the estimate, the estimate's error against
 * each, the seconds to the first stderr line and to the first progress line, the longest silence on stderr, and the
 * progress line's ETA at 10%, 25% and 50% against the time that was really left.
 *
 *   npx tsc -p . && node dist/benchmarks/time-estimate.js [--size 1024x680] [--factors 4,8] [--model default]
 *       [--jpeg Q] [--repeat N] [--out DIR] [--label TEXT] [--note TEXT] [-- extra sr upscale flags]
 *
 * --jpeg Q saves the synthetic input as a JPEG of quality Q (the model's settings for JPEG inputs then run).
 *
 * Each job starts with an empty speed cache (SR_CACHE_DIR in a temp folder), so its first run is timed at model
 * load as on a machine's first use; --repeat N runs it N times in a row with that cache (runs 2..N go by the figure
 * run 1 left). Writes <out>/time-estimate-<date>[-label].json and .md (default out: benchmarks/results). Run it on an
 * otherwise idle machine: the x8 job takes about half an hour on 2 cores.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'index.js');
const dashes = process.argv.indexOf('--');
const argv = process.argv.slice(2, dashes < 0 ? undefined : dashes);
const extra = dashes < 0 ? [] : process.argv.slice(dashes + 1);
function arg(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}
const [width, height] = arg('size', '1024x680').split('x').map(Number) as [number, number];
const factors = arg('factors', '4,8').split(',').map(Number);
const model = arg('model', 'default');
const repeat = Number(arg('repeat', '1'));
const out = resolve(arg('out', join(root, 'benchmarks', 'results')));
const label = arg('label', '');
const note = arg('note', '');
const jpeg = argv.includes('--jpeg') ? Number(arg('jpeg', '')) : null;
if (jpeg !== null && !(Number.isInteger(jpeg) && jpeg >= 1 && jpeg <= 100)) throw new Error('Expected --jpeg Q in 1..100');
if (!(width > 0 && height > 0) || factors.some((f) => !(f > 0)) || !(repeat >= 1)) {
  throw new Error('Expected --size WxH, --factors F,F and --repeat N to be positive');
}

interface Line {
  at: number;
  text: string;
}

interface Run {
  factor: number;
  run: number;
  exitCode: number | null;
  wallSeconds: number;
  /** The estimate at model load (the --json report's) and where its speed came from. */
  estimateSeconds: number | null;
  estimateSource: string | null;
  /** The line printed with it (absent for a job estimated under 10 s), and when, from the start. */
  estimateLine: string | null;
  estimateAt: number | null;
  /** Seconds from the estimate to the end of the command: what the estimate is of. */
  afterEstimateSeconds: number | null;
  /** estimate / (wall time after the estimate) − 1, and estimate / (whole wall time) − 1. */
  errorAfterEstimate: number | null;
  errorWall: number | null;
  firstLineSeconds: number | null;
  firstProgressSeconds: number | null;
  longestSilenceSeconds: number;
  /** The progress line's ETA at the first line past 10%, 25% and 50%, and the time that was really left then. */
  eta: { percent: number; at: number; eta: number; actualLeft: number }[];
  progressLines: number;
  /** The last stderr lines (the result line, or the error). */
  tail: string[];
}

async function syntheticImage(path: string): Promise<void> {
  // smooth shapes, edges and a fine texture: what the sampler does not care about, but a photo-like input
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const edge = (Math.floor(x / 97) + Math.floor(y / 61)) % 2 ? 40 : 0;
      data[i] = 128 + 70 * Math.sin(x / 53) + edge * 0.5;
      data[i + 1] = 120 + 60 * Math.cos(y / 41) + 20 * Math.sin((x + y) / 3);
      data[i + 2] = 110 + 50 * Math.sin((x - 2 * y) / 29) - edge * 0.5;
    }
  }
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  await (jpeg === null ? image.png() : image.jpeg({ quality: jpeg })).toFile(path);
}

function runSr(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; lines: Line[]; wall: number }> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: Line[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const at = (performance.now() - t0) / 1000;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ at, text });
      process.stderr.write(chunk);
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const wall = (performance.now() - t0) / 1000;
      if (partial) lines.push({ at: wall, text: partial });
      done({ code, lines, wall });
    });
  });
}

const PROGRESS = /^\[[#-]+\]\s+(\d+)%.*?(?:ETA ([\d.]+)s)?$/;

function analyse(factor: number, run: number, code: number | null, lines: Line[], wall: number, report: unknown): Run {
  const file = (report as { files?: { estimate?: { seconds: number | null; source: string | null } | null }[] } | null)?.files?.[0];
  const estimateSeconds = file?.estimate?.seconds ?? null;
  const progress = lines.filter((l) => PROGRESS.test(l.text));
  // the estimate at model load: the last cost line before the work (a job over the --yes limit has one from its
  // plan before it, at the speed known then)
  const before = progress[0]?.at ?? Infinity;
  const estimateLine = lines.filter((l) => l.at <= before && / model evaluations \(.*\), about /.test(l.text)).at(-1) ?? null;
  const afterEstimate = estimateLine ? wall - estimateLine.at : null;
  let silence = lines.length ? lines[0]!.at : wall;
  for (let i = 1; i < lines.length; i++) silence = Math.max(silence, lines[i]!.at - lines[i - 1]!.at);
  if (lines.length) silence = Math.max(silence, wall - lines.at(-1)!.at);
  const eta: Run['eta'] = [];
  for (const percent of [10, 25, 50]) {
    const l = progress.find((p) => Number(PROGRESS.exec(p.text)![1]) >= percent && PROGRESS.exec(p.text)![2] !== undefined);
    if (l) eta.push({ percent, at: round(l.at), eta: Number(PROGRESS.exec(l.text)![2]), actualLeft: round(wall - l.at) });
  }
  return {
    factor,
    run,
    exitCode: code,
    wallSeconds: round(wall),
    estimateSeconds,
    estimateSource: file?.estimate?.source ?? null,
    estimateLine: estimateLine?.text ?? null,
    estimateAt: estimateLine ? round(estimateLine.at) : null,
    afterEstimateSeconds: afterEstimate === null ? null : round(afterEstimate),
    errorAfterEstimate: estimateSeconds !== null && afterEstimate ? round(estimateSeconds / afterEstimate - 1) : null,
    errorWall: estimateSeconds !== null ? round(estimateSeconds / wall - 1) : null,
    firstLineSeconds: lines[0] ? round(lines[0].at) : null,
    firstProgressSeconds: progress[0] ? round(progress[0].at) : null,
    longestSilenceSeconds: round(silence),
    eta,
    progressLines: progress.length,
    tail: lines.slice(-3).map((l) => l.text),
  };
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
const pct = (v: number | null): string => (v === null ? '—' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
const sec = (v: number | null): string => (v === null ? '—' : `${v.toFixed(1)} s`);

const work = await mkdtemp(join(os.tmpdir(), 'sr-time-estimate-'));
const started = new Date();
const load = [os.loadavg().map((v) => Math.round(v * 100) / 100)];
const runs: Run[] = [];
try {
  const input = join(work, `synthetic-${width}x${height}.${jpeg === null ? 'png' : 'jpg'}`);
  await syntheticImage(input);
  for (const factor of factors) {
    const cache = await mkdtemp(join(work, `cache-x${factor}-`));
    for (let k = 1; k <= repeat; k++) {
      const output = join(work, `out-x${factor}.png`);
      const json = join(work, `report-x${factor}-${k}.json`);
      const args = [
        'upscale',
        input,
        '-o',
        output,
        '--model',
        model,
        '--factor',
        String(factor),
        '--yes',
        '--force',
        '--json',
        json,
        ...extra,
      ];
      console.error(`\n== sr ${args.join(' ')}  (run ${k}/${repeat}, speed cache ${cache})`);
      const { code, lines, wall } = await runSr(args, { ...process.env, SR_CACHE_DIR: cache });
      let report: unknown = null;
      try {
        report = JSON.parse(readFileSync(json, 'utf8'));
      } catch {
        // no report: the run failed before it was written
      }
      runs.push(analyse(factor, k, code, lines, wall, report));
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
load.push(os.loadavg().map((v) => Math.round(v * 100) / 100));

const cpu = os.cpus();
const result = {
  benchmark: 'time-estimate',
  date: started.toISOString(),
  machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  loadAverage: { start: load[0], end: load[1] },
  note,
  input: `synthetic ${width}x${height} ${jpeg === null ? 'PNG' : `JPEG (quality ${jpeg})`}`,
  model,
  extraFlags: extra,
  command: `node dist/benchmarks/time-estimate.js ${process.argv.slice(2).join(' ')}`.trim(),
  runs,
};
const name = `time-estimate-${started.toISOString().slice(0, 10)}${label ? `-${label}` : ''}`;
await mkdir(out, { recursive: true });
await writeFile(join(out, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  `# Time estimate against wall time (${started.toISOString().slice(0, 10)})`,
  '',
  `- machine: ${result.machine.cpu} × ${result.machine.cores} cores, ${result.machine.memoryGB} GB; node ${result.machine.node}`,
  `- load average at start ${JSON.stringify(load[0])}, at end ${JSON.stringify(load[1])}${note ? `; ${note}` : ''}`,
  `- input: ${result.input}; model ${model}${extra.length ? `; extra flags: \`${extra.join(' ')}\`` : ''}; each job's first run with an empty speed cache`,
  `- command: \`${result.command}\``,
  '',
  'Estimate: at model load (the --json report\'s). "after est." is the wall time from the printed estimate to the end of the command, what the estimate is of; target: within 25% of the wall time, first progress line within 5 s.',
  '',
  '| job | run | speed from | estimate | wall | after est. | error (after est.) | error (wall) | first line | first progress | longest silence | ETA at 10% / 25% / 50% (actual left) |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...runs.map(
    (r) =>
      `| x${r.factor} | ${r.run} | ${r.estimateSource ?? '—'} | ${sec(r.estimateSeconds)} | ${sec(r.wallSeconds)} | ${sec(r.afterEstimateSeconds)} | ` +
      `${pct(r.errorAfterEstimate)} | ${pct(r.errorWall)} | ${sec(r.firstLineSeconds)} | ${sec(r.firstProgressSeconds)} | ${sec(r.longestSilenceSeconds)} | ` +
      `${r.eta.map((e) => `${e.eta.toFixed(0)} s (${e.actualLeft.toFixed(0)} s)`).join(' / ') || '—'} |`,
  ),
  '',
  ...runs.map(
    (r) => `- x${r.factor} run ${r.run}: exit ${r.exitCode}; ${r.estimateLine ? `\`${r.estimateLine}\`` : 'no estimate line (under 10 s)'}`,
  ),
  '',
];
await writeFile(join(out, `${name}.md`), md.join('\n'));
console.log(`wrote ${join(out, `${name}.json`)} and .md`);
if (runs.some((r) => r.exitCode !== 0)) process.exitCode = 1;
