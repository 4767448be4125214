/**
 * How strongly a plane repeats with a given period along one axis: the power of its rows' (or columns') spectrum at
 * frequency 1/period over the mean power of the neighbouring frequencies. A fixed grid laid over an image (a patched
 * model's p×p layout) shows as a spike at period p and its harmonics (p/2, …); natural images and interpolators have
 * none, so their ratio stays near 1.
 *
 * Each line (a row for axis 'x', a column for 'y') has its mean removed and a Hann window applied; its power at
 * frequency f (cycles per pixel) is |Σ_n w_n·v_n·e^(−2πi·f·n)|², summed over lines. The neighbours are the
 * frequencies f ± j/N for j = 2..`neighbours` + 1 (N the line length) that lie inside (0, 1/2]: j = 1 is skipped
 * because it lies inside the Hann window's main lobe (a pure tone at f also gives P(f ± 1/N) = P(f)/4).
 */
import { UsageError } from '../errors.js';
import type { Plane } from './plane.js';

export interface PeriodicSpikeOptions {
  /** Neighbouring frequency bins on each side to compare with. Default 3. */
  neighbours?: number;
}

/** Power at frequency 1/period along the axis over the neighbours' mean power (1: no spike). */
export function periodicSpike(plane: Plane, period: number, axis: 'x' | 'y', options: PeriodicSpikeOptions = {}): number {
  const neighbours = options.neighbours ?? 3;
  if (!Number.isInteger(neighbours) || neighbours < 1) {
    throw new UsageError(`Expected positive integer for neighbours but received ${neighbours}`);
  }
  const n = lineLength(plane, period, axis);
  const f0 = 1 / period;
  const freqs = [f0];
  for (let j = 2; j <= neighbours + 1; j++) {
    for (const f of [f0 - j / n, f0 + j / n]) if (f > 0 && f <= 0.5 + 1e-12) freqs.push(f);
  }
  const { power } = linePowers(plane, freqs, axis);
  let around = 0;
  for (let k = 1; k < freqs.length; k++) around += power[k]!;
  around /= freqs.length - 1;
  return around > 0 ? power[0]! / around : power[0]! > 0 ? Number.POSITIVE_INFINITY : 1;
}

/**
 * The amplitude (in the plane's units: grey levels for 0..255 planes) of the sinusoid with the given period along
 * the axis, root-mean-square over the lines: how strong a grid is, whatever else the image holds. A pattern that
 * repeats every p pixels with a peak-to-peak swing of one grey level has an amplitude of about 0.5 at period p.
 */
export function periodicAmplitude(plane: Plane, period: number, axis: 'x' | 'y'): number {
  lineLength(plane, period, axis);
  const { power, windowSum, lines } = linePowers(plane, [1 / period], axis);
  // a·cos(2πfn + φ) gives |X(f)| = a·Σw/2 below the Nyquist frequency, a·Σw at it (period 2)
  return ((period === 2 ? 1 : 2) * Math.sqrt(power[0]! / lines)) / windowSum;
}

function lineLength(plane: Plane, period: number, axis: 'x' | 'y'): number {
  if (!(period >= 2)) throw new UsageError(`Expected a period of at least 2 pixels but received ${period}`);
  const n = axis === 'x' ? plane.width : plane.height;
  if (n < 4 * period) throw new UsageError(`Expected lines of at least ${4 * period} pixels for period ${period} but received ${n}`);
  return n;
}

/** Σ over lines of |DFT|² of each mean-removed, Hann-windowed line at each frequency (cycles per pixel). */
function linePowers(plane: Plane, freqs: readonly number[], axis: 'x' | 'y'): { power: Float64Array; windowSum: number; lines: number } {
  const n = axis === 'x' ? plane.width : plane.height;
  const lines = axis === 'x' ? plane.height : plane.width;
  const window = new Float64Array(n);
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
    windowSum += window[i]!;
  }
  const cos = freqs.map((f) => Float64Array.from({ length: n }, (_, i) => Math.cos(2 * Math.PI * f * i)));
  const sin = freqs.map((f) => Float64Array.from({ length: n }, (_, i) => Math.sin(2 * Math.PI * f * i)));
  const power = new Float64Array(freqs.length);
  const line = new Float64Array(n);
  const { data, width } = plane;
  for (let l = 0; l < lines; l++) {
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const v = axis === 'x' ? data[l * width + i]! : data[i * width + l]!;
      line[i] = v;
      mean += v;
    }
    mean /= n;
    for (let i = 0; i < n; i++) line[i] = (line[i]! - mean) * window[i]!;
    for (let k = 0; k < freqs.length; k++) {
      const c = cos[k]!;
      const s = sin[k]!;
      let re = 0;
      let im = 0;
      for (let i = 0; i < n; i++) {
        re += line[i]! * c[i]!;
        im += line[i]! * s[i]!;
      }
      power[k] = power[k]! + re * re + im * im;
    }
  }
  return { power, windowSum, lines };
}
