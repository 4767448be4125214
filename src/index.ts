/**
 * boomerang-sr's public API: the pipeline (upscale one image, a file, a batch; `upscaleInputs` is `sr upscale` as
 * one call: files, folders or globs, here or on a queue; load a model once), the
 * evaluator (score against ground truth, sweep settings: `runSweep({ …, queue })` runs a sweep on the workers of a
 * Redis queue) and the queue worker (`runWorker`). Everything else is internal.
 *
 * @example
 *   const model = await loadModel('default', { device: 'auto' });
 *   const { image, settings } = await upscale('in.png', { model, factor: 4, t: 50, cascade: 2, seed: 1 });
 *   await model.dispose();
 */
export { upscale, upscaleFile, estimateWork, outputFiles } from './upscale.js';
export type {
  Consistency,
  ProgressEvent,
  Reduce,
  TimeEstimate,
  UpscaleContext,
  UpscaleFileOptions,
  UpscaleOptions,
  UpscaleResult,
  UpscaleSettings,
  WorkEstimate,
} from './upscale.js';
export { upscaleBatch } from './batch/batch.js';
export type { BatchEvents, BatchOptions, BatchOutcome, BatchReport, FileReport, FileStatus } from './batch/batch.js';
export { upscaleInputs } from './batch/upscale-inputs.js';
export type { PlannedWork, UpscaleInputsEvents, UpscaleInputsOptions, UpscaleInputsOutcome } from './batch/upscale-inputs.js';
export { vary, varyDataset, analyseVary, writeVaryReport } from './vary/index.js';
export type { VaryDatasetOptions, VaryEvents, VaryImageOptions, VaryOutcome, VaryRecord, VaryReport, VaryResult } from './vary/index.js';
export { loadModel } from './model/session.js';
export type {
  CpuFlags,
  Device,
  DeviceRequest,
  LoadModelOptions,
  ModelSession,
  Precision,
  PrecisionRequest,
  ResolvedPrecision,
} from './model/session.js';
export type { ModelManifest, PresetSettings } from './model/manifest.js';
export type { Kernel } from './image/upsample.js';
export type { ImageTensor } from './image/tensor.js';
export type { JpegGrid } from './image/jpeg-quality.js';
export type { JpegHistory } from './image/jpeg-history.js';
export { measure } from './metrics/index.js';
export type { Measurements, MeasureOptions } from './metrics/index.js';
export { evaluate } from './eval/evaluate.js';
export type { EvaluateContext, EvaluateOptions, Evaluation } from './eval/evaluate.js';
export { runSweep } from './eval/sweep.js';
export type { SweepContext, SweepOptions, SweepProgress, SweepResult } from './eval/sweep.js';
export { writeSweepReport } from './eval/report.js';
export { explore } from './explore/explore.js';
export type {
  ExploreCandidate,
  ExploreContext,
  ExploreData,
  ExploreOptions,
  ExplorePlan,
  ExploreResult,
  SharedMethodOptions,
} from './explore/explore.js';
export type { ExploreScores } from './explore/scores.js';
export type { CandidateOptions } from './explore/command.js';
export { uncertaintyMap, uncertaintyImage, UNCERTAINTY_COLORS, UNCERTAINTY_SCALE_MAX } from './metrics/uncertainty.js';
export type { UncertaintyMap } from './metrics/uncertainty.js';
export { runWorker } from './worker.js';
export type { WorkerContext, WorkerEvent, WorkerOptions, WorkerSummary } from './worker.js';
export type { RunContext, WorkProgress } from './run-context.js';
export { AbortError, DeviceError, InputError, ModelError, OutputError, QueueError, SrError, UsageError } from './errors.js';
