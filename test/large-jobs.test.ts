import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordSpeed } from '../src/model/speed.js';
import { upscale, estimateWork, resolveSettings } from '../src/upscale.js';
import { loadModel, type ModelSession } from '../src/model/session.js';
import { createImage } from '../src/image/tensor.js';
import { cascade } from '../src/diffusion/boomerang.js';
import { createRng } from '../src/diffusion/rng.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { upsample, subtractUpsampled } from '../src/image/upsample.js';
import { existsSync } from 'node:fs';
import { isOneLine, sr } from './cli-helpers.js';

// a speed cache of this file's own: figures measured elsewhere must not change what the guard decides
process.env.SR_CACHE_DIR = mkdtempSync(join(tmpdir(), 'sr-large-cache-'));
/** Outputs that a refused job must not write (a fresh folder: a file left by another run would fail the check). */
const scratch = mkdtempSync(join(tmpdir(), 'sr-large-out-'));
const model = await loadModel('fixture');
test.after(() => model.dispose());

const lr = (h: number, w: number) => {
  const img = createImage(3, h, w);
  img.data.forEach((_, i) => {
    img.data[i] = 0.7 * Math.sin(0.37 * i);
  });
  return img;
};

test('an abort inside a step stops at the next tile, not at the end of the step', async () => {
  const ac = new AbortController();
  let runs = 0;
  // a model that counts its runs and aborts after the second tile of the first step
  const counting: ModelSession = {
    ...model,
    run: async (...a) => {
      runs++;
      if (runs === 2) ac.abort();
      return model.run(...a);
    },
  };
  // 24x24 x4 = 96x96 in 32 px tiles with 16 px overlap: 25 tiles per step
  await assert.rejects(
    upscale(
      lr(24, 24),
      {
        model: counting,
        factor: 4,
        t: 20,
        steps: 2,
        cascade: 1,
        seed: 1,
        tiling: { tile: 32, overlap: 16 },
      },
      { signal: ac.signal },
    ),
    { name: 'AbortError' },
  );
  assert.equal(runs, 2);
});

test('the work estimate counts passes, steps, samples and tiles', () => {
  const s = resolveSettings({ factor: 4, t: 10, cascade: [10, 3], steps: 4, samples: 2, seed: 1 }, model.manifest);
  // steps per pass capped at t: 4 + 3; two samples
  const one = estimateWork(s, model.manifest, 16, 16, { shiftGrid: false });
  assert.equal(one.evaluations, 14);
  assert.equal(one.tiles, 1);
  assert.equal(one.megapixelEvaluations, (64 * 64 * 14) / 1e6);
  assert.equal(one.cpuSeconds, one.megapixelEvaluations * model.manifest.cpuSecondsPerMegapixel!);
  // by default a run of several evaluations moves the patch grid: 64 + 3 pixels of room pad to 72 (multiple 8)
  assert.equal(estimateWork(s, model.manifest, 16, 16).megapixelEvaluations, (72 * 72 * 14) / 1e6);
  const tiled = estimateWork(s, model.manifest, 24, 24, { tile: 32, overlap: 16, shiftGrid: false });
  assert.equal(tiled.tiles, 25);
  assert.equal(tiled.megapixelEvaluations, (25 * 32 * 32 * 14) / 1e6);
});

test('a job estimated over ten minutes is refused up front without --yes, naming its cost', async () => {
  const r = await sr([
    'upscale',
    'fixtures/flowers-32.png',
    '-o',
    join(scratch, 'never-written.png'),
    '--model',
    'fixture',
    '--factor',
    '300',
    '--t',
    '50',
    '--steps',
    '10',
    '--cascade',
    '3',
    '--samples',
    '4',
  ]);
  assert.equal(r.status, 2);
  assert.ok(isOneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /30,720 model evaluations \(256 tiles\), about \d+ min .*--yes/);
  assert.equal(existsSync(join(scratch, 'never-written.png')), false);
});

test('in-place noising of the input and of later passes gives the same cascade as fresh buffers', async () => {
  const schedule = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });
  // an image larger than the noise band, so the band-wise draws are exercised
  const x = upsample(lr(64, 96), 2, 'bicubic');
  const denoise = async (xt: typeof x) => {
    const o = createImage(3, xt.shape[1]!, xt.shape[2]!);
    o.data.set(xt.data.map((v) => 0.3 * v));
    return o;
  };
  const opts = { schedule, prediction: 'eps' as const, passes: [30, 20], steps: 3, denoise };
  const copy = createImage(3, x.shape[1]!, x.shape[2]!, x.data.slice());
  const a = await cascade(x, { ...opts, rng: createRng(5) });
  const b = await cascade(copy, { ...opts, rng: createRng(5), consumeInput: true });
  assert.deepEqual(b.data, a.data);
});

test('subtractUpsampled gives exactly target − upsample(image)', () => {
  for (const [h, w, f] of [
    [5, 7, 4],
    [3, 3, 3],
    [1, 6, 2],
  ] as const) {
    const small = lr(h, w);
    const target = upsample(lr(h * f, w * f), 1, 'nearest');
    const want = target.data.map((v, i) => v - upsample(small, f, 'bicubic').data[i]!);
    subtractUpsampled(target.data, small, f, 'bicubic');
    assert.deepEqual(target.data, want);
  }
});

test('the guard goes by the speed measured on this machine when there is one', async () => {
  // flowers-32 x3: one 104x104 tile (96 + 3 pixels of room for the moving patch grid, padded to the multiple 8); a
  // (made-up) slow figure for it puts the job over ten minutes
  await recordSpeed(
    { sha256: model.manifest.sha256, device: 'cpu', height: 104, width: 104, batch: 1 },
    { secondsPerEvaluation: 100, overhead: 0.1, measured: new Date().toISOString(), evaluations: 10 },
  );
  const r = await sr([
    'upscale',
    'fixtures/flowers-32.png',
    '-o',
    join(scratch, 'never-written-3.png'),
    '--model',
    'fixture',
    '--factor',
    '3',
  ]);
  assert.equal(r.status, 2);
  assert.ok(isOneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /model evaluations \(1 tile\), about \d+ min at the speed measured on this machine.*--yes/);
  assert.equal(existsSync(join(scratch, 'never-written-3.png')), false);
});

test('a job over ten seconds says its estimate as it starts', async () => {
  await recordSpeed(
    { sha256: model.manifest.sha256, device: 'cpu', height: 72, width: 72, batch: 1 }, // 64 + 3 of room, padded
    { secondsPerEvaluation: 10, overhead: 0.2, measured: new Date().toISOString(), evaluations: 10 },
  );
  const dir = mkdtempSync(join(tmpdir(), 'sr-announce-'));
  const r = await sr([
    'upscale',
    'fixtures/flowers-32.png',
    '-o',
    join(dir, 'out.png'),
    '--model',
    'fixture',
    '--factor',
    '2',
    '--steps',
    '2',
    '--t',
    '20',
    '--json',
    join(dir, 'report.json'),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^sr: fixtures\/flowers-32.png: \d+ model evaluations \(1 tile\), about \d+ s at the speed measured on this machine, 10\.0 s each$/m,
  );
  // the --json report has the estimate too (what benchmarks/time-estimate.ts compares with the wall time)
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    files: { estimate: { seconds: number; source: string } }[];
  };
  assert.equal(report.files[0]!.estimate.source, 'measured');
  assert.ok(report.files[0]!.estimate.seconds > 10);
});

test('without a figure, the guard checks again at model load at the speed timed then, before any work', async () => {
  // the fixture without a speed record: the plan cannot tell the time; the model load times one evaluation
  const dir = mkdtempSync(join(tmpdir(), 'sr-nospeed-'));
  cpSync('models/fixture', dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.speed;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const out = join(dir, 'out.png');
  const args = ['upscale', 'fixtures/flowers-32.png', '-o', out, '--model', dir, '--factor', '300', '--t', '50', '--steps', '10'];
  const r = await sr([...args, '--cascade', '3', '--samples', '20']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /model evaluations \(256 tiles\), about [\d.]+ (min|h) at the speed timed on this machine just now, [\d.]+ s each; run again with --yes/,
  );
  assert.equal(existsSync(out), false);
});
