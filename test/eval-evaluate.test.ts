import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { InputError, UsageError } from '../src/errors.js';
import { evaluate } from '../src/eval/evaluate.js';
import { decodeImage } from '../src/image/io.js';
import { matlabImresize } from '../src/image/upsample.js';
import { measure } from '../src/metrics/index.js';
import { sr } from './cli-helpers.js';

const METRIC_CHECK = fileURLToPath(new URL('../../fixtures/metric-check/', import.meta.url));

let dir = '';
let hrDir = '';
let srDir = '';
const W = 40;
const H = 30;
const raw = new Map<string, { hr: Buffer; sr: Buffer }>();

/** Deterministic bytes: a texture for HR, and HR plus a fixed perturbation for SR. */
function bytes(w: number, h: number, seed: number): { hr: Buffer; sr: Buffer } {
  const hr = Buffer.alloc(w * h * 3);
  const sr = Buffer.alloc(w * h * 3);
  for (let i = 0; i < hr.length; i++) {
    hr[i] = Math.round(128 + 100 * Math.sin(i * 0.21 * seed) * Math.cos(i * 0.013));
    sr[i] = Math.max(0, Math.min(255, hr[i]! + (((i * 31 + seed * 7) % 13) - 6)));
  }
  return { hr, sr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boomerang-eval-'));
  hrDir = join(dir, 'hr');
  srDir = join(dir, 'sr');
  await mkdir(hrDir);
  await mkdir(srDir);
  for (const [name, seed] of [
    ['one', 1],
    ['two', 2],
  ] as const) {
    const b = bytes(W, H, seed);
    raw.set(name, b);
    await sharp(b.hr, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(join(hrDir, `${name}.png`));
    await sharp(b.sr, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(join(srDir, `${name}_SR.png`));
  }
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** PSNR on BT.601 Y with a shave, computed here from the raw bytes (independent of src/metrics). */
function psnrY(a: Buffer, b: Buffer, w: number, h: number, shave: number, cropW = w, cropH = h): number {
  let se = 0;
  let n = 0;
  const y = (buf: Buffer, i: number) => 16 + (65.481 * buf[i]! + 128.553 * buf[i + 1]! + 24.966 * buf[i + 2]!) / 255;
  for (let r = shave; r < cropH - shave; r++) {
    for (let c = shave; c < cropW - shave; c++) {
      const i = (r * w + c) * 3;
      se += (y(a, i) - y(b, i)) ** 2;
      n++;
    }
  }
  return 10 * Math.log10((255 * 255) / (se / n));
}

describe('evaluate --sr', () => {
  it('gives the PSNR computed independently, per image and as the mean, on HR cropped to a multiple', async () => {
    const r = await evaluate({ hr: hrDir, sr: srDir, factor: 4 });
    assert.equal(r.source, 'sr');
    assert.equal(r.shave, 4);
    assert.deepEqual(
      r.images.map((i) => [i.name, i.width, i.height]),
      [
        ['one', 40, 28],
        ['two', 40, 28],
      ],
    );
    for (const im of r.images) {
      const b = raw.get(im.name)!;
      const expected = psnrY(b.sr, b.hr, W, H, 4, 40, 28);
      assert.ok(Math.abs(im.psnrY - expected) < 1e-9, `${im.name}: ${im.psnrY} vs ${expected}`);
    }
    assert.ok(Math.abs(r.mean.psnrY - (r.images[0]!.psnrY + r.images[1]!.psnrY) / 2) < 1e-12);
    assert.match(r.protocol, /BT\.601.*shave = scale = 4 px.*PSNR peak 255.*SSIM 11×11 Gaussian σ 1\.5/);
  });

  it('needs a factor or a shave, and SR images of the HR size', async () => {
    await assert.rejects(
      evaluate({ hr: hrDir, sr: srDir }),
      (e: unknown) => e instanceof UsageError && /factor \(or a shave\)/.test(e.message),
    );
    const small = join(dir, 'small');
    await mkdir(small);
    await sharp(Buffer.alloc(10 * 7 * 3, 100), { raw: { width: 10, height: 7, channels: 3 } })
      .png()
      .toFile(join(small, 'one.png'));
    await assert.rejects(
      evaluate({ hr: hrDir, sr: small, shave: 2 }),
      (e: unknown) => e instanceof InputError && /is 10x7 but its HR .* is 40x30/.test(e.message),
    );
  });
});

describe('evaluate a baseline from LR made by MATLAB bicubic', () => {
  it('scores matlabImresize(matlabImresize(hr, 1/f), f) against the cropped HR', async () => {
    const r = await evaluate({ hr: hrDir, factor: 2, method: { kind: 'matlab-bicubic' } });
    assert.equal(r.source, 'matlab-bicubic');
    assert.match(r.sourceText, /MATLAB-compatible bicubic/);
    const hr = (await decodeImage(join(hrDir, 'one.png'))).rgb;
    const want = measure(matlabImresize(matlabImresize(hr, 1 / 2), 2), hr, { shave: 2 });
    assert.ok(Math.abs(r.images[0]!.psnrY - want.psnrY) < 1e-9);
    assert.equal(r.method, 'MATLAB bicubic');
  });
});

describe('sr eval (CLI)', () => {
  it('prints the table with the protocol and writes JSON and CSV', async () => {
    const json = join(dir, 'e.json');
    const csv = join(dir, 'e.csv');
    const { status, stdout, stderr } = await sr([
      'eval',
      '--hr',
      hrDir,
      '--sr',
      srDir,
      '--factor',
      '4',
      '--json',
      json,
      '--csv',
      csv,
      '-q',
    ]);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /Protocol: Y channel of ITU-R BT\.601 \(float64\), shave = scale = 4 px/);
    assert.match(stdout, /mean of 2/);
    const j = JSON.parse(await readFile(json, 'utf8')) as { images: { name: string; psnrY: number }[]; mean: { psnrY: number } };
    const b = raw.get('one')!;
    assert.ok(Math.abs(j.images[0]!.psnrY - psnrY(b.sr, b.hr, W, H, 4, 40, 28)) < 1e-9);
    const lines = (await readFile(csv, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^name,width,height,psnrY,ssimY,psnrRgb,detailRatio,gmsd,seconds,evaluations$/);
    assert.match(lines[3]!, /^mean,,,/);
  });

  it('reproduces the metric-check reference values', async () => {
    const json = join(dir, 'mc.json');
    const r = await sr(['eval', '--hr', METRIC_CHECK, '--sr', METRIC_CHECK, '--shave', '4', '--json', json, '-q']);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(await readFile(json, 'utf8')) as { images: { name: string; psnrY: number; ssimY: number; psnrRgb: number }[] };
    const expected = JSON.parse(await readFile(join(METRIC_CHECK, 'expected.json'), 'utf8')) as {
      pairs: { hr: string; psnr_y: number; ssim_y: number; psnr_rgb: number }[];
    };
    assert.equal(got.images.length, expected.pairs.length);
    for (const p of expected.pairs) {
      const g = got.images.find((i) => `${i.name}_hr.png` === p.hr)!;
      assert.ok(Math.abs(g.psnrY - p.psnr_y) < 1e-3, `${p.hr} psnr_y ${g.psnrY} vs ${p.psnr_y}`);
      assert.ok(Math.abs(g.ssimY - p.ssim_y) < 1e-4, `${p.hr} ssim_y ${g.ssimY} vs ${p.ssim_y}`);
      assert.ok(Math.abs(g.psnrRgb - p.psnr_rgb) < 1e-3, `${p.hr} psnr_rgb ${g.psnrRgb} vs ${p.psnr_rgb}`);
    }
  });

  it('rejects method flags with --sr, and no source at all (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--sr', srDir, '--factor', '4', '--t', '50'], /^sr: --sr scores finished outputs; --t needs --lr or --factor\n$/],
      [['--sr', srDir, '--factor', '4', '--back-project', '5', '--t', '5'], /; --t, --back-project need --lr or --factor\n$/],
      [[], /Expected --sr DIR, --lr DIR or --factor F/],
      [
        ['--factor', '2', '--method', 'bicubic', '--t', '9', '--back-project', '3'],
        /^sr: --method bicubic is a baseline; --t applies only to --method boomerang \(an upsampler baseline takes --back-project\)\n$/,
      ],
      [
        ['--factor', '2', '--method', 'matlab-bicubic', '--back-project', '20'],
        /^sr: --method matlab-bicubic is a baseline; --back-project applies only to --method boomerang\n$/,
      ],
      [
        ['--factor', '2', '--method', 'bicubic', '--back-project', '101'],
        /^sr: Expected integer backProject in 0\.\.100 but received 101\n$/,
      ],
    ];
    for (const [flags, message] of cases) {
      const r = await sr(['eval', '--hr', hrDir, ...flags]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });

  it('--method bicubic --back-project K is the back-projection-only baseline; the header says what was applied (issue 26 #4)', async () => {
    const r = await sr(['eval', '--hr', hrDir, '--factor', '2', '--method', 'bicubic', '--back-project', '20', '-q']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^bicubic back-projected 20x \(alone\); /);
    const lib = await evaluate({ hr: hrDir, factor: 2, method: { kind: 'upsampler', kernel: 'bicubic', backProject: 20 } });
    assert.match(r.stdout, new RegExp(`mean of 2 +${lib.mean.psnrY.toFixed(2)} `));
    const plain = await evaluate({ hr: hrDir, factor: 2, method: { kind: 'upsampler', kernel: 'bicubic' } });
    assert.notEqual(lib.mean.psnrY, plain.mean.psnrY);
    const b = await sr([
      'eval',
      '--hr',
      hrDir,
      '--factor',
      '2',
      '--model',
      'fixture',
      '--t',
      '10',
      '--steps',
      '2',
      '--back-project',
      '3',
      '--seed',
      '1',
      '-q',
    ]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /^Boomerang: model fixture on cpu, x2, t=10, 2 steps, bicubic back-projected 3x, /);
  });
});
