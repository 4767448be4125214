import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { captionSvg, wrapText, writeCropStrip } from '../src/eval/crops.js';
import { toHtml, toMarkdown } from '../src/report/document.js';
import { createImage } from '../src/image/tensor.js';
import { paretoSvg, seriesByN, tradeoffSvg } from '../src/eval/plots.js';
import { analyse } from '../src/eval/recommend.js';
import { namedCells, sharedSettings, writeSweepReport } from '../src/eval/report.js';
import { resolveModelDir } from '../src/model/locate.js';
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

  it('the Pareto scatter labels every Boomerang point and names the default, without overlapping labels', () => {
    const copy = rows.map((r) => ({ ...r }));
    // a crowded cluster, as a real sweep's front is: many settings within a few hundredths of a dB
    for (let i = 0; i < 12; i++) copy.push(boom(60 + i * 5, 3, 28.7 - i * 0.01, 0.33 + i * 0.004));
    copy.push(row('x4 bicubic+bp20', 'upsampler', 28.62, 0.29, { backProject: 20 }));
    copy.push(row('x4 bilinear+bp20', 'upsampler', 28.6, 0.3, { upsampler: 'bilinear', backProject: 20 }));
    const [a] = analyse(copy);
    const names = new Map([['x4 t100 N2', 'default']]);
    const svg = paretoSvg(copy, a!, 'note', { names });
    const texts = [
      ...svg.matchAll(
        /<text class="(marker-label|key)" x="([\d.-]+)" y="([\d.-]+)" text-anchor="(\w+)"[^>]*>([^<]*)<\/text>|<text class="(key)" x="([\d.-]+)" y="([\d.-]+)"[^>]*>([^<]*)<\/text>/g,
      ),
    ];
    const onPlot = texts.filter((m) => m[1] === 'marker-label').map((m) => ({ x: +m[2]!, y: +m[3]!, anchor: m[4]!, text: m[5]! }));
    const key = texts.filter((m) => m[6] === 'key').map((m) => m[9]!);
    // the default is named on the plot, with its setting (what varies: t and N)
    assert.ok(
      onPlot.some((l) => l.text === 'default: t100 N2'),
      onPlot.map((l) => l.text).join(' | '),
    );
    assert.ok(svg.includes('the model&#39;s default / preset') || svg.includes("the model's default / preset"));
    // every Boomerang point: its compact label on the plot, or a number there and "n = label" in the key
    const numbers = new Map(key.map((k) => [k.split(' = ')[0]!, k.split(' = ')[1]!]));
    for (const r of copy.filter((r) => r.kind === 'boomerang')) {
      const label = `t${r.t} N${r.cascade}`;
      const direct = onPlot.some((l) => l.text === label || l.text === `default: ${label}`);
      const keyed = [...numbers].some(([n, l]) => l === label && onPlot.some((p) => p.text === n));
      assert.ok(direct || keyed, `${r.id} is labelled`);
    }
    // the back-projected baselines: each named once, joined to its marker by a leader line
    for (const b of ['bicubic+bp20 alone', 'bilinear+bp20 alone']) assert.equal(onPlot.filter((l) => l.text === b).length, 1, b);
    assert.ok((svg.match(/class="leader"/g) ?? []).length >= 4, 'leader lines for the baselines');
    // no two labels on the plot overlap (boxes as the placer estimates them: 0.62 em per character, 10 px)
    const box = (l: (typeof onPlot)[number]) => {
      const w = l.text.length * 6.2;
      const x0 = l.anchor === 'end' ? l.x - w : l.anchor === 'middle' ? l.x - w / 2 : l.x;
      return { x0, x1: x0 + w, y0: l.y - 10, y1: l.y + 2 };
    };
    for (const [i, p] of onPlot.entries())
      for (const q of onPlot.slice(i + 1)) {
        const [a1, b1] = [box(p), box(q)];
        assert.ok(!(a1.x0 < b1.x1 && b1.x0 < a1.x1 && a1.y0 < b1.y1 && b1.y0 < a1.y1), `"${p.text}" overlaps "${q.text}"`);
      }
  });

  it("names the cells that run as the model's default and presets", async () => {
    const meta = {
      model: { name: 'fixture', sha256: '', dir: resolveModelDir('fixture'), device: 'cpu', T: 1000 },
      sampler: 'ancestral',
      eta: 0,
    };
    const names = await namedCells(meta as unknown as Parameters<typeof namedCells>[0], 4);
    assert.equal(names.get('x4 t100 N1 bicubic ddnm S10 K1'), 'default');
    const ddim = await namedCells({ ...meta, sampler: 'ddim' } as unknown as Parameters<typeof namedCells>[0], 4);
    assert.equal(ddim.size, 0, 'a sweep with another sampler runs no cell as the default does');
  });

  it('nice ticks', () => {
    assert.deepEqual(niceTicks(27.1, 28.9, 5), [27.5, 28, 28.5]);
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe('results headers', () => {
  it('state only the settings every Boomerang row shares; the others are per row', () => {
    const a = { ...boom(50, 1, 28, 0.3), consistency: 'ibp' as const, backProject: 20, sampler: 'ancestral', eta: 0 };
    const b = { ...boom(100, 3, 28, 0.3), consistency: 'ibp' as const, backProject: 20, sampler: 'ddim', eta: 0 };
    const s = sharedSettings([rows[0]!, a, b]);
    assert.deepEqual(s.shared, ['steps 10', 'upsampler bicubic', 'back-projection 20', 'consistency ibp', 'samples 1', 'reduce mean']);
    assert.deepEqual(s.perRow, ['t', 'cascade', 'sampler', 'η']);
    // the case of issue 26: presets of cascade 3 and 1, ddnm nowhere: no "cascade 1" or "consistency ddnm" in the header
    assert.ok(!s.shared.some((x) => /^(cascade|consistency ddnm|back-projection 0)/.test(x)));
    const same = sharedSettings([a, { ...a, t: 200 }]);
    assert.ok(same.shared.includes('cascade 1') && same.shared.includes('sampler ancestral') && !same.perRow.includes('sampler'));
  });
});

describe('crop strip', () => {
  it('wraps captions by words to the tile width', () => {
    assert.deepEqual(wrapText('default (3x t=100, 15 evaluations)', 120, 10), ['default (3x t=100,', '15 evaluations)']);
    assert.deepEqual(wrapText('ground truth', 192, 12), ['ground truth']);
    assert.deepEqual(wrapText('a-very-long-single-word', 30, 10), ['a-very-long-single-word']);
  });

  it('captions every panel under the strip: LR, each output with its PSNR, the ground truth', async () => {
    const img = (v: number) => {
      const t = createImage(3, 32, 32);
      for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(i * v) * 0.8;
      return t;
    };
    const hr = img(0.3);
    const lr = createImage(3, 8, 8);
    lr.data.fill(0.1);
    const panels = [
      { label: 'bicubic', image: img(0.1), note: 'PSNR-Y 21.69 dB, SSIM-Y 0.5837' },
      { label: 'default (1x t=200, 2 evaluations)', image: img(0.2), note: 'PSNR-Y 22.23 dB, SSIM-Y 0.6339' },
    ];
    const { svg, height } = captionSvg([{ label: 'LR (×4 pixel replication)' }, ...panels, { label: 'ground truth' }], 192, 6);
    for (const t of ['LR (×4', 'bicubic', 'PSNR-Y 21.69 dB', 'PSNR-Y 22.23 dB', 'SSIM-Y 0.6339', 'ground truth'])
      assert.ok(svg.includes(`>${t}`), t);
    const out = join(dir, 'strip');
    const strip = await writeCropStrip(out, 's', lr, hr, 4, panels, { size: 32, display: 64 });
    const m = await sharp(join(out, strip.strip)).metadata();
    assert.equal(m.width, 4 * 64 + 3 * 6);
    assert.ok(height > 30 && m.height! > 64 + 30, `a caption band under the 64 px tiles (strip ${m.height} px high)`);
    const bare = await writeCropStrip(out, 'b', lr, hr, 4, panels, { size: 32, display: 64, captions: false });
    assert.equal((await sharp(join(out, bare.strip)).metadata()).height, 64);
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
