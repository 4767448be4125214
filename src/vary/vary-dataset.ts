/**
 * `varyDataset`, the library's `sr vary`: every check first, then the plan, then the local runner (dataset.ts) with
 * one model, or the queued one (queued.ts) on a queue's workers. The two runners share dataset.ts's kit; this file
 * is the only one that knows both.
 */
import { UsageError } from '../errors.js';
import { ensureOutDir } from '../jobs/outcome.js';
import { loadManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { checkTile } from '../model/denoiser.js';
import { connectQueue } from '../queue/connection.js';
import { holdOutput, lockNotReleased } from '../queue/out-lock.js';
import { withModel } from '../upscale.js';
import { runVaryPlan, type VaryDatasetOptions, type VaryEvents, type VaryOutcome } from './dataset.js';
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
  if (options.queue !== undefined) {
    if (typeof options.model === 'object') {
      throw new UsageError("A queue's workers load their own model: give the model by name or folder, not loaded");
    }
    const queue = await connectQueue(options.queue); // unreachable: nothing written
    // one enqueuer per folder, taken before the plan reads its records (a second one is refused here)
    const hold = await holdOutput(queue, outDir, 'sr vary');
    try {
      const plan = await planVary(inputs, outDir, settings, manifest, options);
      await ensureOutDir(outDir);
      const { runVaryPlanQueued } = await import('./queued.js'); // BullMQ loads only for a queued run
      return await runVaryPlanQueued(plan, queue, options.model, manifest, options, events, hold);
    } finally {
      if (!(await hold.release())) events.onWarning?.(lockNotReleased(hold, queue.url));
    }
  }
  const plan = await planVary(inputs, outDir, settings, manifest, options);
  await ensureOutDir(outDir);
  return withModel(
    options,
    async (model) => runVaryPlan({ ...plan, settings: { ...plan.settings, device: model.device } }, model, options, events),
    { manifest, ...(events.onNote ? { onNote: events.onNote } : {}) },
  );
}
