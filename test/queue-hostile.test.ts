/**
 * The queue when Redis misbehaves (issue 25): a Redis out of memory refuses the enqueue (exit 7 naming the cause,
 * not an internal error), and a stop while Redis is down exits within seconds. Each test has its own
 * redis-server (started here on a free loopback port, stopped after). Skipped without redis-server, unless
 * SR_REQUIRE_REDIS=1.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FAST, cli, isOneLine, rgbPng, root, sr, tempDir } from './cli-helpers.js';
import { startRedis } from './redis-server.js';

const REQUIRE = process.env.SR_REQUIRE_REDIS === '1';
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (REQUIRE && !hasRedis) throw new Error('SR_REQUIRE_REDIS=1 but redis-server is not installed');

const dir = tempDir('queue-hostile');
const stops: (() => void)[] = [];
after(async () => {
  for (const stop of stops) stop();
  await rm(dir, { recursive: true, force: true });
});

const redisCli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

async function images(name: string, n: number): Promise<string> {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (let i = 1; i <= n; i++) await rgbPng(join(d, `${i}.png`), 8, 8, i);
  return d;
}

describe('the queue when Redis misbehaves', { skip: !hasRedis && 'redis-server is not installed' }, () => {
  it('Redis out of memory (noeviction): exit 7 with a queue message naming the cause, nothing written (issue 25 #3)', async () => {
    const redis = await startRedis();
    stops.push(redis.stop);
    assert.equal(redisCli(redis.port, 'config', 'set', 'maxmemory-policy', 'noeviction'), 'OK');
    assert.equal(redisCli(redis.port, 'config', 'set', 'maxmemory', '1'), 'OK'); // already over: every write is refused
    const input = await images('oom-in', 2);
    const out = join(dir, 'oom-out');
    const r = await sr(['upscale', input, '-o', out, '--queue', redis.url, '-q', ...FAST]);
    assert.equal(r.status, 7, r.stderr);
    const last = r.stderr.trimEnd().split('\n').pop()!;
    assert.match(last, /^sr: The queue at redis:\/\/127\.0\.0\.1:\d+ failed: OOM command not allowed .*\(Redis is out of memory/);
    assert.doesNotMatch(r.stderr, /internal error|script:/);
    assert.ok(isOneLine(last));
    assert.ok(!existsSync(join(out, '1.png')));
  });

  it('SIGTERM while Redis is down: the enqueuer and a worker exit 143 within seconds, saying what was not released (issue 25 #2)', async () => {
    const redis = await startRedis();
    stops.push(redis.stop);
    const input = await images('down-in', 2);
    const started = (args: string[], ready: RegExp) => {
      const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      const seen = new Promise<void>((res) =>
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (ready.test(err)) res();
        }),
      );
      const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      // its exit code, or 'still alive' (then killed) when it has not exited within 10 s of the signal
      const exited = async () => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const code = await closed;
        clearTimeout(timer);
        return child.signalCode === 'SIGKILL' ? 'still alive after 10 s' : code;
      };
      return { child, seen, exited, stderr: () => err };
    };
    // no worker takes the enqueued jobs (a worker on another queue would): the enqueuer waits on them
    const enqueuer = started(['upscale', input, '-o', join(dir, 'down-out'), '--queue', redis.url, ...FAST], /0 workers/);
    await enqueuer.seen;
    redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    enqueuer.child.kill('SIGTERM');
    assert.equal(await enqueuer.exited(), 143, enqueuer.stderr());
    assert.match(enqueuer.stderr(), /^sr: warning: could not withdraw the queued jobs: the queue at .* does not answer/m);
    // a worker, idle on a Redis that dies
    const redis2 = await startRedis();
    stops.push(redis2.stop);
    const worker = started(['worker', '--queue', redis2.url, '--threads', '1'], /ready on/);
    await worker.seen;
    redis2.kill();
    await new Promise((r) => setTimeout(r, 300));
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited(), 143, worker.stderr());
    assert.match(worker.stderr(), /could not release the jobs in hand: the queue at .* does not answer/);
  });
});
