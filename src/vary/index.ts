/**
 * `vary`: local sampling of images and datasets with Boomerang at factor 1, for augmentation and anonymised copies
 * (the Boomerang paper's other two applications). One image: `vary`; a dataset: `varyDataset` (or `planVary` then
 * `runVaryPlan` with a loaded model or a queue); the anonymity and distance report: `analyseVary` / `writeVaryReport`.
 */
export { vary, varySample, type VaryImageOptions, type VaryResult, type VarySample } from './vary.js';
export { varyDataset } from './vary-dataset.js';
export {
  runVaryPlan,
  type SourceResult,
  type SourceUnit,
  type VaryDatasetOptions,
  type VaryEvents,
  type VaryFileReport,
  type VaryOutcome,
  type VaryReport,
  type VarySummary,
} from './dataset.js';
export { planVary, sampleOutput, type PlanOptions, type SampleJob, type SourceJob, type VaryPlan } from './plan.js';
export {
  checkConsistency,
  reproduceArgs,
  resolveVarySettings,
  sampleSeed,
  sampleUpscaleOptions,
  stepsAt,
  type VaryOptions,
  type VarySettings,
} from './settings.js';
export { RECORDS_FILE, readRecords, type Distance, type RecordLog, type VaryRecord } from './records.js';
export { areaResize, identify, thumbnail, THUMBNAIL_SIZE, type Identification } from './anonymity.js';
export { analyseVary, type VaryAnalysis, type VaryRow } from './analysis.js';
export { formatVaryTable, protocolLines, varyMarkdown, varyPlotSvg, writeVaryReport, type VaryReportFiles } from './report.js';
export { expandVaryInputs } from './inputs.js';
