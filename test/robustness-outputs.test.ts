/**
 * Outputs: no overwrite without --force, never over the input (symlinks, hard links, `..` paths),
 * temp file + rename (nothing else left in the folder, even on failure or abort), and SIGINT/SIGTERM during a
 * run stop cleanly with 130/143 and no stray files.
 */
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { AbortError, OutputError, UsageError } from '../src/errors.js';
import { encodeImage } from '../src/image/io.js';
import { createImage } from '../src/image/tensor.js';
import { tempNameFor } from '../src/io-safety/atomic.js';
import { pendingTempFiles, removeTempFilesSync, trackTempFile } from '../src/io-safety/temp-files.js';
import { upscaleFile } from '../src/upscale.js';
import { FAST, isOneLine, rgbPng, root, sr, srInterrupted, tempDir } from './cli-helpers.js';

const dir = tempDir('out');
const input = join(dir, 'in.png');
before(async () => {
  await rgbPng(input, 16, 16);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('upscaleFile refuses an existing output by default, before any work, as the CLI and the batch do; force: true replaces it (issue 26 #3)', async () => {
  const out = join(dir, 'lib-exists.png');
  writeFileSync(out, 'precious');
  // refused before the model loads: a missing model is not even looked at
  await assert.rejects(upscaleFile(input, out, { model: './no-such-model', t: 10, steps: 2, seed: 1 }), (e: unknown) => {
    assert.ok(e instanceof OutputError, String(e));
    assert.match(e.message, /^Output .*lib-exists\.png exists; refusing to overwrite it \(force: true, --force in sr, replaces it\)$/);
    return true;
  });
  assert.equal(readFileSync(out, 'utf8'), 'precious');
  await assert.rejects(upscaleFile(input, out, { model: 'fixture', force: 'yes' as unknown as boolean }), UsageError);
  await upscaleFile(input, out, { model: 'fixture', t: 10, steps: 2, seed: 1, force: true });
  assert.notEqual(readFileSync(out, 'utf8'), 'precious');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('an existing output is not overwritten without --force (exit 5, file untouched); --force replaces it', async () => {
  const out = join(dir, 'exists.png');
  writeFileSync(out, 'precious');
  const r = await sr(['upscale', input, '-o', out, ...FAST]);
  assert.equal(r.status, 5, r.stderr);
  assert.ok(isOneLine(r.stderr));
  assert.match(r.stderr, /^sr: Output .*exists\.png exists; use --force to overwrite it/);
  assert.equal(readFileSync(out, 'utf8'), 'precious');
  const f = await sr(['upscale', input, '-o', out, '-q', '--force', ...FAST]);
  assert.equal(f.status, 0, f.stderr);
  assert.notEqual(readFileSync(out, 'utf8').slice(0, 8), 'precious');
  // --resume on one file: skipped, exit 0, untouched
  const before = statSync(out).mtimeMs;
  const s = await sr(['upscale', input, '-o', out, '--resume', ...FAST]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /exists; skipped \(--resume\)/);
  assert.equal(statSync(out).mtimeMs, before);
});

test('the input is never written over, whatever the path says (even with --force)', async () => {
  const original = readFileSync(input);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  symlinkSync(input, join(dir, 'link.png'));
  linkSync(input, join(dir, 'hard.png'));
  for (const out of [input, join(dir, 'sub', '..', 'in.png'), join(dir, 'link.png'), join(dir, 'hard.png')]) {
    const r = await sr(['upscale', input, '-o', out, '--force', ...FAST]);
    assert.equal(r.status, 5, `${out}: ${r.stderr}`);
    assert.ok(isOneLine(r.stderr));
    assert.match(r.stderr, /^sr: Refusing to write over the input/);
  }
  assert.ok(readFileSync(input).equals(original));
});

test('a missing output folder is an output error (5) before any work', async () => {
  const r = await sr(['upscale', input, '-o', join(dir, 'no', 'such', 'out.png'), ...FAST]);
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /^sr: Cannot write .*out\.png: no such folder/);
});

test('a finished run leaves exactly the output (written through a temp file and renamed)', async () => {
  const folder = join(dir, 'clean');
  mkdirSync(folder);
  const r = await sr(['upscale', input, '-o', join(folder, 'x4.webp'), '-q', ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(folder), ['x4.webp']);
});

test('encodeImage: overwrite:false refuses atomically, an aborted signal removes the temp file', async () => {
  const folder = join(dir, 'encode');
  mkdirSync(folder);
  const image = { rgb: createImage(3, 4, 4) };
  const target = join(folder, 'a.png');
  writeFileSync(target, 'keep');
  await assert.rejects(encodeImage(image, target, { overwrite: false }), (e) => e instanceof OutputError && /exists/.test(e.message));
  assert.equal(readFileSync(target, 'utf8'), 'keep');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(encodeImage(image, join(folder, 'b.png'), { signal: ac.signal }), AbortError);
  await encodeImage(image, join(folder, 'c.png'), { overwrite: false });
  assert.deepEqual(readdirSync(folder).sort(), ['a.png', 'c.png']);
  assert.deepEqual(pendingTempFiles(), []);
});

test('removeTempFilesSync removes tracked temp files (the forced-exit path)', () => {
  const t = join(dir, '.x.png.1.tmp');
  writeFileSync(t, 'partial');
  trackTempFile(t);
  removeTempFilesSync();
  assert.equal(existsSync(t), false);
  assert.deepEqual(pendingTempFiles(), []);
});

test('SIGINT and SIGTERM during a run stop it cleanly: exit 130/143, no output, no temp files', async () => {
  // 256x256 x4 = 1024x1024: 9 tiles per step with the fixture, several seconds for 30 steps
  const big = join(dir, 'big.png');
  await rgbPng(big, 256, 256);
  const runs = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const folder = join(dir, `sig-${sig}`);
    mkdirSync(folder);
    return srInterrupted(
      ['upscale', big, '-o', join(folder, 'out.png'), '--model', 'fixture', '--t', '300', '--steps', '30', '--seed', '1'],
      /step \d+\/30/,
      sig,
    ).then((r) => ({ sig, folder, ...r }));
  });
  for (const r of await Promise.all(runs)) {
    assert.ok(r.sent, `${r.sig}: the run reached the sampler (${r.stderr})`);
    assert.equal(r.status, r.sig === 'SIGINT' ? 130 : 143, `${r.sig}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^sr: Interrupted by ${r.sig}$`, 'm'));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(readdirSync(r.folder), [], `${r.sig}: ${basename(r.folder)} is empty`);
  }
});

test('--samples K --reduce none writes every sample as <name>-s1 … -sK, and checks them all before work', async () => {
  const d = tempDir('samples');
  const out = join(d, 'pic.png');
  const r = await sr(['upscale', 'fixtures/flowers-32.png', '-o', out, ...FAST, '--samples', '3', '--reduce', 'none']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(d).sort(), ['pic-s1.png', 'pic-s2.png', 'pic-s3.png']);
  assert.notDeepEqual(readFileSync(join(d, 'pic-s1.png')), readFileSync(join(d, 'pic-s2.png')));
  // one of them present: refused without --force, nothing rewritten; --resume skips only when all are there
  rmSync(join(d, 'pic-s3.png'));
  const again = await sr(['upscale', 'fixtures/flowers-32.png', '-o', out, ...FAST, '--samples', '3', '--reduce', 'none']);
  assert.equal(again.status, 5);
  assert.match(again.stderr, /pic-s1\.png exists; use --force/);
  assert.deepEqual(readdirSync(d).sort(), ['pic-s1.png', 'pic-s2.png']);
});

test('--json gets the checks of every output, before any work: not the input, not an output, an existing folder (issue 25 #6, #7)', async () => {
  const original = readFileSync(input);
  const out = join(dir, 'json-out.png');
  const cases: [string[], RegExp][] = [
    [['-o', out, '--json', input], /^sr: Refusing to write the report .*in\.png over the input .*in\.png$/m],
    [['-o', out, '--json', join(dir, 'sub', '..', 'in.png'), '--force'], /over the input/],
    [['-o', out, '--json', out], /^sr: Refusing to write the report .*json-out\.png over the output .*json-out\.png$/m],
    [
      ['-o', out, '--json', join(dir, 'missing', 'dir', 'r.json')],
      /^sr: Cannot write report .*missing\/dir\/r\.json: no such folder .*missing\/dir$/m,
    ],
    [['-o', out, '--json', dir], /^sr: Cannot write report .*: is a directory$/m],
  ];
  for (const [args, message] of cases) {
    const r = await sr(['upscale', input, ...args, ...FAST]);
    assert.equal(r.status, 5, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(isOneLine(r.stderr), r.stderr);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(out), `${args.join(' ')}: no work was done`);
  }
  assert.ok(readFileSync(input).equals(original));
  // a batch: the report is not one of the outputs, an input, or the output folder, and nothing is made first
  const batchIn = join(dir, 'json-batch');
  mkdirSync(batchIn, { recursive: true });
  await rgbPng(join(batchIn, 'a.png'), 8, 8);
  const batchOut = join(dir, 'json-batch-out');
  for (const report of [join(batchOut, 'a.png'), join(batchIn, 'a.png'), batchOut]) {
    const r = await sr(['upscale', batchIn, '-o', batchOut, '--json', report, ...FAST]);
    assert.equal(r.status, 5, `${report}: ${r.stderr}`);
    assert.match(r.stderr, /^sr: (Refusing to write the report|Cannot write report)/);
    assert.ok(!existsSync(batchOut), 'the output folder is not made');
  }
  // sr vary and sr eval check theirs before any work too
  const missing = join(dir, 'missing', 'r.json');
  const varied = join(dir, 'json-vary-out');
  const v = await sr(['vary', batchIn, '-o', varied, '--t', '20', '--json', missing, ...FAST.filter((a) => a !== '--t' && a !== '20')]);
  assert.equal(v.status, 5, v.stderr);
  assert.match(v.stderr, /^sr: Cannot write report .*: no such folder/m);
  assert.ok(!existsSync(varied));
  for (const flag of ['--json', '--csv']) {
    const e = await sr(['eval', '--hr', join(root, 'fixtures', 'metric-check'), '--factor', '4', flag, missing, ...FAST]);
    assert.equal(e.status, 5, e.stderr);
    assert.equal(e.stdout, '', 'nothing was measured');
  }
  const ok = await sr(['upscale', input, '-o', out, '-q', '--json', join(dir, 'json-ok.json'), ...FAST]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(existsSync(out) && existsSync(join(dir, 'json-ok.json')));
});

test('a long legal output name is written: the temporary name stays within it (issue 25 #5)', async () => {
  const long = `${'画'.repeat(80)}.png`; // 244 bytes: legal, but not with ~20 more for a temporary suffix
  assert.equal(Buffer.byteLength(long), 244);
  const out = join(dir, long);
  const r = await sr(['upscale', input, '-o', out, '-q', ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(out));
  assert.equal(tempNameFor(out).length <= out.length, true);
  assert.match(basename(tempNameFor(out)), /^\.sr-\d+-[0-9a-f]{8}\.tmp$/);
  assert.match(basename(tempNameFor(input)), /^\.in\.png\.\d+\.[0-9a-f]{8}\.tmp$/, 'a short name keeps the readable form');
  // a batch over such a name (the input has it too)
  const longIn = join(dir, 'long-in');
  mkdirSync(longIn);
  await rgbPng(join(longIn, long), 8, 8);
  const b = await sr(['upscale', longIn, '-o', join(dir, 'long-out'), '-q', ...FAST]);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(readdirSync(join(dir, 'long-out')), [long]);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('a folder that cannot be created is an output error (exit 5, one line), not an internal error (exit 1)', async () => {
  // a file where a sweep's images folder goes: mkdir failed with a raw ENOTDIR that reached the CLI as exit 1
  const hr = join(dir, 'env-hr');
  mkdirSync(hr);
  await rgbPng(join(hr, 'a.png'), 16, 16);
  const out = join(dir, 'env-sweep');
  mkdirSync(out);
  writeFileSync(join(out, 'images'), 'in the way');
  const s = await sr(
    ['sweep', '--hr', hr, '--factor', '2', '--model', 'fixture', '--t', '20', '--cascade', '1', '--steps', '2'].concat([
      '--out',
      out,
      '--no-report',
      '-q',
    ]),
  );
  assert.equal(s.status, 5, s.stderr);
  assert.ok(isOneLine(s.stderr), s.stderr);
  assert.match(s.stderr, /^sr: Cannot create folder .*env-sweep[\\/]images[\\/].*: a file is in the way/);
  // sr eval --save under a file
  const e = await sr(['eval', '--hr', hr, '--factor', '2', '--save', join(out, 'images', 'sub')]);
  assert.equal(e.status, 5, e.stderr);
  assert.match(e.stderr, /^sr: Cannot create folder .*images[\\/]sub: a file is in the way/);
  assert.doesNotMatch(s.stderr + e.stderr, /internal error/);
});
