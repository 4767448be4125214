/**
 * SVG to PNG through sharp (librsvg). The one place src/eval uses sharp directly: image files go through
 * src/image/io.ts, but io has no SVG rasteriser.
 */
import sharp from 'sharp';
import { OutputError } from '../errors.js';
import { writeTextAtomic } from './write.js';

/** Renders an SVG document to a PNG file at `scale` × its size (default 2, for sharp text). */
export async function writeSvgAsPng(svg: string, path: string, scale = 2): Promise<void> {
  let png: Buffer;
  try {
    png = await sharp(Buffer.from(svg), { density: 72 * scale }).png().toBuffer();
  } catch (err) {
    throw new OutputError(`Cannot render ${path}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
  await writeTextAtomic(path, png);
}
