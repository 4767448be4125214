/** `sr info`: the model's manifest, its presets with what each costs, and the noise level each t means. */
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { loadModel, resolvePrecision } from '../model/session.js';
import type { ModelManifest, PresetSettings } from '../model/manifest.js';
import { makeSchedule, noiseLevel } from '../diffusion/schedule.js';
import { DENOISER_MODEL, JPEG_CLEAN_QUALITY, NOISY_INPUT_SIGMA, estimateWork, resolveSettings } from '../upscale.js';
import { levelOfFactor, softSigma, type SoftCorruption } from '../diffusion/soft.js';

interface TrainingRecord {
  steps?: number;
  images_seen?: number;
  seconds?: number;
  sessions?: { device?: string }[];
}

/** What a setting costs: model evaluations per image, and the CPU time of a 256x256 -> 1024x1024 x4 job. */
function cost(m: ModelManifest, preset: string | undefined): string {
  const s = resolveSettings({ factor: 4, seed: 0, ...(preset ? { preset } : {}) }, m);
  const w = estimateWork(s, m, 256, 256);
  const per = w.evaluations;
  return (
    `${per} model evaluation${per === 1 ? '' : 's'} per tile` +
    (w.cpuSeconds === null
      ? ''
      : `; 256x256 x4: ~${w.cpuSeconds < 10 ? w.cpuSeconds.toFixed(1) : Math.round(w.cpuSeconds)} s on the CPU EP (2-core reference)`)
  );
}

/** t=100 N=1 steps=10 ibp bicubic … : the settings of a preset or the defaults on one line. */
function describe(p: PresetSettings): string {
  const c = p.cascade;
  return [
    p.t !== undefined ? `t=${p.t}` : '',
    c !== undefined ? (Array.isArray(c) ? `passes ${c.join(',')}` : `cascade ${c}`) : '',
    p.steps !== undefined ? `steps ${p.steps}` : '',
    p.consistency ? `consistency ${p.consistency}` : '',
    p.upsampler ? `upsampler ${p.upsampler}` : '',
    p.sampler ? `sampler ${p.sampler}` : '',
    p.backProject !== undefined ? `back-project ${p.backProject}` : '',
    p.eta !== undefined ? `eta ${p.eta}` : '',
    p.samples ? `samples ${p.samples}` : '',
    typeof p.recorrupt === 'number' ? `re-corrupted start below quality ${p.recorrupt}` : p.recorrupt ? 're-corrupted start' : '',
    p.jpegConstraint ? "kept to the file's quantisation intervals" : '',
  ]
    .filter(Boolean)
    .join(', ');
}

export function registerInfo(program: Command, ctx: CliContext): void {
  program
    .command('info')
    .description("print the model's manifest, presets and the noise level each t means")
    .option('--model <name|dir>', 'shipped model name or a model folder', 'default')
    .option('--json', 'print the manifest as JSON')
    .action(async (flags: { model: string; json?: boolean }) => {
      const model = await loadModel(flags.model, { device: 'cpu' });
      try {
        const m = model.manifest;
        if (flags.json) {
          ctx.stdout.write(JSON.stringify(m.raw, null, 2) + '\n');
          return;
        }
        const s = makeSchedule(m.T, m.betas);
        const raw = m.raw as { weights?: string; training?: TrainingRecord; evaluation?: Record<string, unknown> };
        const tr: TrainingRecord = raw.training ?? {};
        const lines = [
          `model       ${m.name} v${m.version}  (${model.dir})`,
          `network     patched UNet, patch ${m.patch}, ${(m.params / 1e6).toFixed(2)}M parameters, ${raw.weights ?? 'float32'} weights, sizes multiple of ${m.multiple}`,
          m.family.kind === 'soft-resample'
            ? `family      soft-resample: bicubic shrink by ${m.family.maxScale}^tau and enlarge back, noise ${m.family.sigmaMax}*tau; t = ${m.family.levels}*tau; predicts the residual`
            : `diffusion   T=${m.T}, betas ${JSON.stringify(m.betas)}, predicts ${m.prediction}`,
          `training    ${tr.steps ?? '?'} steps, ${tr.images_seen ?? '?'} crops of ${m.trainCrop}px, ${tr.seconds ?? '?'} s on ${(tr.sessions ?? []).map((x) => x.device).join(' + ') || '?'}`,
          `defaults    ${describe(m.defaults)}`,
          ' '.repeat(12) + cost(m, undefined),
          ...(Object.keys(m.presets).length === 0
            ? ['presets     none']
            : Object.entries(m.presets).flatMap(([k, v], i) => [
                `${i === 0 ? 'presets' : ''}`.padEnd(12) + `--preset ${k}: ${describe(v)}`,
                ' '.repeat(14) + cost(m, k),
                ...(v.description ? [' '.repeat(14) + v.description] : []),
              ])),
          ...(m.inputs.jpeg
            ? [`jpeg inputs ${describe(m.inputs.jpeg)}  (--input auto: a JPEG saved below quality ${JPEG_CLEAN_QUALITY})`]
            : []),
          ...(m.inputs.jpegBelow ?? []).map((b) => `${' '.repeat(12)}below quality ${b.quality}: ${describe(b.settings)}`),
          `noisy inputs the estimated noise removed first by one evaluation of ${DENOISER_MODEL}  (--input auto: a non-JPEG input whose noise reads ${NOISY_INPUT_SIGMA} grey levels or more)`,
          `sha256      ${m.sha256}`,
          ...Object.entries(m.variants).flatMap(([k, v]) => [
            `variant     --precision ${k}: ${v.file}${v.bytes ? ` (${(v.bytes / 1e6).toFixed(1)} MB)` : ''}, sha256 ${v.sha256}`,
            ...(v.recipe ? [`${' '.repeat(14)}${v.recipe}`] : []),
            ...(v.measured ? [`${' '.repeat(14)}${v.measured}`] : []),
          ]),
          ((r) => `precision   auto on the CPU here: ${r.precision} (${r.reason})`)(
            resolvePrecision('auto', { device: 'cpu', manifest: m }),
          ),
          '',
          ...(m.family.kind === 'soft-resample'
            ? levelLines(m.family)
            : [
                'noise level of t (std of the added noise relative to the image, sqrt((1-abar_t)/abar_t)):',
                ...[10, 25, 50, 100, 150, 200, 300, 400, 600]
                  .filter((t) => t < m.T)
                  .map((t) => `  t=${String(t).padStart(4)}  ${noiseLevel(s, t).toFixed(3)}`),
              ]),
        ];
        const ev = raw.evaluation;
        if (ev && Object.keys(ev).length) lines.push('', 'evaluation  ' + JSON.stringify(ev));
        ctx.stdout.write(lines.join('\n') + '\n');
      } finally {
        await model.dispose();
      }
    });
}

/** What t means for a soft-resample model: the shrink factor and noise of each level, and where each factor starts. */
function levelLines(c: SoftCorruption): string[] {
  return [
    'level of t (the first pass starts at the level of the factor; --t sets the level of later passes):',
    ...[2, 3, 4, 8].map((f) => `  x${f}: first pass at t=${Math.round(c.levels * levelOfFactor(c, f))}`),
    ...[100, 200, 333, 500].map(
      (t) =>
        `  t=${String(t).padStart(4)}  shrink ${(c.maxScale ** (t / c.levels)).toFixed(2)}x, noise ${softSigma(c, t / c.levels).toFixed(3)}`,
    ),
  ];
}
