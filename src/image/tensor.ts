import ndarray from 'ndarray';

/**
 * An image as a planar float tensor: an ndarray of shape [C, H, W] over a contiguous Float32Array
 * (strides [H*W, W, 1]). Colour images are RGB with C = 3; values are in [-1, 1] (0..255 maps to -1..1).
 * Every module of the project passes images in this form; `.data` may be read directly because tensors
 * made here are always contiguous.
 */
export type ImageTensor = ndarray.NdArray<Float32Array>;

export function createImage(channels: number, height: number, width: number, data?: Float32Array): ImageTensor {
  const size = channels * height * width;
  const buf = data ?? new Float32Array(size);
  if (buf.length !== size) {
    throw new RangeError(`Expected ${size} values for a ${channels}x${height}x${width} image but received ${buf.length}`);
  }
  return ndarray(buf, [channels, height, width]);
}

export function dims(image: ImageTensor): { channels: number; height: number; width: number } {
  const [channels, height, width] = image.shape as [number, number, number];
  return { channels, height, width };
}

/** A contiguous copy (also normalises any view to the [C, H, W] contiguous layout). */
export function cloneImage(image: ImageTensor): ImageTensor {
  const { channels, height, width } = dims(image);
  const out = createImage(channels, height, width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.data[(c * height + y) * width + x] = image.get(c, y, x);
  return out;
}

/** 0..255 byte value to the model's [-1, 1] range, and back (rounded, clamped). */
export const byteToUnit = (v: number): number => v / 127.5 - 1;
export const unitToByte = (v: number): number => {
  const b = Math.round((v + 1) * 127.5);
  return b < 0 ? 0 : b > 255 ? 255 : b;
};

/** True when the tensor's own buffer holds exactly its values in [C, H, W] order (no view, no offset). */
export function isContiguous(image: ImageTensor): boolean {
  const { channels, height, width } = dims(image);
  const [s0, s1, s2] = image.stride as [number, number, number];
  return image.offset === 0 && s2 === 1 && s1 === width && s0 === height * width && image.data.length === channels * height * width;
}

/** The tensor's values in [C, H, W] order: its own buffer when contiguous, else a copy. */
export function contiguousData(image: ImageTensor): Float32Array {
  return isContiguous(image) ? image.data : cloneImage(image).data;
}
