// The small fused kernels. Policy "exact": the reference repeats each f32 operation in float64 and
// rounds it with Math.fround (exact for + - * since 53 >= 2*24 + 2), in the documented order, so
// both builds must match it bit for bit.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync, alloc, mark, release, type Engine, type Mat } from "../src/engine/engine.js";
import { addRowBias, axpy, scale, mul, sub, sgdMomentum, colSums, rowSums, rowSumsq, rowBinaryEntropy, logit, bernoulliTerms, colSumsq, contractiveDelta, mulCols } from "../src/engine/kernels.js";
import { activation } from "../src/engine/activations.js";
import { ShapeError } from "../src/errors.js";
import { SIZES, randMat, nanMat, rng, sameBits, within } from "./util.js";

const f = Math.fround;
const engines = [createEngineSync({ backend: "simd" }), createEngineSync({ backend: "scalar" })];

function exact(got: Float32Array, want: ArrayLike<number>, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], f(want[i]))) assert.unreachable(`${what}: element ${i} is ${got[i]}, want ${want[i]}`);
  }
}

// Runs body on both builds over every size pair (rows, cols) drawn from SIZES.
function each(body: (e: Engine, M: number, N: number, seed: number, tag: string) => void): void {
  for (const e of engines) {
    let seed = 1;
    for (const M of [1, 3, 17, 100]) {
      for (const N of M === 100 ? [...SIZES, 500, 784] : SIZES) {
        const top = mark(e);
        body(e, M, N, seed++, `${e.backend} ${M}x${N}`);
        release(e, top);
      }
    }
  }
}

function rowSumRef(x: ArrayLike<number>, square: boolean): number {
  const N4 = x.length & ~3;
  const s = [0, 0, 0, 0];
  for (let j = 0; j < N4; j++) s[j & 3] = f(s[j & 3] + (square ? f(x[j] * x[j]) : x[j]));
  let t = f(f(s[0] + s[1]) + f(s[2] + s[3]));
  for (let j = N4; j < x.length; j++) t = f(t + (square ? f(x[j] * x[j]) : x[j]));
  return t;
}

function row(m: Mat, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

test("addRowBias", () => each((e, M, N, seed, tag) => {
  const r = rng(seed);
  const X = randMat(e, r, "X", M, N);
  const b = randMat(e, r, "b", 1, N);
  const want = X.data.map((x, i) => f(x + b.data[i % N]));
  addRowBias(X, b);
  exact(X.data, want, tag);
  const minus = X.data.map((x, i) => f(x + f(-0.5 * b.data[i % N])));
  addRowBias(X, b, -0.5);
  exact(X.data, minus, `alpha ${tag}`);
}));

test("axpy, scale, mul, sub", () => each((e, M, N, seed, tag) => {
  const r = rng(seed);
  const x = randMat(e, r, "x", M, N);
  const y = randMat(e, r, "y", M, N);
  const a = f(r.uniform() * 4 - 2);
  const want = y.data.map((v, i) => f(v + f(a * x.data[i])));
  axpy(y, a, x);
  exact(y.data, want, `axpy ${tag}`);
  const s = y.data.map((v) => f(a * v));
  scale(y, a);
  exact(y.data, s, `scale ${tag}`);
  const out = nanMat(e, "out", M, N);
  mul(out, x, y);
  exact(out.data, x.data.map((v, i) => f(v * y.data[i])), `mul ${tag}`);
  sub(out, x, y);
  exact(out.data, x.data.map((v, i) => f(v - y.data[i])), `sub ${tag}`);
  const before = x.data.slice();
  mul(x, x, x); // in place
  exact(x.data, before.map((v) => f(v * v)), `mul in place ${tag}`);
}));

test("sgdMomentum", () => each((e, M, N, seed, tag) => {
  const r = rng(seed);
  const W = randMat(e, r, "W", M, N);
  const V = randMat(e, r, "V", M, N, -0.1, 0.1);
  const G = randMat(e, r, "G", M, N);
  const [lr, momentum, decay] = [f(0.01), f(0.9), f(1e-4)];
  const w0 = W.data.slice();
  const v = V.data.map((v0, i) => f(f(momentum * v0) - f(lr * f(G.data[i] + f(decay * w0[i])))));
  const w = w0.map((x, i) => f(x + v[i]));
  sgdMomentum(W, V, G, { lr, momentum, weightDecay: decay });
  exact(V.data, v, `V ${tag}`);
  exact(W.data, w, `W ${tag}`);
}));

test("colSums, rowSums, rowSumsq follow the documented order", () => each((e, M, N, seed, tag) => {
  const r = rng(seed);
  const X = randMat(e, r, "X", M, N);
  const c = nanMat(e, "c", 1, N);
  colSums(c, X);
  const want = new Float64Array(N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) want[j] = f(want[j] + X.data[i * N + j]);
  exact(c.data, want, `colSums ${tag}`);
  colSums(c, X, { accumulate: true });
  exact(c.data, want.map((v) => f(v + v)), `colSums accumulate ${tag}`);
  const s = nanMat(e, "s", M, 1);
  rowSums(s, X);
  exact(s.data, Array.from({ length: M }, (_, i) => rowSumRef(row(X, i), false)), `rowSums ${tag}`);
  rowSumsq(s, X);
  exact(s.data, Array.from({ length: M }, (_, i) => rowSumRef(row(X, i), true)), `rowSumsq ${tag}`);
  // and the float64 sums within the usual bound
  for (let i = 0; i < M; i++) {
    const exactSum = row(X, i).reduce((a, v) => a + v * v, 0);
    assert.ok(Math.abs(s.data[i] - exactSum) <= (N + 2) * 2 ** -24 * exactSum + 1e-30, `${tag} row ${i}`);
  }
}));

// Kernels built on exp and log: policy "relative", against float64 definitions, and the SIMD and
// scalar builds bit for bit.
function bothBuilds(M: number, N: number, seed: number, lo: number, hi: number, body: (e: Engine, X: Mat) => Float32Array): [Float32Array, Float32Array, Float64Array] {
  const outs = engines.map((e) => {
    const top = mark(e);
    const X = randMat(e, rng(seed), "X", M, N, lo, hi);
    const out = body(e, X).slice();
    release(e, top);
    return out;
  });
  const X = Float64Array.from({ length: M * N }, ((r) => () => lo + (hi - lo) * r.uniform())(rng(seed)));
  return [outs[0], outs[1], Float64Array.from(X, (v) => f(v))];
}

test("rowBinaryEntropy, logit: float64 definitions, 0 log 0 = 0, ±Inf at the ends", () => {
  let seed = 500;
  for (const M of [1, 3, 17]) {
    for (const N of SIZES) {
      const [a, b, x] = bothBuilds(M, N, seed++, 0, 1, (e, X) => {
        if (N > 2) X.data.set([0, 1], 0); // exact ends inside the vector part
        const out = nanMat(e, "H", M, 1);
        rowBinaryEntropy(out, X);
        return out.data;
      });
      if (N > 2) x.set([0, 1], 0);
      assert.ok(sameBits(a, b), `entropy simd vs scalar ${M}x${N}`);
      const want = Array.from({ length: M }, (_, i) => {
        let s = 0;
        for (let j = 0; j < N; j++) {
          const v = x[i * N + j];
          if (v > 0) s -= v * Math.log(v);
          if (v < 1) s -= (1 - v) * Math.log(1 - v);
        }
        return s;
      });
      assert.is(within(a, want, (i) => 4e-6 * N * (1 + want[i])), "", `entropy ${M}x${N}`);
      // (the ends, ½, and subnormal x: below 2^-126 ξ(x) goes on down to log(2^-149) ≈ −103.3)
      const edges = [0, 1, 0.5, 1e-40, 1.4e-45, 1e-38, 1.2e-38];
      const [la, lb, lx] = bothBuilds(M, N, seed++, 0, 1, (_e, X) => {
        X.data.set(edges.slice(0, N - 1), 0);
        logit(X, X);
        return X.data;
      });
      lx.set(edges.slice(0, N - 1).map(Math.fround), 0);
      assert.ok(sameBits(la, lb), `logit simd vs scalar ${M}x${N}`);
      const lw = Array.from(lx, (v) => Math.log(v / (1 - v)));
      assert.is(within(la, lw, (i) => 2e-6 * Math.abs(lw[i])), "", `logit ${M}x${N}`);
    }
  }
  // near ½ the result keeps its relative precision
  const e = engines[0];
  const X = alloc(e, "X", 1, 4);
  X.data.set([0.5000001, 0.4999999, 1e-30, 0.99999994]);
  logit(X, X);
  const want = [0.5000001, 0.4999999, 1e-30, 0.99999994].map((v) => Math.log(f(v) / (1 - f(v))));
  assert.is(within(X.data, want, (i) => 2e-6 * Math.abs(want[i])), "");
});

// The same bits, but any NaN equals any NaN: WebAssembly leaves a NaN result's sign and payload to
// the engine (V8's two compilers may differ), so NaN outputs are compared as NaN.
function sameOrNaN(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i])));
}

test("bernoulliTerms: the bits of the kernels it fuses (σ, softplus, mul, sub, scale), a float64 reference, edge values, in place", () => {
  const EDGES = [0, -0, 1e-30, -1e-30, 1e-45, 0.5, -0.5, 16.6, -16.6, 88, -88, 104, -104, 1e30, -1e30, Infinity, -Infinity, NaN];
  for (const e of engines) {
    let seed = 700;
    for (const M of [1, 3, 17, 100]) {
      for (const N of M === 100 ? [...SIZES, 784] : SIZES) {
        const top = mark(e);
        const tag = `${e.backend} ${M}x${N}`;
        const r = rng(seed++);
        const A = randMat(e, r, "A", M, N, -30, 30);
        const X = randMat(e, r, "X", M, N, 0, 1);
        for (let i = 0; i < Math.min(EDGES.length, M * N); i++) A.data[(i * 7) % (M * N)] = EDGES[i];
        if (M * N > 2) X.data.set([0, 1], 0);
        const s = 1 / (M + 2);
        // the separate kernels, as training computed the terms before
        const A2 = alloc(e, "A2", M, N);
        A2.data.set(A.data);
        const D0 = nanMat(e, "D0", M, N), R0 = nanMat(e, "R0", M, N);
        activation("sigmoid", A2, { h: D0, H: R0 });
        mul(A2, X, A2);
        sub(R0, R0, A2);
        sub(D0, D0, X);
        scale(D0, s);
        const D1 = nanMat(e, "D1", M, N), R1 = nanMat(e, "R1", M, N);
        bernoulliTerms(D1, R1, A, X, s);
        assert.ok(sameOrNaN(D1.data, D0.data), `${tag}: Delta differs from the separate kernels`);
        assert.ok(sameOrNaN(R1.data, R0.data), `${tag}: R differs from the separate kernels`);
        // in place: Delta = A, and R = A
        const A3 = alloc(e, "A3", M, N);
        A3.data.set(A.data);
        const R3 = nanMat(e, "R3", M, N);
        bernoulliTerms(A3, R3, A3, X, s);
        assert.ok(sameOrNaN(A3.data, D0.data) && sameOrNaN(R3.data, R0.data), `${tag}: Delta = A`);
        A3.data.set(A.data);
        const D3 = nanMat(e, "D3", M, N);
        bernoulliTerms(D3, A3, A3, X, s);
        assert.ok(sameOrNaN(D3.data, D0.data) && sameOrNaN(A3.data, R0.data), `${tag}: R = A`);
        // float64: σ(a) − x scaled, softplus(a) − x a
        for (let i = 0; i < M * N; i++) {
          const a = A.data[i], x = X.data[i];
          if (Number.isNaN(a)) {
            assert.ok(Number.isNaN(D1.data[i]) && Number.isNaN(R1.data[i]), `${tag}: NaN at ${i}`);
            continue;
          }
          const sig = a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a));
          const sp = Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
          const wantD = f(s) * (sig - x);
          const wantR = sp - x * a; // (at a = ±∞, x a is NaN for x = 0, as in the separate kernels)
          assert.ok(Math.abs(D1.data[i] - wantD) <= 2e-6 * Math.abs(f(s)) + 1e-7 * Math.abs(wantD), `${tag}: Delta[${i}] ${D1.data[i]} vs ${wantD} (a ${a}, x ${x})`);
          if (!Number.isFinite(a)) continue;
          assert.ok(Math.abs(R1.data[i] - wantR) <= 2e-6 * (Math.abs(sp) + Math.abs(x * a)) + 1e-37, `${tag}: R[${i}] ${R1.data[i]} vs ${wantR} (a ${a}, x ${x})`);
        }
        release(e, top);
      }
    }
  }
});

test("colSumsq, contractiveDelta: the bits of the kernels they fuse (mul + colSums; mul, mul, mulCols, axpy) and of the f32 reference", () => each((e, M, N, seed, tag) => {
  const r = rng(seed + 900);
  const G = randMat(e, r, "G", M, N, -2, 2);
  const S = randMat(e, r, "S", M, N, -1, 1);
  const E = randMat(e, r, "E", M, N, -1, 1);
  const c = randMat(e, r, "c", 1, N, 0, 3);
  const a = 0.37;
  // g2 = Σ_b G², as mul then colSums
  const T = alloc(e, "T", M, N);
  mul(T, G, G);
  const want = nanMat(e, "want", 1, N);
  colSums(want, T);
  const got = nanMat(e, "got", 1, N);
  colSumsq(got, G);
  assert.ok(sameBits(got.data, want.data), `${tag}: colSumsq`);
  const ref = Array.from({ length: N }, (_, j) => {
    let s = 0;
    for (let i = 0; i < M; i++) s = f(s + f(G.data[i * N + j] * G.data[i * N + j]));
    return s;
  });
  exact(got.data, ref, `${tag}: colSumsq vs f32 reference`);
  // E ⊙ G + a (G ⊙ S) ⊙ c, as mul, mul, mulCols, axpy
  const E0 = alloc(e, "E0", M, N);
  E0.data.set(E.data);
  mul(E0, E0, G);
  mul(T, G, S);
  mulCols(T, c);
  axpy(E0, a, T);
  const E1 = alloc(e, "E1", M, N);
  E1.data.set(E.data);
  contractiveDelta(E1, G, S, c, a);
  assert.ok(sameBits(E1.data, E0.data), `${tag}: contractiveDelta`);
  exact(E1.data, Array.from(E.data, (v, i) => f(f(v * G.data[i]) + f(f(a) * f(f(G.data[i] * S.data[i]) * c.data[i % N])))), `${tag}: contractiveDelta vs f32 reference`);
}));

test("shape errors", () => {
  const e = engines[0];
  const X = alloc(e, "Hd", 100, 500);
  assert.throws(() => addRowBias(X, alloc(e, "bh", 1, 499)), (err: unknown) =>
    err instanceof ShapeError && err.message === "addRowBias: bh 1x499 must be 1x500 (one bias per column of Hd 100x500)");
  assert.throws(() => mul(X, X, alloc(e, "G", 500, 100)), /Hd 100x500 and G 500x100 must have the same shape/);
  assert.throws(() => colSums(alloc(e, "dbr", 500, 1), X), /dbr 500x1 must be 1x500/);
  assert.throws(() => rowSums(alloc(e, "E", 1, 100), X), /E 1x100 must be 100x1/);
  assert.throws(() => bernoulliTerms(alloc(e, "Delta", 100, 500), alloc(e, "R", 100, 500), X, alloc(e, "X", 100, 499), 1), /bernoulliTerms: Hd 100x500 and X 100x499 must have the same shape/);
  assert.throws(() => bernoulliTerms(alloc(e, "Delta", 100, 500), alloc(e, "R", 50, 500), X, X, 1), /bernoulliTerms: R 50x500 and Hd 100x500 must have the same shape/);
  assert.throws(() => colSumsq(alloc(e, "g2", 500, 1), X), /colSumsq: g2 500x1 must be 1x500/);
  assert.throws(() => contractiveDelta(X, X, X, alloc(e, "c", 1, 499), 1), /contractiveDelta: c 1x499 must be 1x500/);
  assert.throws(() => contractiveDelta(X, X, alloc(e, "S", 100, 499), alloc(e, "c", 1, 500), 1), /contractiveDelta: .* must have the same shape/);
});

test.run();
