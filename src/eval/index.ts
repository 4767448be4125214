/**
 * Evaluation and sweeps: score outputs against ground truth (`evaluate`), run a grid of settings with the
 * baselines (`runSweep`, resumable), find the trade-off (`paretoFront`, `knee`, `recommend`) and show it
 * (`writeSweepReport`, `tradeoffSvg`, `paretoSvg`). Every figure follows the protocol in `PROTOCOL`.
 */
export { PROTOCOL, protocolLine, protocolShort } from './protocol.js';
export { imageKey, listImages, matchFolders, IMAGE_EXTENSIONS, type Role, type MatchedPair, type Matching } from './match.js';
export { cropToMultiple, cropImage, loadTestSet, LR_SOURCE_TEXT, type LoadSetOptions, type LrSource, type TestImage, type TestSet } from './dataset.js';
export { baselineMethod, methodName, runMethod, BASELINE_NAMES, type Method, type MethodOutput, type RunMethodOptions } from './methods.js';
export { meanOf, meanScore, scoreImages, METRICS, type ImageScore, type MeanScore } from './score.js';
export { evaluate, type EvaluateOptions, type Evaluation, type OutputSource } from './evaluate.js';
export { baselineCells, cellSlug, computeKey, expandGrid, type Cell, type CellKind, type GridLimits, type GridSpec } from './grid.js';
export { recordKey, summarise, type SummaryRow, type SweepRecord } from './summary.js';
export { runSweep, RECORD_COLUMNS, SUMMARY_COLUMNS, SWEEP_FILES, type SweepMeta, type SweepOptions, type SweepProgress, type SweepResult } from './sweep.js';
export { detailError, dominates, knee, paretoFront, type DetailMeasure, type TradeoffPoint } from './pareto.js';
export { analyse, recommend, RULE_TEXT, type Analysis, type Recommendation, type Rule } from './recommend.js';
export { paretoSvg, seriesByN, tradeoffSvg } from './plots.js';
export { niceTicks, panel, svgDocument, type PanelSpec, type Series } from './svg.js';
export { writeSvgAsPng } from './png.js';
export { busiestWindow, hstack, writeCropStrip, type CropStrip, type CropWindow } from './crops.js';
export { toHtml, toMarkdown, type Block } from './document.js';
export { settingText, summaryColumns, writeSweepReport, type ReportFiles, type ReportOptions } from './report.js';
export { toCsv, toJson, writeTextAtomic } from './write.js';
export { fmt, markdownTable, metricColumns, textTable, type Column } from './table.js';
