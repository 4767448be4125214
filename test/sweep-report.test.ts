import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { toHtml, toMarkdown } from '../src/report/document.js';
import { paretoSvg, seriesByN, tradeoffSvg } from '../src/eval/plots.js';
import { analyse } from '../src/eval/recommend.js';
import { writeSweepReport } from '../src/eval/report.js';
import type { SummaryRow } from '../src/eval/summary.js';
import { niceTicks } from '../src/report/svg.js';
import { runSweep } from '../src/eval/sweep.js';
import { sr } from './cli-helpers.js';

let dir = '';
let hrDir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boomerang-report-'));
  hrDir = join(dir, 'hr');
  await mkdir(hrDir);
  for (const [name, k] of [
    ['a', 1],
    ['b', 3],
  ] as const) {
    const buf = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.round(128 + 90 * Math.sin(i * 0.04 * k) * Math.cos(i * 0.013));
    await sharp(buf, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(join(hrDir, `${name}.png`));
  }
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function row(id: string, kind: SummaryRow['kind'], psnrY: number, detailRatio: number, extra: Partial<SummaryRow> = {}): SummaryRow {
  return {
    id,
    kind,
    factor: 4,
    t: null,
    cascade: null,
    upsampler: 'bicubic',
    backProject: null,
    consistency: null,
    steps: null,
    samples: null,
    reduce: null,
    psnrY,
    ssimY: 0.8,
    psnrRgb: psnrY,
    detailRatio,
    gmsd: 0.1,
    images: 2,
    seconds: 1,
    evaluations: 0,
    pareto: false,
    ...extra,
  };
}
const boom = (t: number, n: number, psnrY: number, ratio: number) =>
  row(`x4 t${t} N${n}`, 'boomerang', psnrY, ratio, { t, cascade: n, consistency: 'ddnm', steps: 10, samples: 1, reduce: 'mean' });
const rows = [
  row('x4 matlab-bicubic', 'matlab-bicubic', 28.4, 0.13, { upsampler: null }),
  row('x4 bicubic', 'upsampler', 28.43, 0.13),
  boom(50, 1, 28.8, 0.3),
  boom(100, 1, 28.5, 0.5),
  boom(200, 1, 27.9, 0.8),
  boom(50, 2, 28.6, 0.45),
  boom(100, 2, 28.0, 0.7),
  boom(200, 2, 27.0, 1.1),
];

describe('plots', () => {
  it('PSNR and detail against t: one series per N with its points, baselines as reference lines', () => {
    const s = seriesByN(rows, (r) => r.psnrY);
    assert.deepEqual(
      s.map((x) => x.label),
      ['N=1', 'N=2'],
    );
    assert.deepEqual(s[1]!.points, [
      { x: 50, y: 28.6 },
      { x: 100, y: 28.0 },
      { x: 200, y: 27.0 },
    ]);
    const svg = tradeoffSvg(rows, 4, 'protocol note');
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.equal((svg.match(/<g class="series" data-label="N=1">/g) ?? []).length, 2, 'N=1 in both panels');
    assert.equal((svg.match(/<g class="series" data-label="N=2">/g) ?? []).length, 2);
    assert.ok(svg.includes('>MATLAB bicubic<') && svg.includes('>bicubic alone<') && svg.includes('>truth<'));
    assert.ok(svg.includes('PSNR-Y against t (×4)') && svg.includes('Detail ratio against t (×4)'));
    assert.ok(svg.includes('protocol note'));
  });

  it('the Pareto scatter joins the front, marks the baselines and stars the recommendations', () => {
    const copy = rows.map((r) => ({ ...r }));
    const [a] = analyse(copy);
    const svg = paretoSvg(copy, a!, 'note');
    assert.ok(svg.includes('data-label="Pareto front"'));
    for (const label of ['>MATLAB bicubic<', '>bicubic alone<', '>best PSNR<', '>knee of the Pareto front<'])
      assert.ok(svg.includes(label), label);
    assert.ok((svg.match(/<polygon /g) ?? []).length >= 3, 'stars for the recommendations (and the legend)');
  });

  it('nice ticks', () => {
    assert.deepEqual(niceTicks(27.1, 28.9, 5), [27.5, 28, 28.5]);
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe('documents', () => {
  it('Markdown and HTML from the same blocks, escaped', () => {
    const blocks = [
      { kind: 'heading' as const, level: 1 as const, text: 'T <1>' },
      { kind: 'table' as const, headers: ['a|b', 'c'], rows: [['x', '1']], left: [0] },
      { kind: 'image' as const, src: 'plots/p.png', alt: 'plot' },
    ];
    assert.equal(toMarkdown(blocks), '# T <1>\n\n| a\\|b | c |\n| :-- | --: |\n| x | 1 |\n\n![plot](plots/p.png)\n');
    const html = toHtml(blocks, 'T');
    assert.ok(
      html.includes('<h1>T &lt;1&gt;</h1>') &&
        html.includes('<th class="l">a|b</th>') &&
        html.includes('<img src="plots/p.png" alt="plot">'),
    );
  });
});

describe('sweep report', () => {
  it('writes plots (SVG and PNG), the crop strip and a report that references them', async () => {
    const out = join(dir, 'sweep');
    const r = await runSweep({ hr: hrDir, out, model: 'fixture', factors: [2], ts: [10, 20], cascades: [1, 2], steps: [2], seed: 1 });
    const files = await writeSweepReport(r);
    const md = await readFile(files.markdown, 'utf8');
    const html = await readFile(files.html, 'utf8');
    for (const f of ['plots/tradeoff-x2.png', 'plots/pareto-x2.png']) {
      assert.ok(md.includes(`](${f})`), `report.md shows ${f}`);
      assert.ok(html.includes(`<img src="${f}"`), `report.html shows ${f}`);
      const meta = await sharp(join(out, f)).metadata();
      assert.equal(meta.format, 'png');
      assert.ok(meta.width! > 500);
    }
    assert.ok(existsSync(join(out, 'plots/tradeoff-x2.svg')) && existsSync(join(out, 'plots/pareto-x2.svg')));
    assert.ok(files.crops.some((c) => c.endsWith('-strip.png')));
    for (const c of files.crops) assert.ok(existsSync(join(out, c)), c);
    // the strip: LR, bicubic alone, MATLAB bicubic, the recommended setting(s), ground truth
    assert.match(md, /\| LR \(×2 pixel replication\) \| bicubic alone \| MATLAB bicubic \| best PSNR.* \| ground truth \|/);
    assert.match(md, /Protocol: Y channel of ITU-R BT\.601 \(float64\), shave = scale = 2 px/);
    assert.match(md, /### Recommended settings\n\n\| rule \| setting \|/);
    assert.ok(html.startsWith('<!DOCTYPE html>'));
  });
});

describe('sr sweep (CLI)', () => {
  it('prints the recommendations and the Pareto table with the protocol, and resumes', async () => {
    const out = join(dir, 'cli');
    const args = [
      'sweep',
      '--hr',
      hrDir,
      '--factor',
      '2',
      '--t',
      '10,20',
      '--cascade',
      '1',
      '--steps',
      '2',
      '--model',
      'fixture',
      '--out',
      out,
      '--no-report',
    ];
    const first = await sr(args);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /sweep: 14 results computed, 0 already in/);
    assert.match(first.stdout, /x2 recommended settings:\n {2}best PSNR/);
    assert.match(first.stdout, /x2 Pareto front and baselines:/);
    assert.match(first.stdout, /Protocol: Y channel of ITU-R BT\.601/);
    const second = await sr(args);
    assert.match(second.stderr, /sweep: 0 results computed, 14 already in/);
    const bad = await sr(['sweep', '--hr', hrDir, '--out', out, '--t', '10,x']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Expected a number for --t but received "x"/);
  });
});
