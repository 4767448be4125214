/**
 * What travels through the queue: the kinds of job, the model a job needs (name + sha256, so that a worker with
 * another model refuses instead of producing numbers from the wrong prior), deterministic job ids (the same unit
 * of work always has the same id, so enqueuing it twice is one job), failures as one line with the error's code,
 * and the small checks a payload passes before a worker spends anything on it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  AbortError,
  DeviceError,
  InputError,
  ModelError,
  OutputError,
  QueueError,
  SrError,
  UsageError,
  errorLine,
  type ErrorCode,
} from '../errors.js';
import { DEFAULT_MODEL, packageRoot, resolveModelDir } from '../model/locate.js';
import type { ModelManifest } from '../model/manifest.js';
import type { ModelSession } from '../model/session.js';

/** Every kind of queued job; a worker runs each with the handler of the same name (src/worker.ts). */
export const JOB_KINDS = ['sweep', 'upscale', 'vary'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * Bumped when a payload's shape changes: a worker refuses payloads of another version. 2: an upscale job carries
 * its settings as planned (issue 24), not options for the worker to resolve again. 3: the settings say whether a
 * JPEG input's output keeps to its quantisation constraint (`jpegConstraint`), which a version-2 worker would ignore.
 * 4: the settings say when a non-JPEG input's pixels were found to be a decoded JPEG (`jpegDetected`: the quality whose
 * table its constraint runs on), which a version-3 worker would ignore (it would run no constraint).
 */
export const PAYLOAD_VERSION = 4;

/** The model a job needs: how to find it (a shipped name, or an absolute folder on the shared filesystem) and which it must be. */
export interface ModelRef {
  spec: string;
  name: string;
  sha256: string;
}

/** The ref of a model given as `--model spec`: a path becomes absolute (workers resolve it on the shared filesystem). */
export function modelRef(spec: string | undefined, manifest: ModelManifest): ModelRef {
  const s = spec ?? DEFAULT_MODEL;
  // the same rule as loading: a shipped model stays a name (each worker has its own), anything else a folder
  const dir = resolveModelDir(s);
  const shipped = dir === join(packageRoot(), 'models', s);
  return { spec: shipped ? s : dir, name: manifest.name, sha256: manifest.sha256 };
}

/** A job id that is the same for the same work: `<kind>-<32 hex>` of the parts that decide its result. */
export function jobId(kind: JobKind, parts: readonly string[]): string {
  return `${kind}-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}`;
}

/** A failure as the job's failedReason: `CODE: message` (one line). */
export function encodeFailure(err: unknown): string {
  const code: ErrorCode = err instanceof SrError ? err.code : 'INTERNAL';
  return `${code}: ${errorLine(err)}`;
}

const ERRORS: Partial<Record<ErrorCode, new (m: string) => SrError>> = {
  USAGE: UsageError,
  INPUT: InputError,
  MODEL: ModelError,
  OUTPUT: OutputError,
  DEVICE: DeviceError,
  ABORTED: AbortError,
};

/** The error a failedReason stands for: the same kind as on the worker, else a QueueError; the job id is named. */
export function decodeFailure(reason: string | undefined, id: string): SrError {
  const m = /^([A-Z]+): (.*)$/.exec(reason ?? '');
  const Kind = m ? ERRORS[m[1] as ErrorCode] : undefined;
  const text = m ? m[2]! : (reason ?? 'no reason given');
  return Kind ? new Kind(`${text} (queued job ${id})`) : new QueueError(`Queued job ${id} failed: ${text}`);
}

/** A payload that cannot be run as it is (failed at once, never retried). */
export class BadPayloadError extends Error {
  override name = 'BadPayloadError';
}

type Shape = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'string?' | 'number?' | 'object?';

/** Checks the named fields of a payload object; a BadPayloadError names the first that is wrong. */
export function checkFields(what: string, value: unknown, fields: Record<string, Shape>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadPayloadError(`${what}: expected an object`);
  const o = value as Record<string, unknown>;
  for (const [k, shape] of Object.entries(fields)) {
    const v = o[k];
    const optional = shape.endsWith('?');
    if (optional && (v === undefined || v === null)) continue;
    const base = shape.replace('?', '');
    const ok =
      base === 'array'
        ? Array.isArray(v)
        : base === 'object'
          ? typeof v === 'object' && v !== null && !Array.isArray(v)
          : base === 'number'
            ? typeof v === 'number' && Number.isFinite(v)
            : typeof v === base;
    if (!ok)
      throw new BadPayloadError(
        `${what}: expected ${k} to be ${optional ? `null or ${base}` : base} but received ${JSON.stringify(v) ?? 'nothing'}`,
      );
  }
  return o;
}

/** Checks the envelope every payload shares: its version and model ref. */
export function checkEnvelope(kind: JobKind, data: unknown, needsModel: boolean): Record<string, unknown> {
  const o = checkFields(`${kind} job`, data, { v: 'number', ...(needsModel ? { model: 'object' } : { model: 'object?' }) });
  if (o.v !== PAYLOAD_VERSION)
    throw new BadPayloadError(`${kind} job: payload version ${String(o.v)}, this worker reads ${PAYLOAD_VERSION}`);
  if (o.model) {
    const m = checkFields(`${kind} job model`, o.model, { spec: 'string', name: 'string', sha256: 'string' });
    if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) throw new BadPayloadError(`${kind} job: model sha256 is not 64 hex digits`);
  }
  return o;
}

/** What a worker gives a handler: its models (loaded once, checked against the ref), a stop signal, a progress sink. */
export interface JobContext {
  model(ref: ModelRef): Promise<ModelSession>;
  signal: AbortSignal;
  onFraction(fraction: number): void;
}

/** How a worker runs one kind of job: check the payload (BadPayloadError), name it, run it; the result goes back through Redis. */
export interface JobHandler<D> {
  check(data: unknown): D;
  label(data: D): string;
  run(data: D, ctx: JobContext): Promise<unknown>;
}

/** The handler of each job kind, as a worker is given them. */
export type JobHandlers = { [K in JobKind]: JobHandler<unknown> };
