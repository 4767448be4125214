/**
 * The sweep's pictures, as SVG: (1) PSNR-Y and detail against t, one line per cascade N (and per other setting
 * that varies), with the baselines as dashed horizontal lines; (2) the Pareto scatter of PSNR-Y against detail
 * with the front joined, the baselines marked and the recommended settings starred.
 */
import { startName } from './grid.js';
import type { DetailMeasure } from './pareto.js';
import { RULE_TEXT, type Analysis } from './recommend.js';
import type { SummaryRow } from './summary.js';
import { PALETTE, panel, panelWithKey, svgDocument, type Marker, type RefLine, type Series } from '../report/svg.js';

const DASHES = [undefined, '6,3', '2,3', '8,3,2,3'];
const BASELINE_COLOR: Record<string, string> = {
  'matlab-bicubic': '#000000',
  nearest: '#8c564b',
  bilinear: '#7f7f7f',
  bicubic: '#e377c2',
  lanczos: '#bcbd22',
};

function baselineName(r: SummaryRow): string {
  return r.kind === 'matlab-bicubic' ? 'MATLAB bicubic' : `${startName(r.upsampler, r.backProject)} alone`;
}

/** Which settings other than t and N vary among the rows (they split the lines). */
function varying(rows: readonly SummaryRow[]): (keyof SummaryRow)[] {
  const keys: (keyof SummaryRow)[] = ['upsampler', 'consistency', 'steps', 'samples', 'reduce'];
  return keys.filter((k) => new Set(rows.map((r) => r[k])).size > 1);
}

function variantLabel(r: SummaryRow, keys: readonly (keyof SummaryRow)[]): string {
  return keys.map((k) => (k === 'steps' ? `S${r.steps}` : k === 'samples' ? `K${r.samples}` : String(r[k]))).join(' ');
}

/** The series (one per N and variant) of a metric against t. */
export function seriesByN(rows: readonly SummaryRow[], metric: (r: SummaryRow) => number): Series[] {
  const boom = rows.filter((r) => r.kind === 'boomerang');
  const keys = varying(boom);
  const Ns = [...new Set(boom.map((r) => r.cascade!))].sort((a, b) => a - b);
  const variants = [...new Set(boom.map((r) => variantLabel(r, keys)))];
  const out: Series[] = [];
  for (const [ni, n] of Ns.entries()) {
    for (const [vi, v] of variants.entries()) {
      const pts = boom.filter((r) => r.cascade === n && variantLabel(r, keys) === v).map((r) => ({ x: r.t!, y: metric(r) }));
      if (!pts.length) continue;
      const dash = DASHES[vi % DASHES.length];
      out.push({ label: `N=${n}${v ? ' ' + v : ''}`, points: pts, color: PALETTE[ni % PALETTE.length]!, ...(dash ? { dash } : {}) });
    }
  }
  return out;
}

/** Baselines drawn as reference lines: MATLAB bicubic and the upsamplers the grid used. */
function baselineLines(rows: readonly SummaryRow[], metric: (r: SummaryRow) => number): RefLine[] {
  const used = new Set(rows.filter((r) => r.kind === 'boomerang').map((r) => r.upsampler));
  return rows
    .filter((r) => r.kind === 'matlab-bicubic' || (r.kind === 'upsampler' && (used.has(r.upsampler) || used.size === 0)))
    .map((r) => ({
      label: baselineName(r),
      value: metric(r),
      color: BASELINE_COLOR[r.kind === 'upsampler' ? r.upsampler! : r.kind] ?? '#444',
    }));
}

/** PSNR-Y and detail ratio against t, one line per N, for one factor. */
export function tradeoffSvg(rows: readonly SummaryRow[], factor: number, protocolNote: string): string {
  const mine = rows.filter((r) => r.factor === factor);
  const w = 560;
  const h = 420;
  const left = panel(
    {
      title: `PSNR-Y against t (×${factor})`,
      xLabel: 't (diffusion step noised to)',
      yLabel: 'PSNR-Y (dB)',
      logX: true,
      series: seriesByN(mine, (r) => r.psnrY),
      hlines: baselineLines(mine, (r) => r.psnrY),
    },
    0,
    0,
    w,
    h,
  );
  const ratios = mine.map((r) => r.detailRatio).filter((v) => v > 0 && Number.isFinite(v));
  const right = panel(
    {
      title: `Detail ratio against t (×${factor})`,
      xLabel: 't (diffusion step noised to)',
      yLabel: 'detail ratio (1 = truth)',
      logX: true,
      logY: ratios.length > 0 && Math.max(...ratios, 1) / Math.min(...ratios, 1) > 20,
      series: seriesByN(mine, (r) => r.detailRatio),
      hlines: [...baselineLines(mine, (r) => r.detailRatio), { label: 'truth', value: 1, color: '#2ca02c', dash: '2,2' }],
    },
    w,
    0,
    w,
    h,
  );
  return svgDocument(2 * w, h + 22, `${left}\n${right}\n${footnote(protocolNote, h + 14)}`);
}

/** Options of the Pareto plot. */
export interface ParetoPlotOptions {
  /**
   * Names of settings, by cell id: the model's default ("default") and its presets ("fidelity"), which the plot
   * marks and names beside the setting's compact label.
   */
  names?: ReadonlyMap<string, string>;
}

/** The settings that differ among Boomerang rows, as compact label parts ("t100", "N2", "S5", "bp10", "ddnm", "K4 mean"). */
export function compactLabels(rows: readonly SummaryRow[]): Map<string, string> {
  const boom = rows.filter((r) => r.kind === 'boomerang');
  const varies = (k: keyof SummaryRow) => new Set(boom.map((r) => r[k])).size > 1;
  const parts: ((r: SummaryRow) => string)[] = [];
  if (varies('t') || boom.length === 1) parts.push((r) => `t${r.t}`);
  if (varies('cascade') || boom.length === 1) parts.push((r) => `N${r.cascade}`);
  if (varies('steps')) parts.push((r) => `S${r.steps}`);
  if (varies('upsampler')) parts.push((r) => `${r.upsampler}`);
  if (varies('backProject')) parts.push((r) => `bp${r.backProject ?? 0}`);
  if (varies('consistency')) parts.push((r) => `${r.consistency}`);
  if (varies('samples') || varies('reduce')) parts.push((r) => `K${r.samples ?? 1}${(r.samples ?? 1) > 1 ? ` ${r.reduce}` : ''}`);
  return new Map(boom.map((r) => [r.id, parts.map((p) => p(r)).join(' ') || `t${r.t} N${r.cascade}`]));
}

/**
 * The Pareto scatter of PSNR-Y against detail for one factor: every Boomerang setting labelled compactly (only
 * the settings that vary), the model's default and presets ringed and named, the baselines marked and named with a
 * leader line each, the recommendations starred. Labels never overlap: a label with no room becomes a number
 * explained in a key under the legend.
 */
export function paretoSvg(rows: readonly SummaryRow[], analysis: Analysis, protocolNote: string, options: ParetoPlotOptions = {}): string {
  const mine = rows.filter((r) => r.factor === analysis.factor);
  const detail: DetailMeasure = analysis.detail;
  const xOf = (r: SummaryRow) => (detail === 'ratio' ? r.detailRatio : r.gmsd);
  const boom = mine.filter((r) => r.kind === 'boomerang');
  const names = options.names ?? new Map<string, string>();
  const compact = compactLabels(boom);
  const labelOf = (r: SummaryRow) => {
    const name = names.get(r.id);
    return name ? `${name}: ${compact.get(r.id)}` : compact.get(r.id)!;
  };
  const frontRows = analysis.front.map((id) => boom.find((r) => r.id === id)!).filter(Boolean);
  const recColor: Record<string, string> = { 'best-psnr': '#d62728', 'most-detail': '#ff7f0e', knee: '#9467bd' };
  const starred = new Map<string, string>();
  for (const rec of analysis.recommendations) {
    // one star per setting, in the colour of its first rule
    if (rec.row && !starred.has(rec.row.id)) starred.set(rec.row.id, recColor[rec.rule]!);
  }
  const markers: Marker[] = [];
  const NAMED = '#2ca02c';
  // drawn in this order (the stars and rings on top); labelled by priority: the named settings, then the stars and
  // the baselines, the front, the rest
  const labelled = (r: SummaryRow, priority: number) => ({
    x: xOf(r),
    y: r.psnrY,
    label: labelOf(r),
    priority: names.has(r.id) ? 0 : priority,
    reach: names.has(r.id) ? 84 : 36,
    ...(names.has(r.id) ? { bold: true, labelColor: '#1a6b1a' } : {}),
  });
  for (const r of boom.filter((r) => !r.pareto && !starred.has(r.id)))
    markers.push({ ...labelled(r, 3), color: '#9ecae1', shape: 'circle', size: 4 });
  for (const r of boom.filter((r) => r.pareto && !starred.has(r.id)))
    markers.push({ ...labelled(r, 2), color: '#1f77b4', shape: 'circle', size: 5, ring: true });
  for (const r of boom.filter((r) => starred.has(r.id)))
    markers.push({ ...labelled(r, 1), color: starred.get(r.id)!, shape: 'star', size: 6 });
  for (const r of boom.filter((r) => names.has(r.id)))
    markers.push({ x: xOf(r), y: r.psnrY, color: NAMED, shape: 'ring', size: starred.has(r.id) ? 11 : 8 });
  const shapes: Marker['shape'][] = ['square', 'diamond', 'triangle', 'square', 'diamond'];
  mine
    .filter((r) => r.kind !== 'boomerang')
    .forEach((r, i) => {
      const color = BASELINE_COLOR[r.kind === 'upsampler' ? r.upsampler! : r.kind] ?? '#444';
      // baselines lie close together (bicubic+bp20 by bilinear+bp20): each label joined to its marker by a line
      markers.push({
        x: xOf(r),
        y: r.psnrY,
        label: baselineName(r),
        color,
        shape: shapes[i % shapes.length]!,
        size: 5,
        leader: true,
        priority: 1,
      });
    });
  const series =
    frontRows.length > 1 ? [{ label: 'Pareto front', points: frontRows.map((r) => ({ x: xOf(r), y: r.psnrY })), color: '#1f77b4' }] : [];
  const legend = [
    { label: 'Boomerang setting', color: '#9ecae1', shape: 'circle' as const },
    ...(boom.some((r) => names.has(r.id)) ? [{ label: "the model's default / preset", color: NAMED, shape: 'ring' as const }] : []),
    // one entry per star: the rules that chose that setting, in the colour of the first
    ...[...starred.keys()].map((id) => {
      const recs = analysis.recommendations.filter((r) => r.row?.id === id);
      return { label: recs.map((r) => RULE_TEXT[r.rule]).join(' = '), color: recColor[recs[0]!.rule]!, shape: 'star' as const };
    }),
  ];
  const w = 760;
  const h = 520;
  const xs = mine.map(xOf).filter((v) => v > 0 && Number.isFinite(v));
  const body = panelWithKey(
    {
      title: `Fidelity against detail (×${analysis.factor})`,
      logX: xs.length > 0 && Math.max(...xs, 1) / Math.min(...xs, 1) > 20,
      xLabel:
        detail === 'ratio' ? 'detail ratio (high-frequency energy / truth; 1 = as much detail as the truth)' : 'GMSD (lower = closer)',
      yLabel: 'PSNR-Y (dB)',
      series,
      markers,
      legend,
      ...(detail === 'ratio' ? { vlines: [{ label: 'truth', value: 1, color: '#2ca02c', dash: '2,2' }] } : {}),
    },
    0,
    0,
    w,
    h,
  );
  const common = commonText(boom);
  const notes = [protocolNote, ...(common ? [`Boomerang labels name the settings that vary; every Boomerang point has ${common}.`] : [])];
  const foot = notes.map((n, i) => footnote(n, body.height + 14 + i * 12)).join('\n');
  return svgDocument(w, body.height + 10 + 12 * notes.length, `${body.svg}\n${foot}`);
}

/** The settings every Boomerang row shares, in compact form ("N1 S2 bicubic bp10 ibp K1"), or '' if none. */
function commonText(boom: readonly SummaryRow[]): string {
  if (!boom.length) return '';
  const same = (k: keyof SummaryRow) => new Set(boom.map((r) => r[k])).size === 1;
  const r = boom[0]!;
  return [
    same('t') ? `t${r.t}` : '',
    same('cascade') ? `N${r.cascade}` : '',
    same('steps') ? `S${r.steps}` : '',
    same('upsampler') ? `${r.upsampler}` : '',
    same('backProject') ? `bp${r.backProject ?? 0}` : '',
    same('consistency') ? `${r.consistency}` : '',
    same('samples') && same('reduce') ? `K${r.samples ?? 1}${(r.samples ?? 1) > 1 ? ` ${r.reduce}` : ''}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** "t100 N2" plus whatever else is not the default. */
export function short(r: SummaryRow): string {
  if (r.kind !== 'boomerang') return baselineName(r);
  return (
    `t${r.t} N${r.cascade}` +
    (r.consistency !== 'ddnm' ? ` ${r.consistency}` : '') +
    (r.upsampler !== 'bicubic' ? ` ${r.upsampler}` : '') +
    (r.backProject ? ` bp${r.backProject}` : '') +
    ((r.samples ?? 1) > 1 ? ` K${r.samples} ${r.reduce}` : '')
  );
}

function footnote(text: string, y: number): string {
  return `<text x="8" y="${y}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="9" fill="#555">${text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`;
}
