/**
 * The report of a varied set: a table per t (printed by the CLI, and in report.md), report.json with the figures, and
 * one plot (distance to the source and diversity against t; the re-identification rate against t, with chance) as
 * report.svg and report.png in the sweep report's style. The files go in OUTDIR beside the samples.
 */
import type { RunContext } from '../run-context.js';
import { join } from 'node:path';
import { writeSvgAsPng } from '../report/png.js';
import { PALETTE, esc, panel, svgDocument } from '../report/svg.js';
import { fmt, markdownTable, textTable, type Column } from '../report/table.js';
import { toJson, writeTextAtomic } from '../report/write.js';
import { THUMBNAIL_SIZE } from './anonymity.js';
import { analyseVary, type VaryAnalysis, type VaryRow } from './analysis.js';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
const signedDb = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(2)}` : 'n/a');

export function varyColumns(): Column<VaryRow>[] {
  return [
    { header: 't', value: (r) => String(r.t) },
    { header: 'samples', value: (r) => String(r.samples) },
    { header: 'sources', value: (r) => String(r.sources) },
    { header: 'PSNR-Y to source', value: (r) => fmt.db(r.psnrY) },
    { header: 'SSIM-Y to source', value: (r) => fmt.ssim(r.ssimY) },
    { header: 'GMSD', value: (r) => fmt.gmsd(r.gmsd) },
    { header: 'detail', value: (r) => fmt.ratio(r.detailRatio) },
    { header: 're-identified', value: (r) => pct(r.reidRate) },
    { header: 'margin (dB)', value: (r) => signedDb(r.margin) },
    { header: 'PSNR-Y between samples', value: (r) => fmt.db(r.diversityPsnrY) },
    { header: 'SSIM-Y between samples', value: (r) => fmt.ssim(r.diversitySsimY) },
  ];
}

/** What the columns mean, one sentence a line (under every table, and under the plot). */
export function protocolLines(a: Pick<VaryAnalysis, 'sources'>): string[] {
  const thumb = `${THUMBNAIL_SIZE}x${THUMBNAIL_SIZE}`;
  return [
    'Distance to source: full size, BT.601 Y, shave 0, 8-bit levels.',
    `Re-identified: the sample's nearest of the ${a.sources} sources by PSNR on ${thumb} area-averaged luma is its own ` +
      `(chance ${pct(1 / a.sources)}); margin: PSNR to its own minus to the nearest other.`,
    'Between samples: mean over the pairs of samples of one source at one t.',
  ];
}

export function formatVaryTable(a: VaryAnalysis): string {
  return [textTable(a.rows, varyColumns()), ...protocolLines(a)].join('\n');
}

/** Distance and diversity against t (left), re-identification rate against t with chance (right). */
export function varyPlotSvg(a: VaryAnalysis, title = 'sr vary'): string {
  const w = 520;
  const h = 400;
  const x = { xLabel: 't (diffusion step noised to)', logX: true };
  const left = panel(
    {
      ...x,
      title: `${title}: distance to source against t`,
      yLabel: 'PSNR-Y (dB)',
      series: [
        { label: 'sample vs its source', color: PALETTE[0]!, points: a.rows.map((r) => ({ x: r.t, y: r.psnrY })) },
        {
          label: 'between samples of one source',
          color: PALETTE[1]!,
          dash: '6,3',
          points: a.rows.map((r) => ({ x: r.t, y: r.diversityPsnrY })),
        },
      ],
    },
    0,
    0,
    w,
    h,
  );
  const right = panel(
    {
      ...x,
      title: `${title}: re-identification against t`,
      yLabel: `nearest source is own (%, ${THUMBNAIL_SIZE}x${THUMBNAIL_SIZE} luma)`,
      series: [{ label: 're-identification rate', color: PALETTE[0]!, points: a.rows.map((r) => ({ x: r.t, y: 100 * r.reidRate })) }],
      hlines: [
        { label: `chance (1/${a.sources})`, value: 100 / a.sources, color: '#7f7f7f' },
        { label: 'all', value: 100, color: '#2ca02c', dash: '2,2' },
      ],
    },
    w,
    0,
    w,
    h,
  );
  const lines = protocolLines(a);
  const note = lines.map(
    (text, i) => `<text x="8" y="${h + 14 + 12 * i}" font-family="${FONT}" font-size="9" fill="#555">${esc(text)}</text>`,
  );
  return svgDocument(2 * w, h + 10 + 12 * lines.length, [left, right, ...note].join('\n'));
}

export function varyMarkdown(a: VaryAnalysis, plot = 'report.png'): string {
  return [
    `# sr vary: ${a.outDir}`,
    '',
    `${a.rows.reduce((n, r) => n + r.samples, 0)} samples of ${a.sources} sources; model ${a.models.join(', ')}; ` +
      `cascade ${a.cascades.join(', ')}; reverse steps ${a.steps.join(', ')}; vanilla Boomerang at factor 1.` +
      (a.leftOut ? ` ${a.leftOut} records left out (file missing).` : ''),
    '',
    markdownTable(a.rows, varyColumns()),
    '',
    protocolLines(a).join(' '),
    '',
    `![distance to source and re-identification against t](${plot})`,
    '',
    'The re-identification test is a weak attacker (nearest neighbour on pixels, no learned features): a low rate is ' +
      'necessary for anonymity, not evidence of it. records.jsonl links every sample to its source; do not publish it with the samples.',
    '',
  ].join('\n');
}

export interface VaryReportFiles {
  markdown: string;
  json: string;
  svg: string;
  png: string;
}

/** Analyses `outDir` and writes report.md, report.json, report.svg and report.png there. */
export async function writeVaryReport(
  outDir: string,
  o: Pick<RunContext<never>, 'signal' | 'onWarning'> = {},
): Promise<{ analysis: VaryAnalysis; files: VaryReportFiles }> {
  const analysis = await analyseVary(outDir, o);
  const files = {
    markdown: join(outDir, 'report.md'),
    json: join(outDir, 'report.json'),
    svg: join(outDir, 'report.svg'),
    png: join(outDir, 'report.png'),
  };
  const svg = varyPlotSvg(analysis);
  await writeTextAtomic(files.svg, svg);
  await writeSvgAsPng(svg, files.png);
  await writeTextAtomic(files.json, toJson(analysis));
  await writeTextAtomic(files.markdown, varyMarkdown(analysis));
  return { analysis, files };
}
