/**
 * Exit codes, the one place errors become statuses (documented in the README):
 * 0 ok · 1 internal error · 2 usage (bad option/argument) · 3 input (unreadable/undecodable image) ·
 * 4 model (missing/corrupt model or manifest) · 5 output (cannot/must not write) · 6 device (e.g. no WebGPU) ·
 * 7 queue (Redis unreachable, a queued job failed on a worker) ·
 * 130 interrupted (SIGINT) · 143 terminated (SIGTERM).
 */
import { SrError, errorLine, type ErrorCode } from '../errors.js';

export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  INPUT: 3,
  MODEL: 4,
  OUTPUT: 5,
  DEVICE: 6,
  QUEUE: 7,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  USAGE: EXIT.USAGE,
  INPUT: EXIT.INPUT,
  MODEL: EXIT.MODEL,
  OUTPUT: EXIT.OUTPUT,
  DEVICE: EXIT.DEVICE,
  QUEUE: EXIT.QUEUE,
  ABORTED: EXIT.SIGINT,
  INTERNAL: EXIT.INTERNAL,
};

export function exitCodeFor(err: unknown): number {
  return err instanceof SrError ? BY_CODE[err.code] : EXIT.INTERNAL;
}

/** The exit code of an error kind (as the library's reports record it). */
export function exitCodeForKind(code: ErrorCode): number {
  return BY_CODE[code];
}

/** One line for stderr: the message of a known error; for an unknown one, the message and a hint. */
export function describeError(err: unknown): string {
  if (err instanceof SrError) return `sr: ${errorLine(err)}`;
  return `sr: internal error: ${errorLine(err)} (set SR_DEBUG=1 for the stack trace)`;
}
