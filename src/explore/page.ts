/**
 * explore's page, DIR/index.html: one self-contained file (inline CSS and script; no server, network or CDN) beside
 * the images it shows. For each candidate: its output over the bicubic enlargement with a before/after split, its
 * uncertainty map, its scores; every view shares one zoom and pan. Clicking a candidate (or Enter/Space on it)
 * shows the `sr upscale …` command that repeats it, with a copy button. Keys: + and − zoom, 0 fits, arrows pan,
 * [ and ] move the split, c copies the command.
 */
import type { UpscaleSettings } from '../upscale.js';
import type { ExploreScores } from './scores.js';

/** What explore.json holds and the page shows. */
export interface ExploreData {
  tool: 'boomerang-sr';
  input: { path: string; width: number; height: number; sha256: string; jpegQuality: number | null };
  factor: number;
  seed: number;
  model: { name: string; sha256: string };
  /** The folder `sr explore` ran in (the commands' relative paths are relative to it). */
  cwd: string;
  /** The uncertainty maps' colour scale: std 0 … max grey levels, evenly spaced colours. */
  scale: { max: number; colors: readonly string[] };
  bicubic: { image: string; scores: ExploreScores };
  candidates: {
    id: string;
    label: string;
    image: string;
    uncertainty: string | null;
    command: string;
    scores: ExploreScores;
    seconds: number | null;
    evaluations: number | null;
    settings: UpscaleSettings;
  }[];
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const num = (v: number | null, digits: number): string => (v === null ? '–' : Number.isFinite(v) ? v.toFixed(digits) : v > 0 ? '∞' : '−∞');

/** The page's HTML for an exploration's data (explore.json). */
export function explorePage(d: ExploreData): string {
  const name = d.input.path.split(/[\\/]/).pop() ?? d.input.path;
  const w = d.input.width * d.factor;
  const h = d.input.height * d.factor;
  const gradient = `linear-gradient(to right, ${d.scale.colors.join(', ')})`;
  const cards = d.candidates
    .map(
      (c, i) => `
<article class="cand" tabindex="0" role="button" aria-pressed="false" data-index="${i}" data-id="${esc(c.id)}"
  data-label="${esc(c.label)}" data-command="${esc(c.command)}" aria-label="${esc(c.label)}: show its command">
  <h2>${esc(c.label)}</h2>
  <div class="views">
    <figure>
      <div class="view compare" style="aspect-ratio: ${w} / ${h}">
        <div class="layer before"><img class="zoomed" src="${esc(d.bicubic.image)}" alt="bicubic enlargement" width="${w}" height="${h}"></div>
        <div class="layer after"><img class="zoomed" src="${esc(c.image)}" alt="${esc(c.label)}" width="${w}" height="${h}"></div>
        <div class="divider" aria-hidden="true"></div>
        <span class="tag left">bicubic</span><span class="tag right">${esc(c.id)}</span>
      </div>
      <figcaption>bicubic | output (the slider above moves the split)</figcaption>
    </figure>
    <figure>
      ${
        c.uncertainty
          ? `<div class="view map" style="aspect-ratio: ${w} / ${h}"><div class="layer"><img class="zoomed" src="${esc(c.uncertainty)}" alt="uncertainty map of ${esc(c.label)}" width="${w}" height="${h}"></div></div>`
          : `<div class="view map empty" style="aspect-ratio: ${w} / ${h}"><p>one sample: no map</p></div>`
      }
      <figcaption>uncertainty (std across ${c.settings.samples} samples)</figcaption>
    </figure>
  </div>
  <dl class="scores">
    <div><dt>fidelity</dt><dd>${num(c.scores.fidelity, 2)} dB</dd></div>
    <div><dt>detail</dt><dd>${num(c.scores.detail, 2)}×</dd></div>
    <div><dt>invention</dt><dd>${num(c.scores.invention, 2)}</dd></div>
    <div><dt>cost</dt><dd>${c.evaluations ?? '–'} evals, ${num(c.seconds, 1)} s</dd></div>
  </dl>
</article>`,
    )
    .join('');
  const rows = d.candidates
    .map(
      (c, i) =>
        `<tr><td><button type="button" class="pick" data-index="${i}">${esc(c.label)}</button></td><td>${num(c.scores.fidelity, 2)}</td><td>${num(c.scores.detail, 2)}</td><td>${num(c.scores.invention, 2)}</td><td>${c.settings.passes.join(',')}</td><td>${c.settings.steps}</td><td>${c.settings.samples} ${c.settings.samples > 1 ? c.settings.reduce : ''}</td><td>${c.evaluations ?? '–'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>sr explore: ${esc(name)} ×${d.factor}</title>
<style>
:root { color-scheme: light dark; --accent: #2563eb; --line: #8884; font: 15px/1.4 system-ui, sans-serif; }
body { margin: 0 auto; max-width: 1800px; padding: 0 16px 170px; }
header h1 { font-size: 1.3rem; margin: 12px 0 4px; }
header p { margin: 2px 0; }
.controls { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center;
  padding: 8px 0; background: Canvas; border-bottom: 1px solid var(--line); }
.controls label { display: flex; gap: 6px; align-items: center; }
.controls input[type=range] { width: 200px; }
button { font: inherit; padding: 3px 10px; cursor: pointer; }
.legend { display: flex; gap: 6px; align-items: center; font-size: .9rem; }
.legend .bar { width: 160px; height: 12px; border: 1px solid var(--line); background: ${gradient}; }
.grid { display: grid; gap: 14px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); margin-top: 12px; }
.cand { border: 2px solid var(--line); border-radius: 8px; padding: 8px; cursor: pointer; outline: none; }
.cand:focus-visible { box-shadow: 0 0 0 3px var(--accent); }
.cand[aria-pressed=true] { border-color: var(--accent); }
.cand h2 { font-size: 1rem; margin: 0 0 6px; }
.views { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
figure { margin: 0; }
figcaption { font-size: .8rem; opacity: .8; }
.view { position: relative; overflow: hidden; background: #000; touch-action: none; cursor: grab; user-select: none; }
.view.empty { display: grid; place-items: center; color: #aaa; cursor: default; }
.layer { position: absolute; inset: 0; }
.layer img { display: block; width: 100%; height: 100%; transform-origin: 0 0; }
.pixelated .layer img { image-rendering: pixelated; }
.after { clip-path: inset(0 0 0 50%); }
.divider { position: absolute; top: 0; bottom: 0; left: 50%; width: 2px; margin-left: -1px; background: #fff; box-shadow: 0 0 2px #000; pointer-events: none; }
.tag { position: absolute; bottom: 2px; font-size: .7rem; background: #000a; color: #fff; padding: 0 4px; pointer-events: none; }
.tag.left { left: 2px; } .tag.right { right: 2px; }
.scores { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 0 0; }
.scores div { display: flex; gap: 4px; } .scores dt { opacity: .75; } .scores dd { margin: 0; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin-top: 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 2px 10px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pick { border: 0; background: none; color: var(--accent); text-decoration: underline; padding: 0; }
#panel { position: fixed; left: 0; right: 0; bottom: 0; background: Canvas; border-top: 2px solid var(--accent); padding: 8px 16px; z-index: 3; }
#panel h2 { font-size: 1rem; margin: 0 0 4px; }
#panel .row { display: flex; gap: 10px; align-items: flex-start; }
#command { flex: 1; margin: 0; padding: 6px 8px; white-space: pre-wrap; word-break: break-all; font: 13px/1.35 ui-monospace, monospace;
  background: #8881; border: 1px solid var(--line); max-height: 5.5em; overflow: auto; }
#copied { font-size: .85rem; min-width: 8em; }
details { margin-top: 8px; }
kbd { border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; font-size: .85em; }
</style>
</head>
<body>
<header>
  <h1>sr explore: ${esc(name)} (${d.input.width}×${d.input.height}) ×${d.factor} → ${w}×${h}</h1>
  <p>Model ${esc(d.model.name)} (${esc(d.model.sha256.slice(0, 12))}), seed ${d.seed}. Bicubic: fidelity ${num(d.bicubic.scores.fidelity, 2)} dB, detail ${d.bicubic.scores.detail === null ? '–' : '1.00×'}.
  Commands run from <code>${esc(d.cwd)}</code>.</p>
</header>
<div class="controls" role="toolbar" aria-label="view controls">
  <span>zoom <button type="button" id="zoom-out" aria-label="zoom out">−</button>
  <output id="zoom-level" aria-live="polite">1.0×</output>
  <button type="button" id="zoom-in" aria-label="zoom in">+</button>
  <button type="button" id="zoom-fit">fit</button></span>
  <label>bicubic ◀ <input type="range" id="split" min="0" max="100" step="1" value="50" aria-label="before/after split: bicubic on the left, the output on the right"> ▶ output</label>
  <span class="legend">uncertainty <span>0</span><span class="bar" title="std of the luma across samples, grey levels"></span><span>≥ ${d.scale.max}</span> grey levels</span>
</div>
<main>
<div class="grid" id="candidates">${cards}
</div>
<details>
  <summary>All scores, and what they mean</summary>
  <table>
    <thead><tr><th>candidate</th><th>fidelity (dB)</th><th>detail (×bicubic)</th><th>invention</th><th>t per pass</th><th>steps</th><th>samples</th><th>evaluations</th></tr></thead>
    <tbody>
${rows}
    </tbody>
  </table>
  <p><b>fidelity</b>: PSNR-Y of the output shrunk back by ×${d.factor} (MATLAB bicubic, the degradation the model assumes) against your image; higher = the output agrees with what you gave it.
  <b>detail</b>: the output's high-frequency energy over the bicubic enlargement's (1 = as much as bicubic).
  <b>invention</b>: the mean per-pixel standard deviation of the luma across the samples (grey levels of 0..255); the
  uncertainty map shows it per pixel, black = the samples agree (your image decided), pale yellow = ${d.scale.max} or more (the model invented).</p>
  <p>Keys: <kbd>Tab</kbd> to a candidate, <kbd>Enter</kbd> shows its command, <kbd>c</kbd> copies it; <kbd>+</kbd> <kbd>−</kbd> zoom, <kbd>0</kbd> fits,
  arrows pan, <kbd>[</kbd> <kbd>]</kbd> move the split. Mouse: wheel zooms, drag pans, double-click fits.</p>
</details>
</main>
<section id="panel" aria-live="polite">
  <h2 id="chosen">Click a candidate to see the command that makes it</h2>
  <div class="row"><pre id="command" tabindex="0">sr upscale …</pre><button type="button" id="copy" disabled>Copy</button><span id="copied"></span></div>
</section>
<script>
(() => {
  'use strict';
  const cards = [...document.querySelectorAll('.cand')];
  const views = [...document.querySelectorAll('.view:not(.empty)')];
  const imgs = [...document.querySelectorAll('img.zoomed')];
  const split = document.getElementById('split');
  const command = document.getElementById('command');
  const chosen = document.getElementById('chosen');
  const copyButton = document.getElementById('copy');
  const copied = document.getElementById('copied');
  const level = document.getElementById('zoom-level');
  const state = { z: 1, x: 0, y: 0 };
  const MAX_ZOOM = 32;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  function render() {
    state.z = clamp(state.z, 1, MAX_ZOOM);
    state.x = clamp(state.x, 0, 1 - 1 / state.z);
    state.y = clamp(state.y, 0, 1 - 1 / state.z);
    const t = 'scale(' + state.z + ') translate(' + (-state.x * 100) + '%, ' + (-state.y * 100) + '%)';
    for (const img of imgs) img.style.transform = t;
    for (const v of views) v.classList.toggle('pixelated', state.z >= 3);
    level.textContent = state.z.toFixed(1) + '×';
  }
  function zoomAt(factor, fx = 0.5, fy = 0.5) {
    const z = clamp(state.z * factor, 1, MAX_ZOOM);
    const px = state.x + fx / state.z;
    const py = state.y + fy / state.z;
    state.x = px - fx / z;
    state.y = py - fy / z;
    state.z = z;
    render();
  }
  function pan(dx, dy) {
    state.x += dx / state.z;
    state.y += dy / state.z;
    render();
  }
  function fit() {
    Object.assign(state, { z: 1, x: 0, y: 0 });
    render();
  }
  function setSplit(v) {
    split.value = String(clamp(Math.round(v), 0, 100));
    const s = split.value + '%';
    for (const el of document.querySelectorAll('.after')) el.style.clipPath = 'inset(0 0 0 ' + s + ')';
    for (const el of document.querySelectorAll('.divider')) el.style.left = s;
  }
  for (const v of views) {
    v.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = v.getBoundingClientRect();
      zoomAt(e.deltaY < 0 ? 1.25 : 0.8, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
    }, { passive: false });
    let drag = null;
    v.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      v.setPointerCapture(e.pointerId);
    });
    v.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const r = v.getBoundingClientRect();
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      drag.x = e.clientX;
      drag.y = e.clientY;
      pan(-dx / r.width, -dy / r.height);
    });
    v.addEventListener('pointerup', () => { if (drag && drag.moved) v.dataset.dragged = '1'; drag = null; });
    v.addEventListener('dblclick', fit);
  }
  function select(card) {
    for (const c of cards) c.setAttribute('aria-pressed', String(c === card));
    command.textContent = card.dataset.command;
    chosen.textContent = 'Command for ' + card.dataset.label + ' (run it where you ran sr explore):';
    copyButton.disabled = false;
    copied.textContent = '';
  }
  for (const card of cards) {
    card.addEventListener('click', (e) => {
      const view = e.target.closest && e.target.closest('.view');
      if (view && view.dataset.dragged) { delete view.dataset.dragged; return; }
      select(card);
    });
    card.addEventListener('keydown', (e) => {
      if (e.target === card && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); select(card); }
    });
  }
  for (const b of document.querySelectorAll('.pick')) {
    b.addEventListener('click', () => { const card = cards[Number(b.dataset.index)]; select(card); card.focus(); });
  }
  async function copy() {
    const text = command.textContent;
    try {
      await navigator.clipboard.writeText(text);
      copied.textContent = 'copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(command);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      let ok = false;
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      copied.textContent = ok ? 'copied' : 'selected: press Ctrl+C';
    }
  }
  copyButton.addEventListener('click', copy);
  document.getElementById('zoom-in').addEventListener('click', () => zoomAt(1.5));
  document.getElementById('zoom-out').addEventListener('click', () => zoomAt(1 / 1.5));
  document.getElementById('zoom-fit').addEventListener('click', fit);
  split.addEventListener('input', () => setSplit(Number(split.value)));
  document.addEventListener('keydown', (e) => {
    if (e.target === split || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    const step = 0.1;
    if (k === '+' || k === '=') zoomAt(1.5);
    else if (k === '-' || k === '_') zoomAt(1 / 1.5);
    else if (k === '0') fit();
    else if (k === 'ArrowLeft') pan(-step, 0);
    else if (k === 'ArrowRight') pan(step, 0);
    else if (k === 'ArrowUp') pan(0, -step);
    else if (k === 'ArrowDown') pan(0, step);
    else if (k === '[') setSplit(Number(split.value) - 5);
    else if (k === ']') setSplit(Number(split.value) + 5);
    else if ((k === 'c' || k === 'C') && !copyButton.disabled) copy();
    else return;
    e.preventDefault();
  });
  render();
  setSplit(50);
})();
</script>
</body>
</html>
`;
}
