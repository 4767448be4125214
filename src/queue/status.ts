/**
 * What is on the queue: jobs by state, the workers connected (as Redis names their connections), and the most
 * recent failures with their reasons; and the one clean-up a user needs, dropping failed jobs (after reading why).
 */
import { Queue } from 'bullmq';
import { QUEUE_NAME, asQueueError, connectQueue } from './connection.js';

export interface QueueStatus {
  url: string;
  counts: { waiting: number; active: number; delayed: number; completed: number; failed: number };
  /** Each worker's name (sr-worker@host:pid), address and how long it has been connected. */
  workers: { name: string; addr: string; connectedSeconds: number }[];
  failed: { id: string; kind: string; reason: string; at: string | null }[];
}

/** The queue's state; a QueueError when Redis cannot be reached. */
export async function queueStatus(
  url: string,
  o: { failedLimit?: number; clearFailed?: boolean } = {},
): Promise<QueueStatus & { cleared: number }> {
  const target = await connectQueue(url);
  const queue = new Queue(QUEUE_NAME, { connection: target.connection });
  queue.on('error', () => undefined);
  try {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
    const workers = (await queue.getWorkers()).map((w) => ({
      name: /:w:(.*)$/.exec(w.rawname ?? '')?.[1] ?? w.name ?? '?',
      addr: w.addr ?? '?',
      connectedSeconds: Number(w.age ?? 0),
    }));
    const failedJobs = await queue.getFailed(0, Math.max(0, (o.failedLimit ?? 10) - 1));
    const failed = failedJobs.map((j) => ({
      id: j.id ?? '?',
      kind: j.name,
      reason: (j.failedReason ?? '').split('\n')[0]!,
      at: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
    }));
    const cleared = o.clearFailed ? (await queue.clean(0, 0, 'failed')).length : 0;
    return {
      url: target.url,
      counts: {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      },
      workers,
      failed,
      cleared,
    };
  } catch (err) {
    throw asQueueError(err, target.url);
  } finally {
    await queue.close().catch(() => undefined);
  }
}
