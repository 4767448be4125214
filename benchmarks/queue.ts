/**
 * The queue's cost and its scaling on one machine, in one run:
 *
 *  1. Overhead per job: a sweep of the baselines only (no model; each job a few ms of work) over many tiny images,
 *     run in-process and then through Redis with one worker. (queued − local) / jobs is what a job costs to
 *     enqueue, hand to a worker, report and collect.
 *  2. Throughput: the same model sweep run in-process (one ORT thread), then on the queue with 1 worker and with
 *     2 workers (each one ORT thread), every run into a fresh folder. Workers are started and have loaded the
 *     model (one untimed warm-up job) before each timed run. The ratio 1 worker / 2 workers is the speed-up of a
 *     second worker; on a 2-core machine it cannot pass 2.
 *
 *   npx tsc -p . && node dist/benchmarks/queue.js [--hr DIR] [--limit N] [--model default] [--factor 4]
 *        [--t 25,50] [--cascade 1,2] [--steps 5] [--tiny 60] [--queue redis://host:port] [--label text]
 *
 * Without --queue a redis-server is started on a free loopback port and stopped at the end. Default HR: the Set5
 * ground truth of the shared data folder (an evaluation set: fine for timing, never for choosing settings).
 * Writes benchmarks/results/queue-<date>[-label].json and .md; the numbers are identical across the runs (checked).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runSweep, type SweepOptions, type SweepResult } from '../src/eval/sweep.js';
import { loadModel } from '../src/model/session.js';
import { startRedis } from '../test/redis-server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'index.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const list = (s: string): number[] => s.split(',').map(Number);

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'worker', '--queue', url, '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((res, rej) => {
    let text = '';
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      if (/ready on/.test(text)) res(child);
    });
    child.on('close', (code) => rej(new Error(`worker exited ${code}: ${text}`)));
  });
}

async function stopWorkers(ws: ChildProcess[]): Promise<void> {
  await Promise.all(
    ws.map(
      (w) =>
        new Promise<void>((res) => {
          w.removeAllListeners('close');
          w.on('close', () => res());
          w.kill('SIGTERM');
        }),
    ),
  );
}

async function timed(o: SweepOptions): Promise<{ seconds: number; result: SweepResult }> {
  const t0 = performance.now();
  const result = await runSweep(o);
  return { seconds: (performance.now() - t0) / 1000, result };
}

const tasksOf = (r: SweepResult): number => r.meta.run.modelRuns + r.records.filter((x) => x.kind !== 'boomerang').length;

async function main(): Promise<void> {
  const hr = resolve(arg('hr', join(root, '..', 'shared', 'data', 'Set5')));
  const limit = arg('limit', '');
  const modelSpec = arg('model', 'default');
  const factor = Number(arg('factor', '4'));
  const grid = { factors: [factor], ts: list(arg('t', '25,50')), cascades: list(arg('cascade', '1,2')), steps: list(arg('steps', '5')) };
  const tinyCount = Number(arg('tiny', '60'));
  const label = arg('label', '');
  if (!existsSync(hr)) throw new Error(`No HR folder ${hr} (give --hr)`);
  const own = arg('queue', '') ? null : await startRedis();
  const url = arg('queue', '') || own!.url;
  const work = await mkdtemp(join(tmpdir(), 'sr-bench-queue-'));
  const workers: ChildProcess[] = [];
  try {
    // 1. overhead: baselines only, tiny images
    const tiny = join(work, 'tiny');
    await mkdir(tiny);
    const src = sharp(join(root, 'fixtures', 'flowers-64.png'));
    for (let i = 0; i < tinyCount; i++) {
      await src
        .clone()
        .extract({ left: i % 33, top: Math.floor(i / 33) % 33, width: 32, height: 32 })
        .png()
        .toFile(join(tiny, `t${String(i).padStart(3, '0')}.png`));
    }
    const base: SweepOptions = { hr: tiny, out: '', factors: [4], ts: [], saveImages: 'none' };
    workers.push(await startWorker(url));
    await runSweep({ ...base, out: join(work, 'warm-base'), limit: 2, queue: url }); // connections warm
    const localBase = await timed({ ...base, out: join(work, 'base-local') });
    const queuedBase = await timed({ ...base, out: join(work, 'base-q1'), queue: url });
    const baseJobs = tasksOf(queuedBase.result);
    const overheadMs = ((queuedBase.seconds - localBase.seconds) / baseJobs) * 1000;
    process.stderr.write(
      `overhead: ${baseJobs} jobs, local ${localBase.seconds.toFixed(2)} s, queued ${queuedBase.seconds.toFixed(2)} s\n`,
    );

    // 2. throughput: the model sweep, local (1 thread), 1 worker, 2 workers
    const sweep: SweepOptions = {
      hr,
      out: '',
      model: modelSpec,
      ...grid,
      seed: 0,
      saveImages: 'none',
      ...(limit ? { limit: Number(limit) } : {}),
    };
    const warm = (out: string) => runSweep({ ...sweep, ts: [grid.ts[0]!], cascades: [1], limit: 1, out: join(work, out), queue: url });
    const model = await loadModel(modelSpec, { threads: 1 });
    const local = await timed({ ...sweep, model, out: join(work, 'local') });
    await model.dispose();
    await warm('warm1');
    const q1 = await timed({ ...sweep, out: join(work, 'q1'), queue: url });
    workers.push(await startWorker(url));
    await warm('warm2');
    await warm('warm2b'); // both workers have the model loaded
    const q2 = await timed({ ...sweep, out: join(work, 'q2'), queue: url });
    const same = (a: SweepResult, b: SweepResult) =>
      a.records.length === b.records.length && a.records.every((r, i) => r.psnrY === b.records[i]!.psnrY);
    const identical = same(local.result, q1.result) && same(local.result, q2.result);
    const jobs = tasksOf(q1.result);
    const results = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? '?'}`,
      note: arg('note', ''),
      redis: own ? 'redis-server started by the benchmark on loopback' : url,
      overhead: { jobs: baseJobs, localSeconds: localBase.seconds, queuedSeconds: queuedBase.seconds, perJobMs: overheadMs },
      throughput: {
        hr,
        images: local.result.meta.images[factor]!.length,
        model: local.result.meta.model,
        grid,
        jobs,
        localSeconds: local.seconds,
        oneWorkerSeconds: q1.seconds,
        twoWorkersSeconds: q2.seconds,
        speedupTwoWorkers: q1.seconds / q2.seconds,
        queueVsLocal: q1.seconds / local.seconds,
        identicalNumbers: identical,
      },
    };
    const name = `queue-${results.date.slice(0, 10)}${label ? `-${label}` : ''}`;
    const dir = join(root, 'benchmarks', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
    const t = results.throughput;
    const md = [
      `# Queue benchmark (${results.date.slice(0, 10)})`,
      '',
      `Machine: ${results.machine}. ${results.redis}. Command: \`node dist/benchmarks/queue.js${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\`.`,
      results.note ? `\n${results.note}\n` : '',
      '## Overhead per job',
      '',
      `${baseJobs} baseline jobs (${tinyCount} images of 32x32 px, x4, 5 baselines each; a few ms of work per job), one worker:`,
      '',
      '| run | seconds |',
      '|---|---:|',
      `| in-process | ${localBase.seconds.toFixed(2)} |`,
      `| queue, 1 worker | ${queuedBase.seconds.toFixed(2)} |`,
      '',
      `**Overhead: ${overheadMs.toFixed(1)} ms per job** ((queued − in-process) / jobs).`,
      '',
      '## Throughput',
      '',
      `Sweep of ${t.images} images of ${hr.split('/').slice(-1)[0]} at x${factor}, t ${grid.ts.join(',')} x cascade ${grid.cascades.join(',')}, ${grid.steps.join(',')} steps, with the baselines: ${jobs} jobs, model ${t.model?.name} (${t.model?.sha256.slice(0, 12)}…). Each run one ONNX Runtime thread per process.`,
      '',
      '| run | seconds | jobs/min |',
      '|---|---:|---:|',
      `| in-process, 1 thread | ${local.seconds.toFixed(1)} | ${((jobs / local.seconds) * 60).toFixed(1)} |`,
      `| queue, 1 worker | ${q1.seconds.toFixed(1)} | ${((jobs / q1.seconds) * 60).toFixed(1)} |`,
      `| queue, 2 workers | ${q2.seconds.toFixed(1)} | ${((jobs / q2.seconds) * 60).toFixed(1)} |`,
      '',
      `**2 workers / 1 worker throughput: ${t.speedupTwoWorkers.toFixed(2)}x**; 1 worker / in-process time: ${t.queueVsLocal.toFixed(3)}. Same numbers in all three runs: ${identical ? 'yes' : 'NO'}.`,
      '',
    ].join('\n');
    await writeFile(join(dir, `${name}.md`), md);
    process.stdout.write(md + `\nwrote benchmarks/results/${name}.md and .json\n`);
  } finally {
    await stopWorkers(workers);
    own?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
