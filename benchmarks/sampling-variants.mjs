// Sampling variants on validation crops (x4, MATLAB-bicubic LR) through the library's cascade with a chosen start image:
//   node benchmarks/sampling-variants.mjs VALCROPS MODEL "prefix,prefix" [LIMIT]   (after npm run build)
// Prints one JSON line per variant: mean PSNR-Y / SSIM-Y / detail ratio (BT.601 Y, shave 4) and seconds.
import { readdirSync } from 'node:fs';
const D = new URL('../dist/src/', import.meta.url).href;
const { decodeImage } = await import(D + 'image/io.js');
const { upsample, matlabImresize } = await import(D + 'image/upsample.js');
const { backProject } = await import(D + 'diffusion/consistency.js');
const { cascade } = await import(D + 'diffusion/boomerang.js');
const { createRng } = await import(D + 'diffusion/rng.js');
const { makeSchedule } = await import(D + 'diffusion/schedule.js');
const { loadModel } = await import(D + 'model/session.js');
const { createDenoiser } = await import(D + 'model/denoiser.js');
const { measure } = await import(D + 'metrics/index.js');
const dir = process.argv[2] ?? '/tmp/val128';
const modelSpec = process.argv[3] ?? 'default';
const which = (process.argv[4] ?? 'all').split(',');
const limit = Number(process.argv[5] ?? 48);
const names = readdirSync(dir)
  .filter((n) => n.endsWith('.png'))
  .sort()
  .slice(0, limit);
const model = await loadModel(modelSpec, { device: 'cpu' });
const sched = makeSchedule(model.manifest.T, model.manifest.betas);
const imgs = [];
for (const n of names) {
  const hr = (await decodeImage(dir + '/' + n)).rgb;
  const lr = matlabImresize(hr, 0.25);
  imgs.push({ hr, lr });
}
const variants = {};
const ibpInit = (lr, k) => backProject(upsample(lr, 4, 'bicubic'), lr, 4, k);
function boom(init, lr, passes, steps, seed, kind = 'ibp') {
  const den = createDenoiser(model, init.shape[1], init.shape[2]);
  return cascade(init, {
    schedule: sched,
    prediction: model.manifest.prediction,
    passes,
    steps,
    rng: createRng(seed),
    consistency: kind === 'none' ? null : { y: lr, factor: 4, kind },
    denoise: den.denoise,
  });
}
const add = (name, fn) => {
  if (which.includes('all') || which.some((w) => name.startsWith(w))) variants[name] = fn;
};
add('base bicubic', async ({ lr }) => upsample(lr, 4, 'bicubic'));
add('base lanczos', async ({ lr }) => upsample(lr, 4, 'lanczos'));
for (const k of [2, 5, 10, 20, 40]) add(`ibp-init k${k}`, async ({ lr }) => ibpInit(lr, k));
add('fid t5 S5 bicubic-init', ({ lr }) => boom(upsample(lr, 4, 'bicubic'), lr, [5], 5, 0));
for (const k of [5, 20])
  for (const [t, S] of [
    [5, 5],
    [10, 5],
    [25, 10],
    [50, 10],
  ])
    add(`ibpk${k} t${t} S${S}`, ({ lr }) => boom(ibpInit(lr, k), lr, [t], S, 0));
add('ibpk20 dec 50,25,10', ({ lr }) => boom(ibpInit(lr, 20), lr, [50, 25, 10], 10, 0));
add('ibpk20 dec 25,10,5', ({ lr }) => boom(ibpInit(lr, 20), lr, [25, 10, 5], 5, 0));
add('ibpk20 t10 S10', ({ lr }) => boom(ibpInit(lr, 20), lr, [10], 10, 0));
const post = async (p, lr, k = 10) => backProject(await p, lr, 4, k);
for (const [t, S] of [
  [5, 5],
  [10, 5],
  [25, 10],
  [50, 10],
  [100, 10],
])
  add(`post ibpk20 t${t} S${S}`, ({ lr }) => post(boom(ibpInit(lr, 20), lr, [t], S, 0), lr));
for (const [t, S] of [
  [5, 1],
  [10, 1],
  [25, 1],
  [25, 2],
  [50, 2],
])
  add(`post1 ibpk20 t${t} S${S}`, ({ lr }) => post(boom(ibpInit(lr, 20), lr, [t], S, 0), lr));
for (const [t, S] of [
  [1, 1],
  [2, 1],
  [5, 1],
  [10, 1],
  [5, 5],
])
  add(`nopost ibpk20 t${t} S${S}`, ({ lr }) => boom(ibpInit(lr, 20), lr, [t], S, 0));
const meanOf = (xs) => {
  const o = upsample(xs[0], 1, 'nearest');
  for (let i = 0; i < o.data.length; i++) {
    let s = 0;
    for (const x of xs) s += x.data[i];
    o.data[i] = s / xs.length;
  }
  return o;
};
for (const [t, S, K] of [
  [25, 5, 4],
  [50, 5, 4],
  [25, 2, 4],
])
  add(`mean ibpk20 t${t} S${S} K${K}`, async ({ lr }) => {
    const xs = [];
    for (let k = 0; k < K; k++) xs.push(await boom(ibpInit(lr, 20), lr, [t], S, k));
    return meanOf(xs);
  });
for (const seed of [0, 1])
  for (const N of [1, 2, 3, 4])
    add(`Ncurve s${seed} N${N} t25`, ({ lr }) => boom(upsample(lr, 4, 'bicubic'), lr, new Array(N).fill(25), 10, seed));
for (const [name, fn] of Object.entries(variants)) {
  const t0 = performance.now();
  const acc = { psnrY: 0, ssimY: 0, detailRatio: 0 };
  for (const im of imgs) {
    const out = await fn(im);
    const m = measure(out, im.hr, { shave: 4 });
    for (const k in acc) acc[k] += m[k] / imgs.length;
  }
  console.log(
    JSON.stringify({
      name,
      n: imgs.length,
      psnrY: +acc.psnrY.toFixed(3),
      ssimY: +acc.ssimY.toFixed(4),
      detail: +acc.detailRatio.toFixed(3),
      s: +((performance.now() - t0) / 1000).toFixed(1),
    }),
  );
}
await model.dispose();
