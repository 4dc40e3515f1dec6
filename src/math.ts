// exp, log, sin and cos in float64 from IEEE-754 basic arithmetic only (+ − × ÷ and exact scaling
// by powers of two), so that every runtime computes the same bits. Math.exp, Math.log, Math.sin and
// Math.cos are not specified to the bit: V8, JavaScriptCore and SpiderMonkey may differ in the last
// place, and a softmax inside finetuning, or a rotation inside a data generator, would carry that
// into a model or a data set. Accuracy: within 2 ulp (sin and cos: for |x| < 2^20 · π/2).

import { LITTLE_ENDIAN } from "./tensor.js";

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** 2^k for an integer k in [-1022, 1023], built from its bits (exact). */
function pow2(k: number): number {
  u32[HI] = (k + 1023) << 20;
  u32[LO] = 0;
  return f64[0];
}

/** x · 2^k for any integer k (two steps, so that subnormal results and overflow come out right). */
function scale2(x: number, k: number): number {
  if (k > 1023) return x * pow2(1023) * pow2(Math.min(k - 1023, 1023));
  if (k < -1022) return x * pow2(-1022) * pow2(Math.max(k + 1022, -1022));
  return x * pow2(k);
}

// ln 2 split so that k·LN2_HI is exact for |k| < 2^11 (Cody & Waite).
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const INV_LN2 = 1.4426950408889634;

/** e^x. */
export function exp(x: number): number {
  if (x !== x) return NaN;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  // x = k ln2 + r, |r| <= ln2 / 2; Math.round is exact (an integer result of basic rules).
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  // e^r by its Taylor series to r^13/13! (the remainder is below 2^-60 for |r| <= 0.347).
  let p = 1 / 6227020800;
  p = p * r + 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 0.5;
  p = p * r * r + r; // e^r − 1, with the leading terms added last for accuracy
  return scale2(1 + p, k);
}

/** The natural logarithm. */
export function log(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  // x = m · 2^e with m in [sqrt(1/2), sqrt(2)), read off the bits (subnormals scaled up first).
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x *= pow2(54);
    e = -54;
  }
  f64[0] = x;
  e += ((u32[HI] >>> 20) & 0x7ff) - 1023;
  u32[HI] = (u32[HI] & 0x000fffff) | 0x3ff00000;
  let m = f64[0];
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  // log m = 2 atanh(s), s = (m − 1)/(m + 1), |s| <= 0.1716: the odd series to s^23.
  const f = m - 1;
  const s = f / (m + 1);
  const s2 = s * s;
  let q = 1 / 23;
  for (let n = 21; n >= 3; n -= 2) q = q * s2 + 1 / n;
  const logm = 2 * s * (1 + s2 * q);
  return e * LN2_HI + (logm + e * LN2_LO);
}

// π/2 as the sum of three doubles of 33 significant bits each (the last 20 bits zero), so that
// k · PIO2_n is exact for every integer |k| <= 2^20, and a fourth (the rest, rounded) for the tail:
// together about 150 bits of π/2, so r keeps every bit even where x is within 2^-60 of k π/2.
const PIO2_1 = 1.5707963267341256; // 0x3FF921FB54400000
const PIO2_2 = 6.07710050630396597660e-11; // 0x3DD0B4611A600000
const PIO2_3 = 2.02226624871116645580e-21; // 0x3BA3198A2E000000
const PIO2_4 = 8.4784276603689e-32; // π/2 − the three above, rounded
const INV_PIO2 = 0.6366197723675814;
/** Beyond this the reduction below loses bits (k would need more than 20 bits). */
export const TRIG_MAX = 1647099.3291652855; // 2^20 · π/2

// sin r and cos r for |r| <= π/4 + a little, by their Taylor series to r^17/17! and r^18/18! (the
// remainders are below 2^-60 relative there).
function sinKernel(r: number): number {
  const r2 = r * r;
  let p = 1 / 355687428096000;
  p = p * r2 - 1 / 1307674368000;
  p = p * r2 + 1 / 6227020800;
  p = p * r2 - 1 / 39916800;
  p = p * r2 + 1 / 362880;
  p = p * r2 - 1 / 5040;
  p = p * r2 + 1 / 120;
  p = p * r2 - 1 / 6;
  return r + r * r2 * p;
}

function cosKernel(r: number): number {
  const r2 = r * r;
  let p = 1 / 6402373705728000;
  p = p * r2 - 1 / 20922789888000;
  p = p * r2 + 1 / 87178291200;
  p = p * r2 - 1 / 479001600;
  p = p * r2 + 1 / 3628800;
  p = p * r2 - 1 / 40320;
  p = p * r2 + 1 / 720;
  p = p * r2 - 1 / 24;
  // 1 − r²/2 + r⁴·(…), h = r²/2 < 0.33: w = 1 − h rounds, and its rounding error (1 − w) − h is
  // exact (both subtractions are of numbers within a factor 2), so it goes back in with the small terms.
  const h = 0.5 * r2;
  const w = 1 - h;
  return w + (1 - w - h + r2 * r2 * -p);
}

// x = k · π/2 + r, |r| <= π/4 (a little more at the rounding of k): returns k mod 4 and r. The
// first three steps subtract exact products from numbers they nearly cancel (exact, or one rounding
// at r's own scale); the fourth corrects what is left of π/2 beyond 99 bits.
function reduce(x: number): [number, number] {
  const k = Math.round(x * INV_PIO2);
  const r = x - k * PIO2_1 - k * PIO2_2 - k * PIO2_3 - k * PIO2_4;
  return [k & 3, r];
}

/** sin x; NaN for NaN and ±Infinity; a RangeError for |x| >= TRIG_MAX (2^20 · π/2, about 1.6e6). */
export function sin(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return NaN;
  if (!(Math.abs(x) < TRIG_MAX)) throw new RangeError(`sin: |x| = ${Math.abs(x)} is beyond ${TRIG_MAX}, where this reduction is exact`);
  if (Math.abs(x) < 2 ** -27) return x; // x − x³/6 rounds to x
  const [q, r] = reduce(x);
  return q === 0 ? sinKernel(r) : q === 1 ? cosKernel(r) : q === 2 ? -sinKernel(r) : -cosKernel(r);
}

/** cos x; NaN for NaN and ±Infinity; a RangeError for |x| >= TRIG_MAX (2^20 · π/2, about 1.6e6). */
export function cos(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return NaN;
  if (!(Math.abs(x) < TRIG_MAX)) throw new RangeError(`cos: |x| = ${Math.abs(x)} is beyond ${TRIG_MAX}, where this reduction is exact`);
  const [q, r] = reduce(x);
  return q === 0 ? cosKernel(r) : q === 1 ? -sinKernel(r) : q === 2 ? -cosKernel(r) : sinKernel(r);
}
