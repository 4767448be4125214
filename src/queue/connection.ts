/**
 * Where the queue lives: a `redis://[user:password@]host[:port][/db]` URL, parsed once, checked for reachability
 * with one short ping before any work (an unreachable Redis is one QueueError line, not a hang), and turned into
 * the connection options BullMQ opens its own clients with. The queue's name is fixed, so workers and the
 * commands that enqueue meet without configuration.
 */
import type { RedisOptions } from 'ioredis';
import { QueueError, SrError, UsageError, errorLine } from '../errors.js';

/** The BullMQ queue every command enqueues to and every worker takes from. */
export const QUEUE_NAME = 'boomerang-sr';

export interface QueueTarget {
  /** The URL as given, without its password (for messages and reports). */
  url: string;
  connection: RedisOptions;
}

/** Parses a redis:// URL (a UsageError for anything else). */
export function parseQueueUrl(url: string): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`Expected a queue URL like redis://127.0.0.1:6379 but received ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(`Expected a redis:// or rediss:// queue URL but received ${JSON.stringify(url)}`);
  }
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`Expected a database number after the / in ${JSON.stringify(url)}`);
  const port = u.port ? Number(u.port) : 6379;
  const connection: RedisOptions = {
    host: u.hostname || '127.0.0.1',
    port,
    db,
    // BullMQ's blocking clients need this; commands wait for a reconnect instead of failing
    maxRetriesPerRequest: null,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const shown = `${u.protocol}//${u.username ? `${u.username}@` : ''}${connection.host}:${port}${db ? `/${db}` : ''}`;
  return { url: shown, connection };
}

/** Parses the URL and pings Redis once (within `timeoutMs`): a QueueError naming the URL and the reason when it cannot. */
export async function connectQueue(url: string, timeoutMs = 3000): Promise<QueueTarget> {
  const target = parseQueueUrl(url);
  const { Redis } = await import('ioredis'); // loaded on first use: commands without a queue start faster
  const client = new Redis({
    ...target.connection,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: NodeJS.ErrnoException | undefined;
  client.on('error', (err: NodeJS.ErrnoException) => {
    cause ??= err; // the socket's own error (ECONNREFUSED, ENOTFOUND…); connect() only says the connection closed
  });
  try {
    await withTimeout(client.connect(), timeoutMs);
    await withTimeout(client.ping(), timeoutMs);
  } catch (err) {
    const e = (cause ?? err) as NodeJS.ErrnoException;
    const why = e.code ?? (e instanceof Error ? e.message : String(e));
    const hint = /^(WRONGPASS|NOAUTH)/.test(why)
      ? 'give the password in the URL: redis://:PASSWORD@host:port'
      : 'is redis-server running there, and reachable from here?';
    throw new QueueError(`Cannot reach the queue at ${target.url}: ${why.replace(/\.$/, '')} (${hint})`, { cause: err });
  } finally {
    // a client that never connected is already ended: disconnecting it again would arm a 2 s timer that nothing
    // clears (ioredis waits for a close event that has passed), keeping the process alive after the error
    if (client.status !== 'end') client.disconnect();
  }
  return target;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer in ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A failure of Redis itself as a QueueError (exit 7) naming the queue and the cause: a command Redis refused
 * (a ReplyError such as `OOM command not allowed`, `READONLY`, `MISCONF`) or a lost connection. Anything else (a
 * bug) is returned as it is. Before this, an OOM reply reached the CLI as an internal error, exit 1 (issue 25 #3).
 */
export function asQueueError(err: unknown, url: string): unknown {
  if (err instanceof SrError || !(err instanceof Error)) return err;
  const redis = err.name === 'ReplyError' || err.name === 'MaxRetriesPerRequestError' || /^Connection is closed/.test(err.message);
  if (!redis) return err;
  const msg = errorLine(err).replace(/\.? script: [0-9a-f]+.*$/, ''); // a Lua script's hash and line say nothing to a user
  const hint = /^OOM\b/.test(msg)
    ? ' (Redis is out of memory: raise its maxmemory, or free memory there, e.g. sr queue --clear-failed)'
    : /^READONLY\b/.test(msg)
      ? " (a read-only replica: give the primary's URL)"
      : /^MISCONF\b/.test(msg)
        ? ' (Redis cannot save its data: see its log)'
        : '';
  return new QueueError(`The queue at ${url} failed: ${msg}${hint}`, { cause: err });
}
