/**
 * One enqueuer per output folder (issue 25 #1). Job ids are deterministic, so two commands enqueuing into one
 * folder at once wait on the same jobs: whichever collects a result first removes its job, the other then finds it
 * gone, and both append to the folder's log. The enqueuing side therefore holds a lock on its output folder in the
 * queue's Redis for as long as it runs: `SET key token NX PX ttl`, renewed every ttl/3, deleted (if still its own)
 * when the command ends, whatever ends it. A second command on the same folder is refused at once with one line
 * naming the folder and the run that holds it (an OutputError: exit 5, like any output that must not be written).
 * A holder that dies without releasing (kill -9, a lost machine) stops renewing, and its lock expires after the ttl
 * (30 s), so a rerun is never blocked for longer than that.
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { OutputError, QueueError } from '../errors.js';
import { QUEUE_NAME, asQueueError, type QueueTarget } from './connection.js';

/** How long a lock lives without renewal (ms): a dead enqueuer's folder is free again after about this long. */
export const OUT_LOCK_TTL_MS = 30_000;

/** The lock's lifetime: SR_OUT_LOCK_MS when set (tests use a short one), else OUT_LOCK_TTL_MS. */
export function outLockTtl(): number {
  const env = Number(process.env.SR_OUT_LOCK_MS);
  return Number.isInteger(env) && env >= 200 ? env : OUT_LOCK_TTL_MS;
}

/** What a lock's value records about its holder (shown to a command that is refused). */
interface Holder {
  token: string;
  command: string;
  pid: number;
  host: string;
  since: string;
}

/** A held lock on one output folder. */
export interface OutputHold {
  /** The folder, as locked (absolute, symbolic links resolved where it exists). */
  readonly folder: string;
  /**
   * Resolves while the lock is still this run's (renewing it first when the last renewal is older than half its
   * lifetime); an OutputError when another run has taken it meanwhile. Called before each result is recorded.
   */
  assure(): Promise<void>;
  /** Deletes the lock if it is still this run's; false when Redis did not answer within `waitMs` (it then expires). */
  release(waitMs?: number): Promise<boolean>;
}

/** The folder as one name whatever path reaches it: absolute, with symbolic links resolved (of its parent, if it does not exist yet). */
export function lockedFolder(dir: string): string {
  const abs = resolve(dir);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** The Redis key of a folder's lock (beside the queue's own keys, which BullMQ keeps under `bull:`). */
export const outLockKey = (folder: string): string => `${QUEUE_NAME}:out-lock:${folder}`;

// KEYS[1] the lock; ARGV[1] the holder's value, ARGV[2] the ttl. 1: renewed; 2: taken again (it had expired and no
// other run took it, or Redis lost it in a restart); 0: another run holds it now.
const RENEW = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

function describeHolder(raw: string | null): string {
  if (raw === null) return 'another run';
  try {
    const h = JSON.parse(raw) as Partial<Holder>;
    return `${h.command ?? 'another run'} (pid ${h.pid ?? '?'} on ${h.host ?? '?'}, since ${h.since ?? '?'})`;
  } catch {
    return 'another run';
  }
}

/** `p` within `ms`, or false (p is left to run). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Takes the lock on `dir` for `command` (e.g. `sr sweep`) in the queue's Redis: an OutputError naming the folder
 * and its holder when another run holds it, a QueueError when Redis refuses. Release it in a `finally`.
 */
export async function holdOutput(target: QueueTarget, dir: string, command: string, ttlMs = outLockTtl()): Promise<OutputHold> {
  const folder = lockedFolder(dir);
  const key = outLockKey(folder);
  const holder: Holder = {
    token: randomBytes(12).toString('hex'),
    command,
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
  };
  const value = JSON.stringify(holder);
  const { Redis } = await import('ioredis');
  // commands wait for a reconnect (as the queue's own do); a stop bounds its wait instead (release)
  const client: Redis = new Redis({ ...target.connection, maxRetriesPerRequest: null, lazyConnect: false });
  client.on('error', () => undefined); // a lost connection is retried; what it costs shows in the commands
  // bounded: a Redis that went away since the reachability check would hold the command (and a Ctrl-C) here
  let answer: { taken: string | null } | { err: unknown } | null = null;
  await settledWithin(
    client.set(key, value, 'PX', ttlMs, 'NX').then(
      (taken) => {
        answer = { taken };
      },
      (err: unknown) => {
        answer = { err };
      },
    ),
    5000,
  );
  const got = answer as { taken: string | null } | { err: unknown } | null;
  if (!got || 'err' in got) {
    client.disconnect();
    if (got) throw asQueueError(got.err, target.url); // a refused command (OOM…), exit 7
    throw new QueueError(`The queue at ${target.url} does not answer: cannot lock output folder ${folder}`);
  }
  const taken = got.taken;
  if (taken !== 'OK') {
    const [by, left] = await Promise.all([client.get(key).catch(() => null), client.pttl(key).catch(() => ttlMs)]);
    client.disconnect();
    throw new OutputError(
      `Output folder ${folder} is in use by ${describeHolder(by)} through the queue at ${target.url}: two runs on one folder would record each result twice; wait for that run to end (if it was killed, the folder is free within ${Math.max(1, Math.ceil(left / 1000))} s), or give another folder`,
    );
  }
  let confirmedAt = performance.now();
  let lost: OutputError | null = null;
  let inFlight: Promise<void> | null = null;
  const renew = (): Promise<void> => {
    inFlight ??= (async () => {
      try {
        const r = (await client.eval(RENEW, 1, key, value, String(ttlMs))) as number;
        if (r === 0) {
          const by = await client.get(key).catch(() => null);
          lost ??= new OutputError(
            `Lost the lock on output folder ${folder} to ${describeHolder(by)} (it was not renewed for ${Math.ceil(ttlMs / 1000)} s): stopped, so that only one run records into it`,
          );
        } else confirmedAt = performance.now();
      } catch {
        // Redis does not answer or refuses: tried again at the next renewal (the queue's own commands wait too)
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };
  const timer = setInterval(() => void renew(), Math.max(50, Math.floor(ttlMs / 3)));
  timer.unref();
  let released: Promise<boolean> | null = null;
  return {
    folder,
    async assure() {
      if (!lost && performance.now() - confirmedAt > ttlMs / 2) await renew();
      if (lost) throw lost;
    },
    release(waitMs = 1000) {
      released ??= (async () => {
        clearInterval(timer);
        let ok = false;
        const del = (inFlight ?? Promise.resolve())
          .then(() => client.eval(RELEASE, 1, key, value))
          .then(() => {
            ok = true;
          });
        if (await settledWithin(del, waitMs)) await settledWithin(client.quit(), 500);
        client.disconnect();
        return ok;
      })();
      return released;
    },
  };
}

/** The warning of a lock that could not be released (Redis did not answer): it expires by itself. */
export const lockNotReleased = (hold: OutputHold, url: string): string =>
  `could not release the lock on output folder ${hold.folder}: the queue at ${url} does not answer; it expires within ${Math.ceil(outLockTtl() / 1000)} s`;
