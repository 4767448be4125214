/**
 * `sr queue --queue URL [--clear-failed] [--json]`: what is on the queue (jobs by state), which workers are
 * connected, and the latest failures with their reasons. Calls the library's queueStatus.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerQueue(program: Command, ctx: CliContext): void {
  program
    .command('queue')
    .description('show the jobs on a Redis queue by state, the connected workers and the latest failures (see docs/scaling-out.md)')
    .requiredOption('--queue <url>', 'the Redis the jobs are on, e.g. redis://127.0.0.1:6379')
    .option('--clear-failed', 'after showing them, remove the failed jobs (a rerun of their command enqueues them again)')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { queue: string; clearFailed?: boolean; json?: boolean }) => {
      const { queueStatus } = await import('../queue/status.js'); // BullMQ loads only for the commands that use it
      const s = await queueStatus(flags.queue, { clearFailed: flags.clearFailed ?? false });
      if (flags.json) {
        ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
        return;
      }
      const c = s.counts;
      const out = [
        `queue ${s.url}: ${c.waiting} waiting, ${c.active} running, ${c.delayed} delayed, ${c.completed} finished (kept for collection), ${c.failed} failed`,
        `workers: ${s.workers.length === 0 ? 'none connected' : s.workers.length}`,
        ...s.workers.map((w) => `  ${w.name}  ${w.addr}  connected ${w.connectedSeconds} s`),
      ];
      if (s.failed.length) out.push('latest failures:', ...s.failed.map((f) => `  ${f.at ?? '?'}  ${f.kind} ${f.id}: ${f.reason}`));
      if (flags.clearFailed) out.push(`removed ${s.cleared} failed job${s.cleared === 1 ? '' : 's'}`);
      ctx.stdout.write(out.join('\n') + '\n');
    });
}
