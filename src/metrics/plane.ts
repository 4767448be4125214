/**
 * The metrics' own image form: one float64 plane of 0..255 values per channel, row-major, plus the
 * helpers every metric shares — conversion from an ImageTensor, the same-size check and border shaving.
 *
 * Metrics are defined on 0..255 values. An ImageTensor holds [-1, 1]; `fromImageTensor` maps
 * v → (v + 1)·127.5 and clamps to [0, 255]. With `quantize: true` it also rounds to integers, which is
 * what an 8-bit image (a decoded PNG, or an output that will be saved as one) really contains; with
 * `quantize: false` the continuous values are kept.
 */
import { UsageError } from '../errors.js';
import { dims, type ImageTensor } from '../image/tensor.js';

/** One channel, `width × height` values on 0..255 in row-major order (index y·width + x). */
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float64Array;
}

export interface FromImageTensorOptions {
  /** Round to integers (the tensor came from, or will become, an 8-bit image). Default false. */
  quantize?: boolean;
}

export function createPlane(width: number, height: number, data?: Float64Array): Plane {
  const buf = data ?? new Float64Array(width * height);
  if (buf.length !== width * height) {
    throw new UsageError(`Expected ${width * height} values for a ${width}x${height} plane but received ${buf.length}`);
  }
  return { width, height, data: buf };
}

/** One 0..255 plane per channel of the tensor (RGB → [R, G, B]). */
export function fromImageTensor(image: ImageTensor, options: FromImageTensorOptions = {}): Plane[] {
  const { channels, height, width } = dims(image);
  const quantize = options.quantize ?? false;
  const n = width * height;
  const planes: Plane[] = [];
  const [sc, sy, sx] = image.stride as [number, number, number];
  const src = image.data;
  for (let c = 0; c < channels; c++) {
    const out = new Float64Array(n);
    for (let y = 0; y < height; y++) {
      const row = image.offset + c * sc + y * sy;
      for (let x = 0; x < width; x++) {
        let v = (src[row + x * sx]! + 1) * 127.5;
        if (quantize) v = Math.round(v);
        out[y * width + x] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    planes.push(createPlane(width, height, out));
  }
  return planes;
}

/** UsageError unless the two planes have the same width and height. */
export function assertSameSize(a: Plane, b: Plane): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new UsageError(`Expected images of the same size but received ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
}

/** UsageError unless both lists have `count` planes. */
export function assertPlaneCount(planes: readonly Plane[], count: number, what: string): void {
  if (planes.length !== count) {
    throw new UsageError(`Expected ${count} planes for ${what} but received ${planes.length}`);
  }
}

/**
 * The plane without `shave` pixels on each of its four borders (a copy). `shave` must be a non-negative
 * integer that leaves at least `minSize` pixels in each direction.
 */
export function shavePlane(plane: Plane, shave: number, minSize = 1): Plane {
  if (!Number.isInteger(shave) || shave < 0) {
    throw new UsageError(`Expected non-negative integer for shave but received ${shave}`);
  }
  const width = plane.width - 2 * shave;
  const height = plane.height - 2 * shave;
  if (width < minSize || height < minSize) {
    throw new UsageError(
      `Expected an image of at least ${minSize + 2 * shave}x${minSize + 2 * shave} for shave ${shave}` +
        ` but received ${plane.width}x${plane.height}`,
    );
  }
  if (shave === 0) return plane;
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y + shave) * plane.width + shave;
    out.set(plane.data.subarray(from, from + width), y * width);
  }
  return createPlane(width, height, out);
}
