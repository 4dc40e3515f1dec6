import { test } from "uvu";
import * as assert from "uvu/assert";
import { Worker } from "node:worker_threads";
import { createEngine, createEngineSync, hasSimd, alloc, fromArray, rowsOf, mark, release, gemm } from "../src/index.js";
import { InputError, ShapeError } from "../src/errors.js";

test("SIMD is detected once and reported as the backend", () => {
  assert.ok(hasSimd(), "Node 20 validates WebAssembly SIMD");
  assert.is(createEngineSync().backend, "simd");
  assert.is(createEngineSync({ backend: "scalar" }).backend, "scalar");
  assert.throws(() => createEngineSync({ backend: "gpu" as never }), (err: unknown) =>
    err instanceof InputError && /backend must be "auto", "simd" or "scalar", not "gpu"/.test(err.message));
});

test("async creation gives the same engine", async () => {
  const e = await createEngine();
  assert.is(e.backend, "simd");
  const A = fromArray(e, "A", 1, 2, [3, 4]);
  const C = alloc(e, "C", 1, 1);
  gemm(C, A, A, { transB: true });
  assert.is(C.data[0], 25);
});

test("views survive memory growth", () => {
  const e = createEngineSync();
  const A = fromArray(e, "A", 2, 2, [1, 2, 3, 4]);
  const before = e.memory.buffer.byteLength;
  const big = alloc(e, "big", 4096, 1024); // 16 MiB: forces growth
  assert.ok(e.memory.buffer.byteLength > before);
  big.data[big.data.length - 1] = 7;
  assert.equal(Array.from(A.data), [1, 2, 3, 4]);
  assert.is(big.data[4096 * 1024 - 1], 7);
});

test("mark and release reuse the arena", () => {
  const e = createEngineSync();
  const top = mark(e);
  const a = alloc(e, "a", 10, 10);
  release(e, top);
  const b = alloc(e, "b", 10, 10);
  assert.is(a.ptr, b.ptr);
  assert.is(a.ptr % 64, 0);
});

test("rowsOf shares memory and checks its range", () => {
  const e = createEngineSync();
  const X = fromArray(e, "X", 3, 2, [1, 2, 3, 4, 5, 6]);
  const mid = rowsOf(X, 1, 3);
  assert.equal(Array.from(mid.data), [3, 4, 5, 6]);
  mid.data[0] = 9;
  assert.is(X.data[2], 9);
  assert.throws(() => rowsOf(X, 2, 4), (err: unknown) => err instanceof ShapeError && err.message === "rows 2..4 of X (3x2) are out of range");
});

test("bad allocations and copies are typed errors", () => {
  const e = createEngineSync();
  assert.throws(() => alloc(e, "X", -1, 3), /alloc X: shape must be two non-negative integers, not -1x3/);
  assert.throws(() => fromArray(e, "X", 2, 2, [1, 2, 3]), /X: 3 values given for a 2x2 matrix \(4\)/);
  assert.throws(() => alloc(e, "huge", 70000, 70000), (err: unknown) => err instanceof InputError && /out of memory/.test(err.message));
});

test("the engine loads and computes inside a worker", async () => {
  const url = new URL("../src/index.js", import.meta.url).href;
  const code = `
    const { parentPort } = require("node:worker_threads");
    import(${JSON.stringify(url)}).then(({ createEngineSync, fromArray, alloc, gemm }) => {
      const e = createEngineSync();
      const A = fromArray(e, "A", 1, 3, [1, 2, 3]);
      const C = alloc(e, "C", 1, 1);
      gemm(C, A, A, { transB: true });
      parentPort.postMessage([e.backend, C.data[0]]);
    });`;
  const result = await new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once("message", resolve);
    w.once("error", reject);
  });
  assert.equal(result, ["simd", 14]);
});

test.run();
