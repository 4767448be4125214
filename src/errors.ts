/**
 * The catalogue of errors the library throws. Each has a stable `code`; only the CLI maps codes to exit
 * statuses (src/cli/exit-codes.ts). Messages are one line, name the offending thing and say what was expected.
 */
export type ErrorCode = 'USAGE' | 'INPUT' | 'MODEL' | 'OUTPUT' | 'ABORTED' | 'DEVICE' | 'QUEUE' | 'INTERNAL';

/** Every error the library throws on purpose: `code` says which kind (the CLI maps each to an exit code). */
export class SrError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A bad option or argument: the caller asked for something that cannot be done. */
export class UsageError extends SrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
  }
}

/** An input image that cannot be read, decoded or processed. */
export class InputError extends SrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INPUT', message, options);
  }
}

/** A missing, corrupt or invalid model file or manifest. */
export class ModelError extends SrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL', message, options);
  }
}

/** An output that cannot or must not be written. */
export class OutputError extends SrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPUT', message, options);
  }
}

/** An execution device (e.g. webgpu) that was asked for and is not available. */
export class DeviceError extends SrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEVICE', message, options);
  }
}

/** A job queue (Redis) that cannot be reached, or a queued job that could not be run. */
export class QueueError extends SrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUEUE', message, options);
  }
}

/** Work stopped by an AbortSignal. */
export class AbortError extends SrError {
  constructor(message = 'Aborted', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/** Throws AbortError when the signal has fired; call between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('Aborted', { cause: signal.reason });
}

/**
 * `text` with its control characters escaped, so a message stays one line whatever a file name holds: a newline
 * in a name shows as `\n` (also `\r`, `\t`; other C0/C1 controls and DEL as `\xHH`, line/paragraph separators
 * as `\u2028`/`\u2029`) instead of cutting the message or breaking the line.
 */
export function escapeControls(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/**
 * An error as one line: a library error's message with control characters escaped (its messages are one line by
 * construction, so a newline in it came from a name); any other error's first line (a foreign message may run
 * over many lines), escaped.
 */
export function errorLine(err: unknown): string {
  if (err instanceof SrError) return escapeControls(err.message);
  const msg = err instanceof Error ? err.message : String(err);
  return escapeControls(msg.split('\n')[0]!);
}
