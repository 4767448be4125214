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
