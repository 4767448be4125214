/**
 * The 8×8 two-dimensional DCT-II that JPEG quantises (ITU-T T.81 A.3.3): orthonormal, so a JPEG's quantisation steps
 * apply to these coefficients as they are, and the inverse is the transpose. Pure; `tmp` (64 values) may be passed to
 * transform many blocks without allocating.
 */

/** The orthonormal 8-point DCT-II basis: BASIS[u·8 + x] = c(u)·cos((2x + 1)uπ/16), c(0) = √(1/8), c(u>0) = 1/2. */
const BASIS = (() => {
  const b = new Float64Array(64);
  for (let u = 0; u < 8; u++)
    for (let x = 0; x < 8; x++) b[u * 8 + x] = (u === 0 ? Math.sqrt(1 / 8) : 0.5) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  return b;
})();

/** 2-D orthonormal DCT-II of an 8×8 block (row-major); F = B·f·Bᵀ. */
export function dct8x8(block: ArrayLike<number>, out = new Float64Array(64), tmp = new Float64Array(64)): Float64Array {
  for (let u = 0; u < 8; u++)
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += BASIS[u * 8 + y]! * block[y * 8 + x]!;
      tmp[u * 8 + x] = s; // rows transformed: tmp[u][x]
    }
  for (let u = 0; u < 8; u++)
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += tmp[u * 8 + x]! * BASIS[v * 8 + x]!;
      out[u * 8 + v] = s;
    }
  return out;
}

/** The inverse of dct8x8: f = Bᵀ·F·B. */
export function idct8x8(coef: ArrayLike<number>, out = new Float64Array(64), tmp = new Float64Array(64)): Float64Array {
  for (let y = 0; y < 8; y++)
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let u = 0; u < 8; u++) s += BASIS[u * 8 + y]! * coef[u * 8 + v]!;
      tmp[y * 8 + v] = s;
    }
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let v = 0; v < 8; v++) s += tmp[y * 8 + v]! * BASIS[v * 8 + x]!;
      out[y * 8 + x] = s;
    }
  return out;
}
