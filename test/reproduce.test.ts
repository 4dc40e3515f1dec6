// The reproduction machinery: finished configurations are cached and skipped; reports name the command.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cached, reproduce, type Context } from "../src/reproduce/experiments.js";
import { InputError } from "../src/errors.js";

const ctx = (dir: string): Context => ({ quick: true, dir, seed: 1, log: () => {}, command: "test" });

test("a finished configuration is read back, not computed again", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aescore-rep-"));
  let calls = 0;
  const compute = async () => ({ value: ++calls });
  const a = await cached(ctx(dir), "x", { h: 1 }, compute);
  const b = await cached(ctx(dir), "x", { h: 1 }, compute);
  const c = await cached(ctx(dir), "x", { h: 2 }, compute);
  assert.equal([a.value, b.value, c.value], [{ value: 1 }, { value: 1 }, { value: 2 }]);
  assert.equal([a.fromCache, b.fromCache, c.fromCache], [false, true, false]);
  assert.is(readdirSync(join(dir, "cache", "x")).length, 2);
});

test("unknown experiments are a clear error", async () => {
  try {
    await reproduce("table9", ctx(tmpdir()));
    assert.unreachable();
  } catch (err) {
    assert.ok(err instanceof InputError && /unknown experiment "table9" \(start, table2, table3, table4, fig2, fig3, filters\)/.test((err as Error).message));
  }
});

test.run();
