/**
 * The sweep report: plots (SVG + PNG), a strip of example crops, and one document (report.md and report.html)
 * with the recommendations, the Pareto table, every cell's figures and the protocol.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '../image/io.js';
import { upsample, type Kernel } from '../image/upsample.js';
import { matlabImresize } from '../image/upsample.js';
import { measure } from '../metrics/index.js';
import { writeCropStrip, type CropPanel } from './crops.js';
import { loadTestSet } from './dataset.js';
import { LR_SOURCE_TEXT } from './dataset.js';
import { toHtml, toMarkdown, type Block } from '../report/document.js';
import { boomerangCellId, cellSlug, startName } from './grid.js';
import { paretoSvg, short, tradeoffSvg } from './plots.js';
import { writeSvgAsPng } from '../report/png.js';
import { protocolLine, protocolShort } from './protocol.js';
import { RULE_TEXT, type Analysis } from './recommend.js';
import type { SummaryRow } from './summary.js';
import type { SweepResult } from './sweep.js';
import { fmt, type Column } from '../report/table.js';
import { writeTextAtomic } from '../report/write.js';
import { loadManifest, type PresetSettings } from '../model/manifest.js';

/** Columns for a table of per-cell means (text, Markdown and the report share them). */
export function summaryColumns(): Column<SummaryRow>[] {
  return [
    { header: 'setting', value: (r) => settingText(r), right: false },
    { header: 'PSNR-Y', value: (r) => fmt.db(r.psnrY) },
    { header: 'SSIM-Y', value: (r) => fmt.ssim(r.ssimY) },
    { header: 'PSNR-RGB', value: (r) => fmt.db(r.psnrRgb) },
    { header: 'detail ratio', value: (r) => fmt.ratio(r.detailRatio) },
    { header: 'GMSD', value: (r) => fmt.gmsd(r.gmsd) },
    { header: 's/image', value: (r) => fmt.seconds(r.seconds) },
    { header: 'front', value: (r) => (r.pareto ? '●' : '') },
  ];
}

/** "Boomerang t=100 N=2 bicubic ddnm 10 steps K=1" or the baseline's name. */
export function settingText(r: SummaryRow): string {
  if (r.kind === 'matlab-bicubic') return 'MATLAB bicubic';
  if (r.kind === 'upsampler') return `${startName(r.upsampler, r.backProject)} alone`;
  return (
    `t=${r.t} N=${r.cascade} ${startName(r.upsampler, r.backProject)} ${r.consistency} ${r.steps} steps` +
    ((r.samples ?? 1) > 1 ? ` K=${r.samples} ${r.reduce}` : '')
  );
}

/** A Boomerang row's settings, with the sampler and η it ran with when known (a sweep runs one sampler). */
export type SettingRow = SummaryRow & { sampler?: string | null; eta?: number | null };

const SETTING_NAMES: [string, (r: SettingRow) => unknown][] = [
  ['t', (r) => r.t],
  ['cascade', (r) => r.cascade],
  ['steps', (r) => r.steps],
  ['upsampler', (r) => r.upsampler],
  ['back-projection', (r) => r.backProject ?? 0],
  ['consistency', (r) => r.consistency],
  ['samples', (r) => r.samples ?? 1],
  ['reduce', (r) => ((r.samples ?? 1) > 1 ? r.reduce : 'mean')],
  ['sampler', (r) => r.sampler],
  ['η', (r) => (r.sampler === 'ddim' ? r.eta : null)],
];

/**
 * What a results header may say about the Boomerang rows: the settings every one of them ran with ("cascade 1"),
 * and the names of those that differ between rows (which each row must state). Settings unknown for every row
 * (a sampler not recorded) are in neither list.
 */
export function sharedSettings(rows: readonly SettingRow[]): { shared: string[]; perRow: string[] } {
  const boom = rows.filter((r) => r.kind === 'boomerang');
  const shared: string[] = [];
  const perRow: string[] = [];
  for (const [name, get] of SETTING_NAMES) {
    const values = [...new Set(boom.map((r) => get(r) ?? null))];
    if (values.length === 1 && values[0] !== null) shared.push(`${name} ${String(values[0])}`);
    else if (values.length > 1) perRow.push(name);
  }
  return { shared, perRow };
}

export function recommendationRows(a: Analysis): string[][] {
  return a.recommendations.map((r) => [
    RULE_TEXT[r.rule],
    r.row ? settingText(r.row) : '—',
    r.row ? fmt.db(r.row.psnrY) : '',
    r.row ? fmt.ssim(r.row.ssimY) : '',
    r.row ? fmt.ratio(r.row.detailRatio) : '',
    r.row ? fmt.gmsd(r.row.gmsd) : '',
    r.row ? fmt.seconds(r.row.seconds) : '',
    r.why,
  ]);
}

function tableBlock(rows: readonly SummaryRow[]): Block {
  const cols = summaryColumns();
  return { kind: 'table', headers: cols.map((c) => c.header), rows: rows.map((r) => cols.map((c) => c.value(r))), left: [0] };
}

export interface ReportFiles {
  markdown: string;
  html: string;
  plots: string[];
  crops: string[];
}

export interface ReportOptions {
  title?: string;
  /** Extra paragraphs (e.g. how the sweep was run). */
  notes?: string[];
}

/** Writes plots, crops, report.md and report.html into the sweep's folder. */
export async function writeSweepReport(result: SweepResult, options: ReportOptions = {}): Promise<ReportFiles> {
  const files = { plots: [] as string[], crops: [] as string[] };
  const title = options.title ?? 'Boomerang sweep report';
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: title }];
  blocks.push({ kind: 'paragraph', text: `**${protocolLine()}**` });
  blocks.push({ kind: 'list', items: [...sweepFacts(result.meta), ...(options.notes ?? [])] });
  for (const a of result.analyses) blocks.push(...(await factorSection(result, a, files)));
  blocks.push({
    kind: 'paragraph',
    text: `Files: results.jsonl (one line per setting and image; a rerun skips what it holds), results.csv, summary.csv, summary.json, recommendations.json, plots/, crops/.`,
  });
  const markdown = join(result.out, 'report.md');
  const html = join(result.out, 'report.html');
  await writeTextAtomic(markdown, toMarkdown(blocks));
  await writeTextAtomic(html, toHtml(blocks, title));
  return { markdown, html, ...files };
}

/** How the sweep was run: data, images, model and seed, the upsamplers, the detail axis, the last run. */
function sweepFacts(meta: SweepResult['meta']): string[] {
  return [
    `Ground truth: \`${meta.hr}\`${meta.lr ? `; LR: \`${meta.lr}\`` : ''} — ${LR_SOURCE_TEXT[meta.lrSource]}; HR cropped to a multiple of the factor.`,
    `Images: ${Object.entries(meta.images)
      .map(([f, names]) => `×${f}: ${names.length} (${names.join(', ')})`)
      .join('; ')}.`,
    meta.model
      ? `Model: **${meta.model.name}** (sha256 ${meta.model.sha256.slice(0, 12)}…, ${meta.model.device}); seed ${meta.seed} for every run; ${meta.sampler} sampler${meta.sampler === 'ddim' ? `, η ${meta.eta}` : ''}.`
      : 'No model (baselines only).',
    `Upsamplers are centre-aligned (nearest, bilinear, bicubic Keys a = −0.5, lanczos3); MATLAB bicubic is imresize's antialiased bicubic. Figures are means over the images; s/image is wall time on this machine.`,
    `Detail axis of the trade-off: ${meta.detail === 'ratio' ? '|1 − detail ratio|' : 'GMSD'}. Last run: ${meta.run.computed} results computed, ${meta.run.skipped} taken from the log, ${meta.run.seconds.toFixed(0)} s.`,
  ];
}

/**
 * The cells of a factor that run exactly as the model's default or one of its presets would (`sr upscale` with no
 * method flags, or `--preset NAME`), by cell id: "default", "fidelity", … (several names joined by " = "). A setting
 * whose sampler or η differs from the sweep's, or with a list of t per pass, has no cell. Empty without a model or
 * when its manifest cannot be read.
 */
export async function namedCells(meta: SweepResult['meta'], factor: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!meta.model) return out;
  const manifest = await loadManifest(meta.model.dir).catch(() => null);
  if (!manifest) return out;
  const d = manifest.defaults;
  const settings: [string, PresetSettings][] = [
    ['default', d],
    ...Object.entries(manifest.presets).map(([n, p]): [string, PresetSettings] => [n, { ...d, ...p }]),
  ];
  for (const [name, p] of settings) {
    if (Array.isArray(p.cascade)) continue;
    const sampler = p.sampler ?? 'ancestral';
    if (sampler !== meta.sampler || (sampler === 'ddim' && (p.eta ?? 0) !== meta.eta)) continue;
    const t = p.t ?? d.t;
    const samples = p.samples ?? 1;
    const id = boomerangCellId({
      factor,
      t,
      cascade: p.cascade ?? 1,
      upsampler: p.upsampler ?? 'bicubic',
      backProject: p.backProject ?? 0,
      consistency: p.consistency ?? 'ddnm',
      steps: Math.min(p.steps ?? d.steps, t), // as the grid caps them
      samples,
      reduce: 'mean',
    });
    const had = out.get(id)?.split(' = ') ?? [];
    if (!had.includes(name)) out.set(id, [...had, name].join(' = '));
  }
  return out;
}

/** One factor's section: recommendations, the front, the plots and crops (written, and listed in `files`), every setting. */
async function factorSection(result: SweepResult, a: Analysis, files: { plots: string[]; crops: string[] }): Promise<Block[]> {
  const { out, rows } = result;
  const f = a.factor;
  const mine = rows.filter((r) => r.factor === f);
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: `×${f}` }];
  blocks.push({ kind: 'heading', level: 3, text: 'Recommended settings' });
  blocks.push({
    kind: 'table',
    headers: ['rule', 'setting', 'PSNR-Y', 'SSIM-Y', 'detail ratio', 'GMSD', 's/image', 'why'],
    rows: recommendationRows(a),
    left: [0, 1, 7],
  });
  blocks.push({ kind: 'heading', level: 3, text: 'Pareto front and baselines' });
  const front = a.front.map((id) => mine.find((r) => r.id === id)!).filter(Boolean);
  blocks.push(tableBlock([...front, ...mine.filter((r) => r.kind !== 'boomerang')]));
  blocks.push({ kind: 'paragraph', text: protocolLine(f) });
  const note = protocolShort(f);
  const plot = async (name: string, svg: string) => {
    await writeTextAtomic(join(out, name + '.svg'), svg);
    await writeSvgAsPng(svg, join(out, name + '.png'));
    files.plots.push(name + '.svg', name + '.png');
  };
  if (mine.some((r) => r.kind === 'boomerang')) {
    const tradeoff = join('plots', `tradeoff-x${f}`);
    await plot(tradeoff, tradeoffSvg(rows, f, note));
    blocks.push({ kind: 'heading', level: 3, text: 'PSNR and detail against t, for each N' });
    blocks.push({ kind: 'image', src: tradeoff + '.png', alt: `PSNR-Y and detail ratio against t for each N at x${f}`, width: 1120 });
  }
  const pareto = join('plots', `pareto-x${f}`);
  await plot(pareto, paretoSvg(rows, a, note, { names: await namedCells(result.meta, f) }));
  blocks.push({ kind: 'heading', level: 3, text: 'Fidelity against detail (Pareto scatter, baselines marked)' });
  blocks.push({ kind: 'image', src: pareto + '.png', alt: `Pareto scatter of PSNR-Y against detail at x${f}`, width: 760 });
  const strip = await cropsFor(result, a);
  if (strip) {
    files.crops.push(strip.strip, ...strip.tiles.map((t) => t.file));
    blocks.push({ kind: 'heading', level: 3, text: `Example crops: ${strip.name}` });
    blocks.push({
      kind: 'paragraph',
      text: `A ${strip.window.size}×${strip.window.size} window at (${strip.window.left}, ${strip.window.top}) of the HR image, the most textured one, shown ×${strip.zoom} by pixel replication; the strip (\`${strip.strip}\`) captions each panel with its PSNR-Y on this image.`,
    });
    blocks.push({ kind: 'figures', items: strip.tiles.map((t) => ({ src: t.file, caption: t.label })) });
  }
  blocks.push({ kind: 'heading', level: 3, text: 'Every setting' });
  blocks.push(tableBlock(mine));
  blocks.push({ kind: 'paragraph', text: protocolLine(f) });
  return blocks;
}

/** The crop strip for a factor's first image: LR, the upsampler alone, each recommended setting, truth. */
async function cropsFor(result: SweepResult, a: Analysis) {
  const { meta, out } = result;
  const names = meta.images[a.factor];
  if (!names?.length) return null;
  const set = await loadTestSet({ hr: meta.hr, ...(meta.lr ? { lr: meta.lr } : {}), factor: a.factor, limit: 1 });
  const im = set.images[0]!;
  const recs = a.recommendations.filter((r) => r.row);
  const upsampler = (recs[0]?.row?.upsampler ?? 'bicubic') as Kernel;
  const panels: CropPanel[] = [
    { label: `${upsampler} alone`, image: upsample(im.lr, a.factor, upsampler) },
    { label: 'MATLAB bicubic', image: matlabImresize(im.lr, a.factor) },
  ];
  const seen = new Set<string>();
  for (const r of recs) {
    const file = join(out, 'images', cellSlug(r.row!.id), `${im.name}.png`);
    if (!existsSync(file)) continue;
    const rules = recs
      .filter((q) => q.row!.id === r.row!.id)
      .map((q) => RULE_TEXT[q.rule])
      .join(' = ');
    if (seen.has(r.row!.id)) continue;
    seen.add(r.row!.id);
    panels.push({ label: `${rules}: ${short(r.row!)}`, image: (await decodeImage(file)).rgb });
  }
  // the strip's captions: each panel's PSNR-Y on this image (the tables give the means over all images)
  for (const p of panels) p.note = `PSNR-Y ${measure(p.image, im.hr, { shave: a.factor }).psnrY.toFixed(2)} dB`;
  const strip = await writeCropStrip(join(out, 'crops'), `x${a.factor}-${cellSlug(im.name)}`, im.lr, im.hr, a.factor, panels);
  return {
    name: im.name,
    window: strip.window,
    zoom: strip.zoom,
    strip: join('crops', strip.strip),
    tiles: strip.tiles.map((t) => ({ label: t.label, file: join('crops', t.file) })),
  };
}
