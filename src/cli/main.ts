/**
 * The `sr` program as a function: builds the commands, parses `argv`, runs the one named, and maps what it
 * throws to one line on stderr and an exit code (exit-codes.ts). Nothing here touches the process: the `sr`
 * binary (index.ts) owns signals, pipes and the exit, so tests and embedders call `main` in-process.
 */
import { Command, CommanderError } from 'commander';
import { AbortError } from '../errors.js';
import type { CliContext } from './context.js';
import { registerDevices } from './devices.js';
import { registerEval } from './eval.js';
import { EXIT, describeError, exitCodeFor } from './exit-codes.js';
import { registerInfo } from './info.js';
import { registerQueue } from './queue.js';
import { registerSweep } from './sweep.js';
import { registerUpscale } from './upscale.js';
import { registerVary } from './vary.js';
import { registerWorker } from './worker.js';

/** The commands; each subcommand inherits the output and the exit override set here before it is added. */
function program(ctx: CliContext): Command {
  const p = new Command()
    .name('sr')
    .description('boomerang-sr: diffusion super-resolution with Boomerang and a Patched Diffusion UNet')
    .version('0.1.0')
    .showHelpAfterError('(run sr --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) })
    .exitOverride();
  for (const register of [
    registerUpscale,
    registerInfo,
    registerEval,
    registerSweep,
    registerVary,
    registerDevices,
    registerWorker,
    registerQueue,
  ]) {
    register(p, ctx);
  }
  return p;
}

/**
 * Runs `sr <argv>` and resolves with its exit code; never throws. `debug` adds the stack trace of an error to its
 * line (SR_DEBUG=1 in the binary).
 */
export async function main(ctx: CliContext, options: { debug?: boolean } = {}): Promise<number> {
  try {
    await program(ctx).parseAsync([...ctx.argv], { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    // commander already printed its message (or the help/version text)
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    // an abort caused by the caller's signal: say why it was aborted (e.g. which signal), not just "Aborted"
    const shown = ctx.signal.aborted && err instanceof AbortError ? (ctx.signal.reason as unknown) : err;
    ctx.stderr.write(describeError(shown) + '\n');
    if (options.debug && err instanceof Error) ctx.stderr.write((err.stack ?? '') + '\n');
    return exitCodeFor(err);
  }
}
