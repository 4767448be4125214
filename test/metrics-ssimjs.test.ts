/**
 * Our protocol SSIM (separable Gaussian 11x11, σ 1.5, K1 0.01, K2 0.03, 'valid' filtering as MATLAB's ssim.m)
 * equals ssim.js's 'original' algorithm (Wang et al.'s reference, ported) on the same 8-bit grey image. We do not
 * use ssim.js for the protocol itself: it takes RGBA and rounds its own grey, and the protocol's Y is BT.601 in
 * float64; given the rounded Y as grey (R = G = B) the two agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ssimModule from 'ssim.js';
import { ssim } from '../src/metrics/ssim.js';

// ssim.js is CommonJS: its named export arrives as `ssim` or under `default`
const ssimjs = ssimModule.ssim ?? (ssimModule as unknown as { default: { ssim: typeof ssimModule.ssim } }).default.ssim;

function planes(w: number, h: number, seed: number) {
  const a = new Float64Array(w * h);
  const b = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    a[i] = Math.round(128 + 90 * Math.sin(i * 0.37 * seed) * Math.cos(i * 0.011));
    b[i] = Math.min(255, Math.max(0, a[i]! + ((i * 31 + seed) % 13) - 6));
  }
  return { a: { width: w, height: h, data: a }, b: { width: w, height: h, data: b } };
}

const rgba = (p: { width: number; height: number; data: Float64Array }) => {
  const d = new Uint8ClampedArray(p.width * p.height * 4);
  for (let i = 0; i < p.data.length; i++) {
    d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = p.data[i]!;
    d[4 * i + 3] = 255;
  }
  return { data: d, width: p.width, height: p.height } as unknown as ImageData;
};

test("protocol SSIM equals ssim.js 'original' (no downsampling) on 8-bit grey images", () => {
  for (const [w, h, seed] of [
    [64, 48, 1],
    [37, 29, 2],
    [128, 96, 3],
  ] as const) {
    const { a, b } = planes(w, h, seed);
    const theirs = ssimjs(rgba(a), rgba(b), { ssim: 'original', downsample: false }).mssim;
    const ours = ssim(a, b);
    assert.ok(Math.abs(ours - theirs) < 1e-9, `${w}x${h}: ours ${ours} vs ssim.js ${theirs}`);
    assert.ok(ours < 1, 'the images differ');
  }
});
