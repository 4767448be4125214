/**
 * The one small predicate module (sharp's lib/is style): option checks that throw UsageError with messages like
 * "Expected positive integer for factor but received 2.5". Used where options enter the library (its public
 * functions) and by the CLI's parsers; the layers inside take the checked values.
 */
import { UsageError } from './errors.js';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

export function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new UsageError(`Expected positive integer for ${name} but received ${show(v)}`);
  }
  return v;
}

export function integerInRange(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`Expected integer ${name} in ${min}..${max} but received ${show(v)}`);
  }
  return v;
}

export function numberInRange(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`Expected number ${name} in ${min}..${max} but received ${show(v)}`);
  }
  return v;
}

export function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`Expected one of ${allowed.join(', ')} for ${name} but received ${show(v)}`);
  }
  return v as T;
}

export function booleanOf(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new UsageError(`Expected true or false for ${name} but received ${show(v)}`);
  return v;
}
