import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError, OutputError, UsageError } from '../src/errors.js';
import { decodeImage, encodeImage, encodeImageToBuffer, formatFromPath } from '../src/image/io.js';
import { byteToUnit, createImage, unitToByte } from '../src/image/tensor.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boomerang-io-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 2x3 RGB bytes, pixel-interleaved, with distinct values per pixel and channel. */
const RGB = Buffer.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 255, 254, 253]);

const bytesOf = (t: { data: Float32Array }): number[] => Array.from(t.data, unitToByte);

describe('decodeImage', () => {
  it('decodes an RGB PNG to planar [-1, 1] values', async () => {
    const path = join(dir, 'rgb.png');
    await sharp(RGB, { raw: { width: 3, height: 2, channels: 3 } })
      .png()
      .toFile(path);
    const img = await decodeImage(path);
    assert.equal(img.width, 3);
    assert.equal(img.height, 2);
    assert.equal(img.format, 'png');
    assert.equal(img.bitDepth, 8);
    assert.equal(img.channels, 3);
    assert.equal(img.alpha, null);
    assert.deepEqual(img.rgb.shape, [3, 2, 3]);
    // channel R plane: bytes at interleaved positions 0, 3, 6, …
    assert.deepEqual(bytesOf(img.rgb).slice(0, 6), [0, 30, 60, 90, 120, 255]);
    assert.deepEqual(bytesOf(img.rgb).slice(12, 18), [20, 50, 80, 110, 140, 253]);
    assert.equal(img.rgb.get(0, 0, 0), -1);
    assert.equal(img.rgb.get(0, 1, 2), 1);
    assert.equal(img.rgb.get(1, 0, 1), Math.fround(byteToUnit(40)));
  });

  it('expands a grayscale PNG to RGB', async () => {
    const buf = await sharp(Buffer.from([0, 64, 128, 255]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const img = await decodeImage(buf);
    assert.equal(img.channels, 1);
    assert.deepEqual(img.rgb.shape, [3, 2, 2]);
    for (let c = 0; c < 3; c++) assert.deepEqual(bytesOf(img.rgb).slice(c * 4, c * 4 + 4), [0, 64, 128, 255]);
  });

  it('keeps alpha of an RGBA PNG', async () => {
    const rgba = Buffer.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 9, 9, 9, 64]);
    const buf = await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeImage(buf);
    assert.equal(img.channels, 4);
    assert.ok(img.alpha);
    assert.deepEqual(img.alpha.shape, [1, 2, 2]);
    assert.deepEqual(bytesOf(img.alpha), [255, 128, 0, 64]);
    assert.deepEqual(bytesOf(img.rgb).slice(0, 4), [255, 0, 0, 9]);
  });

  it('reads a 16-bit PNG at 16 bits', async () => {
    const px = new Uint16Array([0, 1000, 65535, 30000, 2, 3, 40000, 50000, 60000, 7, 8, 65534]);
    const buf = await sharp(px, { raw: { width: 2, height: 2, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const img = await decodeImage(buf);
    assert.equal(img.bitDepth, 16);
    assert.equal(img.rgb.get(0, 0, 0), -1);
    assert.equal(img.rgb.get(0, 0, 1), Math.fround(30000 / 32767.5 - 1));
    assert.equal(img.rgb.get(1, 0, 0), Math.fround(1000 / 32767.5 - 1)); // not a multiple of 257: 8 bits would lose it
    assert.equal(img.rgb.get(2, 1, 1), Math.fround(65534 / 32767.5 - 1));
  });

  it('decodes a JPEG approximately and applies EXIF orientation', async () => {
    const flat = Buffer.alloc(8 * 16 * 3, 200);
    const jpeg = await sharp(flat, { raw: { width: 16, height: 8, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const img = await decodeImage(jpeg);
    assert.equal(img.format, 'jpeg');
    assert.equal(img.width, 16);
    for (const v of bytesOf(img.rgb)) assert.ok(Math.abs(v - 200) <= 2);
    const rotated = await sharp(flat, { raw: { width: 16, height: 8, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const r = await decodeImage(rotated);
    assert.equal(r.width, 8);
    assert.equal(r.height, 16);
  });

  it('takes the first frame of an animated WebP and converts CMYK to sRGB', async () => {
    const frames = Buffer.alloc(2 * 4 * 3, 20).fill(200, 0, 12); // frame 1 all 200, frame 2 all 20
    const anim = await sharp(frames, { raw: { width: 2, height: 4, channels: 3, pageHeight: 2 } })
      .webp({ lossless: true })
      .toBuffer();
    const img = await decodeImage(anim);
    assert.equal(img.height, 2);
    assert.deepEqual(bytesOf(img.rgb), new Array(12).fill(200));
    const cmyk = await sharp(Buffer.alloc(4 * 3, 128), { raw: { width: 2, height: 2, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    const c = await decodeImage(cmyk);
    assert.equal(c.channels, 4);
    assert.equal(c.alpha, null);
    for (const v of bytesOf(c.rgb)) assert.ok(Math.abs(v - 128) < 16, `cmyk → ${v}`);
  });

  it('throws InputError naming the file for empty, garbage, truncated and missing files', async () => {
    const empty = join(dir, 'empty.png');
    await writeFile(empty, Buffer.alloc(0));
    await assert.rejects(
      decodeImage(empty),
      (e: unknown) => e instanceof InputError && e.message === `Cannot decode ${empty}: file is empty`,
    );
    const garbage = join(dir, 'garbage.png');
    await writeFile(garbage, 'this is not an image');
    await assert.rejects(
      decodeImage(garbage),
      (e: unknown) => e instanceof InputError && e.message.startsWith(`Cannot decode ${garbage}: `) && !e.message.includes('\n'),
    );
    const whole = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const truncated = join(dir, 'truncated.png');
    await writeFile(truncated, whole.subarray(0, whole.length - 30));
    await assert.rejects(
      decodeImage(truncated),
      (e: unknown) => e instanceof InputError && e.message.startsWith(`Cannot decode ${truncated}: `),
    );
    const missing = join(dir, 'missing.png');
    await assert.rejects(
      decodeImage(missing),
      (e: unknown) => e instanceof InputError && e.message === `Cannot read ${missing}: no such file`,
    );
  });

  it('enforces limitInputPixels', async () => {
    const buf = await sharp(RGB, { raw: { width: 3, height: 2, channels: 3 } })
      .png()
      .toBuffer();
    await assert.rejects(decodeImage(buf, { limitInputPixels: 5 }), InputError);
    assert.equal((await decodeImage(buf, { limitInputPixels: 6 })).width, 3);
    assert.equal((await decodeImage(buf, { limitInputPixels: false })).width, 3);
    await assert.rejects(decodeImage(buf, { limitInputPixels: -1 }), UsageError);
  });
});

describe('encodeImage', () => {
  function sample(): { rgb: ReturnType<typeof createImage>; alpha: ReturnType<typeof createImage> } {
    const rgb = createImage(3, 3, 4);
    for (let i = 0; i < rgb.data.length; i++) rgb.data[i] = byteToUnit((i * 23) % 256);
    const alpha = createImage(1, 3, 4);
    for (let i = 0; i < alpha.data.length; i++) alpha.data[i] = byteToUnit(255 - i * 20);
    return { rgb, alpha };
  }

  it('round-trips PNG exactly, with and without alpha', async () => {
    const { rgb, alpha } = sample();
    const path = join(dir, 'round.png');
    await encodeImage({ rgb }, path);
    const back = await decodeImage(path);
    assert.deepEqual(back.rgb.data, rgb.data);
    assert.equal(back.alpha, null);
    await encodeImage({ rgb, alpha }, path);
    const withAlpha = await decodeImage(path);
    assert.deepEqual(withAlpha.rgb.data, rgb.data);
    assert.deepEqual(withAlpha.alpha!.data, alpha.data);
  });

  it('rounds v to round((v + 1)·127.5), clamped', async () => {
    const rgb = createImage(3, 1, 4, Float32Array.from([-1.5, -1, 1, 2, 0, byteToUnit(10.49), byteToUnit(10.51), 0.999, 0, 0, 0, 0]));
    const back = await decodeImage(await encodeImageToBuffer({ rgb }, 'png'));
    assert.deepEqual(bytesOf(back.rgb).slice(0, 8), [0, 0, 255, 255, 128, 10, 11, 255]);
  });

  it('round-trips 16-bit PNG and TIFF at 16 bits', async () => {
    const rgb = createImage(
      3,
      2,
      2,
      Float32Array.from([0, 1000, 65535, 30000, 2, 3, 40000, 50000, 60000, 7, 8, 9], (v) => v / 32767.5 - 1),
    );
    for (const ext of ['png', 'tiff']) {
      const path = join(dir, `deep.${ext}`);
      await encodeImage({ rgb }, path, { bitDepth: 16 });
      const back = await decodeImage(path);
      assert.equal(back.bitDepth, 16, ext);
      assert.deepEqual(back.rgb.data, rgb.data, ext);
    }
  });

  it('writes JPEG, WebP, AVIF and TIFF by extension', async () => {
    const { rgb, alpha } = sample();
    for (const [name, format] of [
      ['a.jpg', 'jpeg'],
      ['a.JPEG', 'jpeg'],
      ['a.webp', 'webp'],
      ['a.avif', 'heif'],
      ['a.tif', 'tiff'],
    ]) {
      await encodeImage({ rgb, alpha }, join(dir, name!), { quality: 90 });
      const back = await decodeImage(join(dir, name!));
      assert.equal(back.format, format, name);
      assert.equal(back.width, 4);
    }
    assert.deepEqual((await decodeImage(join(dir, 'a.tif'))).rgb.data, rgb.data); // TIFF is lossless
  });

  it('rejects unknown extensions, bad options and bad shapes with UsageError', async () => {
    const { rgb } = sample();
    assert.throws(
      () => formatFromPath('out.bmp'),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === "Expected an output extension among .png, .jpg, .jpeg, .webp, .tif, .tiff, .avif but received '.bmp'",
    );
    await assert.rejects(encodeImage({ rgb }, join(dir, 'x.gif')), UsageError);
    await assert.rejects(
      encodeImage({ rgb }, join(dir, 'x.jpg'), { bitDepth: 16 }),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected bitDepth 8 for jpeg (16 only for png and tiff) but received 16',
    );
    await assert.rejects(
      encodeImage({ rgb }, join(dir, 'x.jpg'), { quality: 101 }),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected integer between 1 and 100 for quality but received 101',
    );
    await assert.rejects(encodeImage({ rgb: createImage(1, 3, 4) }, join(dir, 'x.png')), UsageError);
  });

  it('throws OutputError for an unwritable path and leaves no temp file behind', async () => {
    const { rgb } = sample();
    const sub = await mkdtemp(join(dir, 'out-'));
    const target = join(sub, 'missing-folder', 'x.png');
    await assert.rejects(
      encodeImage({ rgb }, target),
      (e: unknown) => e instanceof OutputError && e.message === `Cannot write ${target}: no such folder`,
    );
    // a non-empty folder in the way of the rename: the temp file is written, the rename fails, the temp goes
    const blocked = join(sub, 'blocked.png');
    await mkdir(blocked);
    await writeFile(join(blocked, 'keep'), 'x');
    await assert.rejects(
      encodeImage({ rgb }, blocked),
      (e: unknown) => e instanceof OutputError && e.message.startsWith(`Cannot write ${blocked}: `),
    );
    assert.deepEqual(await readdir(sub), ['blocked.png']);
    await encodeImage({ rgb }, join(sub, 'ok.png'));
    assert.deepEqual(
      (await readdir(sub)).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });
});
