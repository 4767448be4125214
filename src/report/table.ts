/** Plain-text and Markdown tables of figures, always with the protocol stated under them. */
import type { Measurements } from '../metrics/index.js';

export interface Column<R> {
  header: string;
  value: (row: R) => string;
  /** Right-align (numbers). Default true. */
  right?: boolean;
}

export const fmt = {
  db: (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : v > 0 ? 'inf' : 'n/a'),
  ssim: (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : 'n/a'),
  ratio: (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a'),
  gmsd: (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : 'n/a'),
  seconds: (v: number): string => (v < 0.1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1)),
};

/** The usual metric columns for anything with Measurements. */
export function metricColumns<R extends Measurements>(): Column<R>[] {
  return [
    { header: 'PSNR-Y', value: (r) => fmt.db(r.psnrY) },
    { header: 'SSIM-Y', value: (r) => fmt.ssim(r.ssimY) },
    { header: 'PSNR-RGB', value: (r) => fmt.db(r.psnrRgb) },
    { header: 'detail', value: (r) => fmt.ratio(r.detailRatio) },
    { header: 'GMSD', value: (r) => fmt.gmsd(r.gmsd) },
  ];
}

/** An aligned text table. */
export function textTable<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (columns[i]!.right === false ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** A Markdown (GFM) table. */
export function markdownTable<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${columns.map((c) => esc(c.header)).join(' | ')} |`,
    `| ${columns.map((c) => (c.right === false ? ':--' : '--:')).join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => esc(c.value(r))).join(' | ')} |`),
  ].join('\n');
}
