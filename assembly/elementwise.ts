// Elementwise kernels, f32. Each SIMD loop has a scalar tail doing the same operations, so the SIMD
// and scalar builds give bit-identical results. Outputs may alias inputs of the same index.

import { vlog, slog, vlog1p, slog1p, vexpn, sexpn } from "./mathf";
import { vnegAbs, snegAbs, vrelu, srelu, vpick1t } from "./act/common";

/** X(M,N) += alpha * b(N) broadcast to every row; row-major, contiguous. */
export function add_row_bias(X: usize, b: usize, alpha: f32, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    const row = X + (<usize>(i * N) << 2);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const va = f32x4.splat(alpha);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        v128.store(row + o, f32x4.add(v128.load(row + o), f32x4.mul(va, v128.load(b + o))));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      store<f32>(row + o, load<f32>(row + o) + alpha * load<f32>(b + o));
    }
  }
}

/** y(n) += a * x(n). */
export function axpy(y: usize, a: f32, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/** y(n) = a * y(n). */
export function scale(y: usize, a: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(va, v128.load(y + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, a * load<f32>(y + o));
  }
}

/** out(n) = a(n) * b(n); out may alias a or b. */
export function mul(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** out(n) = a(n) - b(n); out may alias a or b. */
export function sub(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) - load<f32>(b + o));
  }
}

/** SGD with momentum and L2 decay on n parameters: V = momentum*V - lr*(G + decay*W); W += V. */
export function sgd_momentum(W: usize, V: usize, G: usize, n: i32, lr: f32, momentum: f32, decay: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f32x4.splat(lr);
    const vm = f32x4.splat(momentum);
    const vd = f32x4.splat(decay);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const w = v128.load(W + o);
      const g = f32x4.add(v128.load(G + o), f32x4.mul(vd, w));
      const v = f32x4.sub(f32x4.mul(vm, v128.load(V + o)), f32x4.mul(vlr, g));
      v128.store(V + o, v);
      v128.store(W + o, f32x4.add(w, v));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const w = load<f32>(W + o);
    const g = load<f32>(G + o) + decay * w;
    const v = momentum * load<f32>(V + o) - lr * g;
    store<f32>(V + o, v);
    store<f32>(W + o, w + v);
  }
}

// Largest argument handed to log1p (its domain ends at 2^127): reached only for subnormal x, which
// take the other way: below 2^-126, 1 − x rounds to 1 and ξ(x) = log x = log(x 2^24) − 24 ln 2, with
// x 2^24 normal (exact: a power of two), in log's domain.
const LOGIT_CAP: f32 = 8.507059e37; // 2^126
const SUBNORMAL: f32 = 1.1754944e-38; // 2^-126, the smallest normal
const TWO24: f32 = 16777216;
const LN2_24: f32 = 16.635532; // 24 ln 2

/**
 * out(n) = ξ(x) = log(x / (1 − x)) for x in [0, 1] (n f32; out may be X); ±Inf at 1 and 0. Computed as
 * log1p((2x − 1)/(1 − x)) for x >= ½ and −log1p((1 − 2x)/x) below, where 2x − 1 and 1 − 2x are exact,
 * so values near ½ keep full relative precision.
 */
export function logit(out: usize, X: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    const half = f32x4.splat(0.5);
    const cap = f32x4.splat(LOGIT_CAP);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const x = v128.load(X + o);
      const upper = f32x4.ge(x, half);
      const twox = f32x4.add(x, x);
      const num = v128.bitselect(f32x4.sub(twox, one), f32x4.sub(one, twox), upper);
      const den = v128.bitselect(f32x4.sub(one, x), x, upper);
      const l = vlog1p(f32x4.min(f32x4.div(num, den), cap));
      let r = v128.bitselect(l, f32x4.neg(l), upper);
      const tiny = f32x4.sub(vlog(f32x4.mul(x, f32x4.splat(TWO24))), f32x4.splat(LN2_24)); // (x = 0: replaced below)
      r = v128.bitselect(tiny, r, f32x4.lt(x, f32x4.splat(SUBNORMAL)));
      r = v128.bitselect(f32x4.splat(Infinity), r, f32x4.eq(x, one));
      r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
      v128.store(out + o, r);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, slogit(load<f32>(X + o)));
  }
}

// @ts-ignore: decorator
@inline
function slogit(x: f32): f32 {
  if (x == 0) return -Infinity;
  if (x == 1) return Infinity;
  if (x < SUBNORMAL) return slog(x * TWO24) - LN2_24;
  const upper = x >= 0.5;
  const twox = x + x;
  const num: f32 = upper ? twox - 1 : 1 - twox;
  const den: f32 = upper ? 1 - x : x;
  const l = slog1p(min(num / den, LOGIT_CAP));
  return upper ? l : -l;
}

/** X(M,N)[i, j] *= v(N)[j]: scale every column j by v[j]. */
export function mul_cols(X: usize, v: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) mul(X + (<usize>(i * N) << 2), X + (<usize>(i * N) << 2), v, N);
}

/** X(M,N)[i, :] *= s(M)[i]: scale every row i by s[i]. */
export function mul_rows(X: usize, s: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) scale(X + (<usize>(i * N) << 2), load<f32>(s + (<usize>i << 2)), N);
}

/** Y(M,N)[i, :] += (a * s(M)[i]) * X(M,N)[i, :]. */
export function axpy_rows(Y: usize, a: f32, s: usize, X: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    const o = <usize>(i * N) << 2;
    axpy(Y + o, a * load<f32>(s + (<usize>i << 2)), X + o, N);
  }
}

/**
 * E(M,N) = E ⊙ G + a · (G ⊙ S) ⊙ c(N) broadcast to every row: the contractive penalty's u-gradient
 * joining the encoder's (docs/math.md §6.4), in the order of the separate mul, mul_cols and axpy.
 */
export function contractive_delta(E: usize, G: usize, S: usize, c: usize, a: f32, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    const row = <usize>(i * N) << 2;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const va = f32x4.splat(a);
      for (; j + 4 <= N; j += 4) {
        const o = row + (<usize>j << 2);
        const g = v128.load(G + o);
        const t = f32x4.mul(f32x4.mul(g, v128.load(S + o)), v128.load(c + (<usize>j << 2)));
        v128.store(E + o, f32x4.add(f32x4.mul(v128.load(E + o), g), f32x4.mul(va, t)));
      }
    }
    for (; j < N; j++) {
      const o = row + (<usize>j << 2);
      const g = load<f32>(G + o);
      const t = g * load<f32>(S + o) * load<f32>(c + (<usize>j << 2));
      store<f32>(E + o, load<f32>(E + o) * g + a * t);
    }
  }
}

// The binary-output loss terms of one element a (decoder input), x (target), as the separate
// kernels computed them, in their order (σ and softplus as act/sigmoid.ts's h and H, sharing
// t = e^-|a|): delta = (σ(a) − x)·s, r = softplus(a) − x·a.
// @ts-ignore: decorator
@inline function vbernoulli(a: v128, x: v128, o: usize, Delta: usize, R: usize, vs: v128): void {
  const t = vexpn(vnegAbs(a));
  const sig = f32x4.div(vpick1t(a, t), f32x4.add(t, f32x4.splat(1)));
  v128.store(R + o, f32x4.sub(f32x4.add(vrelu(a), vlog1p(t)), f32x4.mul(x, a)));
  v128.store(Delta + o, f32x4.mul(vs, f32x4.sub(sig, x)));
}

/**
 * Delta(n) = (σ(A) − X)·s and R(n) = softplus(A) − X·A from decoder inputs A(n) and targets X(n): the
 * binary-output loss terms (the cross-entropy −[x log σ(a) + (1 − x) log(1 − σ(a))] without forming
 * log σ), one exp per value. Delta or R may be A (each value is read before either is written).
 */
export function bernoulli_terms(Delta: usize, R: usize, A: usize, X: usize, s: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(s);
    for (; i + 16 <= n; i += 16) {
      const o = <usize>i << 2;
      const a0 = v128.load(A + o), a1 = v128.load(A + o, 16), a2 = v128.load(A + o, 32), a3 = v128.load(A + o, 48);
      const x0 = v128.load(X + o), x1 = v128.load(X + o, 16), x2 = v128.load(X + o, 32), x3 = v128.load(X + o, 48);
      vbernoulli(a0, x0, o, Delta, R, vs);
      vbernoulli(a1, x1, o + 16, Delta, R, vs);
      vbernoulli(a2, x2, o + 32, Delta, R, vs);
      vbernoulli(a3, x3, o + 48, Delta, R, vs);
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      vbernoulli(v128.load(A + o), v128.load(X + o), o, Delta, R, vs);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const a = load<f32>(A + o);
    const x = load<f32>(X + o);
    const t = sexpn(snegAbs(a));
    const sig = (a >= 0 ? <f32>1 : t) / (t + 1);
    store<f32>(R + o, srelu(a) + slog1p(t) - x * a);
    store<f32>(Delta + o, s * (sig - x));
  }
}
