/**
 * The queue (BullMQ on a real redis-server, started here on a free loopback port and stopped after): a sweep shared
 * by two `sr worker` processes, one of them killed with SIGKILL mid-job, still records every cell exactly once with
 * the local sweep's numbers; a batch on the queue writes the local batch's bytes; a stopped worker puts its job
 * back; bad payloads and a worker with another model fail at once with a reason; an unreachable Redis is one line
 * and exit code 7, with nothing written. Skipped without redis-server, unless SR_REQUIRE_REDIS=1 (set by .ci/run).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { AbortError, QueueError } from '../src/errors.js';
import { readLog } from '../src/eval/log.js';
import { recordKey } from '../src/eval/summary.js';
import { runSweep, type SweepOptions } from '../src/eval/sweep.js';
import { loadManifest } from '../src/model/manifest.js';
import { resolveModelDir } from '../src/model/locate.js';
import { QUEUE_NAME } from '../src/queue/connection.js';
import { PAYLOAD_VERSION } from '../src/queue/jobs.js';
import { resolveSettings } from '../src/upscale.js';
import { main } from '../src/cli/main.js';
import { cli, root, sr, tempDir } from './cli-helpers.js';
import { freePort, startRedis } from './redis-server.js';

const REQUIRE = process.env.SR_REQUIRE_REDIS === '1';
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (REQUIRE && !hasRedis) throw new Error('SR_REQUIRE_REDIS=1 but redis-server is not installed');

let redis: { stop: () => void } | null = null;
let url = '';
let queue: Queue;
const dir = tempDir('queue');
const hr = join(dir, 'hr');
const WORKER_ARGS = ['--threads', '1', '--stall-seconds', '2'];
const workers: ChildProcess[] = [];
const inProcess: AbortController[] = [];
const inProcessDone: Promise<number>[] = [];

/** A worker's stderr as it comes, and a wait for a line. */
function logOf() {
  let text = '';
  const waiters: { re: RegExp; res: () => void }[] = [];
  return {
    add: (s: string) => {
      text += s;
      for (const w of [...waiters]) if (w.re.test(text)) w.res();
    },
    log: () => text,
    /** Resolves when the log matches. */
    seen: (re: RegExp) => (re.test(text) ? Promise.resolve() : new Promise<void>((res) => waiters.push({ re, res }))),
  };
}

/** `sr worker` as a process: for what only a process shows (killed mid-job, SIGTERM and its exit code). */
function startWorker() {
  const child = spawn(process.execPath, [cli, 'worker', '--queue', url, ...WORKER_ARGS], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  workers.push(child);
  const l = logOf();
  child.stderr!.on('data', (d: Buffer) => l.add(d.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  return { child, log: l.log, seen: l.seen, exited };
}

/** `sr worker` in this process (the CLI's main, stopped by its signal): no process start. */
function startInProcessWorker() {
  const ac = new AbortController();
  const l = logOf();
  const done = main({
    stdout: { write: () => true },
    stderr: { write: (s: string) => l.add(s) },
    signal: ac.signal,
    argv: ['worker', '--queue', url, ...WORKER_ARGS],
  });
  inProcess.push(ac);
  inProcessDone.push(done);
  return { log: l.log, seen: l.seen };
}

/** Stops the running workers (but `keep`) and waits until they are gone, so none can take a job added next. */
async function killWorkers(keep?: ChildProcess): Promise<void> {
  for (const ac of inProcess) ac.abort();
  await Promise.all([
    ...inProcessDone,
    ...workers
      .filter((w) => w !== keep && w.exitCode === null && w.signalCode === null)
      .map((w) => new Promise((res) => w.once('close', res).kill('SIGKILL'))),
  ]);
}

describe('queue (BullMQ on redis-server)', { skip: !hasRedis && 'redis-server is not installed' }, () => {
  before(async () => {
    const server = await startRedis();
    redis = server;
    url = server.url;
    const port = server.port;
    queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null } });
    await mkdir(hr, { recursive: true });
    const src = join(root, 'fixtures', 'flowers-64.png');
    await sharp(src).toFile(join(hr, 'a.png'));
    await sharp(src).flop().toFile(join(hr, 'b.png'));
    await sharp(src).flip().toFile(join(hr, 'c.png'));
  });
  after(async () => {
    await killWorkers();
    await queue?.close();
    redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const grid = (out: string, queued: boolean): SweepOptions => ({
    hr,
    out,
    model: 'fixture',
    factors: [4],
    ts: [25, 50],
    cascades: [1, 2],
    steps: [25],
    seed: 2,
    saveImages: 'all',
    ...(queued ? { queue: url } : {}),
  });

  it('two workers share a sweep, one is killed mid-job, and every cell is recorded once with the local numbers', async () => {
    const a = startWorker();
    const b = startWorker();
    await Promise.all([a.seen(/ready/), b.seen(/ready/)]);
    const killed = a.seen(/start sweep x4 t/).then(() => a.child.kill('SIGKILL'));
    const out = join(dir, 'sweep-q');
    const queued = await runSweep(grid(out, true));
    await killed;
    assert.equal(await a.exited, null, 'worker A was killed');
    const lastStart = [...a.log().matchAll(/start sweep (x4 t.*)/g)].at(-1)![1]!;
    assert.ok(!a.log().includes(`done sweep ${lastStart} in`), `worker A was killed in the middle of ${lastStart}`);
    assert.match(b.log(), new RegExp(`done sweep ${lastStart.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in`), 'worker B ran it again');
    const local = await runSweep(grid(join(dir, 'sweep-local'), false));
    const { records } = await readLog(join(out, 'results.jsonl'));
    const keys = records.map(recordKey);
    assert.equal(new Set(keys).size, keys.length, 'no duplicate rows');
    assert.equal(records.length, local.records.length);
    assert.equal(queued.records.length, local.records.length);
    const byKey = new Map(local.records.map((r) => [recordKey(r), r]));
    for (const r of records) {
      const l = byKey.get(recordKey(r));
      assert.ok(l, `${r.id} on ${r.image} is a local cell`);
      assert.equal(r.psnrY, l.psnrY, `${r.id} on ${r.image}: same PSNR as the local sweep`);
      assert.equal(r.ssimY, l.ssimY);
    }
    assert.deepEqual(
      queued.rows.map((r) => [r.id, r.psnrY, r.pareto]),
      local.rows.map((r) => [r.id, r.psnrY, r.pareto]),
    );
    // a rerun finds everything in the log and enqueues nothing
    const again = await runSweep(grid(out, true));
    assert.equal(again.meta.run.computed, 0);
    assert.equal(again.meta.run.skipped, local.records.length);
    assert.match(b.log(), /done sweep x4 t/);
  });

  it('a batch on the queue writes the bytes of the local batch, and the report in the plan order', async () => {
    startInProcessWorker();
    const q = await sr([
      'upscale',
      hr,
      '-o',
      join(dir, 'up-q'),
      '--model',
      'fixture',
      '--steps',
      '4',
      '--seed',
      '5',
      '--queue',
      url,
      '--json',
      join(dir, 'up.json'),
      '-q',
    ]);
    assert.equal(q.status, 0, q.stderr);
    const l = await sr(['upscale', hr, '-o', join(dir, 'up-l'), '--model', 'fixture', '--steps', '4', '--seed', '5', '-q']);
    assert.equal(l.status, 0, l.stderr);
    for (const n of ['a', 'b', 'c']) {
      assert.ok((await readFile(join(dir, 'up-q', `${n}.png`))).equals(await readFile(join(dir, 'up-l', `${n}.png`))), `${n}.png`);
    }
    const report = JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as { files: { input: string; status: string }[] };
    assert.deepEqual(
      report.files.map((f) => [f.input, f.status]),
      ['a', 'b', 'c'].map((n) => [join(hr, `${n}.png`), 'ok']),
    );
  });

  it('precision auto on a queue runs float (workers load the float model), on a VNNI CPU too', async () => {
    // the worker of the batch test above is still taking jobs; the default model has an int8 variant
    const before = process.env.SR_CPU_FLAGS;
    process.env.SR_CPU_FLAGS = 'avx512_vnni';
    try {
      const args = ['upscale', hr, '-o', join(dir, 'auto-q'), '--steps', '2', '--seed', '5', '--queue', url];
      const q = await sr([...args, '--json', join(dir, 'auto.json'), '-q']);
      assert.equal(q.status, 0, q.stderr);
      const report = JSON.parse(readFileSync(join(dir, 'auto.json'), 'utf8')) as { files: { settings: { precision: string } }[] };
      assert.deepEqual(
        report.files.map((f) => f.settings.precision),
        ['float', 'float', 'float'],
      );
    } finally {
      if (before === undefined) delete process.env.SR_CPU_FLAGS;
      else process.env.SR_CPU_FLAGS = before;
    }
  });

  it('vary on the queue writes the local samples and one record each', async () => {
    // the worker of the batch test above is still taking jobs
    const args = ['vary', hr, '--model', 'fixture', '--t', '50,100', '--samples', '2', '--steps', '3', '-q'];
    const q = await sr([...args, '-o', join(dir, 'vary-q'), '--queue', url]);
    assert.equal(q.status, 0, q.stderr);
    const l = await sr([...args, '-o', join(dir, 'vary-l')]);
    assert.equal(l.status, 0, l.stderr);
    const lines = (d: string) =>
      readFileSync(join(dir, d, 'records.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((x) => JSON.parse(x) as { output: string; distance: unknown });
    const queued = lines('vary-q');
    const local = new Map(lines('vary-l').map((r) => [r.output, r]));
    assert.equal(queued.length, 12);
    assert.equal(new Set(queued.map((r) => r.output)).size, 12, 'one record per sample');
    for (const r of queued) {
      assert.deepEqual(r.distance, local.get(r.output)?.distance, r.output);
      assert.ok((await readFile(join(dir, 'vary-q', r.output))).equals(await readFile(join(dir, 'vary-l', r.output))), r.output);
    }
  });

  it('a stopped worker puts the job in hand back, and writes nothing', async () => {
    const manifest = await loadManifest(resolveModelDir('fixture'));
    const output = join(dir, 'slow.png');
    const w = startWorker();
    await w.seen(/ready/);
    await killWorkers(w.child); // only w may take it
    const options = { factor: 4, t: 400, steps: 400, cascade: 3, seed: 1 };
    const job = await queue.add('upscale', {
      v: PAYLOAD_VERSION,
      model: { spec: 'fixture', name: manifest.name, sha256: manifest.sha256 },
      job: { input: join(hr, 'a.png'), output, files: [output], settings: resolveSettings(options, manifest) },
      options,
    });
    await w.seen(/start upscale/);
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 143);
    assert.match(w.log(), /released upscale/);
    assert.equal(await queue.getJobState(job.id!), 'waiting');
    assert.equal(existsSync(output), false);
    await job.remove();
  });

  it('bad payloads and another model fail at once with a reason, never retried', async () => {
    const w = startInProcessWorker();
    await w.seen(/ready/);
    const bad = await queue.add('sweep', { v: PAYLOAD_VERSION, set: 'nope' });
    const unknown = await queue.add('frobnicate', { v: PAYLOAD_VERSION });
    const manifest = await loadManifest(resolveModelDir('fixture'));
    const other = await queue.add('upscale', {
      v: PAYLOAD_VERSION,
      model: { spec: 'fixture', name: 'fixture', sha256: '0'.repeat(64) },
      job: { input: join(hr, 'a.png'), output: join(dir, 'x.png'), files: [join(dir, 'x.png')], settings: resolveSettings({}, manifest) },
      options: {},
    });
    const failed = async (id: string) => {
      for (let i = 0; i < 200; i++) {
        if ((await queue.getJobState(id)) === 'failed') return (await queue.getJob(id))!;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail(`job ${id} did not fail`);
    };
    const j1 = await failed(bad.id!);
    assert.match(j1.failedReason, /bad job payload: sweep job: expected set to be object/);
    assert.equal(j1.attemptsMade, 1);
    assert.match((await failed(unknown.id!)).failedReason, /unknown job kind "frobnicate"/);
    assert.match((await failed(other.id!)).failedReason, /^MODEL: Worker .* the job needs fixture 000000000000/);
    assert.equal(existsSync(join(dir, 'x.png')), false);
    // sr queue shows them with their reasons, and the worker; --clear-failed removes them
    const shown = await sr(['queue', '--queue', url, '--json']);
    assert.equal(shown.status, 0, shown.stderr);
    const st = JSON.parse(shown.stdout) as {
      counts: { failed: number };
      workers: { name: string }[];
      failed: { id: string; reason: string }[];
    };
    assert.ok(st.counts.failed >= 3);
    assert.ok(st.failed.some((f) => f.id === other.id && /the job needs/.test(f.reason)));
    assert.ok(st.workers.some((x) => x.name.startsWith('sr-worker@')));
    assert.equal((await sr(['queue', '--queue', url, '--clear-failed'])).status, 0);
    assert.equal(await queue.getFailedCount(), 0);
  });

  it('an interrupted sweep withdraws the jobs no worker has taken', async () => {
    await killWorkers();
    const ac = new AbortController();
    const run = runSweep(grid(join(dir, 'sweep-abort'), true), { signal: ac.signal, onProgress: () => ac.abort() });
    await assert.rejects(run, AbortError);
    assert.equal(await queue.getWaitingCount(), 0);
    const { records } = await readLog(join(dir, 'sweep-abort', 'results.jsonl'));
    assert.equal(records.length, 0);
  });

  it('a rerun after the enqueuing side stopped collects what workers finished meanwhile, computing nothing twice', async () => {
    const w = startInProcessWorker();
    await w.seen(/ready/);
    const out = join(dir, 'sweep-rerun');
    const ac = new AbortController();
    const first = runSweep({ ...grid(out, true), ts: [50], cascades: [2] }, { signal: ac.signal, onRecord: () => ac.abort() });
    await assert.rejects(first, AbortError);
    const before = (await readLog(join(out, 'results.jsonl'))).records.length;
    // the job that was running finishes on the worker
    while ((await queue.getActiveCount()) > 0) await new Promise((r) => setTimeout(r, 20));
    const again = await runSweep({ ...grid(out, true), ts: [50], cascades: [2] });
    const starts = [...w.log().matchAll(/start sweep (.*)/g)].map((m) => m[1]!);
    assert.equal(new Set(starts).size, starts.length, `no job ran twice: ${starts.join('; ')}`);
    assert.equal(before + again.meta.run.computed, again.records.length);
    assert.equal(
      again.records.length,
      3 * 6,
      `every cell of every image; worker: ${w.log()}; records: ${again.records.map((r) => `${r.id}/${r.image}`).join(', ')}`,
    );
  });

  it('an unreachable Redis is one line and exit code 7, with nothing written', async () => {
    const port = await freePort();
    const out = join(dir, 'never');
    await assert.rejects(runSweep({ ...grid(out, false), queue: `redis://127.0.0.1:${port}` }), QueueError);
    assert.equal(existsSync(out), false);
    const r = await sr(['worker', '--queue', `redis://127.0.0.1:${port}`]);
    assert.equal(r.status, 7);
    assert.match(r.stderr, /^sr: Cannot reach the queue at redis:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
