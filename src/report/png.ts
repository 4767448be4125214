/** SVG to PNG files: the image stage renders (src/image/io.ts owns sharp), this writes atomically. */
import { renderSvgToPng } from '../image/io.js';
import { writeTextAtomic } from './write.js';

/** Renders an SVG document to a PNG file at `scale` × its size (default 2, for sharp text). */
export async function writeSvgAsPng(svg: string, path: string, scale = 2): Promise<void> {
  await writeTextAtomic(path, await renderSvgToPng(svg, scale));
}
