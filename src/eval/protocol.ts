/**
 * The evaluation protocol (docs/evaluation.md), as text to print beside every number: what `measure` computes.
 */
export const PROTOCOL = Object.freeze({
  colour: 'Y of ITU-R BT.601 (Y = 16 + (65.481 R + 128.553 G + 24.966 B)/255 on 0..255), float64, after rounding to 8 bits',
  shave: 'scale pixels removed from each border',
  psnr: 'PSNR with peak 255',
  ssim: 'SSIM with an 11×11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03',
  detail: 'detail ratio = high-frequency energy of the output over that of the truth, on Y (1 = as much detail as the truth)',
  gmsd: 'GMSD = gradient magnitude similarity deviation on Y (0 = identical; lower is better)',
});

/** One line stating the protocol, with the actual shave when known. */
export function protocolLine(shave?: number): string {
  const s = shave === undefined ? 'shave = scale' : `shave = scale = ${shave} px`;
  return (
    `Protocol: Y channel of ITU-R BT.601 (float64), ${s} from each border, PSNR peak 255, ` +
    'SSIM 11×11 Gaussian σ 1.5 (K1 0.01, K2 0.03); detail ratio = HF energy of output / truth on Y (1 = as much ' +
    'detail as the truth); GMSD on Y (lower = closer).'
  );
}

/** A short form for plot footnotes. */
export function protocolShort(shave?: number): string {
  return `Y (ITU-R BT.601), shave ${shave ?? 'scale'} px, PSNR peak 255, SSIM Gaussian 11×11 σ 1.5; detail ratio and GMSD on Y`;
}
