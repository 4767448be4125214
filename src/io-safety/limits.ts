/**
 * Size limits, checked before any work. The output limit bounds what one run may allocate: the sampler keeps a
 * few whole-image float32 arrays (12 bytes per output pixel each), so a 16384x16384 output already needs
 * several GB. The input limit is the decoder's guard against decompression bombs (a small file that claims an
 * enormous size); its default is the largest input that can still be enlarged x2 within the output limit.
 */
import { UsageError } from '../errors.js';
import { positiveInteger } from '../validate.js';

/** Largest output width or height. */
export const MAX_OUTPUT_SIDE = 16384;
/** Largest output area: 256 MP (256·10⁶ pixels). */
export const MAX_OUTPUT_PIXELS = 256_000_000;
/** Default largest input area accepted by the decoder (8192², 67.1 MP); `--max-pixels` raises it. */
export const DEFAULT_MAX_INPUT_PIXELS = 8192 * 8192;

/** UsageError when height×width enlarged by `factor` is beyond what the tool supports. */
export function checkOutputSize(height: number, width: number, factor: number, name = 'the input'): void {
  positiveInteger('factor', factor);
  const oh = height * factor;
  const ow = width * factor;
  if (oh > MAX_OUTPUT_SIDE || ow > MAX_OUTPUT_SIDE || oh * ow > MAX_OUTPUT_PIXELS) {
    throw new UsageError(
      `Output of ${name} would be ${ow}x${oh} (${((ow * oh) / 1e6).toFixed(1)} MP) at x${factor}; ` +
        `the largest supported is ${MAX_OUTPUT_SIDE} px per side and ${MAX_OUTPUT_PIXELS / 1e6} MP (use a smaller factor)`,
    );
  }
}
