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

const ws = new Int32Array(64);
const out = new Int32Array(8);

/**
 * Inverse-transforms one block of dequantized coefficients (natural order, row = vertical
 * frequency) into `plane` at (y0, x0), as samples minus the level shift, range-limited the way
 * libjpeg's table does (out-of-range values wrap modulo 4·2^precision before clamping). Shifts
 * are on 32-bit integers, as in C.
 */
export function idctIslow(f: Float64Array, plane: Float32Array, stride: number, y0: number, x0: number, precision: number): void {
  // libjpeg gives up one bit of intermediate precision at 12 bits to avoid 32-bit overflow.
  const pass1 = precision === 8 ? 2 : 1;
  const center = 1 << (precision - 1);
  const max = (1 << precision) - 1;
  const rangeMask = 4 * (max + 1) - 1;
  const shift1 = CONST_BITS - pass1;
  const round1 = 1 << (shift1 - 1);
  const shift2 = CONST_BITS + pass1 + 3;
  const round2 = 1 << (shift2 - 1);
  const dcShift = pass1 + 3;
  const dcRound = 1 << (dcShift - 1);

  // Pass 1: columns, into the work array scaled up by 2^pass1.
  for (let c = 0; c < 8; c++) {
    if (f[8 + c] === 0 && f[16 + c] === 0 && f[24 + c] === 0 && f[32 + c] === 0 && f[40 + c] === 0 && f[48 + c] === 0 && f[56 + c] === 0) {
      const dc = f[c]! << pass1;
      for (let k = 0; k < 8; k++) ws[k * 8 + c] = dc;
      continue;
    }
    butterfly(f[c]!, f[8 + c]!, f[16 + c]!, f[24 + c]!, f[32 + c]!, f[40 + c]!, f[48 + c]!, f[56 + c]!);
    for (let k = 0; k < 8; k++) ws[k * 8 + c] = (out[k]! + round1) >> shift1;
  }

  // Pass 2: rows, descaled by 2^(pass1 + 3) and range-limited.
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const base = (y0 + r) * stride + x0;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const v = limit((ws[w]! + dcRound) >> dcShift, rangeMask, max, center);
      for (let k = 0; k < 8; k++) plane[base + k] = v;
      continue;
    }
    butterfly(ws[w]!, ws[w + 1]!, ws[w + 2]!, ws[w + 3]!, ws[w + 4]!, ws[w + 5]!, ws[w + 6]!, ws[w + 7]!);
    for (let k = 0; k < 8; k++) plane[base + k] = limit((out[k]! + round2) >> shift2, rangeMask, max, center);
  }
}

/** libjpeg's range-limit table as arithmetic: wrap modulo 4·2^precision, clamp, minus the level shift. */
function limit(x: number, rangeMask: number, max: number, center: number): number {
  let v = x & rangeMask;
  if (v >= 2 * (max + 1)) v -= 4 * (max + 1);
  v += center;
  return (v < 0 ? 0 : v > max ? max : v) - center;
}

/** One 8-point pass of the Loeffler-Ligtenberg-Moschytz IDCT into `out`, scaled by 2^CONST_BITS, wrapped to 32 bits as in C. */
function butterfly(i0: number, i1: number, i2: number, i3: number, i4: number, i5: number, i6: number, i7: number): void {
  // Even part.
  let z1 = (i2 + i6) * FIX_0_541196100;
  const e2 = z1 + i6 * -FIX_1_847759065;
  const e3 = z1 + i2 * FIX_0_765366865;
  const e0 = (i0 + i4) * 8192;
  const e1 = (i0 - i4) * 8192;
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

  out[0] = tmp10 + t3;
  out[7] = tmp10 - t3;
  out[1] = tmp11 + t2;
  out[6] = tmp11 - t2;
  out[2] = tmp12 + t1;
  out[5] = tmp12 - t1;
  out[3] = tmp13 + t0;
  out[4] = tmp13 - t0;
}
