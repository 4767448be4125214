/**
 * `sr upscale`'s whole operation as one library call. The inputs and the output decide between one file and a
 * batch into a folder. Every check runs before anything is written or loaded, cheapest and most certain first:
 * options → the manifest (t, steps, preset, tile) → the queue's reachability and its hold on the output folder →
 * inputs (header, pixel limit, output size) and each input's settings, resolved once → outputs (the input itself,
 * existing files, the folder) → the caller's `onPlan` (a cost guard) → the output folder → the model file's sha256.
 * Then the work runs with the planned settings, here or on a queue's workers for a batch. A batch reports each file
 * and goes on; one file throws its error.
 */
import { stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { formatFromPath } from '../image/io.js';
import { OutputExistsError } from '../io-safety/atomic.js';
import { checkTile } from '../model/denoiser.js';
import { loadManifest, type ModelManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { deviceRequest, precisionOf, resolvePrecision, type DeviceNote } from '../model/session.js';
import {
  checkFileOptions,
  checkUncertainty,
  checkUncertaintyFile,
  resolveSettings,
  withModel,
  type TimeEstimate,
  type WorkEstimate,
} from '../upscale.js';
import {
  batchReport,
  markSkipped,
  pendingReport,
  planBatch,
  planFile,
  processFile,
  runPlan,
  type BatchEvents,
  type BatchOptions,
  type BatchOutcome,
} from './batch.js';
import { expandInputs, type InputItem } from '../jobs/inputs.js';
import { ensureOutDir, overwritePolicy } from '../jobs/outcome.js';
import { withTarget, type QueueHold } from '../jobs/runner.js';
import { enqueueFiles } from './payload.js';

/** `upscaleInputs`' options: a batch's, with the model given by name or folder, and an optional queue. */
export interface UpscaleInputsOptions extends Omit<BatchOptions, 'model'> {
  /** A shipped model's name or a model folder (default: the shipped default). */
  model?: string;
  /** Run a batch on the workers of this Redis (`redis://host:port`, see `sr worker`) instead of here. */
  queue?: string;
}

/** The work planned, handed to `onPlan` before anything is written or loaded. */
export interface PlannedWork {
  kind: 'file' | 'batch';
  /** What is planned, for messages: the input's path, or "N files". */
  label: string;
  /** Each file's work; null where its header could not be read (that file fails in its turn). */
  estimates: readonly (WorkEstimate | null)[];
  /** The input files, and every file the work may write (skipped ones included): for checks on side files. */
  inputs: readonly string[];
  outputs: readonly string[];
  /** The output folder of a batch; null for one file. */
  outputDir: string | null;
}

/** A batch's events, and the plan (before any work) and device notes. */
export interface UpscaleInputsEvents extends BatchEvents {
  /** After every input and output check, before anything is written or loaded: throw (or reject) to stop there. */
  onPlan?: (work: PlannedWork) => void | Promise<void>;
  /** How the device was chosen (--device auto), or a warning about it (a software adapter). */
  onNote?: (note: DeviceNote) => void;
  /**
   * One file (not a batch): once the model is loaded, before the work, what it is expected to take at the speed
   * measured on this machine (see UpscaleContext.onEstimate); throw to stop there (nothing is written).
   */
  onEstimate?: (estimate: TimeEstimate) => void;
}

/**
 * The report (one file, or every file of the batch) and why the work stopped early, or null. For one file the
 * report's only entry is 'ok' or 'skipped' (resume, its outputs exist) and its `outputDir` is null: a failure is
 * thrown instead.
 */
export interface UpscaleInputsOutcome extends BatchOutcome {
  kind: 'file' | 'batch';
}

interface Planned {
  items: InputItem[];
  output: string;
  manifest: ModelManifest;
  options: UpscaleInputsOptions;
  events: UpscaleInputsEvents;
}

/**
 * Super-resolves `inputs` (an image, several, folders, quoted globs) into `output`: a file for one input, else a
 * folder (also when `output` is an existing folder or ends in a slash). Loads the model once, after every check.
 */
export async function upscaleInputs(
  inputs: readonly string[],
  output: string,
  given: UpscaleInputsOptions = {},
  events: UpscaleInputsEvents = {},
): Promise<UpscaleInputsOutcome> {
  let options = given;
  overwritePolicy(options);
  checkFileOptions(options);
  deviceRequest(options.device);
  const { items, batch } = await expandInputs(inputs);
  const outIsDir = (await stat(output).catch(() => null))?.isDirectory() ?? false;
  const toFolder = batch || outIsDir || /[\\/]$/.test(output);
  if (options.queue !== undefined && !toFolder) {
    throw new UsageError('--queue runs batches: give a folder, a glob or several files and an output folder');
  }
  // queue workers load their own model (sr worker), in float: the files' settings would record what did not run
  const requested = precisionOf(options.precision);
  if (options.queue !== undefined && requested === 'int8') {
    throw new UsageError('--precision int8 does not apply to --queue (workers load the float model)');
  }
  if (!toFolder) {
    if (options.format !== undefined) throw new UsageError('--format applies to folder outputs; for one file the extension of -o decides');
    formatFromPath(output);
  }
  const manifest = await loadManifest(resolveModelDir(options.model));
  // precision auto resolved once, here, before the plan: the settings, the estimates and the model load all see the
  // precision that runs (float for a queue's workers)
  const precision =
    options.queue !== undefined ? 'float' : resolvePrecision(requested, { device: deviceRequest(options.device), manifest }).precision;
  options = { ...options, precision };
  const settings = resolveSettings(options, manifest); // the options' checks, before the inputs are looked at
  checkTile(manifest.multiple, options.tiling?.tile);
  if (options.uncertaintyMap !== undefined) {
    if (toFolder) throw new UsageError('--uncertainty writes the map of one image: give one input and an output file');
    checkUncertainty({ uncertainty: true }, settings);
  }
  const p: Planned = { items, output, manifest, options, events };
  return toFolder ? runFolder(p) : runOne(p);
}

async function runFolder(p: Planned): Promise<UpscaleInputsOutcome> {
  // one enqueuer per folder, taken before the plan looks at the outputs (a second one is refused here)
  return withTarget(p.options.queue, p.output, 'sr upscale', p.events.onWarning, (q) => runFolderWith(p, q));
}

async function runFolderWith({ items, output, manifest, options, events }: Planned, q: QueueHold): Promise<UpscaleInputsOutcome> {
  const plan = await planBatch(items, output, manifest, options);
  await events.onPlan?.({
    kind: 'batch',
    label: `${plan.jobs.length} files`,
    estimates: plan.estimates,
    inputs: plan.jobs.map((j) => j.input),
    outputs: plan.jobs.flatMap((j) => j.files),
    outputDir: output,
  });
  await ensureOutDir(output);
  if (q) {
    const via = enqueueFiles(options.model, manifest, options);
    return { kind: 'batch', ...(await runPlan(plan, { ...q, via }, manifest.name, options, events)) };
  }
  return withModel(
    options,
    async (model) => ({ kind: 'batch', ...(await runPlan(plan, { model }, manifest.name, options, events)) }),
    loadWith(manifest, events),
  );
}

async function runOne({ items, output, manifest, options, events }: Planned): Promise<UpscaleInputsOutcome> {
  const input = items[0]!.path;
  const one = await planFile(input, output, manifest, options);
  if (options.uncertaintyMap !== undefined) await checkUncertaintyFile(input, output, options);
  await events.onPlan?.({
    kind: 'file',
    label: one.job.input,
    estimates: [one.estimate],
    inputs: [input],
    outputs: [...one.job.files, ...(options.uncertaintyMap !== undefined ? [options.uncertaintyMap] : [])],
    outputDir: null,
  });
  const started = new Date();
  if (one.skip) {
    return { kind: 'file', report: batchReport(null, manifest.name, [markSkipped(pendingReport(one.job))], started, 0), stoppedBy: null };
  }
  return withModel(
    options,
    async (model) => {
      const file = await processFile(
        one.job,
        model,
        options,
        {
          signal: events.signal,
          onWarning: events.onWarning,
          onEstimate: events.onEstimate,
          onFraction: (f, label) => events.onProgress?.({ done: f, total: 1, label }),
        },
        one.info,
      ).catch((err: unknown) => {
        // --resume: an output that another run finished meanwhile is a skip, as if it had been there at the start
        if (!(err instanceof OutputExistsError && options.resume)) throw err;
        return markSkipped(pendingReport(one.job));
      });
      return { kind: 'file', report: batchReport(null, manifest.name, [file], started, file.seconds), stoppedBy: null };
    },
    loadWith(manifest, events),
  );
}

/** The model load: the manifest read once (here), the device notes to the caller. */
const loadWith = (manifest: ModelManifest, events: UpscaleInputsEvents) => ({
  manifest,
  ...(events.onNote ? { onNote: events.onNote } : {}),
});
