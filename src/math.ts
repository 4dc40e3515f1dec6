// exp and log in float64 from IEEE-754 basic arithmetic only (+ − × ÷ and exact scaling by
// powers of two), so that every runtime computes the same bits. Math.exp and Math.log are not
// specified to the bit: V8, JavaScriptCore and SpiderMonkey may differ in the last
// place, and a softmax inside finetuning would carry that into the model. Accuracy: within 2 ulp.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HI = LITTLE ? 1 : 0;
const LO = LITTLE ? 0 : 1;

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
