/**
 * Issue 13, `sr vary`: K samples per image and t at the input's size, in the input tree's layout, with repeatable
 * per-sample seeds (a rerun gives the same bytes, and the record's `sr upscale` command too); distance to the source
 * grows with t; --resume writes nothing new and adds no record, and repairs a torn record line; one bad file does not
 * stop the run; bad flags exit 2 with one line before any input is read; the report. Fixture model, 2 steps.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { UsageError } from '../src/errors.js';
import { decodeImage } from '../src/image/io.js';
import { createPlane } from '../src/metrics/index.js';
import { loadModel } from '../src/model/session.js';
import { areaResize, identify } from '../src/vary/anonymity.js';
import { expandVaryInputs } from '../src/vary/inputs.js';
import type { VaryRecord } from '../src/vary/records.js';
import { sampleSeed } from '../src/vary/settings.js';
import { vary } from '../src/vary/vary.js';
import { isOneLine, rgbPng, root, sr, tempDir } from './cli-helpers.js';

const FAST = ['--model', 'fixture', '--steps', '2', '--seed', '1'];
const dir = tempDir('vary');
const data = join(dir, 'data');
const out = join(dir, 'out');
const SIZES: Record<string, [number, number]> = { 'cats/a.png': [32, 32], 'dogs/b.png': [24, 16], 'dogs/deep/c.png': [40, 24] };

before(async () => {
  mkdirSync(join(data, 'cats'), { recursive: true });
  mkdirSync(join(data, 'dogs', 'deep'), { recursive: true });
  copyFileSync(join(root, 'fixtures', 'flowers-32.png'), join(data, 'cats', 'a.png'));
  await rgbPng(join(data, 'dogs', 'b.png'), 24, 16, 2);
  await sharp(join(root, 'fixtures', 'flowers-64.png'))
    .extract({ left: 8, top: 20, width: 40, height: 24 })
    .toFile(join(data, 'dogs', 'deep', 'c.png'));
  writeFileSync(join(data, 'dogs', '.hidden.png'), 'ignored: hidden');
  const first = await sr(['vary', data, '-o', out, '--t', '20,400', '--samples', '2', '-q', '--json', join(dir, 'run.json'), ...FAST]);
  assert.equal(first.status, 0, first.stderr);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const files = (d: string): string[] =>
  readdirSync(d, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(d, f)).isFile())
    .sort();
const pngs = (d: string): string[] => files(d).filter((f) => f.endsWith('.png') && !f.startsWith('report'));
const records = (d: string): VaryRecord[] =>
  readFileSync(join(d, 'records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as VaryRecord);

test("K samples per image and t, named <name>-t<T>-s<seed>.png in the mirrored layout, each of its input's size", async () => {
  const got = pngs(out);
  assert.equal(got.length, 3 * 2 * 2);
  for (const [source, [w, h]] of Object.entries(SIZES)) {
    const stem = source.slice(0, -'.png'.length);
    for (const t of [20, 400]) {
      const mine = got.filter((f) => f.startsWith(`${stem}-t${t}-s`));
      assert.equal(mine.length, 2, `${source} t=${t}: ${got.join(' ')}`);
      for (const [k, seed] of [1, 2].map((k) => [k, sampleSeed(1, source, t, k)])) {
        assert.ok(mine.includes(`${stem}-t${t}-s${seed}.png`), `sample ${k}: the seed in the name is the derived one`);
        const meta = await sharp(join(out, `${stem}-t${t}-s${seed}.png`)).metadata();
        assert.deepEqual([meta.width, meta.height], [w, h]);
      }
    }
  }
});

test('records: one per sample, keyed by output, with source, t, seed, steps, cascade, model and distances', () => {
  const rs = records(out);
  assert.equal(rs.length, 12);
  assert.equal(new Set(rs.map((r) => r.output)).size, 12);
  for (const r of rs) {
    assert.ok(Object.hasOwn(SIZES, r.source), r.source);
    assert.equal(r.seed, sampleSeed(1, r.source, r.t, r.sample));
    assert.equal(r.runSeed, 1);
    assert.equal(r.steps, 2);
    assert.equal(r.cascade, 1);
    assert.equal(r.model.name, 'fixture');
    assert.match(r.model.sha256, /^[0-9a-f]{64}$/);
    assert.equal(r.input, join(data, ...r.source.split('/')));
    for (const k of ['psnrY', 'ssimY', 'gmsd', 'detailRatio'] as const) assert.ok(Number.isFinite(r.distance[k]), `${k} ${r.distance[k]}`);
  }
  const report = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.deepEqual([report.summary.ok, report.summary.samplesWritten], [3, 12]);
});

test('distance to the source grows with t (mean PSNR-Y and SSIM-Y at t=20 above t=400)', () => {
  const rs = records(out);
  const mean = (t: number, k: 'psnrY' | 'ssimY') => rs.filter((r) => r.t === t).reduce((a, r) => a + r.distance[k], 0) / 6;
  assert.ok(mean(20, 'psnrY') > mean(400, 'psnrY') + 5, `${mean(20, 'psnrY')} vs ${mean(400, 'psnrY')}`);
  assert.ok(mean(20, 'ssimY') > mean(400, 'ssimY'));
});

test("repeatable: the same run gives the same bytes, and so does the record's sr upscale command", async () => {
  const again = join(dir, 'again');
  const r = await sr(['vary', data, '-o', again, '--t', '20,400', '--samples', '2', '-q', ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(pngs(again), pngs(out));
  for (const f of pngs(out)) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(again, f))), f);
  const rec = records(out).find((x) => x.source === 'dogs/deep/c.png' && x.t === 400)!;
  const args = rec.reproduce.split(' ').slice(1);
  const copy = join(dir, 'reproduced.png');
  args[args.indexOf('-o') + 1] = copy;
  const up = await sr(args);
  assert.equal(up.status, 0, up.stderr);
  assert.ok(readFileSync(copy).equals(readFileSync(join(out, rec.output))), rec.reproduce);
});

test('--resume writes nothing new and adds no record; without it existing samples stop the run (exit 5)', async () => {
  const log = readFileSync(join(out, 'records.jsonl'));
  const mtimes = pngs(out).map((f) => statSync(join(out, f)).mtimeMs);
  const refused = await sr(['vary', data, '-o', out, '--t', '20,400', '--samples', '2', ...FAST]);
  assert.equal(refused.status, 5);
  assert.match(refused.stderr, /^sr: 12 outputs exist \(e\.g\. .*\); use --force to overwrite them or --resume to skip them\n$/);
  const resumed = await sr(['vary', data, '-o', out, '--t', '20,400', '--samples', '2', '--resume', ...FAST]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /0 samples written, 12 skipped/);
  assert.ok(readFileSync(join(out, 'records.jsonl')).equals(log), 'no record added');
  assert.deepEqual(
    pngs(out).map((f) => statSync(join(out, f)).mtimeMs),
    mtimes,
    'no sample rewritten',
  );
});

test('--resume after a crash: a torn last record line is repaired, a missing sample redone, nothing duplicated', async () => {
  const work = join(dir, 'crash');
  const args = ['vary', join(data, 'cats'), '-o', work, '--t', '20', '--samples', '3', '-q', ...FAST];
  assert.equal((await sr(args)).status, 0);
  const path = join(work, 'records.jsonl');
  const written = records(work);
  truncateSync(path, readFileSync(path).length - 40); // the last record torn
  rmSync(join(work, written[0]!.output)); // and one sample lost
  const r = await sr([...args, '--resume']);
  assert.equal(r.status, 0, r.stderr);
  const rs = records(work);
  assert.deepEqual(rs.map((x) => x.output).sort(), pngs(work));
  assert.equal(rs.length, 3);
  assert.ok(
    rs.some((x) => x.output === written.at(-1)!.output),
    'the torn record is made again from its file',
  );
});

test('one bad file is reported on one line and the others are done (exit 3)', async () => {
  const mixed = join(dir, 'mixed');
  mkdirSync(mixed);
  copyFileSync(join(root, 'fixtures', 'flowers-32.png'), join(mixed, 'good.png'));
  writeFileSync(join(mixed, 'broken.png'), 'not an image');
  const r = await sr(['vary', mixed, '-o', join(dir, 'mixed-out'), '--t', '20', '-q', ...FAST]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^sr: Cannot decode .*broken\.png: not an image/m);
  assert.match(r.stderr, /^sr: 1 ok, 1 failed of 2 files/m);
  assert.equal(pngs(join(dir, 'mixed-out')).length, 1);
});

test('bad flags exit 2 with one line, before any input is read', async () => {
  const missing = join(dir, 'no-such-input.png');
  for (const bad of [
    ['--consistency', 'ibp'],
    ['--samples', '0'],
    ['--t', '0'],
    ['--t', '1000'],
    ['--cascade', '2,1'],
    ['--force', '--resume'],
  ]) {
    const r = await sr(['vary', missing, '-o', join(dir, 'never'), ...FAST, ...bad]);
    assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.ok(isOneLine(r.stderr), r.stderr);
  }
  assert.match(
    (await sr(['vary', missing, '-o', join(dir, 'never'), '--consistency', 'ddnm', ...FAST])).stderr,
    /none.*project every sample back onto its source/,
  );
  assert.equal(
    (await sr(['vary', missing, '-o', join(dir, 'never'), ...FAST])).status,
    3,
    'good flags: the missing input is then the error',
  );
});

test('--report: table per t, report.md/json and the plot; re-identification and diversity', async () => {
  const r = await sr(['vary', '--report', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\s*t\s+samples\s+sources\s+PSNR-Y to source/m);
  assert.match(r.stdout, /^\s+20\s+6\s+3\s/m);
  assert.match(r.stdout, /^\s*400\s+6\s+3\s/m);
  for (const f of ['report.md', 'report.json', 'report.svg', 'report.png']) assert.ok(statSync(join(out, f)).size > 0, f);
  const a = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  const [low, high] = a.rows;
  assert.equal(a.sources, 3);
  assert.equal(low.reidRate, 1, 'at t=20 every sample is nearest to its own source');
  assert.ok(low.margin > 0);
  assert.ok(low.psnrY > high.psnrY);
  assert.ok(low.diversityPsnrY > high.diversityPsnrY, 'samples of one source differ more at larger t');
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /weak attacker/);
});

test('library: vary gives K samples of the input size per t, the same for the same seed; consistency other than none refused', async () => {
  const model = await loadModel('fixture');
  try {
    const src = (await decodeImage(join(root, 'fixtures', 'flowers-32.png'))).rgb;
    const opts = { model, t: [30, 60], samples: 2, seed: 5, steps: 2, name: 'x.png' };
    const a = await vary(src, opts);
    const b = await vary(src, opts);
    assert.deepEqual(
      a.samples.map((s) => [s.t, s.sample, s.seed]),
      [
        [30, 1, sampleSeed(5, 'x.png', 30, 1)],
        [30, 2, sampleSeed(5, 'x.png', 30, 2)],
        [60, 1, sampleSeed(5, 'x.png', 60, 1)],
        [60, 2, sampleSeed(5, 'x.png', 60, 2)],
      ],
    );
    for (const [i, s] of a.samples.entries()) {
      assert.deepEqual(s.image.shape, [3, 32, 32]);
      assert.deepEqual(s.image.data, b.samples[i]!.image.data);
    }
    assert.notDeepEqual(a.samples[0]!.image.data, a.samples[1]!.image.data, 'two samples differ');
    await assert.rejects(vary(src, { ...opts, consistency: 'ibp' }), UsageError);
  } finally {
    await model.dispose();
  }
});

test('inputs: a folder is walked recursively (hidden skipped), a glob keeps the path below its fixed part', async () => {
  assert.deepEqual(
    (await expandVaryInputs([data])).map((i) => i.rel.split(/[\\/]/).join('/')),
    ['cats/a.png', 'dogs/b.png', 'dogs/deep/c.png'],
  );
  assert.deepEqual(
    (await expandVaryInputs([join(data, 'dogs', '**', '*.png')])).map((i) => i.rel.split(/[\\/]/).join('/')),
    ['b.png', 'deep/c.png'],
  );
});

test('anonymity: area resizing keeps the mean; the nearest source wins, by its margin', () => {
  const p = createPlane(
    5,
    3,
    Float64Array.from({ length: 15 }, (_, i) => i * 10),
  );
  const small = areaResize(p, 2, 2);
  const meanOf = (d: Float64Array) => d.reduce((a, v) => a + v, 0) / d.length;
  assert.ok(Math.abs(meanOf(small.data) - meanOf(p.data)) < 1e-9);
  const flat = (v: number) => createPlane(4, 4, new Float64Array(16).fill(v));
  const sources = new Map([
    ['a', flat(100)],
    ['b', flat(120)],
    ['c', flat(200)],
  ]);
  const nearA = identify(flat(105), 'a', sources);
  assert.deepEqual([nearA.nearest, nearA.reidentified], ['a', true]);
  assert.ok(Math.abs(nearA.margin - 20 * Math.log10(15 / 5)) < 1e-9);
  const nearB = identify(flat(115), 'a', sources);
  assert.deepEqual([nearB.nearest, nearB.reidentified], ['b', false]);
  assert.ok(nearB.margin < 0);
  assert.equal(identify(flat(1), 'a', new Map([['a', flat(0)]])).reidentified, null);
});
