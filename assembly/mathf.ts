// f32 math cores for the activation kernels: each f32x4 core has a scalar twin (prefix `v` / `s`)
// doing the same IEEE f32 operations in the same order, so the SIMD and scalar builds agree bit for
// bit. No FMA, no relaxed SIMD, no std-lib Mathf: every step is a correctly rounded wasm op.
//
// Domains are only what the activations need (stated per core); outside them no promise is made.
// A NaN argument gives a NaN result wherever a domain allows it.

// Constants printed by `node assembly/fit.mjs` (float64 values rounded once to f32; the script also
// fits the dilogarithm polynomial). `node assembly/fit.mjs --check` verifies this block.
const LOG2E: f32 = 1.4426950216293335;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 0.000001428606765330187;
const SQRT2: f32 = 1.4142135381698608;
const PI2_6_HI: f32 = 1.644934058189392;
const PI2_6_LO: f32 = 8.658834538266547e-9;
const INV_FACT2: f32 = 0.5;
const INV_FACT3: f32 = 0.1666666716337204;
const INV_FACT4: f32 = 0.0416666679084301;
const INV_FACT5: f32 = 0.008333333767950535;
const INV_FACT6: f32 = 0.0013888889225199819;
const INV_FACT7: f32 = 0.00019841270113829523;
const INV_FACT8: f32 = 0.000024801587642286904;
const INV_FACT9: f32 = 0.0000027557318844628753;
const INV_3: f32 = 0.3333333432674408;
const INV_5: f32 = 0.20000000298023224;
const INV_7: f32 = 0.1428571492433548;
const INV_9: f32 = 0.1111111119389534;
const LI2_P0: f32 = 1.0;
const LI2_P1: f32 = -0.24999995529651642;
const LI2_P2: f32 = 0.11110973358154297;
const LI2_P3: f32 = -0.06248142197728157;
const LI2_P4: f32 = 0.03985879570245743;
const LI2_P5: f32 = -0.027109725400805473;
const LI2_P6: f32 = 0.018313169479370117;
const LI2_P7: f32 = -0.01107642613351345;
const LI2_P8: f32 = 0.0052431682124733925;
const LI2_P9: f32 = -0.00163208635058254;
const LI2_P10: f32 = 0.000241776870097965;

// exp's argument clamp: e^89 overflows f32 and e^-104 rounds to 0, so clamping changes no result
// and keeps 2^n within the two-halves scaling below.
const EXP_MAX: f32 = 89.0;
const EXP_MIN: f32 = -104.0;
// expm1 switches from its Taylor series to exp(x) - 1 here: the series (degree 9) is within 1e-8
// relative up to |x| = 0.6875, and from there on exp(x) - 1 loses at most a factor 2 to cancellation.
const EXPM1_SWITCH: f32 = -0.6875;
/** Sign bit of an f32 (as i32). */
export const SIGN: i32 = <i32>0x80000000;

// ---- exp ------------------------------------------------------------------------------------------
// Scheme: Cody-Waite reduction x = n ln2 + r, n = nearest(x log2e), ln2 = LN2_HI + LN2_LO with
// n * LN2_HI exact; e^r by its Taylor polynomial of degree 7 on |r| <= ln2/2 (truncation < 8e-9
// relative); times 2^n applied as 2^(n>>1) * 2^(n - (n>>1)), both halves normal, so only the last
// product rounds: subnormal results round once, and n = 128 overflows to +Inf as it should.
// Domain: any f32 (NaN -> NaN, +Inf -> +Inf, -Inf -> 0).

// e^r on the reduced range (Horner, degree 7): shared by vexp and vexpn, the same instructions in both.
// @ts-ignore: decorator
@inline
function vexpPoly(r: v128): v128 {
  let p = f32x4.add(f32x4.mul(f32x4.splat(INV_FACT7), r), f32x4.splat(INV_FACT6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(INV_FACT5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(INV_FACT4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(INV_FACT3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(INV_FACT2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  return p;
}

// exp over the whole f32 range: no kernel calls it since the row softmax went; it is the reference
// that vexpn and sexpn are proven against (assembly/check-expn.mjs).
// @ts-ignore: decorator
@inline
export function vexp(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN));
  const nf = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(nf, f32x4.splat(LN2_HI))), f32x4.mul(nf, f32x4.splat(LN2_LO)));
  const p = vexpPoly(r);
  const n = i32x4.trunc_sat_f32x4_s(nf);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

// ---- exp for x <= 0 ------------------------------------------------------------------------------
// What the activations need (their arguments are -|u|, -2|u|, -u^2): vexp's result bit for bit for
// every x <= 0, with fewer operations. The upper clamp is a no-op there; the lower one is a pmax
// (one instruction, where f32x4.max is about eight: it orders signed zeros and NaNs, which a nonzero
// constant bound never meets). n = nearest(x log2e) comes from adding EXPN_SHIFT = 1.5*2^23 + 192:
// the sum lies in [2^23, 2^24), where the spacing is 1, so it rounds to an integer, ties to even
// (the shift is even), and subtracting the shift back is exact. The sum's low bits are then
// 192 + n in [41, 192], so shifting them into the exponent field gives 2^(n + 65) with no integer
// conversion; p 2^(n + 65) is exact (normal) and one product by 2^-65 rounds it, the same single
// rounding of p 2^n as vexp's two halves. `node assembly/check-expn.mjs` compares the two over
// every x <= 0. Domain: x <= 0 or NaN (NaN -> NaN, -Inf -> 0).
const EXPN_SHIFT: f32 = 12583104.0;
const EXPN_DOWN: f32 = 2.710505431213761e-20; // 2^-65

// @ts-ignore: decorator
@inline
export function vexpn(x: v128): v128 {
  x = f32x4.pmax(x, f32x4.splat(EXP_MIN));
  const y = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(EXPN_SHIFT));
  const nf = f32x4.sub(y, f32x4.splat(EXPN_SHIFT));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(nf, f32x4.splat(LN2_HI))), f32x4.mul(nf, f32x4.splat(LN2_LO)));
  const p = vexpPoly(r);
  return f32x4.mul(f32x4.mul(p, i32x4.shl(y, 23)), f32x4.splat(EXPN_DOWN));
}

// @ts-ignore: decorator
@inline
export function sexpn(x: f32): f32 {
  x = x < EXP_MIN ? EXP_MIN : x; // f32x4.pmax's rule: a NaN x stays
  const y = x * LOG2E + EXPN_SHIFT;
  const nf = y - EXPN_SHIFT;
  const r = (x - nf * LN2_HI) - nf * LN2_LO;
  let p = INV_FACT7 * r + INV_FACT6;
  p = p * r + INV_FACT5;
  p = p * r + INV_FACT4;
  p = p * r + INV_FACT3;
  p = p * r + INV_FACT2;
  p = p * r + 1;
  p = p * r + 1;
  return (p * reinterpret<f32>(reinterpret<i32>(y) << 23)) * EXPN_DOWN;
}

// ---- the rounding error of a square --------------------------------------------------------------
// Scheme: Dekker's exact product without FMA. Veltkamp's split x = hi + lo (hi = 12 significant
// bits, via c = 4097 x), then x·x - v = (((hi·hi - v) + hi·lo) + hi·lo) + lo·lo, every step exact.
// Domain: |x| <= 2^60 (4097 x must not overflow) and v = x·x rounded.

// @ts-ignore: decorator
@inline
export function vsquareLo(x: v128, v: v128): v128 {
  const c = f32x4.mul(x, f32x4.splat(4097));
  const hi = f32x4.sub(c, f32x4.sub(c, x));
  const lo = f32x4.sub(x, hi);
  const hl = f32x4.mul(hi, lo);
  return f32x4.add(f32x4.add(f32x4.add(f32x4.sub(f32x4.mul(hi, hi), v), hl), hl), f32x4.mul(lo, lo));
}

// @ts-ignore: decorator
@inline
export function ssquareLo(x: f32, v: f32): f32 {
  const c = x * 4097;
  const hi = c - (c - x);
  const lo = x - hi;
  const hl = hi * lo;
  return (((hi * hi - v) + hl) + hl) + lo * lo;
}

// ---- expm1 for x <= 0 ----------------------------------------------------------------------------
// Scheme: Taylor series x(1 + x/2! + ... + x^8/9!) for x >= EXPM1_SWITCH, else e - 1 with e = exp(x)
// passed in (callers need e too, so it is computed once). Domain: x <= 0 or NaN; e = exp(x).

// @ts-ignore: decorator
@inline
export function vexpm1n(x: v128, e: v128): v128 {
  let p = f32x4.add(f32x4.mul(f32x4.splat(INV_FACT9), x), f32x4.splat(INV_FACT8));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(INV_FACT7));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(INV_FACT6));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(INV_FACT5));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(INV_FACT4));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(INV_FACT3));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(INV_FACT2));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1));
  const series = f32x4.mul(p, x);
  return v128.bitselect(series, f32x4.sub(e, f32x4.splat(1)), f32x4.ge(x, f32x4.splat(EXPM1_SWITCH)));
}

// @ts-ignore: decorator
@inline
export function sexpm1n(x: f32, e: f32): f32 {
  if (x >= EXPM1_SWITCH) {
    let p = INV_FACT9 * x + INV_FACT8;
    p = p * x + INV_FACT7;
    p = p * x + INV_FACT6;
    p = p * x + INV_FACT5;
    p = p * x + INV_FACT4;
    p = p * x + INV_FACT3;
    p = p * x + INV_FACT2;
    p = p * x + 1;
    return p * x;
  }
  return e - 1;
}

// ---- log ------------------------------------------------------------------------------------------
// Scheme: x = m 2^e with m in [SQRT2/2, SQRT2) from the exponent bits; f = m - 1 (exact),
// s = f/(2+f), log(1+f) = 2 atanh(s) = 2s(1 + s^2/3 + s^4/5 + s^6/7 + s^8/9) (|s| <= 0.1716, next
// term < 2e-9 relative); plus e ln2 with ln2 = LN2_HI + LN2_LO. Domain: positive normal finite x.

// @ts-ignore: decorator
@inline
export function vlog(x: v128): v128 {
  let e = i32x4.sub(i32x4.shr_s(x, 23), i32x4.splat(127));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.ge(m, f32x4.splat(SQRT2));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are -1
  const f = f32x4.sub(m, f32x4.splat(1));
  const s = f32x4.div(f, f32x4.add(f, f32x4.splat(2)));
  const z = f32x4.mul(s, s);
  let p = f32x4.add(f32x4.mul(f32x4.splat(INV_9), z), f32x4.splat(INV_7));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(INV_5));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(INV_3));
  const R = f32x4.mul(p, z);
  const s2 = f32x4.add(s, s);
  const lg = f32x4.add(s2, f32x4.mul(s2, R));
  const ef = f32x4.convert_i32x4_s(e);
  return f32x4.add(f32x4.add(f32x4.mul(ef, f32x4.splat(LN2_LO)), lg), f32x4.mul(ef, f32x4.splat(LN2_HI)));
}

// @ts-ignore: decorator
@inline
export function slog(x: f32): f32 {
  const ix = reinterpret<i32>(x);
  let e = (ix >> 23) - 127;
  let m = reinterpret<f32>((ix & 0x007fffff) | 0x3f800000);
  if (m >= SQRT2) {
    m = m * 0.5;
    e = e + 1;
  }
  const f = m - 1;
  const s = f / (f + 2);
  const z = s * s;
  let p = INV_9 * z + INV_7;
  p = p * z + INV_5;
  p = p * z + INV_3;
  const R = p * z;
  const s2 = s + s;
  const lg = s2 + s2 * R;
  const ef = <f32>e;
  return (ef * LN2_LO + lg) + ef * LN2_HI;
}

// ---- log1p ----------------------------------------------------------------------------------------
// Scheme: u = 1 + y rounds; log(u) + (y - (u - 1))/u adds back the first-order effect of that
// rounding (u - 1 is exact for y >= 0), so tiny y give y itself. Domain: 0 <= y < 2^127 or NaN
// (a NaN reaches the result through the correction term).

// @ts-ignore: decorator
@inline
export function vlog1p(y: v128): v128 {
  const u = f32x4.add(y, f32x4.splat(1));
  const c = f32x4.div(f32x4.sub(y, f32x4.sub(u, f32x4.splat(1))), u);
  return f32x4.add(vlog(u), c);
}

// @ts-ignore: decorator
@inline
export function slog1p(y: f32): f32 {
  const u = y + 1;
  const c = (y - (u - 1)) / u;
  return slog(u) + c;
}

// ---- the dilogarithm part of softplus's antiderivative -------------------------------------------
// F(t) = -Li2(-t) = t - t^2/4 + t^3/9 - ... on [0, 1]. Scheme: F(t) = t P(t), P the degree-10
// Chebyshev interpolant of F(t)/t on [0, 1] in monomial form, coefficients rounded to f32 top down
// with refitting (assembly/fit.mjs): 6e-9 relative in exact arithmetic, 6.4e-8 in f32 Horner.
// Domain: 0 <= t <= 1 or NaN.

// @ts-ignore: decorator
@inline
export function vnegLi2Neg(t: v128): v128 {
  let p = f32x4.add(f32x4.mul(f32x4.splat(LI2_P10), t), f32x4.splat(LI2_P9));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P8));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P7));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P6));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P5));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P4));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P3));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P2));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(LI2_P0));
  return f32x4.mul(p, t);
}

// @ts-ignore: decorator
@inline
export function snegLi2Neg(t: f32): f32 {
  let p = LI2_P10 * t + LI2_P9;
  p = p * t + LI2_P8;
  p = p * t + LI2_P7;
  p = p * t + LI2_P6;
  p = p * t + LI2_P5;
  p = p * t + LI2_P4;
  p = p * t + LI2_P3;
  p = p * t + LI2_P2;
  p = p * t + LI2_P1;
  p = p * t + LI2_P0;
  return p * t;
}

/** pi^2/6 - f, with pi^2/6 carried in two parts. */
// @ts-ignore: decorator
@inline
export function vpi26minus(f: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.splat(PI2_6_HI), f), f32x4.splat(PI2_6_LO));
}

// @ts-ignore: decorator
@inline
export function spi26minus(f: f32): f32 {
  return (PI2_6_HI - f) + PI2_6_LO;
}

/** x + y - log 2 as (x - LN2_HI) + (y - LN2_LO): the large term x meets the high part. */
// @ts-ignore: decorator
@inline
export function vsubln2(x: v128, y: v128): v128 {
  return f32x4.add(f32x4.sub(x, f32x4.splat(LN2_HI)), f32x4.sub(y, f32x4.splat(LN2_LO)));
}

// @ts-ignore: decorator
@inline
export function ssubln2(x: f32, y: f32): f32 {
  return (x - LN2_HI) + (y - LN2_LO);
}
