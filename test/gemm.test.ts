import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync, alloc, mark, release, type Engine } from "../src/engine/engine.js";
import { gemm, gemmPacked, packB, type GemmOptions } from "../src/engine/kernels.js";
import { ShapeError } from "../src/errors.js";
import { gemmRef } from "./ref/linalg.js";
import { SIZES, randMat, nanMat, within, sameBits, rng } from "./util.js";

const simd = createEngineSync({ backend: "simd" });
const scalar = createEngineSync({ backend: "scalar" });

interface Case { M: number; K: number; N: number; transA: boolean; transB: boolean; alpha: number; beta: number }

// Runs one product on both builds: checks each against the float64 reference within the rounding
// bound of sequential summation, and the two builds against each other bit for bit.
function check(c: Case, seed: number): void {
  const { M, K, N, transA, transB, alpha, beta } = c;
  const results: Float32Array[] = [];
  for (const e of [simd, scalar]) {
    const top = mark(e);
    const rr = rng(seed);
    const A = transA ? randMat(e, rr, "A", K, M) : randMat(e, rr, "A", M, K);
    const B = transB ? randMat(e, rr, "B", N, K) : randMat(e, rr, "B", K, N);
    const C = beta === 0 ? nanMat(e, "C", M, N) : randMat(e, rr, "C", M, N);
    const C0 = Float64Array.from(C.data);
    const want = gemmRef(M, N, K, alpha, A.data, A.cols, transA, B.data, B.cols, transB, beta, C0);
    gemm(C, A, B, { transA, transB, alpha, beta });
    const msg = within(C.data, want.C, (i) => want.bound[i]);
    assert.is(msg, "", `${e.backend} ${JSON.stringify(c)}: ${msg}`);
    results.push(C.data.slice());
    release(e, top);
  }
  assert.ok(sameBits(results[0], results[1]), `simd and scalar differ on ${JSON.stringify(c)}`);
}

const OPS: Array<[boolean, boolean, string]> = [
  [false, false, "A*B"],
  [false, true, "A*B^T"],
  [true, false, "A^T*B"],
  [true, true, "A^T*B^T"],
];

for (const [transA, transB, name] of OPS) {
  test(`gemm ${name}: every size in each dimension`, () => {
    let seed = 1;
    for (let a = 0; a < SIZES.length; a++) {
      for (let b = 0; b < SIZES.length; b++) {
        const K = SIZES[(a + 2 * b) % SIZES.length];
        check({ M: SIZES[a], N: SIZES[b], K, transA, transB, alpha: 1, beta: 0 }, seed++);
      }
    }
  });
}

test("gemm: block edges (K past 256, M past 128, N past 1024)", () => {
  const shapes: Array<[number, number, number]> = [[5, 257, 9], [129, 300, 17], [3, 513, 1025], [130, 33, 1030]];
  let seed = 100;
  for (const [M, K, N] of shapes) {
    for (const [transA, transB] of OPS) check({ M, K, N, transA, transB, alpha: 1, beta: 0 }, seed++);
  }
});

test("gemm: alpha and beta", () => {
  let seed = 200;
  for (const [alpha, beta] of [[-0.5, 1], [2, 0.25], [1, -1], [0, 1]]) {
    for (const [transA, transB] of OPS) check({ M: 17, K: 300, N: 33, transA, transB, alpha, beta }, seed++);
  }
});

test("gemm: the autoencoder products", () => {
  check({ M: 100, K: 784, N: 500, transA: false, transB: false, alpha: 1, beta: 0 }, 300);
  check({ M: 100, K: 500, N: 784, transA: false, transB: true, alpha: 1, beta: 0 }, 301);
  check({ M: 784, K: 100, N: 500, transA: true, transB: false, alpha: 1, beta: 1 }, 302);
});

test("gemm: repeated calls are bit-identical", () => {
  const e = simd;
  const top = mark(e);
  const r = rng(7);
  const A = randMat(e, r, "A", 100, 784);
  const B = randMat(e, r, "B", 500, 784);
  const C1 = nanMat(e, "C1", 100, 500);
  const C2 = nanMat(e, "C2", 100, 500);
  gemm(C1, A, B, { transB: true });
  gemm(C2, A, B, { transB: true });
  gemm(C2, A, B, { transB: true });
  assert.ok(sameBits(C1.data, C2.data));
  release(e, top);
});

test("gemm: a NaN in A poisons only its row of C", () => {
  const e = simd;
  const top = mark(e);
  const r = rng(8);
  const A = randMat(e, r, "A", 9, 20);
  const B = randMat(e, r, "B", 20, 11);
  const C = nanMat(e, "C", 9, 11);
  A.data[4 * 20 + 3] = NaN;
  gemm(C, A, B);
  for (let i = 0; i < 9; i++) {
    for (let j = 0; j < 11; j++) {
      assert.is(Number.isNaN(C.data[i * 11 + j]), i === 4, `C[${i},${j}]`);
    }
  }
  release(e, top);
});

test("gemm: K = 0 gives beta*C; empty outputs are fine", () => {
  const e: Engine = simd;
  const A = alloc(e, "A", 3, 0);
  const B = alloc(e, "B", 0, 2);
  const C = nanMat(e, "C", 3, 2);
  gemm(C, A, B);
  assert.equal(Array.from(C.data), [0, 0, 0, 0, 0, 0]);
  gemm(alloc(e, "C", 0, 2), alloc(e, "A", 0, 5), alloc(e, "B", 5, 2));
});

test("gemm: wrong shapes throw a ShapeError naming both operands", () => {
  const e = simd;
  const A = alloc(e, "X", 100, 784);
  const W = alloc(e, "W", 500, 784);
  const U = alloc(e, "U", 100, 500);
  assert.throws(() => gemm(U, A, W), (err: unknown) =>
    err instanceof ShapeError &&
    err.message === "gemm: X is 100x784 (X 100x784) but W is 500x784 (W 500x784): inner dimensions 784 and 500 differ");
  assert.throws(() => gemm(alloc(e, "U", 100, 499), A, W, { transB: true } satisfies GemmOptions), (err: unknown) =>
    err instanceof ShapeError && err.message === "gemm: X*W^T is 100x500 but the output U 100x499 is not");
  assert.throws(() => gemm(A, A, alloc(e, "I", 784, 784)), /output X overlaps input X/);
  assert.throws(() => gemm(U, alloc(scalar, "X", 100, 784), W, { transB: true }), /lives in another engine/);
});


test("a packed operand gives gemm's bits (odd shapes, one row and more, every beta, past one KC and NC block)", () => {
  const e = createEngineSync();
  const r = rng(21);
  for (const [M, N, K] of [[1, 1, 1], [1, 17, 3], [3, 33, 257], [1, 1030, 300], [5, 9, 520], [4, 8, 8], [1, 500, 784]]) {
    for (const transB of [false, true]) {
      for (const beta of [0, 1, 0.5]) {
        const A = randMat(e, r, "A", M, K);
        const B = transB ? randMat(e, r, "B", N, K) : randMat(e, r, "B", K, N);
        const C0 = randMat(e, r, "C0", M, N);
        const want = alloc(e, "want", M, N);
        want.data.set(C0.data);
        gemm(want, A, B, { transB, alpha: 0.75, beta });
        const got = alloc(e, "got", M, N);
        got.data.set(C0.data);
        gemmPacked(got, A, packB(B, { transB }), { alpha: 0.75, beta });
        assert.ok(sameBits(got.data, want.data), `M ${M} N ${N} K ${K} transB ${transB} beta ${beta}`);
      }
    }
  }
});

test.run();
