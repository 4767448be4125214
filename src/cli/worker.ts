/**
 * `sr worker --queue redis://host:port [--concurrency C] [--device …] [--threads N] [--stall-seconds S]`: takes
 * sweep and upscale jobs from the queue until SIGINT/SIGTERM, which put the jobs in hand back for another worker.
 * One line per job on stderr (none with -q but failures). Calls the library's runWorker.
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { positiveInteger } from '../validate.js';
import { parseDevice } from './method-flags.js';
import { parseNumber } from './parse.js';

interface Flags {
  queue: string;
  concurrency: string;
  device: string;
  threads?: string;
  stallSeconds: string;
  quiet?: boolean;
}

export function registerWorker(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description(
      'take sweep, batch and vary jobs from a Redis queue (sr sweep/upscale/vary --queue) until stopped; see docs/scaling-out.md',
    )
    .requiredOption('--queue <url>', 'the Redis the jobs are on, e.g. redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'jobs at once (each runs its own model evaluations)', '1')
    .option('--device <kind>', 'cpu | webgpu | auto', 'cpu')
    .option('--threads <n>', 'ONNX Runtime threads per model (default: all cores)')
    .option('--stall-seconds <s>', "a dead worker's job is taken back after about this long (its lock's lifetime)", '30')
    .option('-q, --quiet', 'print only failures')
    .action(async (flags: Flags) => {
      const quiet = flags.quiet ?? false;
      const say = (line: string) => ctx.stderr.write(`sr worker: ${line}\n`);
      const { runWorker } = await import('../worker.js'); // BullMQ loads only for the commands that use it
      const summary = await runWorker(
        {
          queue: flags.queue,
          concurrency: positiveInteger('--concurrency', parseNumber('--concurrency', flags.concurrency)),
          device: parseDevice(flags.device),
          ...(flags.threads !== undefined ? { threads: positiveInteger('--threads', parseNumber('--threads', flags.threads)) } : {}),
          stallSeconds: parseNumber('--stall-seconds', flags.stallSeconds),
        },
        {
          signal: ctx.signal,
          onEvent: (e) => {
            if (e.type === 'failed') say(`failed ${e.kind} ${e.label}: ${e.reason}`);
            else if (e.type === 'error') say(`warning: ${e.message}`);
            else if (quiet) return;
            else if (e.type === 'ready') say(`ready on ${e.queue} as ${e.name} (concurrency ${e.concurrency})`);
            else if (e.type === 'model') say(`loaded model ${e.name} (${e.sha256.slice(0, 12)}…) on ${e.device}`);
            else if (e.type === 'start') say(`start ${e.kind} ${e.label}`);
            else if (e.type === 'done') say(`done ${e.kind} ${e.label} in ${e.seconds.toFixed(1)} s`);
            else if (e.type === 'released') say(`released ${e.kind} ${e.id} back to the queue`);
          },
        },
      );
      say(`stopped: ${summary.done} done, ${summary.failed} failed, ${summary.released} released`);
    });
}
