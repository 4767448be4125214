/**
 * Batch jobs: a folder, a glob (with **), several inputs; one bad file does not stop the batch;
 * summary and exit 3 when any failed; --resume skips finished outputs; --json report; the model is loaded once
 * (runBatch is handed one session and every evaluation goes through it); interruption writes the report.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { upscaleBatch, type BatchReport } from '../src/batch/batch.js';
import { expandInputs, glob } from '../src/jobs/inputs.js';
import { fillWeights } from '../src/jobs/outcome.js';
import { upscaleInputs, type PlannedWork } from '../src/batch/upscale-inputs.js';
import { UsageError } from '../src/errors.js';
import { loadModel, type ModelSession } from '../src/model/session.js';
import { FAST, rgbPng, sr, srInterrupted, tempDir } from './cli-helpers.js';

const dir = tempDir('batch');
const photos = join(dir, 'photos');
before(async () => {
  mkdirSync(join(photos, 'nested', 'deeper'), { recursive: true });
  await rgbPng(join(photos, 'a.png'), 12, 8, 1);
  await rgbPng(join(photos, 'c.png'), 8, 8, 3);
  await sharp({ create: { width: 8, height: 6, channels: 3, background: '#3366aa' } })
    .jpeg()
    .toFile(join(photos, 'b.jpg'));
  await sharp({ create: { width: 6, height: 6, channels: 4, background: '#ff000080' } })
    .gif()
    .toFile(join(photos, 'd.gif'));
  writeFileSync(join(photos, 'broken.png'), 'not an image');
  writeFileSync(join(photos, 'readme.txt'), 'ignored: not an image extension');
  writeFileSync(join(photos, '.hidden.png'), 'ignored: hidden');
  await rgbPng(join(photos, 'nested', 'n.png'), 8, 8, 4);
  await rgbPng(join(photos, 'nested', 'deeper', 'm.png'), 8, 8, 5);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const outputs = (d: string): string[] =>
  readdirSync(d, { recursive: true })
    .map(String)
    .filter((f) => !statSync(join(d, f)).isDirectory())
    .sort();

test('a folder: good files done, the bad one reported on one line, summary, exit 3, JSON report', async () => {
  const out = join(dir, 'out-folder');
  const json = join(dir, 'report.json');
  const r = await sr(['upscale', photos, '-o', out, '--json', json, ...FAST]);
  assert.equal(r.status, 3, r.stderr);
  assert.deepEqual(outputs(out), ['a.png', 'b.jpg', 'c.png', 'd.png'], 'GIF input gives a PNG; .txt and hidden files skipped');
  assert.match(r.stderr, /^sr: Cannot decode .*broken\.png: not an image/m);
  assert.match(r.stderr, /^sr: 4 ok, 1 failed of 5 files in [\d.]+ s -> .*out-folder \(report .*report\.json\)$/m);
  assert.match(r.stderr, /^sr: 1 of 5 files failed/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BatchReport;
  assert.deepEqual(report.summary, { total: 5, ok: 4, failed: 1, skipped: 0, interrupted: 0, pending: 0 });
  assert.equal(report.model, 'fixture');
  const byName = Object.fromEntries(report.files.map((f) => [f.input.split('/').pop(), f]));
  assert.equal(byName['broken.png']!.status, 'failed');
  assert.equal(byName['broken.png']!.exitCode, 3);
  assert.match(byName['broken.png']!.error!, /not an image/);
  const a = byName['a.png']!;
  assert.equal(a.status, 'ok');
  assert.equal(a.output, join(out, 'a.png'));
  assert.deepEqual([a.width, a.height], [48, 32]);
  assert.ok(a.seconds > 0);
  assert.equal(a.settings!.seed, 1);
  assert.equal(a.settings!.steps, 2);
  assert.deepEqual(a.settings!.passes, [20]);
  assert.equal(byName['d.gif']!.output, join(out, 'd.png'));
});

test('--resume skips finished outputs; without it (or --force) existing outputs stop the batch before work', async () => {
  const out = join(dir, 'out-resume');
  const first = await sr(['upscale', join(photos, 'a.png'), join(photos, 'c.png'), '-o', out, '-q', ...FAST]);
  assert.equal(first.status, 0, first.stderr);
  const mtime = statSync(join(out, 'a.png')).mtimeMs;
  const again = await sr(['upscale', photos, '-o', out, ...FAST]);
  assert.equal(again.status, 5, again.stderr);
  assert.match(again.stderr, /^sr: 2 outputs exist \(e\.g\. .*a\.png\); use --force to overwrite them or --resume to skip them$/m);
  const json = join(dir, 'resume.json');
  const resumed = await sr(['upscale', photos, '-o', out, '--resume', '--json', json, ...FAST]);
  assert.equal(resumed.status, 3, resumed.stderr); // broken.png still fails
  assert.match(resumed.stderr, /^sr: 2 ok, 1 failed, 2 skipped \(outputs exist, --resume\) of 5 files/m);
  assert.equal(statSync(join(out, 'a.png')).mtimeMs, mtime, 'a finished output is not redone');
  assert.deepEqual(outputs(out), ['a.png', 'b.jpg', 'c.png', 'd.png']);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BatchReport;
  assert.deepEqual(
    report.files
      .filter((f) => f.status === 'skipped')
      .map((f) => f.output)
      .sort(),
    [join(out, 'a.png'), join(out, 'c.png')],
  );
});

test('a quoted glob, with ** keeping the folder structure; several inputs; --format', async () => {
  const out = join(dir, 'out-glob');
  const r = await sr(['upscale', `${photos}/**/*.png`, '-o', out, '-q', '--format', 'webp', ...FAST]);
  assert.equal(r.status, 3, r.stderr); // broken.png matches the glob
  assert.deepEqual(outputs(out), ['a.webp', 'c.webp', 'nested/deeper/m.webp', 'nested/n.webp']);
  const flat = join(dir, 'out-flat');
  const f = await sr(['upscale', `${photos}/[ab].*`, '-o', flat, '-q', ...FAST]);
  assert.equal(f.status, 0, f.stderr);
  assert.deepEqual(outputs(flat), ['a.png', 'b.jpg']);
  // outputs inside the input tree are not taken as inputs on a rerun
  const inside = join(photos, 'big');
  const first = await sr(['upscale', `${photos}/**/[ac].png`, '-o', inside, '-q', ...FAST]);
  assert.equal(first.status, 0, first.stderr);
  const rerun = await sr(['upscale', `${photos}/**/[ac].png`, '-o', inside, '--resume', ...FAST]);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stderr, /^sr: 0 ok, 2 skipped .* of 2 files/m);
  assert.deepEqual(outputs(inside), ['a.png', 'c.png']);
  rmSync(inside, { recursive: true });
  const none = await sr(['upscale', `${photos}/*.tiff`, '-o', flat, ...FAST]);
  assert.equal(none.status, 3);
  assert.match(none.stderr, /^sr: No files match .*\*\.tiff$/m);
});

test('plans that would collide or write over an input are refused before work', async () => {
  const same = await sr(['upscale', photos, '-o', photos, '--resume', ...FAST]);
  assert.equal(same.status, 5, same.stderr);
  assert.match(same.stderr, /^sr: Refusing to write over the input .*photos\/a\.png/m);
  // two inputs with one name (even if one is missing) would share an output: a usage error, nothing written
  const clash = await sr([
    'upscale',
    join(photos, 'a.png'),
    join(photos, 'nested', 'n.png'),
    join(dir, 'x', 'a.png'),
    '-o',
    join(dir, 'out-clash'),
    ...FAST,
  ]);
  assert.equal(clash.status, 2, clash.stderr);
  assert.match(clash.stderr, /^sr: Inputs .*photos\/a\.png and .*x\/a\.png would both write .*out-clash\/a\.png/m);
  // a missing input among several is a per-file failure
  const missing = await sr(['upscale', join(photos, 'a.png'), join(dir, 'x', 'gone.png'), '-o', join(dir, 'out-missing'), ...FAST]);
  assert.equal(missing.status, 3, missing.stderr);
  assert.match(missing.stderr, /^sr: Cannot read .*gone\.png: no such file$/m);
  assert.match(missing.stderr, /^sr: 1 ok, 1 failed of 2 files/m);
  const fmt = await sr([
    'upscale',
    join(photos, 'a.png'),
    join(photos, 'b.jpg'),
    join(photos, 'nested', 'n.png'),
    '-o',
    join(dir, 'out-fmt'),
    ...FAST,
  ]);
  assert.equal(fmt.status, 0, fmt.stderr);
  mkdirSync(join(dir, 'dup'));
  writeFileSync(join(dir, 'dup', 'a.jpg'), readFileSync(join(photos, 'b.jpg')));
  const dup = await sr([
    'upscale',
    join(photos, 'a.png'),
    join(dir, 'dup', 'a.jpg'),
    '-o',
    join(dir, 'out-dup'),
    '--format',
    'png',
    ...FAST,
  ]);
  assert.equal(dup.status, 2, dup.stderr);
  assert.match(dup.stderr, /^sr: Inputs .*a\.png and .*a\.jpg would both write .*out-dup\/a\.png/m);
});

test('expandInputs and glob: folders, patterns, hidden files, literal names with brackets', async () => {
  const e = await expandInputs([photos]);
  assert.equal(e.batch, true);
  assert.deepEqual(
    e.items.map((i) => i.rel),
    ['a.png', 'b.jpg', 'broken.png', 'c.png', 'd.gif'],
  );
  const single = await expandInputs([join(photos, 'a.png')]);
  assert.equal(single.batch, false);
  const g = await glob(`${photos}/**/?.png`);
  assert.deepEqual(
    g.matches.map((m) => m.slice(photos.length + 1)),
    ['a.png', 'c.png', 'nested/deeper/m.png', 'nested/n.png'],
  );
  writeFileSync(join(dir, 'odd[1].png'), 'x');
  const lit = await expandInputs([join(dir, 'odd[1].png')]);
  assert.equal(lit.batch, false, 'an existing file with glob characters is taken literally');
});

test('upscaleBatch (the library) uses the one model session it is given for every file, and writes nothing to stderr', async () => {
  const model = await loadModel('fixture');
  let runs = 0;
  let disposed = false;
  const counted: ModelSession = {
    ...model,
    run: (...a) => {
      runs++;
      return model.run(...a);
    },
    dispose: async () => {
      disposed = true;
    },
  };
  const out = join(dir, 'out-lib');
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  const files: string[] = [];
  let outcome: Awaited<ReturnType<typeof upscaleBatch>>;
  try {
    outcome = await upscaleBatch(
      [join(photos, 'a.png'), join(photos, 'c.png'), join(photos, 'b.jpg'), join(photos, 'broken.png')],
      out,
      counted,
      { steps: 2, t: 20, seed: 1 },
      { onFile: (f) => files.push(`${f.status} ${f.errorCode ?? ''}`.trim()) },
    );
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written, []);
  assert.equal(outcome.stoppedBy, null);
  assert.deepEqual(outcome.report.summary, { total: 4, ok: 3, failed: 1, skipped: 0, interrupted: 0, pending: 0 });
  assert.deepEqual(files, ['ok', 'ok', 'ok', 'failed INPUT']);
  assert.equal(runs, 3 * 2, 'one evaluation per step per file, all through the given session');
  assert.equal(disposed, false, 'the caller owns the session');
  // a rerun with resume skips the finished files (and still fails the broken one)
  const again = await upscaleBatch([join(photos, 'a.png'), join(photos, 'broken.png')], out, counted, {
    steps: 2,
    t: 20,
    seed: 1,
    resume: true,
  });
  assert.deepEqual(
    again.report.files.map((f) => f.status),
    ['skipped', 'failed'],
  );
  assert.equal(runs, 3 * 2);
  await model.dispose();
});

test('SIGTERM during a batch: exit 143, the report marks the file interrupted and the rest pending, no stray files', async () => {
  const big = join(dir, 'big');
  mkdirSync(big);
  await rgbPng(join(big, '1.png'), 256, 256, 1);
  await rgbPng(join(big, '2.png'), 256, 256, 2);
  const out = join(dir, 'out-term');
  const json = join(dir, 'term.json');
  const r = await srInterrupted(
    ['upscale', big, '-o', out, '--json', json, '--model', 'fixture', '--t', '300', '--steps', '30', '--seed', '1'],
    / 1\/2 /, // the first progress line: file 1 of 2 is under way (a pipe prints it at once)
    'SIGTERM',
  );
  assert.ok(r.sent, r.stderr);
  assert.equal(r.status, 143, r.stderr);
  assert.match(r.stderr, /^sr: Interrupted by SIGTERM$/m);
  assert.deepEqual(readdirSync(out), []);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BatchReport;
  assert.deepEqual(
    report.files.map((f) => f.status),
    ['interrupted', 'pending'],
  );
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('upscaleInputs (the library): onPlan sees the work before anything is written or loaded; one file or a folder', async () => {
  const plans: PlannedWork[] = [];
  const refuse = (w: PlannedWork) => {
    plans.push(w);
    throw new UsageError('too costly');
  };
  const out = join(dir, 'out-inputs');
  await assert.rejects(upscaleInputs([photos], out, { model: 'fixture', steps: 2, t: 20 }, { onPlan: refuse }), /too costly/);
  assert.equal(plans[0]!.kind, 'batch');
  assert.equal(plans[0]!.label, '5 files');
  assert.equal(plans[0]!.estimates.filter((e) => e === null).length, 1, 'the broken file has no estimate');
  assert.throws(() => statSync(out), 'the output folder is not made');
  const one = join(dir, 'one.png');
  await assert.rejects(upscaleInputs([join(photos, 'a.png')], one, { model: 'fixture' }, { onPlan: refuse }), /too costly/);
  assert.deepEqual([plans[1]!.kind, plans[1]!.label], ['file', join(photos, 'a.png')]);
  const fractions: number[] = [];
  const done = await upscaleInputs(
    [join(photos, 'a.png')],
    one,
    { model: 'fixture', steps: 2, t: 20, seed: 1 },
    { onProgress: (e) => fractions.push(e.done / e.total) },
  );
  assert.equal(done.kind, 'file');
  assert.equal(done.report.outputDir, null);
  assert.deepEqual(
    done.report.files.map((f) => [f.status, f.width, f.height]),
    [['ok', 48, 32]],
  );
  assert.ok(fractions.length > 0 && fractions.every((x) => x >= 0 && x <= 1));
  const skipped = await upscaleInputs([join(photos, 'a.png')], one, { model: 'fixture', resume: true });
  assert.equal(skipped.report.files[0]!.status, 'skipped');
  await assert.rejects(upscaleInputs([join(photos, 'a.png')], one, { force: true, resume: true }), UsageError);
  await assert.rejects(upscaleInputs([join(photos, 'a.png')], one, { queue: 'redis://127.0.0.1:1' }), /--queue runs batches/);
});

test("batch progress is weighted by each file's work; an unreadable file counts as the mean of the others", () => {
  assert.deepEqual(fillWeights([1, NaN, 3]), [1, 2, 3]);
  assert.deepEqual(fillWeights([NaN, NaN]), [1, 1]);
});

test('a newline or control character in a file name is escaped in the one-line errors and the report, not cut (issue 25 #4)', async () => {
  const odd = join(dir, 'odd');
  mkdirSync(odd);
  await rgbPng(join(odd, 'good.png'), 8, 8, 1);
  writeFileSync(join(odd, 'bad\nname\u001b[31m.png'), 'junk');
  const json = join(dir, 'odd.json');
  const out = join(dir, 'out-odd');
  const r = await sr(['upscale', odd, '-o', out, '--json', json, ...FAST]);
  assert.equal(r.status, 3, r.stderr);
  for (const line of r.stderr.trimEnd().split('\n')) assert.match(line, /^(sr: |\[)/, `every line is whole: ${JSON.stringify(line)}`);
  assert.ok(!r.stderr.includes('\u001b'), 'no raw escape reaches the terminal');
  assert.match(r.stderr, /^sr: Cannot decode .*odd\/bad\\nname\\x1b\[31m\.png: not an image/m);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BatchReport;
  const bad = report.files.find((f) => f.status === 'failed')!;
  assert.equal(bad.input, join(odd, 'bad\nname\u001b[31m.png'), 'the report keeps the real name in its input field');
  assert.match(bad.error!, /^Cannot decode .*bad\\nname\\x1b\[31m\.png: not an image/);
  assert.ok(!bad.error!.includes('\n'));
  // one file: the exit line is one line too
  const one = await sr(['upscale', join(odd, 'bad\nname\u001b[31m.png'), '-o', join(dir, 'odd-one.png'), ...FAST]);
  assert.equal(one.status, 3, one.stderr);
  assert.match(one.stderr, /^sr: Cannot decode .*bad\\nname\\x1b\[31m\.png: not an image[^\n]*\n$/);
});

test('--resume: an output another run finished meanwhile is a skip, not a failure, and is left as it is (issue 25 #8)', async () => {
  const src = join(dir, 'race-in');
  mkdirSync(src);
  await rgbPng(join(src, 'a.png'), 8, 8, 1);
  await rgbPng(join(src, 'b.png'), 8, 8, 2);
  const out = join(dir, 'race-out');
  const opts = { model: 'fixture', steps: 2, t: 20, seed: 7, resume: true };
  // the racing run: the output of the file under way appears while the model runs
  const racer = (file: string) => (e: { label: string }) => {
    if (e.label.includes(file) && !statSync(join(out, file), { throwIfNoEntry: false }))
      writeFileSync(join(out, file), 'written by the other run');
  };
  const batch = await upscaleInputs([src], out, opts, { onProgress: racer('a.png') });
  assert.deepEqual(batch.report.summary, { total: 2, ok: 1, failed: 0, skipped: 1, interrupted: 0, pending: 0 });
  assert.equal(batch.report.files.find((f) => f.input.endsWith('a.png'))!.status, 'skipped');
  assert.equal(readFileSync(join(out, 'a.png'), 'utf8'), 'written by the other run');
  // one file
  const one = join(out, 'one.png');
  const single = await upscaleInputs([join(src, 'a.png')], one, opts, {
    onProgress: () => {
      if (!statSync(one, { throwIfNoEntry: false })) writeFileSync(one, 'written by the other run');
    },
  });
  assert.equal(single.report.files[0]!.status, 'skipped');
  assert.equal(readFileSync(one, 'utf8'), 'written by the other run');
  // without --resume it stays a refusal
  rmSync(one);
  await assert.rejects(
    upscaleInputs([join(src, 'a.png')], one, { ...opts, resume: false }, { onProgress: () => writeFileSync(one, 'x') }),
    /Output .*one\.png exists; refusing to overwrite it/,
  );
});
