/**
 * `varyDataset`, the library's `sr vary`: every check first, then the plan, then its units (dataset.ts) here with
 * one model, or on a queue's workers (payload.ts).
 */
import { UsageError } from '../errors.js';
import { ensureOutDir } from '../jobs/outcome.js';
import { loadManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { checkTile } from '../model/denoiser.js';
import { withTarget } from '../jobs/runner.js';
import { withModel } from '../upscale.js';
import { runVaryPlan, type VaryDatasetOptions, type VaryEvents, type VaryOutcome } from './dataset.js';
import { enqueueSources } from './payload.js';
import { planVary } from './plan.js';
import { resolveVarySettings, VARY_MODEL } from './settings.js';

/**
 * Varies every image of `inputs` (files, folders walked recursively, quoted globs) into `outDir`: K samples per t
 * each, in the input tree's layout, with one record per sample in `outDir/records.jsonl`. Every check runs first
 * (options and the manifest, inputs, outputs, the queue's reachability); then the model loads once (or the one
 * given is used), or the sources go to a queue's workers. A stop (interruption, model or device failure) is in
 * `stoppedBy`.
 */
export async function varyDataset(
  inputs: readonly string[],
  outDir: string,
  options: VaryDatasetOptions = {},
  events: VaryEvents = {},
): Promise<VaryOutcome> {
  options = { ...options, model: options.model ?? VARY_MODEL };
  const manifest = typeof options.model === 'object' ? options.model.manifest : await loadManifest(resolveModelDir(options.model));
  const settings = resolveVarySettings(options, manifest, typeof options.model === 'object' ? options.model.device : 'cpu');
  checkTile(manifest.multiple, options.tiling?.tile);
  if (options.queue !== undefined && typeof options.model === 'object') {
    throw new UsageError("A queue's workers load their own model: give the model by name or folder, not loaded");
  }
  const spec = options.model;
  // one enqueuer per folder, taken before the plan reads its records (a second one is refused here)
  return withTarget(options.queue, outDir, 'sr vary', events.onWarning, async (q) => {
    const plan = await planVary(inputs, outDir, settings, manifest, options);
    await ensureOutDir(outDir);
    if (q) return runVaryPlan(plan, { ...q, via: enqueueSources(plan, spec as string | undefined, manifest, options) }, options, events);
    // float, as vary's records say (the float model's sha256), not upscale's auto
    return withModel(
      { ...options, precision: 'float' },
      async (model) => runVaryPlan({ ...plan, settings: { ...plan.settings, device: model.device } }, { model }, options, events),
      { manifest, ...(events.onNote ? { onNote: events.onNote } : {}) },
    );
  });
}
