/**
 * The `sr upscale …` command line that repeats one explore candidate byte for byte: its options as flags (the
 * options explore ran it with, so `resolveSettings` gives the same settings), the seed always explicit.
 */
import type { UpscaleOptions } from '../upscale.js';

/** The options of one candidate run, as explore passes them to `upscale` (and `sr upscale` would). */
export type CandidateOptions = Pick<
  UpscaleOptions,
  | 'preset'
  | 't'
  | 'cascade'
  | 'steps'
  | 'upsampler'
  | 'backProject'
  | 'sampler'
  | 'eta'
  | 'consistency'
  | 'input'
  | 'noise'
  | 'samples'
  | 'reduce'
> & {
  factor: number;
  seed: number;
  tiling?: { tile?: number };
};

/** A word for a POSIX shell: as is when it is plain, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./,:=+@%^-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Splits a command line made by `upscaleCommand` back into words (plain words and single-quoted ones). */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  const re = /\s*((?:[^\s']+|'[^']*')+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    words.push(m[1]!.replace(/'([^']*)'/g, '$1'));
  }
  return words;
}

/**
 * `sr upscale IN -o OUT [--uncertainty MAP] --model … --factor … [--preset …] [--t … --cascade …] … --seed S
 * [--samples K [--reduce R]]`: the flags in the order `sr upscale --help` lists them.
 */
export function upscaleCommand(
  input: string,
  output: string,
  o: CandidateOptions,
  extra: { model?: string | undefined; device?: string | undefined; uncertainty?: string | null | undefined } = {},
): string {
  const w: string[] = ['sr', 'upscale', input, '-o', output];
  if (extra.uncertainty) w.push('--uncertainty', extra.uncertainty);
  if (extra.model !== undefined) w.push('--model', extra.model);
  if (extra.device !== undefined && extra.device !== 'cpu') w.push('--device', extra.device);
  w.push('--factor', String(o.factor));
  if (o.preset !== undefined) w.push('--preset', o.preset);
  if (o.t !== undefined) w.push('--t', String(o.t));
  if (o.cascade !== undefined) w.push('--cascade', typeof o.cascade === 'number' ? String(o.cascade) : o.cascade.join(','));
  if (o.steps !== undefined) w.push('--steps', String(o.steps));
  if (o.upsampler !== undefined) w.push('--upsampler', o.upsampler);
  if (o.backProject !== undefined) w.push('--back-project', String(o.backProject));
  if (o.sampler !== undefined) w.push('--sampler', o.sampler);
  if (o.eta !== undefined) w.push('--eta', String(o.eta));
  if (o.consistency !== undefined) w.push('--consistency', o.consistency);
  if (o.input !== undefined) w.push('--input', o.input);
  if (o.noise !== undefined && o.noise > 0) w.push('--noise', String(o.noise));
  if (o.tiling?.tile !== undefined) w.push('--tile', String(o.tiling.tile));
  w.push('--seed', String(o.seed));
  if (o.samples !== undefined) w.push('--samples', String(o.samples));
  if (o.reduce !== undefined) w.push('--reduce', o.reduce);
  return w.map(shellWord).join(' ');
}
