/**
 * Hand-written SVG charts (no plotting library): line panels and scatter panels with axes, nice ticks, legends,
 * horizontal/vertical reference lines and labelled markers. Each panel is a <g> placed in a document by `svgDocument`.
 */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export interface XY {
  x: number;
  y: number;
}

export interface Series {
  label: string;
  points: XY[];
  color: string;
  dash?: string;
}

export interface RefLine {
  label: string;
  value: number;
  color: string;
  dash?: string;
}

export interface Marker extends XY {
  label?: string;
  color: string;
  /** 'ring': a hollow circle drawn around the point (e.g. to mark the model's default on top of its dot). */
  shape: 'circle' | 'square' | 'diamond' | 'triangle' | 'star' | 'ring';
  size?: number;
  /** Draw with a dark outline (e.g. on the Pareto front). */
  ring?: boolean;
  /** Bold label text. */
  bold?: boolean;
  /** Always join the label to its marker with a leader line (not only when the label had to move away). */
  leader?: boolean;
  /** Label text colour (default dark grey). */
  labelColor?: string;
  /** Labels are placed in ascending priority (default 0), so lower ones get the spots nearest their points. */
  priority?: number;
  /** How far (px) the label may move from its point, joined by a leader line, before it becomes a numbered key entry. Default 105. */
  reach?: number;
}

export interface PanelSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series?: Series[];
  markers?: Marker[];
  hlines?: RefLine[];
  vlines?: RefLine[];
  /** Logarithmic x axis (e.g. t = 50, 100, 200, 400; ticks at the data's x values unless given). */
  logX?: boolean;
  /** Logarithmic y axis (ticks at 1, 2, 5 × 10^k). */
  logY?: boolean;
  /** Tick values to use on x (default: nice ticks, or the distinct x values on a log axis). */
  xTicks?: number[];
  /** Legend entries beyond the series (markers). */
  legend?: { label: string; color: string; shape?: Marker['shape']; dash?: string }[];
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number) => (Math.round(v * 100) / 100).toString();

/** The estimated width of a label in the panels' sans-serif font (about 0.6 em per character). */
const textWidth = (text: string, size: number) => text.length * size * 0.62;

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return ticks;
}

/** Ticks at 1, 2, 5 × 10^k inside [lo, hi] (lo > 0). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const v = +(m * 10 ** k).toPrecision(6);
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

/** Tick labels with one number of decimals for the whole axis: the fewest that show every tick exactly. */
function tickText(v: number, all: number[]): string {
  let d = 0;
  while (d < 4 && all.some((x) => Math.abs(+x.toFixed(d) - x) > 1e-9 * Math.max(1, Math.abs(x)))) d++;
  return v.toFixed(d);
}

function markerPath(m: Marker, x: number, y: number): string {
  const r = m.size ?? 4;
  const stroke = m.ring ? ' stroke="#222" stroke-width="1.5"' : ' stroke="#fff" stroke-width="0.8"';
  switch (m.shape) {
    case 'square':
      return `<rect x="${num(x - r)}" y="${num(y - r)}" width="${num(2 * r)}" height="${num(2 * r)}" fill="${m.color}"${stroke}/>`;
    case 'diamond':
      return `<path d="M${num(x)},${num(y - r * 1.3)}L${num(x + r * 1.3)},${num(y)}L${num(x)},${num(y + r * 1.3)}L${num(x - r * 1.3)},${num(y)}Z" fill="${m.color}"${stroke}/>`;
    case 'triangle':
      return `<path d="M${num(x)},${num(y - r * 1.3)}L${num(x + r * 1.2)},${num(y + r)}L${num(x - r * 1.2)},${num(y + r)}Z" fill="${m.color}"${stroke}/>`;
    case 'star': {
      const pts: string[] = [];
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 === 0 ? r * 1.6 : r * 0.7;
        pts.push(`${num(x + rr * Math.cos(a))},${num(y + rr * Math.sin(a))}`);
      }
      return `<polygon points="${pts.join(' ')}" fill="${m.color}"${stroke}/>`;
    }
    case 'ring':
      return `<circle cx="${num(x)}" cy="${num(y)}" r="${num(r)}" fill="none" stroke="${m.color}" stroke-width="2"/>`;
    default:
      return `<circle cx="${num(x)}" cy="${num(y)}" r="${num(r)}" fill="${m.color}"${stroke}/>`;
  }
}

type Anchor = 'start' | 'end' | 'middle';
interface Spot {
  x: number;
  y: number;
  anchor: Anchor;
}
interface LegendItem {
  label: string;
  color: string;
  dash?: string | undefined;
  shape?: Marker['shape'] | undefined;
}

/** The geometry of one panel: the data-to-pixel maps, the plot box, the legend layout and the label placer. */
interface Frame {
  x0: number;
  y0: number;
  w: number;
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  X: (v: number) => number;
  Y: (v: number) => number;
  xt: number[];
  yt: number[];
  legend: { item: LegendItem; x: number; row: number }[];
  /** Places a label at the first candidate spot that overlaps no earlier label or marker. */
  place: (text: string, size: number, candidates: Spot[]) => Spot;
  /**
   * The first candidate spot whose label box overlaps no earlier label or marker and lies inside the plot box,
   * reserved; null when there is none (nothing reserved).
   */
  placeFree: (text: string, size: number, candidates: Spot[]) => Spot | null;
  /** Keeps a box free of later labels (a drawn marker). */
  reserve: (box: { x0: number; y0: number; x1: number; y1: number }) => void;
}

const LEFT = 62;
const RIGHT = 12;
const TOP = 30;
const BOTTOM = 44;

/** Legend entries flow left to right under the axis label, wrapping at the plot's width. */
function layoutLegend(items: LegendItem[], plotW: number): Frame['legend'] {
  const out: Frame['legend'] = [];
  let lx = 0;
  let row = 0;
  for (const item of items) {
    const width = 23 + item.label.length * 6.2 + 18;
    if (lx > 0 && lx + width > plotW) {
      lx = 0;
      row++;
    }
    out.push({ item, x: lx, row });
    lx += width;
  }
  return out;
}

function frameOf(spec: PanelSpec, x0: number, y0: number, w: number, h: number): Frame {
  const series = spec.series ?? [];
  const markers = spec.markers ?? [];
  const xs = [
    ...series.flatMap((s) => s.points.map((p) => p.x)),
    ...markers.map((m) => m.x),
    ...(spec.vlines ?? []).map((v) => v.value),
  ].filter(Number.isFinite);
  const ys = [
    ...series.flatMap((s) => s.points.map((p) => p.y)),
    ...markers.map((m) => m.y),
    ...(spec.hlines ?? []).map((v) => v.value),
  ].filter(Number.isFinite);
  const logX = (spec.logX ?? false) && xs.every((v) => v > 0);
  const logY = (spec.logY ?? false) && ys.every((v) => v > 0);
  const tx = (v: number) => (logX ? Math.log10(v) : v);
  const ty = (v: number) => (logY ? Math.log10(v) : v);
  let [xlo, xhi] = xs.length ? [Math.min(...xs.map(tx)), Math.max(...xs.map(tx))] : [0, 1];
  let [ylo, yhi] = ys.length ? [Math.min(...ys.map(ty)), Math.max(...ys.map(ty))] : [0, 1];
  const padX = (xhi - xlo || Math.abs(xhi) || 1) * 0.06;
  const padY = (yhi - ylo || Math.abs(yhi) * 0.05 || 1) * 0.08;
  xlo -= padX;
  xhi += padX;
  ylo -= padY;
  yhi += padY;
  const plotW = w - LEFT - RIGHT;
  const items: LegendItem[] = [...series.map((s) => ({ label: s.label, color: s.color, dash: s.dash })), ...(spec.legend ?? [])];
  const legend = layoutLegend(items, plotW);
  const legendRows = legend.length ? legend[legend.length - 1]!.row + 1 : 0;
  const plotH = h - TOP - BOTTOM - legendRows * 16;
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  const boxes: { x0: number; y0: number; x1: number; y1: number }[] = [];
  const boxOf = (text: string, size: number, c: Spot) => {
    const tw = textWidth(text, size);
    const bx = c.anchor === 'end' ? c.x - tw : c.anchor === 'middle' ? c.x - tw / 2 : c.x;
    return { x0: bx - 2, y0: c.y - size, x1: bx + tw + 2, y1: c.y + 2 };
  };
  const clear = (b: { x0: number; y0: number; x1: number; y1: number }) =>
    !boxes.some((o) => b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1);
  const place = (text: string, size: number, candidates: Spot[]): Spot => {
    const free = candidates.find((c) => clear(boxOf(text, size, c))) ?? candidates[0]!;
    boxes.push(boxOf(text, size, free));
    return free;
  };
  const inside = (b: { x0: number; y0: number; x1: number; y1: number }) =>
    b.x0 >= x0 + LEFT + 2 && b.x1 <= x0 + LEFT + plotW - 2 && b.y0 >= y0 + TOP + 2 && b.y1 <= y0 + TOP + plotH - 2;
  const placeFree = (text: string, size: number, candidates: Spot[]): Spot | null => {
    const free = candidates.find((c) => {
      const b = boxOf(text, size, c);
      return inside(b) && clear(b);
    });
    if (free) boxes.push(boxOf(text, size, free));
    return free ?? null;
  };
  return {
    x0,
    y0,
    w,
    left: LEFT,
    top: TOP,
    plotW,
    plotH,
    legend,
    place,
    placeFree,
    reserve: (b) => boxes.push(b),
    X: (v) => x0 + LEFT + ((tx(v) - xlo) / (xhi - xlo)) * plotW,
    Y: (v) => y0 + TOP + (1 - (ty(v) - ylo) / (yhi - ylo)) * plotH,
    yt: logY ? logTicks(10 ** ylo, 10 ** yhi) : niceTicks(ylo + padY * 0.5, yhi - padY * 0.5, 5),
    xt:
      spec.xTicks ??
      (logX ? (distinct.length <= 8 ? distinct : logTicks(10 ** xlo, 10 ** xhi)) : niceTicks(xlo + padX * 0.5, xhi - padX * 0.5, 6)),
  };
}

/** Title, plot box, grid with tick labels, axis labels. */
function drawAxes(f: Frame, spec: PanelSpec): string[] {
  const { x0, y0, left, top, plotW, plotH } = f;
  const out = [
    `<text x="${num(x0 + f.w / 2)}" y="${num(y0 + 18)}" text-anchor="middle" font-size="13" font-weight="bold">${esc(spec.title)}</text>`,
    `<rect x="${num(x0 + left)}" y="${num(y0 + top)}" width="${num(plotW)}" height="${num(plotH)}" fill="#fff" stroke="#888"/>`,
  ];
  for (const v of f.yt) {
    const y = f.Y(v);
    out.push(`<line x1="${num(x0 + left)}" x2="${num(x0 + left + plotW)}" y1="${num(y)}" y2="${num(y)}" stroke="#eee"/>`);
    out.push(`<text x="${num(x0 + left - 5)}" y="${num(y + 4)}" text-anchor="end">${esc(tickText(v, f.yt))}</text>`);
  }
  for (const v of f.xt) {
    const x = f.X(v);
    out.push(`<line x1="${num(x)}" x2="${num(x)}" y1="${num(y0 + top)}" y2="${num(y0 + top + plotH)}" stroke="#eee"/>`);
    out.push(`<text x="${num(x)}" y="${num(y0 + top + plotH + 15)}" text-anchor="middle">${esc(tickText(v, f.xt))}</text>`);
  }
  out.push(`<text x="${num(x0 + left + plotW / 2)}" y="${num(y0 + top + plotH + 32)}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  out.push(
    `<text transform="translate(${num(x0 + 14)},${num(y0 + top + plotH / 2)}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  return out;
}

/** Reference lines, labelled at their right (horizontal) or top (vertical) end. */
function drawRefLines(f: Frame, hl: readonly RefLine[], vl: readonly RefLine[]): string[] {
  const { x0, y0, left, top, plotW, plotH } = f;
  const out: string[] = [];
  const label = (at: Spot, r: RefLine) =>
    `<text x="${num(at.x)}" y="${num(at.y)}" text-anchor="${at.anchor}" fill="${r.color}" font-size="10">${esc(r.label)}</text>`;
  for (const r of hl) {
    const y = f.Y(r.value);
    out.push(
      `<line class="ref" x1="${num(x0 + left)}" x2="${num(x0 + left + plotW)}" y1="${num(y)}" y2="${num(y)}" stroke="${r.color}" stroke-width="1.2" stroke-dasharray="${r.dash ?? '5,4'}"/>`,
    );
    const xr = x0 + left + plotW - 4;
    const spots = [0, 0.35, 0.7].flatMap((k): Spot[] => [
      { x: xr - plotW * k, y: y - 3, anchor: 'end' },
      { x: xr - plotW * k, y: y + 11, anchor: 'end' },
    ]);
    out.push(label(f.place(r.label, 10, spots), r));
  }
  for (const r of vl) {
    const x = f.X(r.value);
    out.push(
      `<line class="ref" x1="${num(x)}" x2="${num(x)}" y1="${num(y0 + top)}" y2="${num(y0 + top + plotH)}" stroke="${r.color}" stroke-width="1.2" stroke-dasharray="${r.dash ?? '5,4'}"/>`,
    );
    out.push(
      label(
        f.place(r.label, 10, [
          { x: x - 3, y: y0 + top + 11, anchor: 'end' },
          { x: x + 3, y: y0 + top + 11, anchor: 'start' },
          { x: x - 3, y: y0 + top + plotH - 4, anchor: 'end' },
        ]),
        r,
      ),
    );
  }
  return out;
}

function drawSeries(f: Frame, series: readonly Series[]): string[] {
  const out: string[] = [];
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${num(f.X(p.x))},${num(f.Y(p.y))}`).join('');
    out.push(`<g class="series" data-label="${esc(s.label)}">`);
    if (pts.length > 1)
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of pts) out.push(`<circle cx="${num(f.X(p.x))}" cy="${num(f.Y(p.y))}" r="3" fill="${s.color}"/>`);
    out.push('</g>');
  }
  return out;
}

/** Spots for a label around a point at (x, y), nearest first: beside it, then on rings further out (with a leader line). */
function labelSpots(f: Frame, x: number, y: number, r: number, reach = 105): Spot[] {
  const rightSide = x > f.x0 + f.left + f.plotW * 0.7;
  const near: Spot[] = [
    { x: x + r + 4, y: y + 3.5, anchor: 'start' },
    { x: x - r - 4, y: y + 3.5, anchor: 'end' },
    { x: x + r + 3, y: y - r - 2, anchor: 'start' },
    { x: x - r - 3, y: y - r - 2, anchor: 'end' },
    { x: x + r + 3, y: y + r + 10, anchor: 'start' },
    { x: x - r - 3, y: y + r + 10, anchor: 'end' },
    { x, y: y - r - 4, anchor: 'middle' },
    { x, y: y + r + 12, anchor: 'middle' },
  ];
  if (rightSide) near.sort((a, b) => Number(a.anchor !== 'end') - Number(b.anchor !== 'end'));
  const far: Spot[] = [];
  for (const d of [14, 24, 36, 50, 66, 84, 105].filter((d) => d <= reach)) {
    for (let k = 0; k < 16; k++) {
      const a = (k * Math.PI) / 8;
      const dx = Math.cos(a);
      const dy = Math.sin(a);
      const anchor: Anchor = dx > 0.3 ? 'start' : dx < -0.3 ? 'end' : 'middle';
      far.push({ x: x + dx * (r + d), y: y + dy * (r + d) + 3.5, anchor });
    }
  }
  return [...near, ...far];
}

/** A thin line from the edge of the marker at (x, y) to the nearest point of the label's box. */
function leaderLine(x: number, y: number, r: number, at: Spot, text: string, size: number, color: string, min: number): string {
  const tw = textWidth(text, size);
  const bx0 = at.anchor === 'end' ? at.x - tw : at.anchor === 'middle' ? at.x - tw / 2 : at.x;
  const tx = Math.min(Math.max(x, bx0), bx0 + tw);
  const ty = Math.min(Math.max(y, at.y - size + 1), at.y + 1);
  const len = Math.hypot(tx - x, ty - y);
  if (len <= r + min) return '';
  const sx = x + ((tx - x) / len) * r;
  const sy = y + ((ty - y) / len) * r;
  return `<line class="leader" x1="${num(sx)}" y1="${num(sy)}" x2="${num(tx)}" y2="${num(ty)}" stroke="${color}" stroke-width="0.7"/>`;
}

/** A key entry: a point whose label found no free spot is numbered, and the number is explained under the legend. */
interface KeyEntry {
  n: number;
  label: string;
}

/**
 * Markers first (they keep their place free), then their labels, each at the nearest free spot inside the plot
 * (beside the point, else further out with a leader line), never over another label or marker. A label with no
 * free spot is replaced by a number explained in the key (returned).
 */
function drawMarkers(f: Frame, markers: readonly Marker[]): { svg: string[]; key: KeyEntry[] } {
  const out: string[] = [];
  const key: KeyEntry[] = [];
  const shown = markers.filter((m) => Number.isFinite(m.x) && Number.isFinite(m.y));
  const radius = (m: Marker) => (m.size ?? 4) * (m.shape === 'star' ? 1.6 : m.shape === 'circle' || m.shape === 'ring' ? 1 : 1.3) + 1;
  for (const m of shown) {
    const x = f.X(m.x);
    const y = f.Y(m.y);
    out.push(markerPath(m, x, y));
    const r = radius(m);
    f.reserve({ x0: x - r, y0: y - r, x1: x + r, y1: y + r });
  }
  const labels: string[] = [];
  const leaders: string[] = [];
  const byPriority = shown.filter((m) => m.label).sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  for (const m of byPriority) {
    const x = f.X(m.x);
    const y = f.Y(m.y);
    const r = radius(m);
    const spots = labelSpots(f, x, y, r, m.reach);
    let text = m.label!;
    let at = f.placeFree(text, 10, spots);
    if (!at) {
      const n = key.length + 1;
      text = String(n);
      const all = labelSpots(f, x, y, r);
      at = f.placeFree(text, 10, all) ?? f.place(text, 10, all);
      key.push({ n, label: m.label! });
    }
    const color = m.labelColor ?? '#222';
    // a label beside its point needs no line; one moved further out (or any, when asked) is joined to it
    leaders.push(leaderLine(x, y, r, at, text, 10, m.labelColor ?? '#666', m.leader ? 1 : 8));
    labels.push(
      `<text class="marker-label" x="${num(at.x)}" y="${num(at.y)}" text-anchor="${at.anchor}" font-size="10" fill="${color}"${m.bold ? ' font-weight="bold"' : ''}>${esc(text)}</text>`,
    );
  }
  out.push(...leaders.filter(Boolean), ...labels);
  return { svg: out, key };
}

function drawLegend(f: Frame): string[] {
  const out: string[] = [];
  for (const { item: l, x, row } of f.legend) {
    const lx = f.x0 + f.left + x;
    const ly = f.y0 + f.top + f.plotH + 48 + row * 16;
    if (l.shape) out.push(markerPath({ x: 0, y: 0, color: l.color, shape: l.shape }, lx + 9, ly - 4));
    else
      out.push(
        `<line x1="${num(lx)}" x2="${num(lx + 18)}" y1="${num(ly - 4)}" y2="${num(ly - 4)}" stroke="${l.color}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}/>`,
      );
    out.push(`<text x="${num(lx + 23)}" y="${num(ly)}">${esc(l.label)}</text>`);
  }
  return out;
}

/** One chart panel of size w×h at (x0, y0): axes, reference lines, series, labelled markers, legend. */
export function panel(spec: PanelSpec, x0: number, y0: number, w: number, h: number): string {
  return panelWithKey(spec, x0, y0, w, h).svg;
}

const KEY_ROW = 13;

/**
 * `panel`, and its height: w×h, plus a key under the legend for the marker labels that had no free spot (each
 * numbered on the plot), so the height grows with the key.
 */
export function panelWithKey(spec: PanelSpec, x0: number, y0: number, w: number, h: number): { svg: string; height: number } {
  const f = frameOf(spec, x0, y0, w, h);
  // in drawing order: the reference lines' labels claim their spots before the markers' labels
  const axes = drawAxes(f, spec);
  const refs = drawRefLines(f, spec.hlines ?? [], spec.vlines ?? []);
  const series = drawSeries(f, spec.series ?? []);
  const markers = drawMarkers(f, spec.markers ?? []);
  const legendRows = f.legend.length ? f.legend[f.legend.length - 1]!.row + 1 : 0;
  const keyTop = f.y0 + f.top + f.plotH + 48 + legendRows * 16;
  // the key in columns of one width, filled row by row
  const entries = markers.key.map((k) => `${k.n} = ${k.label}`);
  const colW = Math.max(0, ...entries.map((e) => textWidth(e, 10))) + 18;
  const cols = Math.max(1, Math.floor(f.plotW / colW));
  const key = entries.map(
    (e, i) =>
      `<text class="key" x="${num(f.x0 + f.left + (i % cols) * colW)}" y="${num(keyTop + Math.floor(i / cols) * KEY_ROW)}" font-size="10">${esc(e)}</text>`,
  );
  const keyRows = Math.ceil(entries.length / cols);
  const svg = [
    `<g font-family="${FONT}" font-size="11">`,
    ...axes,
    ...refs,
    ...series,
    ...markers.svg,
    ...drawLegend(f),
    ...key,
    '</g>',
  ].join('\n');
  return { svg, height: h + keyRows * KEY_ROW };
}

/** A standalone SVG document with a white background. */
export function svgDocument(width: number, height: number, body: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${body}\n</svg>\n`
  );
}
