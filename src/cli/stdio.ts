/**
 * process.stdout and process.stderr as the CLI's text sinks, so that a stream that cannot be written (a full disk,
 * `2>/dev/full`, a closed descriptor) never turns into a crash (issue 25 #9). stderr carries progress and messages,
 * not the job: a failed write there is dropped, and the job goes on to its own exit code. stdout is what a command
 * prints as its result (`sr info`, `sr eval`'s table): a failed write there is an OutputError (exit 5), thrown when
 * the write fails at once, or recorded in `failed` when the stream reports it later. A closed pipe (EPIPE,
 * `sr info | head`) is no error: the process exits with the code it had.
 */
import { OutputError } from '../errors.js';
import type { TextSink } from './context.js';

export interface GuardedSink extends TextSink {
  /** The first write error the stream gave (other than EPIPE), or null. */
  readonly failed: NodeJS.ErrnoException | null;
}

/**
 * `name` is 'stdout' or 'stderr'; `onFailure` 'throw' (the command's output) or 'drop' (progress and messages);
 * `tty` overrides the stream's own isTTY (a pipe to a parent whose stream is a terminal).
 */
export function guardedSink(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  name: string,
  onFailure: 'throw' | 'drop',
  tty?: boolean,
): GuardedSink {
  let failed: NodeJS.ErrnoException | null = null;
  const record = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    failed ??= err;
  };
  const refuse = (err: NodeJS.ErrnoException) => new OutputError(`Cannot write to ${name}: ${err.code ?? err.message}`, { cause: err });
  stream.on('error', record);
  return {
    get isTTY() {
      return tty ?? Boolean(stream.isTTY);
    },
    get failed() {
      return failed;
    },
    write(text: string) {
      if (failed) {
        if (onFailure === 'throw') throw refuse(failed);
        return false;
      }
      try {
        return stream.write(text);
      } catch (err) {
        record(err as NodeJS.ErrnoException);
        if (onFailure === 'throw') throw refuse(err as NodeJS.ErrnoException);
        return false;
      }
    },
  };
}

/** The exit code once stdout's late failure is counted: 5 when the command had succeeded, else its own. */
export function exitAfterStdout(code: number, stdout: GuardedSink, stderr: TextSink, outputCode: number): number {
  if (stdout.failed === null || code !== 0) return code;
  stderr.write(`sr: Cannot write to stdout: ${stdout.failed.code ?? stdout.failed.message}\n`);
  return outputCode;
}
