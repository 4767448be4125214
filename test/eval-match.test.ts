import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError, UsageError } from '../src/errors.js';
import { cropToMultiple, loadTestSet } from '../src/eval/dataset.js';
import { imageKey, listImages, matchFolders } from '../src/eval/match.js';
import { createImage, unitToByte } from '../src/image/tensor.js';
import { matlabImresize } from '../src/image/upsample.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boomerang-eval-match-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deterministic textured w×h RGB PNG. */
async function png(path: string, w: number, h: number, seed = 1): Promise<void> {
  const buf = Buffer.alloc(w * h * 3);
  for (let i = 0; i < buf.length; i++) buf[i] = (Math.sin(i * 0.37 + seed) * 90 + 128 + ((i * 7919 * seed) % 37)) & 255;
  await sharp(buf, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(path);
}

describe('imageKey', () => {
  it('strips the extension and a role suffix', () => {
    assert.deepEqual(imageKey('img_001_SRF_4_HR.png'), { key: 'img_001_SRF_4', role: 'hr' });
    assert.deepEqual(imageKey('img_001_SRF_4_LR.png'), { key: 'img_001_SRF_4', role: 'lr' });
    assert.deepEqual(imageKey('baby-sr.JPG'), { key: 'baby', role: 'sr' });
    assert.deepEqual(imageKey('pair0_test.png'), { key: 'pair0', role: 'sr' });
    assert.deepEqual(imageKey('bird_GT.png'), { key: 'bird', role: 'hr' });
    assert.deepEqual(imageKey('butterfly.png'), { key: 'butterfly', role: null });
    assert.deepEqual(imageKey('shr.png'), { key: 'shr', role: null }, 'a suffix needs its separator');
  });
});

describe('listImages and matchFolders', () => {
  it('pairs HR and LR that share a folder, and reports the unmatched', async () => {
    const d = join(dir, 'pairs');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d);
    await png(join(d, 'img_001_SRF_4_HR.png'), 8, 8);
    await png(join(d, 'img_001_SRF_4_LR.png'), 2, 2);
    await png(join(d, 'img_002_SRF_4_HR.png'), 8, 8);
    await png(join(d, 'img_003_SRF_4_LR.png'), 2, 2);
    await writeFile(join(d, 'README.md'), 'not an image');
    const hr = await listImages(d, 'hr');
    assert.deepEqual([...hr.keys()], ['img_001_SRF_4', 'img_002_SRF_4']);
    assert.equal(hr.get('img_001_SRF_4'), join(d, 'img_001_SRF_4_HR.png'));
    const m = await matchFolders(d, d, 'lr');
    assert.deepEqual(m.pairs, [{ name: 'img_001_SRF_4', hr: join(d, 'img_001_SRF_4_HR.png'), other: join(d, 'img_001_SRF_4_LR.png') }]);
    assert.deepEqual(m.onlyHr, ['img_002_SRF_4']);
    assert.deepEqual(m.onlyOther, ['img_003_SRF_4']);
  });

  it('refuses two files with one key, and a missing folder', async () => {
    const d = join(dir, 'dup');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d);
    await png(join(d, 'a.png'), 4, 4);
    await png(join(d, 'a_HR.png'), 4, 4);
    await assert.rejects(
      listImages(d, 'hr'),
      (e: unknown) => e instanceof InputError && /Two images in .* match the name a: a.png and a_HR.png/.test(e.message),
    );
    await assert.rejects(listImages(join(dir, 'nope'), 'hr'), (e: unknown) => e instanceof InputError && /no such folder/.test(e.message));
  });
});

describe('cropToMultiple', () => {
  it('keeps the top-left part whose sides are multiples of the factor', () => {
    const img = createImage(3, 7, 10);
    for (let i = 0; i < img.data.length; i++) img.data[i] = (i % 97) / 97;
    const c = cropToMultiple(img, 4);
    assert.deepEqual(c.shape, [3, 4, 8]);
    for (let ch = 0; ch < 3; ch++) for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) assert.equal(c.get(ch, y, x), img.get(ch, y, x));
    assert.equal(cropToMultiple(c, 4), c, 'already a multiple: the same image');
    assert.throws(
      () => cropToMultiple(img, 8),
      (e: unknown) => e instanceof UsageError && /at least 8x8 but received 10x7/.test(e.message),
    );
  });
});

describe('loadTestSet', () => {
  it('makes LR by MATLAB bicubic from the cropped HR when only a factor is given, and says so', async () => {
    const d = join(dir, 'hronly');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d);
    await png(join(d, 'x.png'), 18, 13);
    const set = await loadTestSet({ hr: d, factor: 4 });
    assert.equal(set.lrSource, 'matlab-bicubic');
    assert.equal(set.factor, 4);
    const im = set.images[0]!;
    assert.deepEqual(im.hr.shape, [3, 12, 16]);
    assert.deepEqual(im.lr.shape, [3, 3, 4]);
    assert.deepEqual(Array.from(im.lr.data, unitToByte), Array.from(matlabImresize(im.hr, 1 / 4).data, unitToByte));
    assert.ok(set.notes.some((n) => /cropped to a multiple of 4: x/.test(n)));
  });

  it('infers the factor from given LR images and checks their size', async () => {
    const d = join(dir, 'given');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d);
    await png(join(d, 'p_HR.png'), 17, 12);
    await png(join(d, 'p_LR.png'), 5, 4);
    const set = await loadTestSet({ hr: d, lr: d });
    assert.equal(set.factor, 3);
    assert.equal(set.lrSource, 'given');
    assert.deepEqual(set.images[0]!.hr.shape, [3, 12, 15]);
    await assert.rejects(
      loadTestSet({ hr: d, lr: d, factor: 2 }),
      (e: unknown) => e instanceof InputError && /is 5x4, expected 8x6/.test(e.message),
    );
  });
});
