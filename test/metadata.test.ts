/**
 * Outputs keep the input's metadata (issue 22): EXIF with the orientation reset (the pixels are turned upright at
 * decode), the ICC profile with the pixels left in its colour space, XMP; `stripMetadata` / `--strip-metadata`
 * drops them all; `quality` / `--quality` sets the JPEG/WebP/AVIF encoder's quality.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { UsageError } from '../src/errors.js';
import { decodeImage, encodeImageToBuffer, type OutputFormat } from '../src/image/io.js';
import { uprightExif, uprightXmp } from '../src/image/metadata.js';
import { unitToByte } from '../src/image/tensor.js';
import { loadModel } from '../src/model/session.js';
import { upscaleFile } from '../src/upscale.js';
import { FAST, sr } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sr-metadata-'));
const model = await loadModel('fixture');
after(async () => {
  await model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" tiff:Orientation="6">' +
  '<dc:creator>Ada Lovelace</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>';

/** An IPTC-IIM block (record version, by-line "Ada") in a JPEG APP13 Photoshop segment, spliced after SOI. */
function withIptc(jpeg: Buffer): Buffer {
  const iptc = Buffer.from([0x1c, 2, 0, 0, 2, 0, 4, 0x1c, 2, 80, 0, 3, ...Buffer.from('Ada')]);
  const data = iptc.length % 2 ? Buffer.concat([iptc, Buffer.alloc(1)]) : iptc;
  const resource = Buffer.concat([Buffer.from('8BIM'), Buffer.from([4, 4, 0, 0, 0, 0, 0, iptc.length]), data]);
  const body = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource]);
  const head = Buffer.from([0xff, 0xed, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), head, body, jpeg.subarray(2)]);
}

/**
 * A phone-style photo: 24 wide × 16 high as stored, EXIF Orientation 6 (shown turned 90° clockwise: 16 × 24),
 * Artist and Copyright, a Display P3 profile, XMP. Saturated red in the stored top-left corner, which shows at the
 * top right once upright; the rest dark green-grey.
 */
async function taggedJpeg(iptc = false): Promise<Buffer> {
  const w = 24;
  const h = 16;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const red = x < 8 && y < 8;
      px.set(red ? [240, 30, 30] : [40, 70, 60], (y * w + x) * 3);
    }
  const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .withMetadata({ orientation: 6, icc: 'p3', exif: { IFD0: { Artist: 'Ada Lovelace', Copyright: '(c) 1843 A. L.' } } })
    .withXmp(XMP)
    .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
    .toBuffer();
  return iptc ? withIptc(jpeg) : jpeg;
}

const P3 = (await sharp(await taggedJpeg()).metadata()).icc!;
const input = join(dir, 'phone.jpg');
writeFileSync(input, await taggedJpeg());
const fast = { model, factor: 2, t: 20, steps: 2, seed: 1 } as const;

/** Mean of the red channel minus the green, per quadrant of an upright image: [top-left, top-right, bottom-left, bottom-right]. */
async function redness(file: string): Promise<number[]> {
  const { data, info } = await sharp(file, { ignoreIcc: true }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const sums = [0, 0, 0, 0];
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++) {
      const q = (y < info.height / 2 ? 0 : 2) + (x < info.width / 2 ? 0 : 1);
      const i = (y * info.width + x) * info.channels;
      sums[q]! += data[i]! - data[i + 1]!;
    }
  return sums.map((s) => s / ((info.width * info.height) / 4));
}

describe('the EXIF and XMP blocks are made fit for upright pixels', () => {
  it('uprightExif sets Orientation to 1 and cuts the thumbnail link, in both byte orders, on a copy', async () => {
    for (const order of ['II', 'MM']) {
      const tiff = Buffer.alloc(8 + 2 + 24 + 4);
      const le = order === 'II';
      const w16 = (v: number, o: number) => (le ? tiff.writeUInt16LE(v, o) : tiff.writeUInt16BE(v, o));
      const w32 = (v: number, o: number) => (le ? tiff.writeUInt32LE(v, o) : tiff.writeUInt32BE(v, o));
      tiff.write(order, 0, 'latin1');
      w16(42, 2);
      w32(8, 4);
      w16(2, 8);
      const entry = (at: number, tag: number, type: 3 | 4, value: number) => {
        w16(tag, at);
        w16(type, at + 2);
        w32(1, at + 4);
        if (type === 3) w16(value, at + 8);
        else w32(value, at + 8);
      };
      entry(10, 0x0100, 4, 640); // ImageWidth LONG
      entry(22, 0x0112, 3, 8); // Orientation SHORT
      w32(1234, 34); // a (bogus) IFD1 offset
      const exif = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
      const out = uprightExif(exif)!;
      assert.equal(out.toString('latin1', 0, 2), order, 'bare TIFF, the Exif header gone');
      assert.equal(le ? out.readUInt16LE(30) : out.readUInt16BE(30), 1);
      assert.equal(out.readUInt32BE(34), 0);
      assert.equal(le ? out.readUInt32LE(18) : out.readUInt32BE(18), 640, 'other entries untouched');
      assert.equal(le ? exif.readUInt16LE(36) : exif.readUInt16BE(36), 8, 'the argument is unchanged');
    }
  });

  it('uprightExif drops a block that is not a TIFF structure', () => {
    for (const bad of [Buffer.alloc(0), Buffer.from('Exif\0\0junk', 'latin1'), Buffer.from('II*\0\xff\xff\0\0', 'latin1')]) {
      assert.equal(uprightExif(bad), null);
    }
  });

  it("uprightXmp sets tiff:Orientation to 1 in either of XMP's forms", () => {
    assert.match(uprightXmp(Buffer.from(XMP)), /tiff:Orientation="1"/);
    assert.equal(uprightXmp(Buffer.from('<tiff:Orientation>8</tiff:Orientation>')), '<tiff:Orientation>1</tiff:Orientation>');
  });
});

describe('decodeImage and encodeImage keep the metadata', () => {
  it('keepIccProfile leaves the pixels in the profile and returns it; without it they are converted to sRGB', async () => {
    const bytes = await taggedJpeg();
    const kept = await decodeImage(bytes, { keepIccProfile: true });
    const srgb = await decodeImage(bytes);
    assert.ok(kept.metadata.icc?.equals(P3));
    assert.equal(srgb.metadata.icc, null);
    assert.equal(kept.width, 16, 'orientation applied');
    const raw = await sharp(bytes, { ignoreIcc: true }).rotate().raw().toBuffer();
    assert.equal(unitToByte(kept.rgb.data[15]!), raw[15 * 3], 'top-right red sample as stored, in P3');
    assert.ok(unitToByte(srgb.rgb.data[15]!) > raw[15 * 3]! + 5, 'in sRGB the same red is more saturated');
  });

  for (const format of ['jpeg', 'png', 'webp', 'avif', 'tiff'] as OutputFormat[]) {
    it(`a ${format} output carries the profile, the EXIF fields with Orientation 1, and the XMP`, async () => {
      const decoded = await decodeImage(await taggedJpeg(), { keepIccProfile: true });
      const lossless = format === 'png' || format === 'tiff';
      const out = await encodeImageToBuffer(decoded, format, { metadata: decoded.metadata, ...(lossless ? {} : { quality: 100 }) });
      const m = await sharp(out).metadata();
      assert.equal(m.width, 16);
      assert.equal(m.height, 24);
      assert.ok(m.icc?.equals(P3), 'the same profile');
      assert.ok(m.orientation === undefined || m.orientation === 1, `orientation ${m.orientation}`);
      if (format !== 'tiff') {
        assert.ok(m.exif?.includes('Ada Lovelace') && m.exif.includes('(c) 1843 A. L.'), 'Artist and Copyright');
      }
      assert.ok(m.xmp?.includes('Ada Lovelace'));
      assert.match(m.xmpAsString ?? '', /tiff:Orientation="1"/);
      if (lossless) {
        const back = await sharp(out, { ignoreIcc: true }).raw().toBuffer();
        const want = await sharp(await taggedJpeg(), { ignoreIcc: true })
          .rotate()
          .raw()
          .toBuffer();
        assert.ok(back.equals(want), 'the pixels as decoded, not converted');
      }
    });
  }

  it('a 16-bit input keeps its profile in a 16-bit output; without keeping, it is converted to sRGB (not P3)', async () => {
    const px = new Uint16Array(4 * 4 * 3);
    for (let i = 0; i < px.length; i += 3) px.set([1000, 60000, 30000], i);
    const png16 = await sharp(px, { raw: { width: 4, height: 4, channels: 3 } })
      .toColourspace('rgb16')
      .withIccProfile('srgb')
      .png()
      .toBuffer();
    const stored = await sharp(png16, { ignoreIcc: true }).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer();
    const s0 = stored.readUInt16LE(0);
    const plain = await decodeImage(png16);
    // an sRGB profile converted to sRGB changes (almost) nothing; sharp's own 16-bit path would have given P3
    assert.ok(Math.abs(plain.rgb.data[0]! - (s0 / 32767.5 - 1)) < 2e-3, `R ${plain.rgb.data[0]} vs stored ${s0}`);
    const kept = await decodeImage(png16, { keepIccProfile: true });
    const out = await encodeImageToBuffer(kept, 'png', { bitDepth: 16, metadata: kept.metadata });
    const m = await sharp(out).metadata();
    assert.equal(m.depth, 'ushort');
    assert.ok(m.icc?.equals((await sharp(png16).metadata()).icc!));
    const back = await sharp(out, { ignoreIcc: true }).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer();
    assert.ok(back.equals(stored));
  });
});

describe('upscaleFile keeps the metadata by default and strips it on request', () => {
  it('keeps EXIF fields, orientation 1 with upright pixels, the P3 profile and XMP', async () => {
    const out = join(dir, 'kept.jpg');
    const warnings: string[] = [];
    await upscaleFile(input, out, fast, { onWarning: (w) => warnings.push(w) });
    const m = await sharp(out).metadata();
    assert.equal(m.width, 32);
    assert.equal(m.height, 48);
    assert.equal(m.orientation, 1);
    assert.ok(m.exif?.includes('Ada Lovelace') && m.exif.includes('(c) 1843 A. L.'));
    assert.ok(m.icc?.equals(P3));
    assert.ok(m.xmp?.includes('Ada Lovelace'));
    const [tl, tr, bl, br] = await redness(out);
    assert.ok(tr! > 60 && tl! < 0 && bl! < 0 && br! < 0, `red at the top right: ${[tl, tr, bl, br].map(Math.round)}`);
    assert.deepEqual(warnings, []);
  });

  it('stripMetadata writes no EXIF, XMP or profile, the pixels converted to sRGB', async () => {
    const kept = join(dir, 'kept.png');
    const stripped = join(dir, 'stripped.png');
    await upscaleFile(input, kept, fast);
    await upscaleFile(input, stripped, { ...fast, stripMetadata: true });
    const m = await sharp(stripped).metadata();
    assert.equal(m.exif, undefined);
    assert.equal(m.icc, undefined);
    assert.equal(m.xmp, undefined);
    assert.equal(m.orientation, undefined);
    assert.deepEqual([m.width, m.height], [32, 48]);
    const [, keptRed] = await redness(kept);
    const [, strippedRed] = await redness(stripped);
    assert.ok(strippedRed! > keptRed! + 10, `sRGB values of the same red are more saturated: ${strippedRed} vs ${keptRed}`);
  });

  it('says what an output cannot keep: IPTC anywhere, EXIF in TIFF', async () => {
    const iptcInput = join(dir, 'iptc.jpg');
    writeFileSync(iptcInput, await taggedJpeg(true));
    assert.ok((await sharp(iptcInput).metadata()).iptc, 'the input has IPTC');
    const warnings: string[] = [];
    await upscaleFile(iptcInput, join(dir, 'iptc.tif'), fast, { onWarning: (w) => warnings.push(w) });
    assert.deepEqual(warnings, [`${iptcInput}: its EXIF and IPTC metadata cannot be kept in iptc.tif`]);
    const quiet: string[] = [];
    await upscaleFile(iptcInput, join(dir, 'iptc-stripped.jpg'), { ...fast, stripMetadata: true }, { onWarning: (w) => quiet.push(w) });
    assert.deepEqual(quiet, []);
  });

  it('quality outside 1..100 is a UsageError before the input is read', async () => {
    for (const quality of [0, 101, 2.5]) {
      await assert.rejects(
        upscaleFile(join(dir, 'missing.png'), join(dir, 'q.jpg'), { ...fast, quality }),
        (e: unknown) => e instanceof UsageError && e.message === `Expected integer quality in 1..100 but received ${quality}`,
      );
    }
  });
});

describe('sr upscale --quality and --strip-metadata', () => {
  for (const ext of ['jpg', 'webp', 'avif']) {
    it(`--quality changes the size of a .${ext} output`, async () => {
      const size = async (q: number) => {
        const out = join(dir, `q${q}.${ext}`);
        const r = await sr(['upscale', input, '-o', out, ...FAST, '--factor', '4', '--quality', String(q), '--force', '-q']);
        assert.equal(r.status, 0, r.stderr);
        return statSync(out).size;
      };
      const low = await size(5);
      const high = await size(100);
      assert.ok(high > low * 1.5, `quality 100: ${high} bytes, quality 5: ${low} bytes`);
    });
  }

  it('--quality out of range or not a number is a usage error (2)', async () => {
    for (const q of ['0', '101', 'high']) {
      const r = await sr(['upscale', input, '-o', join(dir, 'bad.jpg'), ...FAST, '--quality', q]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^sr: .*quality/);
    }
  });

  it('--strip-metadata drops EXIF, XMP and the profile; without it they are kept', async () => {
    const plain = join(dir, 'cli-kept.webp');
    const stripped = join(dir, 'cli-stripped.webp');
    assert.equal((await sr(['upscale', input, '-o', plain, ...FAST, '-q'])).status, 0);
    assert.equal((await sr(['upscale', input, '-o', stripped, ...FAST, '--strip-metadata', '-q'])).status, 0);
    const k = await sharp(await readFile(plain)).metadata();
    const s = await sharp(await readFile(stripped)).metadata();
    assert.ok(k.exif?.includes('Ada Lovelace') && k.icc?.equals(P3) && k.xmp);
    assert.equal(s.exif, undefined);
    assert.equal(s.icc, undefined);
    assert.equal(s.xmp, undefined);
  });

  it('a batch keeps the metadata of each file, and --strip-metadata drops it there too', async () => {
    const inDir = join(dir, 'batch-in');
    mkdirSync(inDir);
    writeFileSync(join(inDir, 'a.jpg'), await taggedJpeg());
    for (const [out, extra] of [
      [join(dir, 'batch-kept'), []],
      [join(dir, 'batch-stripped'), ['--strip-metadata']],
    ] as const) {
      const r = await sr(['upscale', inDir, '-o', out, ...FAST, '-q', ...extra]);
      assert.equal(r.status, 0, r.stderr);
      const m = await sharp(join(out, 'a.jpg')).metadata();
      if (extra.length === 0) assert.ok(m.exif?.includes('Ada Lovelace') && m.icc?.equals(P3) && m.orientation === 1);
      else assert.ok(m.exif === undefined && m.icc === undefined);
    }
  });
});
