#!/usr/bin/env node
/**
 * The `sr` binary: the process around `main` (main.ts). SIGINT/SIGTERM abort the running work, which removes its
 * temporary files, and exit 130/143; a second signal exits at once; a closed pipe (`sr info | head`) is no error.
 */
import { AbortError } from '../errors.js';
import { removeTempFilesSync } from '../io-safety/temp-files.js';
import { EXIT } from './exit-codes.js';
import { main } from './main.js';

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

const code = await main(
  { stdout: process.stdout, stderr: process.stderr, signal: controller.signal, argv: process.argv.slice(2) },
  { debug: Boolean(process.env.SR_DEBUG) },
);
process.exitCode = signalExit ?? code;
