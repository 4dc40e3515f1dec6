// Hidden-unit activations of SPEC.md §2: one fused kernel per activation computing h(u), its
// antiderivative H(u) (integration constants as in SPEC), h'(u) and h''(u) for n f32 values.
// It does not reduce (the energy's sum over H lives elsewhere) and does not check shapes.
//
// Contract of every act_<name>(U, n, h, H, d1, d2): U and the outputs hold n f32 each (byte
// pointers, any alignment); an output pointer 0 skips that output; an output may be U itself
// (in place: each element is read before it is written) but must not otherwise overlap U or another
// output. A NaN input gives NaN in every computed output. The SIMD build and the scalar build give
// bit-identical results (the cores of mathf.ts have exact scalar twins).
//
// Loop skeleton (both builds from one source): SIMD: 2 x v128 per iteration, then 1 x v128, then the
// scalar twin for the last n % 4; scalar build: the scalar twin throughout.
//
// The four exp-based activations run one loop per set of requested outputs, with the set fixed at
// compile time (flags wh, wH, w1, w2): V8's TurboFan moves a pure value into each conditional block
// that uses it ("node splitting"), so with run-time `if (h)` tests the shared exp would be computed
// once per output (measured 2.7x slower with all four outputs). H shares only e^-|u| with the others,
// so it gets a pass of its own (before the others, or after them when H is U itself); h, h', h'' are
// computed together in one of 7 loops.

import {
  SIGN, vexp, sexp, vsquareLo, ssquareLo, vexpm1n, sexpm1n, vlog1p, slog1p, vnegLi2Neg, snegLi2Neg, vpi26minus, spi26minus,
  vsubln2, ssubln2,
} from "./mathf";

// For |u| >= SYNC_CLAMP, e^(-u^2) is already 0 in f32, so σ(u^2) = 1 and σ(1-σ) = 0 exactly: sync's
// derivatives use u clamped here, which avoids Inf * 0 once u^2 overflows and changes no result.
const SYNC_CLAMP: f32 = 12.0;
// tanh's H: below this |u|, log cosh u = log1p(cosh u - 1) (accurate near 0, where log cosh ≈ u²/2);
// above, |u| + log1p(e^(-2|u|)) - log 2 (no overflow).
const LOGCOSH_SWITCH: f32 = 1.0;

// ---- shared helpers ------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function vput(p: usize, o: usize, v: v128): void {
  if (p) v128.store(p + o, v);
}
// @ts-ignore: decorator
@inline function sput(p: usize, o: usize, v: f32): void {
  if (p) store<f32>(p + o, v);
}
// v, except u itself where u is NaN: constant outputs must not hide a NaN input.
// @ts-ignore: decorator
@inline function vkeepNaN(u: v128, v: v128): v128 {
  return v128.bitselect(u, v, f32x4.ne(u, u));
}
// @ts-ignore: decorator
@inline function skeepNaN(u: f32, v: f32): f32 {
  return u != u ? u : v;
}
// x with its sign bit flipped where u's sign bit is set.
// @ts-ignore: decorator
@inline function vflipBy(x: v128, u: v128): v128 {
  return v128.xor(x, v128.and(u, i32x4.splat(SIGN)));
}
// @ts-ignore: decorator
@inline function sflipBy(x: f32, u: f32): f32 {
  return reinterpret<f32>(reinterpret<i32>(x) ^ (reinterpret<i32>(u) & SIGN));
}
// Which of h, h', h'' are requested, as bits 1, 2, 4.
// @ts-ignore: decorator
@inline function combo(h: usize, d1: usize, d2: usize): i32 {
  return (h != 0 ? 1 : 0) | (d1 != 0 ? 2 : 0) | (d2 != 0 ? 4 : 0);
}
// @ts-ignore: decorator
@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

// ---- sigmoid: h = σ(u), H = softplus(u), h' = σ(1-σ), h'' = σ(1-σ)(1-2σ) ----------------------------
// With t = e^-|u|: σ(|u|) = 1/(1+t), σ(-|u|) = t/(1+t), σ(1-σ) = t/(1+t)², 1 - 2σ(|u|) = m/(1+t) with
// m = expm1(-|u|) (accurate near 0), negated for u < 0.

// @ts-ignore: decorator
@inline function sigmoidV(
  u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const x = f32x4.neg(f32x4.abs(u));
  const t = vexp(x);
  const d = f32x4.add(t, splat(1));
  if (wh) v128.store(h + o, f32x4.div(v128.bitselect(splat(1), t, f32x4.ge(u, splat(0))), d)); // one division
  if (wH) v128.store(H + o, f32x4.add(f32x4.max(u, splat(0)), vlog1p(t)));
  if (w1 || w2) {
    const g = f32x4.div(t, f32x4.mul(d, d));
    if (w1) v128.store(d1 + o, g);
    if (w2) v128.store(d2 + o, vflipBy(f32x4.mul(g, f32x4.div(vexpm1n(x, t), d)), u));
  }
}

// @ts-ignore: decorator
@inline function sigmoidS(
  u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const x = -abs(u);
  const t = sexp(x);
  const d = t + 1;
  if (wh) store<f32>(h + o, u >= 0 ? 1 / d : t / d);
  if (wH) store<f32>(H + o, max(u, 0) + slog1p(t));
  if (w1 || w2) {
    const g = t / (d * d);
    if (w1) store<f32>(d1 + o, g);
    if (w2) store<f32>(d2 + o, sflipBy(g * (sexpm1n(x, t) / d), u));
  }
}

// @ts-ignore: decorator
@inline function sigmoidLoop(
  U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      sigmoidV(u0, o, h, H, d1, d2, wh, wH, w1, w2);
      sigmoidV(u1, o + 16, h, H, d1, d2, wh, wH, w1, w2);
    }
    for (; i + 4 <= n; i += 4) sigmoidV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
  }
  for (; i < n; i++) sigmoidS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
}

function sigmoidH(U: usize, n: i32, H: usize): void {
  sigmoidLoop(U, n, 0, H, 0, 0, false, true, false, false);
}

function sigmoidRest(U: usize, n: i32, h: usize, d1: usize, d2: usize): void {
  switch (combo(h, d1, d2)) {
    case 1: sigmoidLoop(U, n, h, 0, 0, 0, true, false, false, false); break;
    case 2: sigmoidLoop(U, n, 0, 0, d1, 0, false, false, true, false); break;
    case 3: sigmoidLoop(U, n, h, 0, d1, 0, true, false, true, false); break;
    case 4: sigmoidLoop(U, n, 0, 0, 0, d2, false, false, false, true); break;
    case 5: sigmoidLoop(U, n, h, 0, 0, d2, true, false, false, true); break;
    case 6: sigmoidLoop(U, n, 0, 0, d1, d2, false, false, true, true); break;
    case 7: sigmoidLoop(U, n, h, 0, d1, d2, true, false, true, true); break;
  }
}

/** sigmoid: h, H, d1, d2 (n f32 each, 0 = skip) = σ(U), softplus(U), σ', σ'' of U (n f32); outputs may be U. */
export function act_sigmoid(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  if (H != 0 && H != U) sigmoidH(U, n, H);
  sigmoidRest(U, n, h, d1, d2);
  if (H != 0 && H == U) sigmoidH(U, n, H);
}

// ---- tanh: h = tanh u, H = log cosh u, h' = 1 - tanh², h'' = -2 tanh (1 - tanh²) -------------------
// With x = -2|u|, t = e^x, m = expm1(x): tanh|u| = -m/(1+t); 1 - tanh² = 4t/(1+t)² (no cancellation
// for large |u|). log cosh: for small |u|, with t1 = e^-|u| = sqrt(t) and m1 = expm1(-|u|) =
// m/(1+t1), cosh u - 1 = m1²/(2 t1); for large |u|, |u| + log1p(t) - log 2. One log1p serves both.

// @ts-ignore: decorator
@inline function tanhV(
  u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const a = f32x4.abs(u);
  const x = f32x4.neg(f32x4.add(a, a));
  const t = vexp(x);
  const m = vexpm1n(x, t);
  const d = f32x4.add(t, splat(1));
  if (wh || w1 || w2) {
    const th = v128.or(f32x4.div(f32x4.neg(m), d), v128.and(u, i32x4.splat(SIGN)));
    if (wh) v128.store(h + o, th);
    if (w1 || w2) {
      const g = f32x4.div(f32x4.mul(t, splat(4)), f32x4.mul(d, d));
      if (w1) v128.store(d1 + o, g);
      if (w2) v128.store(d2 + o, f32x4.neg(f32x4.mul(f32x4.add(th, th), g)));
    }
  }
  if (wH) {
    const t1 = f32x4.sqrt(t);
    const m1 = f32x4.div(m, f32x4.add(t1, splat(1)));
    const c = f32x4.mul(m1, f32x4.div(m1, f32x4.add(t1, t1)));
    const small = f32x4.le(a, splat(LOGCOSH_SWITCH));
    const l = vlog1p(v128.bitselect(c, t, small));
    v128.store(H + o, v128.bitselect(l, vsubln2(a, l), small));
  }
}

// @ts-ignore: decorator
@inline function tanhS(
  u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const a = abs(u);
  const x = -(a + a);
  const t = sexp(x);
  const m = sexpm1n(x, t);
  const d = t + 1;
  if (wh || w1 || w2) {
    const th = reinterpret<f32>(reinterpret<i32>(-m / d) | (reinterpret<i32>(u) & SIGN));
    if (wh) store<f32>(h + o, th);
    if (w1 || w2) {
      const g = (t * 4) / (d * d);
      if (w1) store<f32>(d1 + o, g);
      if (w2) store<f32>(d2 + o, -((th + th) * g));
    }
  }
  if (wH) {
    if (a <= LOGCOSH_SWITCH) {
      const t1 = sqrt(t);
      const m1 = m / (t1 + 1);
      store<f32>(H + o, slog1p(m1 * (m1 / (t1 + t1))));
    } else {
      store<f32>(H + o, ssubln2(a, slog1p(t)));
    }
  }
}

// @ts-ignore: decorator
@inline function tanhLoop(
  U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      tanhV(u0, o, h, H, d1, d2, wh, wH, w1, w2);
      tanhV(u1, o + 16, h, H, d1, d2, wh, wH, w1, w2);
    }
    for (; i + 4 <= n; i += 4) tanhV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
  }
  for (; i < n; i++) tanhS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
}

function tanhH(U: usize, n: i32, H: usize): void {
  tanhLoop(U, n, 0, H, 0, 0, false, true, false, false);
}

function tanhRest(U: usize, n: i32, h: usize, d1: usize, d2: usize): void {
  switch (combo(h, d1, d2)) {
    case 1: tanhLoop(U, n, h, 0, 0, 0, true, false, false, false); break;
    case 2: tanhLoop(U, n, 0, 0, d1, 0, false, false, true, false); break;
    case 3: tanhLoop(U, n, h, 0, d1, 0, true, false, true, false); break;
    case 4: tanhLoop(U, n, 0, 0, 0, d2, false, false, false, true); break;
    case 5: tanhLoop(U, n, h, 0, 0, d2, true, false, false, true); break;
    case 6: tanhLoop(U, n, 0, 0, d1, d2, false, false, true, true); break;
    case 7: tanhLoop(U, n, h, 0, d1, d2, true, false, true, true); break;
  }
}

/** tanh: h, H, d1, d2 (n f32 each, 0 = skip) = tanh(U), log cosh(U), tanh', tanh'' of U (n f32); outputs may be U. */
export function act_tanh(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  if (H != 0 && H != U) tanhH(U, n, H);
  tanhRest(U, n, h, d1, d2);
  if (H != 0 && H == U) tanhH(U, n, H);
}

// ---- linear: h = u, H = u²/2, h' = 1, h'' = 0 -------------------------------------------------------
// u²/2 as (u/2)·u: one rounding, so it is f32(u²/2) exactly unless u is subnormal.

// @ts-ignore: decorator
@inline function linearV(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  vput(h, o, u);
  if (H) v128.store(H + o, f32x4.mul(f32x4.mul(u, splat(0.5)), u));
  if (d1) v128.store(d1 + o, vkeepNaN(u, splat(1)));
  if (d2) v128.store(d2 + o, vkeepNaN(u, splat(0)));
}

// @ts-ignore: decorator
@inline function linearS(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  sput(h, o, u);
  if (H) store<f32>(H + o, (u * 0.5) * u);
  if (d1) store<f32>(d1 + o, skeepNaN(u, 1));
  if (d2) store<f32>(d2 + o, skeepNaN(u, 0));
}

/** linear: h, H, d1, d2 (n f32 each, 0 = skip) = U, U²/2, 1, 0 for U (n f32); outputs may be U. */
export function act_linear(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      linearV(u0, o, h, H, d1, d2);
      linearV(u1, o + 16, h, H, d1, d2);
    }
    for (; i + 4 <= n; i += 4) linearV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
  }
  for (; i < n; i++) linearS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
}

// ---- square: h = u², H = u³/3, h' = 2u, h'' = 2 ------------------------------------------------------
// u³/3 as (u·u)·(u/3): no intermediate overflows unless u³/3 itself does.

// @ts-ignore: decorator
@inline function squareV(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  const uu = f32x4.mul(u, u);
  vput(h, o, uu);
  if (H) v128.store(H + o, f32x4.mul(uu, f32x4.div(u, splat(3))));
  if (d1) v128.store(d1 + o, f32x4.add(u, u));
  if (d2) v128.store(d2 + o, vkeepNaN(u, splat(2)));
}

// @ts-ignore: decorator
@inline function squareS(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  const uu = u * u;
  sput(h, o, uu);
  if (H) store<f32>(H + o, uu * (u / 3));
  if (d1) store<f32>(d1 + o, u + u);
  if (d2) store<f32>(d2 + o, skeepNaN(u, 2));
}

/** square: h, H, d1, d2 (n f32 each, 0 = skip) = U², U³/3, 2U, 2 for U (n f32); outputs may be U. */
export function act_square(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      squareV(u0, o, h, H, d1, d2);
      squareV(u1, o + 16, h, H, d1, d2);
    }
    for (; i + 4 <= n; i += 4) squareV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
  }
  for (; i < n; i++) squareS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
}

// ---- relu: h = max(u,0), H = max(u,0)²/2, h' = [u > 0], h'' = 0 -------------------------------------

// @ts-ignore: decorator
@inline function reluV(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  const r = f32x4.max(u, splat(0));
  vput(h, o, r);
  if (H) v128.store(H + o, f32x4.mul(f32x4.mul(r, splat(0.5)), r));
  if (d1) v128.store(d1 + o, vkeepNaN(u, v128.and(f32x4.gt(u, splat(0)), splat(1))));
  if (d2) v128.store(d2 + o, vkeepNaN(u, splat(0)));
}

// @ts-ignore: decorator
@inline function reluS(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  const r = max(u, <f32>0);
  sput(h, o, r);
  if (H) store<f32>(H + o, (r * 0.5) * r);
  if (d1) store<f32>(d1 + o, skeepNaN(u, u > 0 ? 1 : 0));
  if (d2) store<f32>(d2 + o, skeepNaN(u, 0));
}

/** relu: h, H, d1, d2 (n f32 each, 0 = skip) = max(U,0), max(U,0)²/2, [U>0], 0 for U (n f32); outputs may be U. */
export function act_relu(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      reluV(u0, o, h, H, d1, d2);
      reluV(u1, o + 16, h, H, d1, d2);
    }
    for (; i + 4 <= n; i += 4) reluV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
  }
  for (; i < n; i++) reluS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
}

// ---- modulus: h = |u|, H = sign(u)·u²/2, h' = sign(u), h'' = 0 --------------------------------------

// @ts-ignore: decorator
@inline function modulusV(u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  const a = f32x4.abs(u);
  vput(h, o, a);
  if (H) v128.store(H + o, f32x4.mul(f32x4.mul(u, splat(0.5)), a));
  if (d1) {
    const pos = v128.and(f32x4.gt(u, splat(0)), splat(1));
    const neg = v128.and(f32x4.lt(u, splat(0)), splat(-1));
    v128.store(d1 + o, vkeepNaN(u, v128.or(pos, neg)));
  }
  if (d2) v128.store(d2 + o, vkeepNaN(u, splat(0)));
}

// @ts-ignore: decorator
@inline function modulusS(u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize): void {
  const a = abs(u);
  sput(h, o, a);
  if (H) store<f32>(H + o, (u * 0.5) * a);
  if (d1) store<f32>(d1 + o, skeepNaN(u, u > 0 ? 1 : u < 0 ? -1 : 0));
  if (d2) store<f32>(d2 + o, skeepNaN(u, 0));
}

/** modulus: h, H, d1, d2 (n f32 each, 0 = skip) = |U|, sign(U)U²/2, sign(U), 0 for U (n f32); outputs may be U. */
export function act_modulus(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      modulusV(u0, o, h, H, d1, d2);
      modulusV(u1, o + 16, h, H, d1, d2);
    }
    for (; i + 4 <= n; i += 4) modulusV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
  }
  for (; i < n; i++) modulusS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2);
}

// ---- softplus: h = softplus(u), H = -Li2(-e^u), h' = σ(u), h'' = σ(1-σ) ------------------------------
// With t = e^-|u| and F(t) = -Li2(-t): H = F(t) for u <= 0; for u > 0 the inversion formula
// Li2(-e^u) + Li2(-e^-u) = -π²/6 - u²/2 gives H = u²/2 + π²/6 - F(t).

// @ts-ignore: decorator
@inline function softplusV(
  u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const t = vexp(f32x4.neg(f32x4.abs(u)));
  const d = f32x4.add(t, splat(1));
  if (wh) v128.store(h + o, f32x4.add(f32x4.max(u, splat(0)), vlog1p(t)));
  if (w1) v128.store(d1 + o, v128.bitselect(f32x4.div(splat(1), d), f32x4.div(t, d), f32x4.ge(u, splat(0))));
  if (w2) v128.store(d2 + o, f32x4.div(t, f32x4.mul(d, d)));
  if (wH) {
    const F = vnegLi2Neg(t);
    const pos = f32x4.add(f32x4.mul(f32x4.mul(u, splat(0.5)), u), vpi26minus(F));
    v128.store(H + o, v128.bitselect(F, pos, f32x4.le(u, splat(0))));
  }
}

// @ts-ignore: decorator
@inline function softplusS(
  u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const t = sexp(-abs(u));
  const d = t + 1;
  if (wh) store<f32>(h + o, max(u, 0) + slog1p(t));
  if (w1) store<f32>(d1 + o, u >= 0 ? 1 / d : t / d);
  if (w2) store<f32>(d2 + o, t / (d * d));
  if (wH) {
    const F = snegLi2Neg(t);
    store<f32>(H + o, u <= 0 ? F : (u * 0.5) * u + spi26minus(F));
  }
}

// @ts-ignore: decorator
@inline function softplusLoop(
  U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      softplusV(u0, o, h, H, d1, d2, wh, wH, w1, w2);
      softplusV(u1, o + 16, h, H, d1, d2, wh, wH, w1, w2);
    }
    for (; i + 4 <= n; i += 4) softplusV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
  }
  for (; i < n; i++) softplusS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
}

function softplusH(U: usize, n: i32, H: usize): void {
  softplusLoop(U, n, 0, H, 0, 0, false, true, false, false);
}

function softplusRest(U: usize, n: i32, h: usize, d1: usize, d2: usize): void {
  switch (combo(h, d1, d2)) {
    case 1: softplusLoop(U, n, h, 0, 0, 0, true, false, false, false); break;
    case 2: softplusLoop(U, n, 0, 0, d1, 0, false, false, true, false); break;
    case 3: softplusLoop(U, n, h, 0, d1, 0, true, false, true, false); break;
    case 4: softplusLoop(U, n, 0, 0, 0, d2, false, false, false, true); break;
    case 5: softplusLoop(U, n, h, 0, 0, d2, true, false, false, true); break;
    case 6: softplusLoop(U, n, 0, 0, d1, d2, false, false, true, true); break;
    case 7: softplusLoop(U, n, h, 0, d1, d2, true, false, true, true); break;
  }
}

/** softplus: h, H, d1, d2 (n f32 each, 0 = skip) = softplus(U), -Li2(-e^U), σ(U), σ'(U) for U (n f32); outputs may be U. */
export function act_softplus(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  if (H != 0 && H != U) softplusH(U, n, H);
  softplusRest(U, n, h, d1, d2);
  if (H != 0 && H == U) softplusH(U, n, H);
}

// ---- sync: h = u s, H = softplus(u²)/2, h' = s + 2u²s(1-s), h'' = 2u s(1-s)(3 + 2u²(1-2s)), s = σ(u²) --
// With v = u², t = e^-v: s = 1/(1+t), s(1-s) = t/(1+t)², 1 - 2s = expm1(-v)/(1+t). The derivatives use
// u clamped to ±SYNC_CLAMP (see there); h and H use u itself. u² rounded to f32 is off by up to
// 6e-8 u² absolute, which e^-v would turn into 6e-8 u² relative (4e-6 at u = 8): t is corrected by
// the rounding error of u² (exact by Dekker's product), t(1 - lo) = e^-(v + lo) to first order.
// Known limit: once e^-u² is subnormal (|u| > 9.33, where |h''| < 1e-34) h'' keeps only absolute
// accuracy (error < 2e-41).

// @ts-ignore: decorator
@inline function syncV(
  u: v128, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const uc = f32x4.min(f32x4.max(u, splat(-SYNC_CLAMP)), splat(SYNC_CLAMP));
  const v = f32x4.mul(uc, uc);
  const x = f32x4.neg(v);
  const t0 = vexp(x);
  const t = f32x4.sub(t0, f32x4.mul(t0, vsquareLo(uc, v)));
  const d = f32x4.add(t, splat(1));
  if (wh || w1) {
    const s = f32x4.div(splat(1), d);
    if (wh) v128.store(h + o, f32x4.mul(u, s));
    if (w1) {
      const g = f32x4.div(t, f32x4.mul(d, d));
      v128.store(d1 + o, f32x4.add(s, f32x4.mul(f32x4.add(v, v), g)));
    }
  }
  if (wH) v128.store(H + o, f32x4.add(f32x4.mul(f32x4.mul(u, splat(0.5)), u), f32x4.mul(vlog1p(t), splat(0.5))));
  if (w2) {
    const g = f32x4.div(t, f32x4.mul(d, d));
    const w = f32x4.div(vexpm1n(x, t), d);
    const k = f32x4.add(splat(3), f32x4.mul(f32x4.add(v, v), w));
    v128.store(d2 + o, f32x4.mul(f32x4.mul(f32x4.add(uc, uc), g), k));
  }
}

// @ts-ignore: decorator
@inline function syncS(
  u: f32, o: usize, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  const uc = min(max(u, -SYNC_CLAMP), SYNC_CLAMP);
  const v = uc * uc;
  const x = -v;
  const t0 = sexp(x);
  const t = t0 - t0 * ssquareLo(uc, v);
  const d = t + 1;
  if (wh || w1) {
    const s = <f32>1 / d;
    if (wh) store<f32>(h + o, u * s);
    if (w1) {
      const g = t / (d * d);
      store<f32>(d1 + o, s + (v + v) * g);
    }
  }
  if (wH) store<f32>(H + o, (u * 0.5) * u + slog1p(t) * 0.5);
  if (w2) {
    const g = t / (d * d);
    const w = sexpm1n(x, t) / d;
    const k = <f32>3 + (v + v) * w;
    store<f32>(d2 + o, ((uc + uc) * g) * k);
  }
}

// @ts-ignore: decorator
@inline function syncLoop(
  U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize, wh: bool, wH: bool, w1: bool, w2: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const u0 = v128.load(U + o);
      const u1 = v128.load(U + o, 16);
      syncV(u0, o, h, H, d1, d2, wh, wH, w1, w2);
      syncV(u1, o + 16, h, H, d1, d2, wh, wH, w1, w2);
    }
    for (; i + 4 <= n; i += 4) syncV(v128.load(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
  }
  for (; i < n; i++) syncS(load<f32>(U + (<usize>i << 2)), <usize>i << 2, h, H, d1, d2, wh, wH, w1, w2);
}

function syncH(U: usize, n: i32, H: usize): void {
  syncLoop(U, n, 0, H, 0, 0, false, true, false, false);
}

function syncRest(U: usize, n: i32, h: usize, d1: usize, d2: usize): void {
  switch (combo(h, d1, d2)) {
    case 1: syncLoop(U, n, h, 0, 0, 0, true, false, false, false); break;
    case 2: syncLoop(U, n, 0, 0, d1, 0, false, false, true, false); break;
    case 3: syncLoop(U, n, h, 0, d1, 0, true, false, true, false); break;
    case 4: syncLoop(U, n, 0, 0, 0, d2, false, false, false, true); break;
    case 5: syncLoop(U, n, h, 0, 0, d2, true, false, false, true); break;
    case 6: syncLoop(U, n, 0, 0, d1, d2, false, false, true, true); break;
    case 7: syncLoop(U, n, h, 0, d1, d2, true, false, true, true); break;
  }
}

/** sync: h, H, d1, d2 (n f32 each, 0 = skip) = Uσ(U²), softplus(U²)/2, h', h'' for U (n f32); outputs may be U. */
export function act_sync(U: usize, n: i32, h: usize, H: usize, d1: usize, d2: usize): void {
  if (H != 0 && H != U) syncH(U, n, H);
  syncRest(U, n, h, d1, d2);
  if (H != 0 && H == U) syncH(U, n, H);
}
