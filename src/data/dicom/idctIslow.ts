/**
 * The IJG libjpeg "islow" inverse DCT (jidctint.c), in the same fixed-point arithmetic, so that
 * lossy JPEG decodes to the same samples as libjpeg, libjpeg-turbo, GDCM and DCMTK. An exact
 * float IDCT is as valid under the JPEG standard but rounds about 1 sample in 150 differently,
 * and the decoders users compare against all use this one.
 */

const CONST_BITS = 13;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

/** Rounding right shift of C's DESCALE; floor division keeps it exact beyond 32 bits. */
const descale = (x: number, n: number): number => Math.floor((x + 2 ** (n - 1)) / 2 ** n);

const ws = new Float64Array(64);

/**
 * Inverse-transforms one block of dequantized coefficients (natural order, row = vertical
 * frequency) into `plane` at (y0, x0), as samples minus the level shift, range-limited the way
 * libjpeg's table does (out-of-range values wrap modulo 4·2^precision before clamping).
 */
export function idctIslow(f: Float64Array, plane: Float32Array, stride: number, y0: number, x0: number, precision: number): void {
  // libjpeg gives up one bit of intermediate precision at 12 bits to avoid 32-bit overflow.
  const pass1 = precision === 8 ? 2 : 1;
  const center = 1 << (precision - 1);
  const max = (1 << precision) - 1;
  const rangeMask = 4 * (max + 1) - 1;
  const limit = (x: number): number => {
    let v = x & rangeMask;
    if (v >= 2 * (max + 1)) v -= 4 * (max + 1);
    v += center;
    return (v < 0 ? 0 : v > max ? max : v) - center;
  };

  // Pass 1: columns, into the work array scaled up by 2^pass1.
  for (let c = 0; c < 8; c++) {
    const i = (k: number): number => f[k * 8 + c]!;
    if (i(1) === 0 && i(2) === 0 && i(3) === 0 && i(4) === 0 && i(5) === 0 && i(6) === 0 && i(7) === 0) {
      const dc = i(0) * 2 ** pass1;
      for (let k = 0; k < 8; k++) ws[k * 8 + c] = dc;
      continue;
    }
    const out = butterfly(i(0), i(1), i(2), i(3), i(4), i(5), i(6), i(7));
    for (let k = 0; k < 8; k++) ws[k * 8 + c] = descale(out[k]!, CONST_BITS - pass1);
  }

  // Pass 2: rows, descaled by 2^(pass1 + 3) and range-limited.
  for (let r = 0; r < 8; r++) {
    const w = (k: number): number => ws[r * 8 + k]!;
    const base = (y0 + r) * stride + x0;
    if (w(1) === 0 && w(2) === 0 && w(3) === 0 && w(4) === 0 && w(5) === 0 && w(6) === 0 && w(7) === 0) {
      const v = limit(descale(w(0), pass1 + 3));
      for (let k = 0; k < 8; k++) plane[base + k] = v;
      continue;
    }
    const out = butterfly(w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7));
    for (let k = 0; k < 8; k++) plane[base + k] = limit(descale(out[k]!, CONST_BITS + pass1 + 3));
  }
}

const result = new Float64Array(8);

/** One 8-point pass of the Loeffler-Ligtenberg-Moschytz IDCT, outputs scaled by 2^CONST_BITS. */
function butterfly(i0: number, i1: number, i2: number, i3: number, i4: number, i5: number, i6: number, i7: number): Float64Array {
  // Even part.
  let z1 = (i2 + i6) * FIX_0_541196100;
  const e2 = z1 + i6 * -FIX_1_847759065;
  const e3 = z1 + i2 * FIX_0_765366865;
  const e0 = (i0 + i4) * 2 ** CONST_BITS;
  const e1 = (i0 - i4) * 2 ** CONST_BITS;
  const tmp10 = e0 + e3;
  const tmp13 = e0 - e3;
  const tmp11 = e1 + e2;
  const tmp12 = e1 - e2;

  // Odd part.
  z1 = i7 + i1;
  let z2 = i5 + i3;
  let z3 = i7 + i3;
  let z4 = i5 + i1;
  const z5 = (z3 + z4) * FIX_1_175875602;
  let t0 = i7 * FIX_0_298631336;
  let t1 = i5 * FIX_2_053119869;
  let t2 = i3 * FIX_3_072711026;
  let t3 = i1 * FIX_1_501321110;
  z1 *= -FIX_0_899976223;
  z2 *= -FIX_2_562915447;
  z3 = z3 * -FIX_1_961570560 + z5;
  z4 = z4 * -FIX_0_390180644 + z5;
  t0 += z1 + z3;
  t1 += z2 + z4;
  t2 += z2 + z3;
  t3 += z1 + z4;

  result[0] = tmp10 + t3;
  result[7] = tmp10 - t3;
  result[1] = tmp11 + t2;
  result[6] = tmp11 - t2;
  result[2] = tmp12 + t1;
  result[5] = tmp12 - t1;
  result[3] = tmp13 + t0;
  result[4] = tmp13 - t0;
  return result;
}
