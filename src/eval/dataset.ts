/**
 * A test set in memory: HR images cropped to a multiple of the factor, with their LR inputs, either given (the
 * classic benchmark pairs) or made from the HR by MATLAB-compatible bicubic downsampling (`matlabImresize`,
 * antialiased Keys a = −0.5, uint8 rounding, as the classic LR files were made).
 */
import { InputError, UsageError } from '../errors.js';
import { decodeImage } from '../image/io.js';
import type { JpegGrid } from '../image/jpeg-quality.js';
import { dims, type ImageTensor } from '../image/tensor.js';
import { crop } from '../image/tiling.js';
import { matlabImresize } from '../image/upsample.js';
import { positiveInteger } from '../validate.js';
import { listImages, matchFolders } from './match.js';

export type LrSource = 'given' | 'matlab-bicubic';

export const LR_SOURCE_TEXT: Readonly<Record<LrSource, string>> = {
  given: 'LR images given',
  'matlab-bicubic': 'LR made from HR by MATLAB-compatible bicubic imresize (antialiased, a = -0.5, uint8)',
};

export interface TestImage {
  name: string;
  /** HR cropped (top-left kept) to a multiple of the factor. */
  hr: ImageTensor;
  lr: ImageTensor;
  hrPath: string;
  lrPath: string | null;
  /** The LR file's JPEG quality (estimated), or null (not a JPEG, or made here). */
  lrJpegQuality: number | null;
  /** The LR file's JPEG block grid and luminance table (DecodedImage.jpegGrid), or null. */
  lrJpegGrid: JpegGrid | null;
}

export interface TestSet {
  factor: number;
  lrSource: LrSource;
  images: TestImage[];
  /** Things a person should know (unmatched files, crops). */
  notes: string[];
}

/** The top-left part of an image whose height and width are multiples of `multiple` (MATLAB's modcrop). */
export function cropToMultiple(image: ImageTensor, multiple: number): ImageTensor {
  positiveInteger('multiple', multiple);
  const { height, width } = dims(image);
  const h = height - (height % multiple);
  const w = width - (width % multiple);
  if (h === 0 || w === 0) throw new UsageError(`Expected an image of at least ${multiple}x${multiple} but received ${width}x${height}`);
  if (h === height && w === width) return image;
  return crop(image, 0, 0, h, w);
}

export interface LoadSetOptions {
  hr: string;
  /** Folder of LR images matched by name; when absent, LR is made from HR. */
  lr?: string;
  /** Required without `lr`; with `lr`, inferred from the sizes when absent (and checked when given). */
  factor?: number;
  /** Only the first N images (by name). */
  limit?: number;
}

interface Entry {
  name: string;
  hr: string;
  lr: string | null;
}

/** The set's files by name (no decoding): matched HR/LR pairs, or the HR images. */
async function listEntries(options: LoadSetOptions, notes: string[]): Promise<Entry[]> {
  let entries: Entry[];
  if (options.lr !== undefined) {
    const m = await matchFolders(options.hr, options.lr, 'lr');
    if (m.onlyHr.length) notes.push(`no LR image for ${m.onlyHr.join(', ')} (skipped)`);
    if (m.onlyOther.length) notes.push(`no HR image for ${m.onlyOther.join(', ')} (skipped)`);
    entries = m.pairs.map((p) => ({ name: p.name, hr: p.hr, lr: p.other }));
    if (entries.length === 0) throw new InputError(`No images of ${options.hr} and ${options.lr} match by name`);
  } else {
    if (options.factor === undefined) throw new UsageError('Expected a factor (or an LR folder) to make the LR images');
    entries = [...(await listImages(options.hr, 'hr'))].map(([name, hr]) => ({ name, hr, lr: null }));
    if (entries.length === 0) throw new InputError(`No images in ${options.hr}`);
  }
  return options.limit !== undefined ? entries.slice(0, options.limit) : entries;
}

/** Loads a test set: matched HR/LR pairs, or HR images with MATLAB-bicubic LR made here. */
export async function loadTestSet(options: LoadSetOptions): Promise<TestSet> {
  if (options.factor !== undefined) positiveInteger('factor', options.factor);
  if (options.limit !== undefined) positiveInteger('limit', options.limit);
  const notes: string[] = [];
  const entries = await listEntries(options, notes);
  const set = await loadEntries(entries, options.factor, options.lr !== undefined);
  return { ...set, notes: [...notes, ...set.notes] };
}

/** Decodes the entries (LR made here when not given), HR cropped to a multiple of the factor (inferred when not given). */
async function loadEntries(entries: readonly Entry[], givenFactor: number | undefined, lrGiven: boolean): Promise<TestSet> {
  const notes: string[] = [];
  let factor = givenFactor;
  const images: TestImage[] = [];
  const cropped: string[] = [];
  for (const e of entries) {
    const hrFull = (await decodeImage(e.hr)).rgb;
    const { height: hh, width: hw } = dims(hrFull);
    if (hh % (factor ?? 1) !== 0 || hw % (factor ?? 1) !== 0) cropped.push(e.name);
    if (e.lr === null) {
      const hr = cropToMultiple(hrFull, factor!);
      images.push({
        name: e.name,
        hr,
        lr: matlabImresize(hr, 1 / factor!),
        hrPath: e.hr,
        lrPath: null,
        lrJpegQuality: null,
        lrJpegGrid: null,
      });
      continue;
    }
    const lrDecoded = await decodeImage(e.lr);
    const lr = lrDecoded.rgb;
    const H = dims(hrFull);
    const L = dims(lr);
    const f = factor ?? Math.round(H.width / L.width);
    if (f < 1 || Math.floor(H.width / f) !== L.width || Math.floor(H.height / f) !== L.height) {
      throw new InputError(
        `LR ${e.lr} is ${L.width}x${L.height}, expected ${Math.floor(H.width / f)}x${Math.floor(H.height / f)} ` +
          `(HR ${H.width}x${H.height} / ${f})`,
      );
    }
    if (factor === undefined && (H.height % f !== 0 || H.width % f !== 0)) cropped.push(e.name);
    factor = f;
    images.push({
      name: e.name,
      hr: cropToMultiple(hrFull, f),
      lr,
      hrPath: e.hr,
      lrPath: e.lr,
      lrJpegQuality: lrDecoded.jpegQuality,
      lrJpegGrid: lrDecoded.jpegGrid,
    });
  }
  if (cropped.length) notes.push(`HR cropped to a multiple of ${factor}: ${cropped.join(', ')}`);
  return { factor: factor!, lrSource: lrGiven ? 'given' : 'matlab-bicubic', images, notes };
}

/** One image of a set by name, as loadTestSet makes it (a worker's share of a sweep); an InputError when absent. */
export async function loadTestImage(options: LoadSetOptions & { factor: number }, name: string): Promise<TestImage> {
  const entry = (
    await listEntries({ hr: options.hr, factor: options.factor, ...(options.lr !== undefined ? { lr: options.lr } : {}) }, [])
  ).find((e) => e.name === name);
  if (!entry)
    throw new InputError(`No image ${JSON.stringify(name)} in ${options.hr}${options.lr !== undefined ? ` and ${options.lr}` : ''}`);
  const set = await loadEntries([entry], options.factor, options.lr !== undefined);
  return set.images[0]!;
}
