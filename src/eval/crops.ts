/**
 * A strip of example crops for the report: the same window of one image from the LR input (shown enlarged by
 * pixel replication), the upsampler, each recommended setting and the ground truth, side by side. The window is
 * the most textured part of the HR image (largest gradient energy), aligned to the factor.
 */
import { makeFolder } from '../io-safety/atomic.js';
import { join } from 'node:path';
import { decodeImage, encodeImage, renderSvgToPng } from '../image/io.js';
import { createImage, dims, type ImageTensor } from '../image/tensor.js';
import { replicateNearest } from '../image/upsample.js';
import { crop } from '../image/tiling.js';

export interface CropWindow {
  top: number;
  left: number;
  size: number;
}

/** The size×size window (top/left multiples of `align`) with the most gradient energy in the image. */
export function busiestWindow(image: ImageTensor, size: number, align: number): CropWindow {
  const { height, width } = dims(image);
  const s = Math.min(size, height - (height % align), width - (width % align));
  // gradient energy of the channel mean, as an integral image
  const g = new Float64Array((height + 1) * (width + 1));
  const plane = height * width;
  const v = (y: number, x: number) =>
    (image.data[y * width + x]! + image.data[plane + y * width + x]! + image.data[2 * plane + y * width + x]!) / 3;
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      const gx = x + 1 < width ? v(y, x + 1) - v(y, x) : 0;
      const gy = y + 1 < height ? v(y + 1, x) - v(y, x) : 0;
      row += gx * gx + gy * gy;
      g[(y + 1) * (width + 1) + x + 1] = g[y * (width + 1) + x + 1]! + row;
    }
  }
  const sum = (t: number, l: number) =>
    g[(t + s) * (width + 1) + l + s]! - g[t * (width + 1) + l + s]! - g[(t + s) * (width + 1) + l]! + g[t * (width + 1) + l]!;
  const stride = Math.max(align, Math.floor(s / 4 / align) * align);
  let best = { top: 0, left: 0, size: s };
  let bestE = -1;
  for (let t = 0; t + s <= height; t += stride) {
    for (let l = 0; l + s <= width; l += stride) {
      const e = sum(t, l);
      if (e > bestE) {
        bestE = e;
        best = { top: t, left: l, size: s };
      }
    }
  }
  return best;
}

export interface CropPanel {
  label: string;
  image: ImageTensor;
  /** A second caption line under the label in the strip, e.g. the whole image's PSNR-Y. */
  note?: string;
}

export interface CropStrip {
  window: CropWindow;
  /** One file per panel (relative to the folder), and the strip of all of them. */
  tiles: { label: string; file: string }[];
  strip: string;
  zoom: number;
}

/**
 * Writes each panel's crop (zoomed by pixel replication to about `display` px) and the strip to `dir`, with
 * names prefixed by `prefix`. `lr` is the LR input, shown enlarged; `panels` are full-size outputs; `hr` last.
 */
export async function writeCropStrip(
  dir: string,
  prefix: string,
  lr: ImageTensor,
  hr: ImageTensor,
  factor: number,
  panels: readonly CropPanel[],
  options: { size?: number; display?: number; lrNote?: string; captions?: boolean } = {},
): Promise<CropStrip> {
  const window = busiestWindow(hr, options.size ?? 96, factor);
  const zoom = Math.max(1, Math.round((options.display ?? 192) / window.size));
  const { top, left, size } = window;
  const lrCrop = replicateNearest(crop(lr, top / factor, left / factor, size / factor, size / factor), factor);
  const all: CropPanel[] = [
    { label: `LR (×${factor} pixel replication)`, image: lrCrop, ...(options.lrNote ? { note: options.lrNote } : {}) },
    ...panels.map((p) => ({ label: p.label, image: crop(p.image, top, left, size, size), ...(p.note ? { note: p.note } : {}) })),
    { label: 'ground truth', image: crop(hr, top, left, size, size) },
  ];
  await makeFolder(dir);
  const tiles: { label: string; file: string }[] = [];
  const zoomed = all.map((p) => (zoom > 1 ? replicateNearest(p.image, zoom) : p.image));
  for (const [i, p] of all.entries()) {
    const file = `${prefix}-${i}.png`;
    await encodeImage({ rgb: zoomed[i]! }, join(dir, file));
    tiles.push({ label: p.label, file });
  }
  const strip = `${prefix}-strip.png`;
  const row = hstack(zoomed, GAP);
  const captioned = options.captions === false ? row : vstack([row, await captionBand(all, dims(zoomed[0]!).width, GAP)]);
  await encodeImage({ rgb: captioned }, join(dir, strip));
  return { window, tiles, strip, zoom };
}

const GAP = 6;
const CAPTION_FONT = 12;
const LINE = 15;

/** Words of `text` in lines of at most `width` px at `size` px (about 0.6 em per character); a longer word stands alone. */
export function wrapText(text: string, width: number, size: number): string[] {
  const max = Math.max(1, Math.floor(width / (size * 0.6)));
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const escXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The captions under the tiles (each `tile` px wide, `gap` apart): each panel's label, wrapped, then its note in grey. */
export function captionSvg(
  panels: readonly Pick<CropPanel, 'label' | 'note'>[],
  tile: number,
  gap: number,
): { svg: string; height: number } {
  const blocks = panels.map((p) => ({
    label: wrapText(p.label, tile - 4, CAPTION_FONT),
    // a note that does not fit breaks at its commas first ("PSNR-Y 22.23 dB" / "SSIM-Y 0.6339")
    note: !p.note
      ? []
      : wrapText(p.note, tile - 4, CAPTION_FONT - 1).length === 1
        ? [p.note]
        : p.note.split(/,\s*/).flatMap((part) => wrapText(part, tile - 4, CAPTION_FONT - 1)),
  }));
  const lines = Math.max(...blocks.map((b) => b.label.length + b.note.length));
  const height = 6 + lines * LINE + 4;
  const width = panels.length * tile + (panels.length - 1) * gap;
  const text: string[] = [];
  for (const [i, b] of blocks.entries()) {
    const cx = i * (tile + gap) + tile / 2;
    const lines = [...b.label.map((l) => ({ l, note: false })), ...b.note.map((l) => ({ l, note: true }))];
    for (const [k, { l, note }] of lines.entries()) {
      const style = note ? `fill="#555" font-size="${CAPTION_FONT - 1}"` : 'fill="#111"';
      text.push(`<text x="${cx}" y="${6 + (k + 1) * LINE - 3}" text-anchor="middle" ${style}>${escXml(l)}</text>`);
    }
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#fff"/><g font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="${CAPTION_FONT}">${text.join('')}</g></svg>`;
  return { svg, height };
}

/** The caption band as an image of the strip's width. */
async function captionBand(panels: readonly CropPanel[], tile: number, gap: number): Promise<ImageTensor> {
  const { svg } = captionSvg(panels, tile, gap);
  return (await decodeImage(await renderSvgToPng(svg, 1))).rgb;
}

/** Images of one width, one above the other. */
export function vstack(images: readonly ImageTensor[]): ImageTensor {
  const w = dims(images[0]!).width;
  const heights = images.map((im) => dims(im).height);
  const H = heights.reduce((a, b) => a + b, 0);
  const out = createImage(3, H, w);
  let y0 = 0;
  for (const [i, im] of images.entries()) {
    const h = heights[i]!;
    if (dims(im).width !== w) throw new Error(`internal: vstack of widths ${w} and ${dims(im).width}`);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.data[(c * H + y0 + y) * w + x] = im.get(c, y, x);
    y0 += h;
  }
  return out;
}

/** Images of one height side by side with white gaps. */
export function hstack(images: readonly ImageTensor[], gap: number): ImageTensor {
  const h = dims(images[0]!).height;
  const widths = images.map((im) => dims(im).width);
  const W = widths.reduce((a, b) => a + b, 0) + gap * (images.length - 1);
  const out = createImage(3, h, W);
  out.data.fill(1);
  let x0 = 0;
  for (const [i, im] of images.entries()) {
    const w = widths[i]!;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.data[(c * h + y) * W + x0 + x] = im.data[(c * h + y) * w + x]!;
    x0 += w + gap;
  }
  return out;
}
