// Reductions, f32, with one fixed summation order shared by the SIMD and scalar builds (bit-identical):
// - along a column (col_sums): rows are added in increasing order, lanes run over columns;
// - along a row (row_sums, row_sumsq): four partial sums s_l over j = l (mod 4) for j < N - N%4, in
//   increasing j, combined as (s0 + s1) + (s2 + s3), then the last N%4 elements added in order.

import { vlog, slog } from "./mathf";

/** out(N) = sum over rows of X(M,N), or out += that when accumulate = 1. */
export function col_sums(out: usize, X: usize, M: i32, N: i32, accumulate: i32): void {
  colSum(out, X, M, N, false, accumulate != 0);
}

/** out(N) = sum of squares of each column of X(M,N): col_sums of X ⊙ X, the same order (the contractive Σ_b h'(u)²). */
export function col_sumsq(out: usize, X: usize, M: i32, N: i32): void {
  colSum(out, X, M, N, true, false);
}

// Column sums in the column order (rows added in increasing order, lanes over columns), of X or X ⊙ X.
// @ts-ignore: decorator
@inline
function colSum(out: usize, X: usize, M: i32, N: i32, square: bool, accumulate: bool): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= N; j += 4) {
      let s = f32x4.splat(0);
      let p = X + (<usize>j << 2);
      for (let i = 0; i < M; i++) {
        const x = v128.load(p);
        s = f32x4.add(s, square ? f32x4.mul(x, x) : x);
        p += <usize>N << 2;
      }
      const o = out + (<usize>j << 2);
      v128.store(o, accumulate ? f32x4.add(v128.load(o), s) : s);
    }
  }
  for (; j < N; j++) {
    let s: f32 = 0;
    let p = X + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      const x = load<f32>(p);
      s += square ? x * x : x;
      p += <usize>N << 2;
    }
    const o = out + (<usize>j << 2);
    store<f32>(o, accumulate ? load<f32>(o) + s : s);
  }
}

/** out(M) = sum of each row of X(M,N). */
export function row_sums(out: usize, X: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    store<f32>(out + (<usize>i << 2), rowSum(X + (<usize>(i * N) << 2), N, false));
  }
}

/** out(M) = sum of squares of each row of X(M,N). */
export function row_sumsq(out: usize, X: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    store<f32>(out + (<usize>i << 2), rowSum(X + (<usize>(i * N) << 2), N, true));
  }
}

// @ts-ignore: decorator
@inline
function rowSum(p: usize, N: i32, square: bool): f32 {
  const N4 = N & ~3;
  let s: f32;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(0);
    for (let j = 0; j < N4; j += 4) {
      const x = v128.load(p + (<usize>j << 2));
      v = f32x4.add(v, square ? f32x4.mul(x, x) : x);
    }
    s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let j = 0; j < N4; j += 4) {
      const q = p + (<usize>j << 2);
      const x0 = load<f32>(q), x1 = load<f32>(q, 4), x2 = load<f32>(q, 8), x3 = load<f32>(q, 12);
      s0 += square ? x0 * x0 : x0;
      s1 += square ? x1 * x1 : x1;
      s2 += square ? x2 * x2 : x2;
      s3 += square ? x3 * x3 : x3;
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (let j = N4; j < N; j++) {
    const x = load<f32>(p + (<usize>j << 2));
    s += square ? x * x : x;
  }
  return s;
}

// ---- reductions through exp and log (cores in mathf.ts; same 4-lane order as rowSum) ----------

/** out(M) = −Σ_j [x log x + (1−x) log(1−x)] per row of X(M,N), x in [0,1], with 0 log 0 = 0. */
export function row_binary_entropy(out: usize, X: usize, M: i32, N: i32): void {
  const N4 = N & ~3;
  for (let i = 0; i < M; i++) {
    const p = X + (<usize>(i * N) << 2);
    let s: f32;
    if (ASC_FEATURE_SIMD) {
      let v = f32x4.splat(0);
      const zero = f32x4.splat(0);
      for (let j = 0; j < N4; j += 4) {
        const x = v128.load(p + (<usize>j << 2));
        const y = f32x4.sub(f32x4.splat(1), x);
        const a = v128.bitselect(zero, f32x4.mul(x, vlog(x)), f32x4.eq(x, zero));
        const b = v128.bitselect(zero, f32x4.mul(y, vlog(y)), f32x4.eq(y, zero));
        v = f32x4.add(v, f32x4.add(a, b));
      }
      s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
    } else {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      for (let j = 0; j < N4; j += 4) {
        const q = p + (<usize>j << 2);
        s0 += xlogxTerm(load<f32>(q));
        s1 += xlogxTerm(load<f32>(q, 4));
        s2 += xlogxTerm(load<f32>(q, 8));
        s3 += xlogxTerm(load<f32>(q, 12));
      }
      s = (s0 + s1) + (s2 + s3);
    }
    for (let j = N4; j < N; j++) s += xlogxTerm(load<f32>(p + (<usize>j << 2)));
    store<f32>(out + (<usize>i << 2), -s);
  }
}

// x log x + (1−x) log(1−x), the scalar twin of the vector loop above.
// @ts-ignore: decorator
@inline
function xlogxTerm(x: f32): f32 {
  const y: f32 = 1 - x;
  const a: f32 = x == 0 ? 0 : x * slog(x);
  const b: f32 = y == 0 ? 0 : y * slog(y);
  return a + b;
}
