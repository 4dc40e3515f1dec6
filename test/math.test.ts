// exp and log from basic arithmetic (src/math.ts) against the host's, within the 2 ulp they promise,
// and their limits.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { exp, log } from "../src/math.js";
import { rng } from "./util.js";

function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const f = new Float64Array([a, b]);
  const i = new BigInt64Array(f.buffer);
  return Math.abs(Number(i[0] - i[1]));
}

test("exp and log are within 2 ulp of Math.exp and Math.log over their whole range", () => {
  const r = rng(5);
  for (let n = 0; n < 100000; n++) {
    const x = (r.uniform() - 0.5) * 1400;
    assert.ok(ulps(exp(x), Math.exp(x)) <= 2, `exp(${x}) = ${exp(x)}, Math.exp ${Math.exp(x)}`);
    const y = Math.exp((r.uniform() - 0.5) * 1400);
    if (y > 0 && Number.isFinite(y)) assert.ok(ulps(log(y), Math.log(y)) <= 2, `log(${y}) = ${log(y)}, Math.log ${Math.log(y)}`);
  }
  for (const y of [5e-324, 2.2250738585072014e-308, 1e-300, 0.5, 1 - 2 ** -53, 1, 1 + 2 ** -52, Math.SQRT2, 1.7976931348623157e308]) {
    assert.ok(ulps(log(y), Math.log(y)) <= 2, `log(${y})`);
  }
});

test("limits: exact at 0 and 1, NaN and infinities where the math says", () => {
  assert.is(exp(0), 1);
  assert.is(log(1), 0);
  assert.is(exp(800), Infinity);
  assert.is(exp(-800), 0);
  assert.is(exp(-Infinity), 0);
  assert.ok(Number.isNaN(exp(NaN)));
  assert.is(log(0), -Infinity);
  assert.is(log(Infinity), Infinity);
  assert.ok(Number.isNaN(log(-1)));
  assert.ok(Number.isNaN(log(NaN)));
});

test.run();
