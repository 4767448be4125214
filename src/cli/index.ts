#!/usr/bin/env node
/**
 * The `sr` command: one file per subcommand; each parses its flags and calls one library function. Errors become
 * one line on stderr and an exit code here, and only here (exit-codes.ts). SIGINT/SIGTERM abort the running work,
 * which removes its temporary files, and exit 130/143.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, describeError, exitCodeFor } from './exit-codes.js';
import { registerDevices } from './devices.js';
import { registerEval } from './eval.js';
import { registerInfo } from './info.js';
import { registerSweep } from './sweep.js';
import { registerUpscale } from './upscale.js';
import { registerVary } from './vary.js';
import { registerWorker } from './worker.js';
import { registerQueue } from './queue.js';
import { AbortError } from '../errors.js';
import { removeTempFilesSync } from '../io-safety/temp-files.js';

// `sr info | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const controller = new AbortController();
let signalExit: number | null = null;
process.on('exit', removeTempFilesSync); // whatever the way out, no temp file stays behind
for (const [sig, code] of [
  ['SIGINT', EXIT.SIGINT],
  ['SIGTERM', EXIT.SIGTERM],
] as const) {
  process.on(sig, () => {
    if (signalExit !== null) process.exit(code); // a second signal: stop now ('exit' removes temp files)
    signalExit = code;
    // at once, so a user sees the first Ctrl-C was taken; the work stops at the next tile or phase boundary
    process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}sr: stopping (${sig}; press Ctrl-C again to quit at once)\n`);
    controller.abort(new AbortError(`Interrupted by ${sig}`));
  });
}

const program = new Command();
program
  .name('sr')
  .description('boomerang-sr: diffusion super-resolution with Boomerang and a Patched Diffusion UNet')
  .version('0.1.0')
  .showHelpAfterError('(run sr --help for usage)')
  .exitOverride();
registerUpscale(program, controller.signal);
registerInfo(program);
registerEval(program, controller.signal);
registerSweep(program, controller.signal);
registerVary(program, controller.signal);
registerDevices(program);
registerWorker(program, controller.signal);
registerQueue(program);

try {
  await program.parseAsync(process.argv);
  process.exitCode = signalExit ?? EXIT.OK;
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help/version text)
    process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    // an abort caused by our own signal handler: say which signal, not just "Aborted"
    const shown = signalExit !== null && err instanceof AbortError ? (controller.signal.reason as unknown) : err;
    process.stderr.write(describeError(shown) + '\n');
    if (process.env.SR_DEBUG && err instanceof Error) process.stderr.write((err.stack ?? '') + '\n');
    process.exitCode = signalExit ?? exitCodeFor(err);
  }
}
