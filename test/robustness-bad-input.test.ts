/**
 * Bad input, through the built CLI: each case gives one stderr line naming the file and the problem,
 * no stack trace, no output file, and its documented exit code (2 usage, 3 input, 4 model).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { UsageError } from '../src/errors.js';
import { createImage } from '../src/image/tensor.js';
import { loadModel } from '../src/model/session.js';
import { upscale } from '../src/upscale.js';
import { FAST, bmp2x2, claimedSizePng, isOneLine, rgbPng, root, sr, tempDir } from './cli-helpers.js';

const dir = tempDir('bad');
const good = join(dir, 'good.png');
before(async () => {
  await rgbPng(good, 16, 12);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** Runs `sr upscale <input> -o <fresh output> FAST... extra`; checks one line, code, no output. */
async function fails(input: string, code: number, message: RegExp, extra: string[] = []): Promise<string> {
  const out = join(dir, `out-${++n}.png`);
  const r = await sr(['upscale', input, '-o', out, ...FAST, ...extra]);
  assert.equal(r.status, code, `${input} ${extra.join(' ')}: exit ${r.status}: ${r.stderr}`);
  assert.ok(isOneLine(r.stderr), `one line, no stack trace: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, message);
  assert.equal(existsSync(out), false, 'no output written');
  return r.stderr;
}

test('zero-byte file: input error 3', async () => {
  const p = join(dir, 'empty.png');
  writeFileSync(p, '');
  await fails(p, 3, /^sr: Cannot decode .*empty\.png: file is empty$/m);
});

test('truncated PNG: input error 3', async () => {
  const p = join(dir, 'truncated.png');
  const bytes = readFileSync(good);
  writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  await fails(p, 3, /^sr: Cannot decode .*truncated\.png: truncated or corrupt/m);
  const q = join(dir, 'header-only.png');
  writeFileSync(q, bytes.subarray(0, 20));
  await fails(q, 3, /^sr: Cannot decode .*header-only\.png: corrupt or truncated header/m);
});

test('a text file (named .txt or .png) is an input error 3', async () => {
  for (const name of ['notes.txt', 'notes.png']) {
    const p = join(dir, name);
    writeFileSync(p, 'this is not an image\n');
    await fails(p, 3, new RegExp(`^sr: Cannot decode .*${name.replace('.', '\\.')}: not an image, or a format this tool cannot read`, 'm'));
  }
});

test('wrong extension: a PNG named .jpg simply works (content is sniffed)', async () => {
  const p = join(dir, 'actually-png.jpg');
  cpSync(good, p);
  const out = join(dir, 'sniffed.png');
  const r = await sr(['upscale', p, '-o', out, '-q', ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.width, meta.height], [64, 48]);
});

test('an unsupported format (BMP) is an input error 3', async () => {
  const p = join(dir, 'image.bmp');
  writeFileSync(p, bmp2x2());
  await fails(p, 3, /^sr: Cannot decode .*image\.bmp: not an image, or a format this tool cannot read \(it reads PNG, JPEG/m);
});

test('decompression bomb: refused from the header, fast, input error 3; --max-pixels moves the limit', async () => {
  const p = join(dir, 'bomb.png');
  writeFileSync(p, claimedSizePng(50000, 50000)); // ~1 KB claiming 2.5 gigapixels
  const t0 = performance.now();
  await fails(
    p,
    3,
    /^sr: Cannot decode .*bomb\.png: 50000x50000 = 2500000000 pixels \(2500\.0 MP\) is over the limit of 67108864 pixels \(67\.1 MP\); refusing a possible decompression bomb \(raise it with --max-pixels\)$/m,
  );
  assert.ok(performance.now() - t0 < 15000, 'no attempt to decode');
  // raising the input limit lets the header through; the output size check (usage, 2) then refuses it
  await fails(p, 2, /^sr: Output of .*bomb\.png would be 200000x200000/m, ['--max-pixels', '3000000000']);
  // and lowering it refuses an ordinary image
  // small counts in pixels, not "0.0 MP" (issue 26 #4)
  await fails(good, 3, /good\.png: 16x12 = 192 pixels is over the limit of 100 pixels; refusing/, ['--max-pixels', '100']);
  await fails(good, 2, /^sr: Expected positive integer for --max-pixels but received 0$/m, ['--max-pixels', '0']);
});

test('output beyond the supported size: usage error 2 before any decoding', async () => {
  const wide = join(dir, 'wide.png');
  writeFileSync(wide, claimedSizePng(4097, 10)); // x4 → 16388 px wide
  await fails(wide, 2, /^sr: Output of .*wide\.png would be 16388x40 .*the largest supported is 16384 px per side and 256 MP/m);
  const big = join(dir, 'big.png');
  writeFileSync(big, claimedSizePng(8192, 8000)); // x2 → 16384x16000 = 262 MP
  await fails(big, 2, /would be 16384x16000 \(262\.1 MP\) at x2/, ['--factor', '2']);
});

test('the library refuses an oversized output too, before running the model (UsageError)', async () => {
  let runs = 0;
  const model = await loadModel('fixture');
  const counted = {
    ...model,
    run: (...a: Parameters<typeof model.run>) => {
      runs++;
      return model.run(...a);
    },
  };
  try {
    await assert.rejects(
      upscale(createImage(3, 10, 4097), { model: counted, steps: 1, t: 10 }),
      (e) => e instanceof UsageError && /would be 16388x40 .*16384 px per side/.test(e.message),
    );
    await assert.rejects(
      upscale(createImage(3, 1000, 1001), { model: counted, factor: 16 }),
      (e) => e instanceof UsageError && /would be 16016x16000 \(256\.3 MP\) at x16/.test(e.message),
    );
    assert.equal(runs, 0);
  } finally {
    await model.dispose();
  }
});

test('model problems are model errors 4: missing folder, corrupt model file (sha256), corrupt manifest JSON', async () => {
  await fails(good, 4, /^sr: Cannot read model manifest .*no-such-model\/manifest\.json: ENOENT$/m, [
    '--model',
    join(dir, 'no-such-model'),
  ]);
  // a bare name that is no shipped model lists the ones there are
  await fails(good, 4, /^sr: Unknown model "nosuch": the shipped models are default, fixture, gaussian; or give a model folder/m, [
    '--model',
    'nosuch',
  ]);
  const corrupt = join(dir, 'corrupt-model');
  cpSync(join(root, 'models', 'fixture'), corrupt, { recursive: true });
  const onnx = readFileSync(join(corrupt, 'model.onnx'));
  onnx[onnx.length >> 1] ^= 0xff;
  writeFileSync(join(corrupt, 'model.onnx'), onnx);
  await fails(good, 4, /^sr: Model file .*corrupt-model\/model\.onnx is corrupt or does not match its manifest \(sha256/m, [
    '--model',
    corrupt,
  ]);
  const badJson = join(dir, 'bad-manifest');
  cpSync(join(root, 'models', 'fixture'), badJson, { recursive: true });
  writeFileSync(join(badJson, 'manifest.json'), '{ "name": "fixture", ');
  await fails(good, 4, /^sr: Invalid model manifest .*bad-manifest\/manifest\.json: not valid JSON/m, ['--model', badJson]);
});

test('sr upscale with nothing names the missing input first, then the missing -o', async () => {
  const none = await sr(['upscale']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /missing required argument 'inputs'/);
  const noOut = await sr(['upscale', 'fixtures/flowers-32.png']);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /^sr: required option '-o, --output <path>' not specified$/m);
});

test('usage errors (bad flags) are found before any file is looked at', async () => {
  const missing = join(dir, 'does-not-exist.png');
  await fails(missing, 2, /^sr: Expected one of ancestral, ddim for sampler but received "x"$/m, ['--sampler', 'x']);
  await fails(missing, 2, /^sr: Expected a number for --steps but received "many"$/m, ['--steps', 'many']);
  await fails(missing, 2, /^sr: Expected integer t in 1\.\.999 but received 0$/m, ['--t', '0']);
  await fails(missing, 2, /^sr: Expected tile to be a positive multiple of 8 but received 12$/m, ['--tile', '12']);
  await fails(missing, 2, /^sr: Use either --force .* or --resume/m, ['--force', '--resume']);
  // a bad flag also wins over a missing model
  await fails(missing, 2, /for sampler/, ['--sampler', 'x', '--model', join(dir, 'no-such-model')]);
  // an unknown output extension, before the (missing) input
  const r = await sr(['upscale', missing, '-o', join(dir, 'out.bmp'), ...FAST]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^sr: Expected an output extension among \.png/);
  // and with good flags the missing file is an input error
  await fails(missing, 3, /^sr: Cannot read .*does-not-exist\.png: no such file$/m);
});
