/**
 * The `sr` program as a function: builds the commands, parses `argv`, runs the one named, and maps what it
 * throws to one line on stderr and an exit code (exit-codes.ts). Nothing here touches the process: the `sr`
 * binary (index.ts) owns signals, pipes and the exit, so tests and embedders call `main` in-process.
 */
import { Command, CommanderError } from 'commander';
import { AbortError, UsageError, escapeControls } from '../errors.js';
import type { CliContext } from './context.js';
import { registerDevices } from './devices.js';
import { registerEval } from './eval.js';
import { registerExplore } from './explore.js';
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
    // commander's own error text (several lines: the error, "(Did you mean …?)") is not printed: main folds it
    // into one `sr: …` line (commanderLine)
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s), outputError: () => {} })
    .exitOverride();
  for (const register of [
    registerUpscale,
    registerInfo,
    registerEval,
    registerSweep,
    registerExplore,
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
  const p = program(ctx);
  try {
    if (ctx.argv.length === 0) {
      throw new UsageError(`Expected a command: ${p.commands.map((c) => c.name()).join(', ')} (sr --help describes them)`);
    }
    checkSingleDashWords(p, ctx.argv);
    await p.parseAsync([...ctx.argv], { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version: already printed, exit 0; `sr help` with no command prints the help on stderr
      if (err.exitCode === 0 || err.code === 'commander.help') return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      ctx.stderr.write(commanderLine(err, commandOf(p, ctx.argv)) + '\n');
      return EXIT.USAGE;
    }
    // an abort caused by the caller's signal: say why it was aborted (e.g. which signal), not just "Aborted"
    const shown = ctx.signal.aborted && err instanceof AbortError ? (ctx.signal.reason as unknown) : err;
    ctx.stderr.write(describeError(shown) + '\n');
    if (options.debug && err instanceof Error) ctx.stderr.write((err.stack ?? '') + '\n');
    return exitCodeFor(err);
  }
}

/** The subcommand named in `argv` (the first word that is one), or null. */
function commandOf(p: Command, argv: readonly string[]): Command | null {
  const word = argv.find((a) => !a.startsWith('-'));
  return p.commands.find((c) => c.name() === word || c.aliases().includes(word ?? '')) ?? null;
}

/**
 * Commander's error as one `sr:` line: its lines ("error: unknown option '--factr'", "(Did you mean --factor?)")
 * joined, and where to read the usage, e.g. `sr: unknown option '--factr' (did you mean --factor?); see sr upscale
 * --help`.
 */
export function commanderLine(err: CommanderError, cmd: Command | null): string {
  const [first = '', ...rest] = err.message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const extra = rest.map((l) => l.replace(/^\(Did you mean (.*)\)$/, '(did you mean $1)')).join(' ');
  const help = cmd ? `sr ${cmd.name()} --help` : 'sr --help';
  return `sr: ${escapeControls([first, extra].filter(Boolean).join(' ').replace(/\.$/, ''))}; see ${help}`;
}

/**
 * `-factor 4` is read by commander as `-f actor` (short options take their value attached), which then fails as
 * `Expected a number for --factor but received "actor"` or, worse, succeeds with another meaning. A single-dash
 * word that is the name of a long option of the command is refused first, naming the double-dash form.
 */
function checkSingleDashWords(p: Command, argv: readonly string[]): void {
  const cmd = commandOf(p, argv);
  const longs = new Set([...(cmd?.options ?? []), ...p.options].map((o) => o.long).filter((l): l is string => Boolean(l)));
  const end = argv.indexOf('--');
  for (const a of end >= 0 ? argv.slice(0, end) : argv) {
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(a);
    if (m && longs.has(`--${m[1]}`)) {
      throw new UsageError(`Unknown option ${escapeControls(a)}: long options take two dashes, as in --${m[1]}${m[2] ?? ''}`);
    }
  }
}
