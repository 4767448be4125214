/** Strict parsing of option strings into numbers and lists; the library then checks ranges. */
import { UsageError } from '../errors.js';

export function parseNumber(flag: string, value: string): number {
  const s = value.trim();
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    throw new UsageError(`Expected a number for ${flag} but received ${JSON.stringify(value)}`);
  }
  return Number(s);
}

export function parseNumberList(flag: string, value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => p === ''))
    throw new UsageError(`Expected a comma-separated list of numbers for ${flag} but received ${JSON.stringify(value)}`);
  return parts.map((p) => parseNumber(flag, p));
}

/** `--cascade 3` (N passes at t) or `--cascade 100,60,30` (t per pass). */
export function parseCascade(value: string): number | number[] {
  return value.includes(',') ? parseNumberList('--cascade', value) : parseNumber('--cascade', value);
}
