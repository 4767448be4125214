/**
 * What a command needs from its process, handed in so the whole CLI also runs in-process (tests, embedding):
 * where its text goes, the signal that stops its work, and its own arguments (for the command line in reports).
 */

/** A text stream: process.stdout/stderr, or a collector. On a TTY the progress line redraws in place. */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CliContext {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Aborted by SIGINT/SIGTERM in the `sr` process; the work in hand stops and removes its temp files. */
  readonly signal: AbortSignal;
  /** The arguments after `sr`, e.g. ['upscale', 'in.png', '-o', 'out.png']. */
  readonly argv: readonly string[];
}

/** `sr <argv>` as typed, for the reports' `command` field. */
export const commandLine = (ctx: CliContext): string => ['sr', ...ctx.argv].join(' ');
