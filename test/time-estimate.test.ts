/**
 * Honest time (issue 22 item 3): the speed cache, the estimate at model load (from the cache, or timed then), the
 * figure a finished run leaves for the next one, and progress within a step, tile by tile.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../src/image/tensor.js';
import { DEFAULT_OVERHEAD, lookupSpeed, recordSpeed, speedCacheFile, type MeasuredSpeed, type SpeedKey } from '../src/model/speed.js';
import { pipelineResizes, progressFraction, resolveSettings, upscale, type ProgressEvent, type TimeEstimate } from '../src/upscale.js';
import { loadModel } from '../src/model/session.js';
import { fakeManifest, fakeSession } from './fake-model.js';

const temp = (tag: string) => mkdtempSync(join(tmpdir(), `sr-speed-${tag}-`));
process.env.SR_CACHE_DIR = temp('cache');

const speed = (secondsPerEvaluation: number, overhead = 0.2): MeasuredSpeed => ({
  secondsPerEvaluation,
  overhead,
  measured: '2026-12-07T00:00:00.000Z',
  evaluations: 10,
});

test('the cache file: SR_CACHE_DIR, else XDG_CACHE_HOME/boomerang-sr, else ~/.cache/boomerang-sr', () => {
  assert.equal(speedCacheFile({ SR_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' }), '/c/speed.json');
  assert.equal(speedCacheFile({ XDG_CACHE_HOME: '/x' }), '/x/boomerang-sr/speed.json');
  assert.match(speedCacheFile({}), /\/\.cache\/boomerang-sr\/speed\.json$/);
});

test('figures are kept per model, device and run shape in a JSON file', async () => {
  const file = join(temp('file'), 'speed.json');
  const key: SpeedKey = { sha256: 'a'.repeat(64), device: 'cpu', height: 576, width: 544, batch: 1 };
  assert.equal(await lookupSpeed(key, file), null);
  assert.equal(await recordSpeed(key, speed(0.5), file), true);
  assert.deepEqual(await lookupSpeed(key, file), speed(0.5));
  assert.equal(await lookupSpeed({ ...key, width: 576 }, file), null);
  assert.equal(await lookupSpeed({ ...key, device: 'webgpu' }, file), null);
  assert.equal(await lookupSpeed({ ...key, batch: 4 }, file), null);
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { speeds: Record<string, MeasuredSpeed> };
  assert.deepEqual(stored.speeds, { 'aaaaaaaaaaaaaaaa cpu 576x544': speed(0.5) });
});

test('a cache that cannot be written keeps the figure for the process; a malformed one counts as empty', async () => {
  const dir = temp('bad');
  writeFileSync(join(dir, 'not-a-folder'), 'x');
  const file = join(dir, 'not-a-folder', 'speed.json');
  const key: SpeedKey = { sha256: 'b'.repeat(64), device: 'cpu', height: 64, width: 64, batch: 1 };
  assert.equal(await recordSpeed(key, speed(0.1), file), false);
  assert.deepEqual(await lookupSpeed(key, file), speed(0.1));
  const garbled = join(dir, 'garbled.json');
  writeFileSync(garbled, '{"speeds": {"bbbbbbbbbbbbbbbb cpu 64x64": {"secondsPerEvaluation": -1}}');
  assert.equal(await lookupSpeed(key, garbled), null);
  assert.equal(await recordSpeed(key, speed(0.1), garbled), true);
  assert.deepEqual(await lookupSpeed(key, garbled), speed(0.1));
});

const lr = (h: number, w: number) => {
  const img = createImage(3, h, w);
  img.data.forEach((_, i) => {
    img.data[i] = 0.7 * Math.sin(0.37 * i);
  });
  return img;
};

test('without a figure, one evaluation is timed at model load (after two warm-up runs) and the run leaves its figure', async () => {
  // a manifest that puts the job over CALIBRATE_ABOVE_SECONDS: it is timed
  const manifest = fakeManifest({ sha256: 'c'.repeat(64), speed: { cpu_seconds_per_megapixel: 1000 } });
  const calls: string[] = [];
  const session = fakeSession(manifest, async (x, batch, h, w) => {
    calls.push(`${batch}x${h}x${w}`);
    return x.map((v) => 0.5 * v);
  });
  const estimates: (TimeEstimate & { runsBefore: number })[] = [];
  const events: ProgressEvent[] = [];
  // 48x40 output in tiles of at most 32 overlapping by 16: 2x2 tiles of 32x32, 2 steps
  const options = {
    model: session,
    factor: 2,
    t: 20,
    steps: 2,
    cascade: 1,
    seed: 1,
    tiling: { tile: 32, overlap: 16, shiftGrid: false }, // the grid's room (one more multiple) would change the tiles
  };
  const ctx = {
    onEstimate: (e: TimeEstimate) => estimates.push({ ...e, runsBefore: calls.length }),
    onProgress: (e: ProgressEvent) => events.push(e),
  };
  const r = await upscale(lr(24, 20), options, ctx);
  assert.equal(estimates.length, 1);
  const e = estimates[0]!;
  assert.equal(e.source, 'calibrated');
  assert.equal(e.runsBefore, 3);
  assert.equal(e.tiles, 4);
  assert.equal(e.tileEvaluations, 8);
  assert.ok(e.secondsPerEvaluation !== null && e.seconds !== null);
  assert.ok(e.pipelineSeconds !== null && e.pipelineSeconds >= 0);
  assert.ok(Math.abs(e.seconds - (8 * e.secondsPerEvaluation * (1 + DEFAULT_OVERHEAD) + e.pipelineSeconds)) < 1e-9);
  assert.deepEqual(calls, new Array(11).fill('1x32x32'));
  assert.equal(r.stats.evaluations, 8); // the timing runs are not the job's
  const key: SpeedKey = { sha256: manifest.sha256, device: 'cpu', height: 32, width: 32, batch: 1 };
  const kept = await lookupSpeed(key);
  assert.ok(kept !== null && kept.evaluations === 8 && kept.secondsPerEvaluation > 0);

  // progress moves tile by tile within each step, never back, and ends at 1
  const tileEvents = events.filter((x) => x.stage === 'tile');
  assert.deepEqual(
    tileEvents.map((x) => `${x.step}:${x.tile}/${x.tiles}`),
    ['0:1/4', '0:2/4', '0:3/4', '0:4/4', '1:1/4', '1:2/4', '1:3/4', '1:4/4'],
  );
  const fractions = events.filter((x) => x.stage === 'tile' || x.stage === 'boomerang').map(progressFraction);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i]! >= fractions[i - 1]!, `${fractions}`);
  assert.equal(fractions.at(-1), 1);

  // the next run goes by the figure kept: no timing runs
  calls.length = 0;
  estimates.length = 0;
  await upscale(lr(24, 20), options, ctx);
  assert.equal(estimates[0]!.source, 'measured');
  assert.equal(estimates[0]!.runsBefore, 0);
  assert.equal(estimates[0]!.seconds, 8 * kept.secondsPerEvaluation * (1 + kept.overhead) + estimates[0]!.pipelineSeconds!);
  assert.equal(calls.length, 8);
});

test('a small job by the manifest is not timed; an estimate that throws stops the run before any work', async () => {
  const manifest = fakeManifest({ sha256: 'd'.repeat(64), speed: { cpu_seconds_per_megapixel: 0.1 } });
  let runs = 0;
  const session = fakeSession(manifest, async (x) => {
    runs++;
    return x.map((v) => 0.5 * v);
  });
  let seen: TimeEstimate | null = null;
  const tiling = { shiftGrid: false };
  await upscale(lr(8, 8), { model: session, factor: 2, t: 20, steps: 2, cascade: 1, seed: 1, tiling }, { onEstimate: (e) => (seen = e) });
  assert.equal(runs, 2);
  assert.equal(seen!.source, 'manifest');
  assert.ok(Math.abs(seen!.seconds! - (16 * 16 * 2 * 0.1) / 1e6) < 1e-12);
  runs = 0;
  await assert.rejects(
    upscale(
      lr(8, 8),
      { model: session, factor: 2, seed: 1 },
      {
        onEstimate: () => {
          throw new Error('too long');
        },
      },
    ),
    /too long/,
  );
  assert.equal(runs, 0);
});

test('pipelineResizes counts the full-resolution resize pairs of a run (hand-counted)', async () => {
  const soft = await loadModel('default');
  const gaussian = await loadModel('gaussian');
  // soft default: 2 passes of 1 step, back-projected 3x, ibp: 3 + 2 (ibp per step) + 1 (the second pass's corruption)
  assert.equal(pipelineResizes(resolveSettings({ factor: 4, seed: 1 }, soft.manifest), soft.manifest), 6);
  // its JPEG settings: one pass of 1 step, no back-projection, no consistency, re-corrupted start: 1, and the JPEG
  // constraint's 3 back-projection iterations
  assert.equal(pipelineResizes(resolveSettings({ factor: 4, seed: 1, input: 'jpeg' }, soft.manifest), soft.manifest), 4);
  assert.equal(
    pipelineResizes(resolveSettings({ factor: 4, seed: 1, input: 'jpeg', jpegConstraint: false }, soft.manifest), soft.manifest),
    1,
  );
  // 1 pass of 3 steps, back-projected 10x, 2 samples: (10 + 3 + 2 jumps x 2) x 2
  const three = resolveSettings({ factor: 4, seed: 1, cascade: 1, steps: 3, samples: 2, backProject: 10 }, soft.manifest);
  assert.equal(pipelineResizes(three, soft.manifest), 34);
  // Gaussian default: t=100, 3 passes of 5 steps, back-projected 20x, ibp: 20 + 15
  assert.equal(pipelineResizes(resolveSettings({ factor: 4, seed: 1 }, gaussian.manifest), gaussian.manifest), 35);
  await soft.dispose();
  await gaussian.dispose();
});
