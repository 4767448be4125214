/**
 * Dawn's own log lines kept off the user's stderr (issue 26 #4). The WebGPU EP's Dawn writes lines such as
 * `Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 500000 to 1000000 to fit dynamic
 * offset allocation limit.` straight to file descriptor 2 from native code, which a Node process cannot filter
 * in itself. So when a command may start Dawn (`sr devices`, or `--device webgpu|auto`), the `sr` binary runs
 * itself as a child whose stderr it reads, drops Dawn's lines (`Warning: …`, `Error: …`, `Info: …`, `Debug: …`;
 * every line of `sr`'s own starts `sr: ` or is the progress bar) and passes everything else on as it comes. The
 * child is told whether the real stderr is a terminal (so the progress bar still redraws in place) and gets each
 * SIGINT/SIGTERM the binary receives; its exit code is the binary's. SR_DEBUG=1 runs without the child, so
 * Dawn's lines show.
 */
import { spawn } from 'node:child_process';
import { guardedSink } from './stdio.js';

/** Set in the child's environment: it is the wrapped one. */
export const FILTERED_ENV = 'SR_STDERR_FILTERED';
/** Set in the child's environment when the binary's own stderr is a terminal. */
export const STDERR_TTY_ENV = 'SR_STDERR_TTY';

const DAWN_PREFIXES = ['Warning: ', 'Error: ', 'Info: ', 'Debug: '] as const;

/** Whether `sr <argv>` may start Dawn: `sr devices`, or a --device other than cpu. */
export function mayStartDawn(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const args = end >= 0 ? argv.slice(0, end) : argv;
  if (args.find((a) => !a.startsWith('-')) === 'devices') return true;
  return args.some((a, i) => {
    if (a.startsWith('--device=')) return a.slice('--device='.length) !== 'cpu';
    return a === '--device' && args[i + 1] !== undefined && args[i + 1] !== 'cpu';
  });
}

/**
 * A stream filter over stderr text that drops Dawn's log lines and passes the rest on at once: a line is held back
 * only while it could still be one of Dawn's (its start matches a Dawn prefix), so a progress bar redrawn with
 * `\r` and no newline is not delayed.
 */
export function dawnLineFilter(write: (text: string) => void): { push(text: string): void; end(): void } {
  let pending = ''; // the start of a line that may be Dawn's
  let passing = false; // inside a line already passed on
  const isDawn = (line: string) => DAWN_PREFIXES.some((p) => line.startsWith(p));
  const mayBeDawn = (start: string) => DAWN_PREFIXES.some((p) => start.startsWith(p) || p.startsWith(start));
  return {
    push(text) {
      let rest = text;
      while (rest !== '') {
        const nl = rest.indexOf('\n');
        const piece = nl < 0 ? rest : rest.slice(0, nl + 1);
        rest = nl < 0 ? '' : rest.slice(nl + 1);
        if (passing) {
          write(piece);
          passing = nl < 0;
          continue;
        }
        pending += piece;
        if (nl >= 0) {
          if (!isDawn(pending)) write(pending);
          pending = '';
        } else if (!mayBeDawn(pending)) {
          write(pending);
          pending = '';
          passing = true;
        }
      }
    },
    end() {
      if (pending !== '' && !isDawn(pending)) write(pending);
      pending = '';
    },
  };
}

/** Runs this binary again as a child with its stderr filtered; resolves with the exit code to exit with. */
export function runWithDawnFiltered(script: string, argv: readonly string[]): Promise<number> {
  const stderr = guardedSink(process.stderr, 'stderr', 'drop');
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [FILTERED_ENV]: '1', [STDERR_TTY_ENV]: process.stderr.isTTY ? '1' : '' },
    // its own process group: a terminal's Ctrl-C reaches the binary only, which passes each signal on once
    detached: true,
  });
  const filter = dawnLineFilter((t) => stderr.write(t));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => filter.push(t));
  const forward = (sig: NodeJS.Signals) => () => {
    child.kill(sig);
  };
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      stderr.write(`sr: internal error: cannot start sr: ${err.message} (set SR_DEBUG=1 to run without it)\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      filter.end();
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
    });
  });
}
