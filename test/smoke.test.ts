import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync, fromArray, alloc, gemm } from "../src/index.js";

test("engine picks a backend and multiplies", () => {
  const e = createEngineSync();
  assert.ok(e.backend === "simd" || e.backend === "scalar");
  const A = fromArray(e, "A", 2, 3, [1, 2, 3, 4, 5, 6]);
  const B = fromArray(e, "B", 3, 1, [1, 1, 1]);
  const C = alloc(e, "C", 2, 1);
  gemm(C, A, B);
  assert.equal(Array.from(C.data), [6, 15]);
});

test.run();
