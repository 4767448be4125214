/**
 * A seeded pseudo-random generator: the only source of randomness for the diffusion math (never Math.random).
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state, seeded from a 32-bit seed by SplitMix32 so that
 * every seed (0 included) gives a valid, well-mixed state. Uniforms have 32-bit resolution; normals come from
 * the Box–Muller transform, which yields two values per pair of uniforms: the second is cached and returned by
 * the next call, and `fillNormal` produces exactly the stream that repeated `normal()` calls would.
 *
 * `createRng()` without a seed draws one from node:crypto and exposes it as `rng.seed`, so any run can be
 * repeated with `createRng(rng.seed)`. The generator object is the one piece of mutable state in src/diffusion:
 * it is injected explicitly into every function that needs noise (cf. diffusers' `generator`).
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface Rng {
  /** The 32-bit seed this stream started from. */
  readonly seed: number;
  /** Next raw 32-bit output, an integer in 0..2^32−1. */
  nextUint32(): number;
  /** Uniform in [0, 1), 32-bit resolution. */
  nextFloat(): number;
  /** Standard normal N(0, 1) (Box–Muller; the second value of each pair is cached). */
  normal(): number;
  /** Fills `out` with standard normals (the same stream as repeated `normal()` calls) and returns it. */
  fillNormal(out: Float32Array): Float32Array;
}

const TWO_PI = 2 * Math.PI;
const INV_2_32 = 1 / 4294967296;

/** Creates a generator; `seed` must be an integer in 0..2^32−1, or omitted for a fresh one from node:crypto. */
export function createRng(seed?: number): Rng {
  if (seed === undefined) seed = randomBytes(4).readUInt32LE(0);
  else if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageError(`Expected integer seed in 0..4294967295 but received ${seed}`);
  }
  return new Xoshiro128(seed);
}

class Xoshiro128 implements Rng {
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.seed = seed;
    let z = seed >>> 0;
    const splitmix32 = (): number => {
      z = (z + 0x9e3779b9) >>> 0;
      let r = z;
      r = Math.imul(r ^ (r >>> 16), 0x85ebca6b);
      r = Math.imul(r ^ (r >>> 13), 0xc2b2ae35);
      return (r ^ (r >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // unreachable for SplitMix32, kept as a guard
  }

  nextUint32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  nextFloat(): number {
    return this.nextUint32() * INV_2_32;
  }

  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
    const u1 = (this.nextUint32() + 1) * INV_2_32;
    const u2 = this.nextUint32() * INV_2_32;
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = TWO_PI * u2;
    this.spare = r * Math.sin(a);
    this.hasSpare = true;
    return r * Math.cos(a);
  }

  fillNormal(out: Float32Array): Float32Array {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.hasSpare) {
      out[i++] = this.spare;
      this.hasSpare = false;
    }
    for (; i + 1 < n; i += 2) {
      const u1 = (this.nextUint32() + 1) * INV_2_32;
      const u2 = this.nextUint32() * INV_2_32;
      const r = Math.sqrt(-2 * Math.log(u1));
      const a = TWO_PI * u2;
      out[i] = r * Math.cos(a);
      out[i + 1] = r * Math.sin(a);
    }
    if (i < n) out[i] = this.normal();
    return out;
  }
}
