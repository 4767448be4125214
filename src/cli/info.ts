/** `sr info`: the model's manifest, and the noise level each t means. */
import type { Command } from 'commander';
import { loadModel } from '../model/session.js';
import { makeSchedule, noiseLevel } from '../diffusion/schedule.js';

export function registerInfo(program: Command): void {
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
          process.stdout.write(JSON.stringify(m.raw, null, 2) + '\n');
          return;
        }
        const s = makeSchedule(m.T, m.betas);
        const raw = m.raw as Record<string, any>;
        const tr = raw.training ?? {};
        const lines = [
          `model       ${m.name} v${m.version}  (${model.dir})`,
          `network     patched UNet, patch ${m.patch}, ${(m.params / 1e6).toFixed(2)}M parameters, ${raw.weights ?? 'float32'} weights, sizes multiple of ${m.multiple}`,
          `diffusion   T=${m.T}, betas ${JSON.stringify(m.betas)}, predicts ${m.prediction}`,
          `training    ${tr.steps ?? '?'} steps, ${tr.images_seen ?? '?'} crops of ${m.trainCrop}px, ${tr.seconds ?? '?'} s on ${(tr.sessions ?? []).map((x: any) => x.device).join(' + ') || '?'}`,
          `defaults    t=${m.defaults.t}, steps=${m.defaults.steps}`,
          `presets     ${Object.entries(m.presets).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join('; ') || 'none'}`,
          `sha256      ${m.sha256}`,
          '',
          'noise level of t (std of the added noise relative to the image, sqrt((1-abar_t)/abar_t)):',
          ...[10, 25, 50, 100, 150, 200, 300, 400, 600].filter((t) => t < m.T).map((t) => `  t=${String(t).padStart(4)}  ${noiseLevel(s, t).toFixed(3)}`),
        ];
        const ev = raw.evaluation;
        if (ev && Object.keys(ev).length) lines.push('', 'evaluation  ' + JSON.stringify(ev));
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        await model.dispose();
      }
    });
}
