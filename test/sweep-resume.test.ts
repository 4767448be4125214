import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { UsageError } from '../src/errors.js';
import { expandGrid } from '../src/eval/grid.js';
import { runSweep, type SweepOptions } from '../src/eval/sweep.js';
import { loadModel, type ModelSession } from '../src/model/session.js';

let inner: ModelSession;
let dir = '';
let hrDir = '';
let calls = 0;
/** The fixture model, counting its runs. */
let counting: ModelSession;

before(async () => {
  inner = await loadModel('fixture');
  counting = {
    dir: inner.dir,
    manifest: inner.manifest,
    device: inner.device,
    run: (...args) => {
      calls++;
      return inner.run(...args);
    },
    dispose: async () => undefined,
  };
  dir = await mkdtemp(join(tmpdir(), 'boomerang-sweep-'));
  hrDir = join(dir, 'hr');
  await mkdir(hrDir);
  for (const [name, k] of [
    ['a', 1],
    ['b', 2],
  ] as const) {
    const buf = Buffer.alloc(34 * 32 * 3);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.round(128 + 90 * Math.sin(i * 0.05 * k) * Math.cos(i * 0.011));
    await sharp(buf, { raw: { width: 34, height: 32, channels: 3 } })
      .png()
      .toFile(join(hrDir, `${name}.png`));
  }
});
after(async () => {
  await inner.dispose();
  await rm(dir, { recursive: true, force: true });
});

const grid = (out: string): SweepOptions => ({
  hr: hrDir,
  out,
  model: counting,
  factors: [2],
  ts: [10, 20],
  cascades: [1, 2],
  steps: [2],
  samples: [1, 2],
  reduces: ['mean', 'none'],
  seed: 3,
});

const lines = async (p: string) => (await readFile(p, 'utf8')).trim().split('\n');

describe('expandGrid', () => {
  it('puts the baselines first, caps steps at t, and drops reduce for K = 1', () => {
    const cells = expandGrid(
      { factors: [4], ts: [3, 50], cascades: [1], steps: [5], samples: [1, 2], reduces: ['mean', 'median'] },
      { T: 1000, defaultSteps: 10 },
    );
    assert.deepEqual(
      cells.map((c) => c.id),
      [
        'x4 matlab-bicubic',
        'x4 nearest',
        'x4 bilinear',
        'x4 bicubic',
        'x4 lanczos',
        'x4 t3 N1 bicubic ddnm S3 K1',
        'x4 t3 N1 bicubic ddnm S3 K2 mean',
        'x4 t3 N1 bicubic ddnm S3 K2 median',
        'x4 t50 N1 bicubic ddnm S5 K1',
        'x4 t50 N1 bicubic ddnm S5 K2 mean',
        'x4 t50 N1 bicubic ddnm S5 K2 median',
      ],
    );
    assert.throws(
      () => expandGrid({ factors: [4], ts: [1000], cascades: [1] }, { T: 1000, defaultSteps: 10 }),
      (e: unknown) => e instanceof UsageError && /Expected integer t in 1..999 but received 1000/.test(e.message),
    );
    assert.throws(
      () => expandGrid({ factors: [4], ts: [10], cascades: [1], upsamplers: ['cubic' as 'bicubic'] }, { T: 1000, defaultSteps: 10 }),
      /Expected one of nearest, bilinear, bicubic, lanczos for upsampler but received "cubic"/,
    );
  });
});

describe('runSweep', () => {
  it('writes the log, CSV and JSON; a rerun skips every finished cell without running the model', async () => {
    const out = join(dir, 'run1');
    calls = 0;
    const r1 = await runSweep(grid(out));
    // 5 baselines + 2 t × 2 N × (K1, K2 mean, K2 none) = 17 cells, on 2 images
    assert.equal(r1.cells.length, 17);
    assert.equal(r1.records.length, 34);
    assert.equal(r1.meta.run.computed, 34);
    assert.equal(r1.meta.run.skipped, 0);
    // one model run serves K2 mean and K2 none: 2 t × 2 N × 2 K-groups × 2 images
    assert.equal(r1.meta.run.modelRuns, 16);
    // model calls: per image, Σ over t, N, K of N × steps × K = (1+2) × 2 × (1+2) × 2 t = 36; two images
    assert.equal(calls, 72);
    assert.equal((await lines(r1.files.log)).length, 34);
    const csv = await lines(r1.files.csv);
    assert.equal(csv.length, 35);
    assert.match(csv[0]!, /^id,kind,factor,t,cascade,upsampler,backProject,consistency,steps,samples,reduce,image,width,height,psnrY,/);
    const summary = await lines(r1.files.summaryCsv);
    assert.equal(summary.length, 18);
    const json = JSON.parse(await readFile(r1.files.summaryJson, 'utf8')) as {
      meta: { protocol: string };
      rows: unknown[];
      analyses: { recommendations: { rule: string }[] }[];
    };
    assert.equal(json.rows.length, 17);
    assert.match(json.meta.protocol, /BT\.601/);
    assert.deepEqual(
      json.analyses[0]!.recommendations.map((x) => x.rule),
      ['best-psnr', 'most-detail', 'knee'],
    );
    assert.ok(r1.rows.every((row) => row.images === 2));
    // HR 34x32 was cropped to a multiple of 2 (no-op) and scored at 34x32
    assert.ok(r1.records.every((x) => x.width === 34 && x.height === 32));

    calls = 0;
    const r2 = await runSweep(grid(out));
    assert.equal(calls, 0, 'no model run on a rerun');
    assert.equal(r2.meta.run.computed, 0);
    assert.equal(r2.meta.run.skipped, 34);
    assert.equal((await lines(r1.files.log)).length, 34, 'nothing appended');
    assert.deepEqual(
      r2.rows.map((x) => [x.id, x.psnrY]),
      r1.rows.map((x) => [x.id, x.psnrY]),
    );
  });

  it('after an interruption computes only what is missing (a torn last line is ignored)', async () => {
    const out = join(dir, 'run2');
    const first = await runSweep({ ...grid(out), ts: [10], cascades: [1], samples: [1] });
    assert.equal(first.records.length, 12);
    const log = await lines(first.files.log);
    // keep the first 9 records, and half of the tenth (as a crash mid-write would)
    await writeFile(first.files.log, log.slice(0, 9).join('\n') + '\n' + log[9]!.slice(0, 20));
    calls = 0;
    const again = await runSweep({ ...grid(out), ts: [10], cascades: [1], samples: [1] });
    assert.equal(again.meta.run.computed, 3);
    assert.equal(again.meta.run.skipped, 9);
    assert.equal(again.records.length, 12);
    const newIds = (await lines(first.files.log)).slice(10).map((l) => (JSON.parse(l) as { id: string }).id);
    assert.equal(newIds.length, 3);
    // a new seed re-runs the Boomerang cells only
    calls = 0;
    const seeded = await runSweep({ ...grid(out), ts: [10], cascades: [1], samples: [1], seed: 4 });
    assert.equal(seeded.meta.run.computed, 2);
    assert.ok(calls > 0);
  });

  it('refuses to mix another data set into the folder, and several factors with one LR folder', async () => {
    const out = join(dir, 'run3');
    await runSweep({ ...grid(out), ts: [], saveImages: 'none' });
    await assert.rejects(
      runSweep({ ...grid(out), hr: dir, ts: [] }),
      (e: unknown) => e instanceof UsageError && /holds a sweep of/.test(e.message),
    );
    await assert.rejects(
      runSweep({ ...grid(join(dir, 'run4')), lr: hrDir, factors: [2, 4] }),
      (e: unknown) => e instanceof UsageError && /Expected one factor with an LR folder/.test(e.message),
    );
  });

  it('a bad sampler or eta is a usage error before the folder is written', async () => {
    for (const [bad, message] of [
      [{ sampler: 'z' as never }, /Expected one of ancestral, ddim for sampler but received "z"/],
      [{ eta: 2 }, /Expected number eta in 0\.\.1 but received 2/],
      [{ upsamplers: ['x' as never] }, /for upsampler but received "x"/],
    ] as const) {
      const out = join(dir, 'never');
      await assert.rejects(runSweep({ ...grid(out), ...bad }), (e: unknown) => e instanceof UsageError && message.test(e.message));
      await assert.rejects(readFile(join(out, 'dataset.json')), 'nothing written');
    }
  });
});
