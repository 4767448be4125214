/**
 * One enqueuer per output folder (issue 25 #1): two `sr sweep … --out S --queue URL` started at once used to both
 * exit 7 ("disappeared from the queue") with duplicate records in S/results.jsonl. Now the second is refused at once
 * (exit 5, one line naming the folder and its holder) and the first records every cell exactly once; a lock left by
 * an enqueuer killed with SIGKILL expires (a short SR_OUT_LOCK_MS here), one stopped by a signal is released at
 * once, and a lock lost to another run stops the run. Against a real redis-server (started here on a free loopback
 * port). Skipped without redis-server, unless SR_REQUIRE_REDIS=1.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OutputError } from '../src/errors.js';
import { readLog } from '../src/eval/log.js';
import { recordKey } from '../src/eval/summary.js';
import { connectQueue } from '../src/queue/connection.js';
import { holdOutput, lockedFolder, outLockKey } from '../src/queue/out-lock.js';
import { FAST, cli, isOneLine, rgbPng, root, sr, tempDir } from './cli-helpers.js';
import { startRedis } from './redis-server.js';

const REQUIRE = process.env.SR_REQUIRE_REDIS === '1';
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (REQUIRE && !hasRedis) throw new Error('SR_REQUIRE_REDIS=1 but redis-server is not installed');

const dir = tempDir('queue-lock');
const children: ChildProcess[] = [];
let redis: Awaited<ReturnType<typeof startRedis>> | null = null;
let url = '';

const redisCli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis!.port), ...args], { encoding: 'utf8' }).stdout.trim();

/** `sr ARGS` as a process: its stderr as it comes, a wait for a line, and its exit code. */
function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  let err = '';
  const waiters: { re: RegExp; res: () => void }[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) if (w.re.test(err)) w.res();
  });
  const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  return {
    child,
    stderr: () => err,
    seen: (re: RegExp) => (re.test(err) ? Promise.resolve() : new Promise<void>((res) => waiters.push({ re, res }))),
    exited: closed,
  };
}

async function images(name: string, n: number): Promise<string> {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (let i = 1; i <= n; i++) await rgbPng(join(d, `${i}.png`), 16, 16, i);
  return d;
}

describe('one enqueuer per output folder', { skip: !hasRedis && 'redis-server is not installed' }, () => {
  before(async () => {
    redis = await startRedis();
    url = redis.url;
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('two sweeps on one --out at once: one is refused at once (exit 5), the other records each cell once (issue 25 #1)', async () => {
    const hr = await images('hr', 2);
    const out = join(dir, 'sweep');
    const worker = start(['worker', '--queue', url, '--threads', '1']);
    await worker.seen(/ready/);
    const args = ['sweep', '--hr', hr, '--factor', '2', '--model', 'fixture', '--t', '20,40', '--cascade', '1,2', '--steps', '2'];
    const a = start([...args, '--out', out, '--queue', url, '--no-report', '-q']);
    const b = start([...args, '--out', out, '--queue', url, '--no-report', '-q']);
    const t0 = performance.now();
    const codes = await Promise.all([a.exited, b.exited]);
    const [won, lost] = codes[0] === 0 ? [a, b] : [b, a];
    assert.deepEqual([...codes].sort(), [0, 5], `exit codes ${codes}: ${a.stderr()} | ${b.stderr()}`);
    const line = lost.stderr().trim();
    assert.ok(isOneLine(line), line);
    assert.match(
      line,
      new RegExp(
        `^sr: Output folder ${lockedFolder(out).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by sr sweep \\(pid ${won.child.pid} on .*\\) through the queue at redis://127\\.0\\.0\\.1:\\d+`,
      ),
    );
    assert.doesNotMatch(won.stderr() + lost.stderr(), /disappeared/);
    const { records } = await readLog(join(out, 'results.jsonl'));
    const keys = records.map(recordKey);
    assert.equal(new Set(keys).size, keys.length, 'no duplicate records');
    // 4 Boomerang cells and the baselines, on 2 images: the same count as a run alone
    const alone = await sr([...args, '--out', join(dir, 'sweep-alone'), '--queue', url, '--no-report', '-q']);
    assert.equal(alone.status, 0, alone.stderr);
    assert.equal(records.length, (await readLog(join(dir, 'sweep-alone', 'results.jsonl'))).records.length);
    assert.ok(performance.now() - t0 < 120_000);
    assert.equal(redisCli('exists', outLockKey(lockedFolder(out))), '0', 'released at the end');
    worker.child.kill('SIGTERM');
    await worker.exited;
  });

  it('a batch or vary on a folder another run holds is refused at once, before anything is written', async () => {
    const input = await images('busy-in', 1);
    const out = join(dir, 'busy-out');
    const hold = await holdOutput(await connectQueue(url), out, 'sr upscale');
    try {
      const up = await sr(['upscale', input, '-o', out, '--queue', url, '-q', ...FAST]);
      assert.equal(up.status, 5, up.stderr);
      assert.match(up.stderr, new RegExp(`^sr: Output folder .*busy-out is in use by sr upscale \\(pid ${process.pid} on `));
      const vary = await sr(['vary', input, '-o', out, '--queue', url, '--model', 'fixture', '--t', '20', '--steps', '2', '-q']);
      assert.equal(vary.status, 5, vary.stderr);
      assert.match(vary.stderr, /^sr: Output folder .*busy-out is in use by sr upscale/);
      assert.equal(existsSync(out), false);
    } finally {
      await hold.release();
    }
    assert.equal(redisCli('exists', outLockKey(lockedFolder(out))), '0');
  });

  it('the lock of an enqueuer killed with SIGKILL expires; one stopped by SIGTERM is released at once', async () => {
    const input = await images('kill-in', 2);
    const out = join(dir, 'kill-out');
    const key = outLockKey(lockedFolder(out));
    const env = { SR_OUT_LOCK_MS: '1500' };
    // no worker: the enqueuer waits on its jobs, holding the folder
    const first = start(['upscale', input, '-o', out, '--queue', url, ...FAST], env);
    await first.seen(/0 workers/);
    const pttl = Number(redisCli('pttl', key));
    assert.ok(pttl > 0 && pttl <= 1500, `pttl ${pttl}`);
    first.child.kill('SIGKILL');
    await first.exited;
    const refused = await sr(['upscale', input, '-o', out, '--queue', url, '-q', ...FAST]);
    assert.equal(refused.status, 5, refused.stderr);
    assert.match(refused.stderr, /in use by sr upscale .*if it was killed, the folder is free within [12] s\)/);
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(redisCli('exists', key), '0', 'expired');
    // a rerun takes it over; stopped by SIGTERM, it releases it on the way out
    const second = start(['upscale', input, '-o', out, '--queue', url, ...FAST], env);
    await second.seen(/0 workers/);
    assert.equal(redisCli('exists', key), '1');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 143, second.stderr());
    assert.equal(redisCli('exists', key), '0', 'released on SIGTERM');
    // and the rerun with a worker finishes
    const worker = start(['worker', '--queue', url, '--threads', '1']);
    await worker.seen(/ready/);
    const third = await sr(['upscale', input, '-o', out, '--queue', url, '-q', ...FAST]);
    assert.equal(third.status, 0, third.stderr);
    assert.ok(existsSync(join(out, '1.png')) && existsSync(join(out, '2.png')));
    worker.child.kill('SIGTERM');
    await worker.exited;
  });

  it('a lock lost to another run is an OutputError at the next result, and release leaves the other run its lock', async () => {
    const target = await connectQueue(url);
    const folder = join(dir, 'lost');
    const hold = await holdOutput(target, folder, 'sr sweep', 300);
    await hold.assure();
    const key = outLockKey(lockedFolder(folder));
    redisCli('set', key, JSON.stringify({ token: 'x', command: 'sr vary', pid: 1, host: 'elsewhere', since: 'then' }));
    await new Promise((r) => setTimeout(r, 200)); // past half the lifetime: assure asks Redis
    await assert.rejects(
      hold.assure(),
      (e: unknown) => e instanceof OutputError && /^Lost the lock on output folder .* to sr vary \(pid 1 on elsewhere/.test(e.message),
    );
    assert.equal(await hold.release(), true);
    assert.match(redisCli('get', key), /"sr vary"/, "the other run's lock stays");
    redisCli('del', key);
  });
});
