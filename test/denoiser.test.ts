import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDenoiser, gridShifts, tilePlan } from '../src/model/denoiser.js';
import { createImage } from '../src/image/tensor.js';
import { fakeManifest, fakeSession } from './fake-model.js';

/** A fake model whose output at each pixel depends only on that pixel: out = 0.5·x + t/1000. */
function pointwiseModel(multiple: number, device: 'cpu' | 'webgpu' = 'cpu') {
  const calls: Array<{ batch: number; height: number; width: number }> = [];
  const session = fakeSession(
    fakeManifest({ multiple }),
    async (x, batch, height, width, t) => {
      assert.equal(height % multiple, 0);
      assert.equal(width % multiple, 0);
      calls.push({ batch, height, width });
      const per = 3 * height * width;
      return x.map((v, i) => 0.5 * v + t[Math.floor(i / per)]! / 1000);
    },
    device,
  );
  return { session, calls };
}

const ramp = (h: number, w: number) =>
  createImage(
    3,
    h,
    w,
    new Float32Array(3 * h * w).map((_, i) => Math.sin(i * 0.01)),
  );

test('an image smaller than a tile runs once, padded to the multiple and cropped back', async () => {
  const { session, calls } = pointwiseModel(16);
  const d = createDenoiser(session, 37, 50);
  const x = ramp(37, 50);
  const out = await d.denoise(x, 100);
  assert.deepEqual(out.shape, [3, 37, 50]);
  assert.deepEqual(calls, [{ batch: 1, height: 48, width: 64 }]);
  for (let i = 0; i < x.data.length; i++) assert.ok(Math.abs(out.data[i]! - (0.5 * x.data[i]! + 0.1)) < 1e-6);
  assert.equal(d.stats.evaluations, 1);
});

test('tiles are batched and their blend reproduces a pointwise model exactly', async () => {
  const { session, calls } = pointwiseModel(16);
  const d = createDenoiser(session, 100, 90, { tile: 32, overlap: 16, batch: 4 });
  assert.ok(d.plan.tiles.length > 4);
  const x = ramp(100, 90);
  const out = await d.denoise(x, 40);
  for (let i = 0; i < x.data.length; i++) assert.ok(Math.abs(out.data[i]! - (0.5 * x.data[i]! + 0.04)) < 1e-5);
  assert.equal(
    calls.reduce((s, c) => s + c.batch, 0),
    d.plan.tiles.length,
  );
  assert.ok(calls.every((c) => c.batch <= 4 && c.height === 32 && c.width === 32));
  assert.equal(calls.length, Math.ceil(d.plan.tiles.length / 4));
});

test('a 576x576 output is one tile by default, and 2x2 of 288 + overlap under --tile 512, never four 512s', () => {
  const one = tilePlan(16, 576, 576);
  assert.deepEqual(
    one.tiles.map((t) => [t.y, t.x, t.height, t.width]),
    [[0, 0, 576, 576]],
  );
  const bounded = tilePlan(16, 576, 576, { tile: 512 });
  assert.deepEqual(
    bounded.tiles.map((t) => [t.y, t.x, t.height, t.width]),
    [
      [0, 0, 304, 304],
      [0, 272, 304, 304],
      [272, 0, 304, 304],
      [272, 272, 304, 304],
    ],
  );
  // a 4096x2720 output (1024x680 x4): equal tiles, fewer pixels than 512 px tiles stepping by 480 (9 x 6 of them)
  const big = tilePlan(16, 2720, 4096);
  const area = big.tiles.reduce((a, t) => a + t.height * t.width, 0);
  assert.ok(
    big.tiles.every((t) => t.height === big.tiles[0]!.height && t.width === big.tiles[0]!.width && t.height <= 640 && t.width <= 640),
  );
  assert.ok(area < 9 * 6 * 512 * 512, `${big.tiles.length} tiles, ${area} pixels`);
});

test('equal tiles under the default bound cover every pixel and blend a pointwise model back exactly', async () => {
  const { session, calls } = pointwiseModel(16);
  const d = createDenoiser(session, 700, 650);
  assert.equal(d.plan.tiles.length, 4);
  const x = ramp(700, 650);
  const out = await d.denoise(x, 40);
  for (let i = 0; i < x.data.length; i++) assert.ok(Math.abs(out.data[i]! - (0.5 * x.data[i]! + 0.04)) < 1e-5);
  assert.deepEqual(
    calls.map((c) => [c.batch, c.height, c.width]),
    new Array(4).fill([1, 368, 352]),
  );
});

test('bad tiling options and wrong image sizes are usage errors', async () => {
  const { session } = pointwiseModel(16);
  assert.throws(() => createDenoiser(session, 64, 64, { tile: 40 }), /Expected tile to be a positive multiple of 16 but received 40/);
  assert.throws(() => createDenoiser(session, 64, 64, { batch: 0 }), /Expected positive integer for batch but received 0/);
  const d = createDenoiser(session, 64, 64);
  await assert.rejects(d.denoise(ramp(32, 64), 10), /Expected a 3x64x64 image but received 3x32x64/);
});

test('gridShifts(4) visits all 16 offsets once, (0, 0) first, (2, 2) second, the coarse lattice {0, 2}² in the first four', () => {
  const s = gridShifts(4);
  assert.equal(s.length, 16);
  assert.equal(new Set(s.map(([y, x]) => `${y},${x}`)).size, 16);
  assert.deepEqual(s.slice(0, 4), [
    [0, 0],
    [2, 2],
    [0, 2],
    [2, 0],
  ]);
  assert.deepEqual(s.slice(4, 8), [
    [1, 1],
    [3, 3],
    [1, 3],
    [3, 1],
  ]);
  assert.deepEqual(gridShifts(1), [[0, 0]]);
  assert.equal(new Set(gridShifts(3).map(([y, x]) => `${y},${x}`)).size, 9);
});

/** A model that lays a fixed pattern on its p×p patch grid: out = x + g(row mod 4, col mod 4) of its own input. */
function gridModel() {
  const g = (r: number, c: number) => ((r % 4) * 4 + (c % 4) - 7.5) / 100;
  return fakeSession(fakeManifest({ multiple: 16 }), async (x, _batch, height, width) =>
    x.map((v, i) => {
      const p = i % (height * width);
      return v + g(Math.floor(p / width), p % width);
    }),
  );
}

test('shiftGrid moves the patch grid at every call: 16 calls average a grid-fixed pattern away, a pointwise model is unchanged', async () => {
  const x = ramp(40, 52);
  const fixed = createDenoiser(gridModel(), 40, 52);
  const moving = createDenoiser(gridModel(), 40, 52, { shiftGrid: true });
  const meanOf = async (d: ReturnType<typeof createDenoiser>) => {
    const sum = new Float64Array(x.data.length);
    for (let k = 0; k < 16; k++) {
      const out = (await d.denoise(x, 10)).data;
      for (let i = 0; i < sum.length; i++) sum[i] += (out[i]! - x.data[i]!) / 16;
    }
    return sum;
  };
  const spread = (a: Float64Array) => Math.max(...a) - Math.min(...a);
  assert.ok(spread(await meanOf(fixed)) > 0.14); // the pattern's full range, 15/100
  assert.ok(spread(await meanOf(moving)) < 1e-6); // every pixel saw every grid phase once
  // the first call is not shifted; the second lands at (2, 2) of the padded input
  const one = createDenoiser(gridModel(), 40, 52, { shiftGrid: true });
  const first = await one.denoise(x, 10);
  const second = await one.denoise(x, 10);
  assert.ok(Math.abs(first.data[0]! - x.data[0]! + 0.075) < 1e-6); // g(0, 0)
  assert.ok(Math.abs(second.data[0]! - x.data[0]! - (2 * 4 + 2 - 7.5) / 100) < 1e-6); // g(2, 2)
  // room for the offsets: 40 + 3 still pads to 48; 48 + 3 pads to 64
  assert.deepEqual([one.plan.paddedHeight, one.plan.paddedWidth], [48, 64]);
  assert.equal(createDenoiser(gridModel(), 48, 52, { shiftGrid: true }).plan.paddedHeight, 64);
  const { session } = pointwiseModel(16);
  const p = createDenoiser(session, 37, 50, { shiftGrid: true, tile: 32, overlap: 16 });
  const y = ramp(37, 50);
  for (let k = 0; k < 3; k++) {
    const out = await p.denoise(y, 40); // tiled, at offsets (0, 0), (2, 2), (0, 2)
    for (let i = 0; i < y.data.length; i++) assert.ok(Math.abs(out.data[i]! - (0.5 * y.data[i]! + 0.04)) < 1e-5);
  }
});

test("the moving grid's room does not split an output the default tile holds: 640x640 stays one tile", () => {
  const fixed = tilePlan(16, 640, 640, {}, 4);
  const moving = tilePlan(16, 640, 640, { shiftGrid: true }, 4);
  assert.equal(fixed.tiles.length, 1);
  assert.equal(moving.tiles.length, 1);
  assert.deepEqual([moving.paddedHeight, moving.paddedWidth], [656, 656]);
  // an explicit --tile stays a hard bound
  assert.ok(tilePlan(16, 640, 640, { shiftGrid: true, tile: 640 }, 4).tiles.length > 1);
});
