#!/usr/bin/env node
/**
 * The `sr` binary: the process around `main` (main.ts). SIGINT/SIGTERM abort the running work, which removes its
 * temporary files, and exit 130/143; a second signal exits at once; a closed pipe (`sr info | head`) is no error.
 * A command that may start Dawn (WebGPU) runs in a child whose stderr is filtered of Dawn's log lines
 * (dawn-stderr.ts).
 */
import { fileURLToPath } from 'node:url';
import { FILTERED_ENV, STDERR_TTY_ENV, mayStartDawn, runWithDawnFiltered } from './dawn-stderr.js';

const argv = process.argv.slice(2);
if (!process.env[FILTERED_ENV] && !process.env.SR_DEBUG && mayStartDawn(argv)) {
  process.exitCode = await runWithDawnFiltered(fileURLToPath(import.meta.url), argv);
} else {
  await runHere();
}

async function runHere(): Promise<void> {
  const [{ AbortError }, { removeTempFilesSync }, { EXIT }, { main }, { exitAfterStdout, guardedSink }] = await Promise.all([
    import('../errors.js'),
    import('../io-safety/temp-files.js'),
    import('./exit-codes.js'),
    import('./main.js'),
    import('./stdio.js'),
  ]);
  // a stream that cannot be written is no crash: stderr's failures are dropped, stdout's are exit 5 (stdio.ts)
  const stdout = guardedSink(process.stdout, 'stdout', 'throw');
  // in the filtered child, stderr is a pipe to the binary, whose own stderr may be a terminal (the progress bar redraws)
  const stderr = guardedSink(process.stderr, 'stderr', 'drop', process.env[STDERR_TTY_ENV] === '1' ? true : undefined);

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
      stderr.write(`${stderr.isTTY ? '\r\x1b[2K' : ''}sr: stopping (${sig}; press Ctrl-C again to quit at once)\n`);
      controller.abort(new AbortError(`Interrupted by ${sig}`));
    });
  }

  const code = await main({ stdout, stderr, signal: controller.signal, argv }, { debug: Boolean(process.env.SR_DEBUG) });
  await new Promise((r) => setImmediate(r)); // a write error the stream reports late arrives first
  process.exitCode = signalExit ?? exitAfterStdout(code, stdout, stderr, EXIT.OUTPUT);
  // stopped by a signal: exit now, not when every connection has given up (a Redis that is down keeps reconnecting)
  if (signalExit !== null) process.exit(signalExit);
}
