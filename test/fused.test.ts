// The small fused kernels. Policy "exact": the reference repeats each f32 operation in float64 and
// rounds it with Math.fround (exact for + - * since 53 >= 2*24 + 2), in the documented order, so
// both builds must match it bit for bit.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync, alloc, mark, release, type Engine, type Mat } from "../src/engine.js";
import { addRowBias, axpy, scale, mul, sub, sgdMomentum, colSums, rowSums, rowSumsq } from "../src/kernels.js";
import { ShapeError } from "../src/errors.js";
import { SIZES, randMat, nanMat, rng } from "./util.js";

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
      for (const N of SIZES) {
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
  sgdMomentum(W, V, G, { lr, momentum, decay });
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

test("shape errors", () => {
  const e = engines[0];
  const X = alloc(e, "Hd", 100, 500);
  assert.throws(() => addRowBias(X, alloc(e, "bh", 1, 499)), (err: unknown) =>
    err instanceof ShapeError && err.message === "addRowBias: bh 1x499 must be 1x500 (one bias per column of Hd 100x500)");
  assert.throws(() => mul(X, X, alloc(e, "G", 500, 100)), /Hd 100x500 and G 500x100 must have the same shape/);
  assert.throws(() => colSums(alloc(e, "dbr", 500, 1), X), /dbr 500x1 must be 1x500/);
  assert.throws(() => rowSums(alloc(e, "E", 1, 100), X), /E 1x100 must be 100x1/);
});

test.run();
