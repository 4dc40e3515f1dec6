// The reproduction machinery: finished configurations are cached and skipped; reports name the command.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cached, reproduce, type Context } from "../src/reproduce/experiments.js";
import { InputError } from "../src/errors.js";
import { experimentOf, searchPlan, successiveHalving, drawConfigs, type Config, type SearchPlan } from "../src/reproduce/search.js";
import type { EpochReport } from "../src/train/driver.js";
import { fit, FIT_DEFAULTS } from "../src/train/fit.js";
import { createEngineSync } from "../src/engine/engine.js";
import { rng } from "../src/random.js";
import { NotCached, testError } from "../src/reproduce/common.js";
import { fileURLToPath } from "node:url";
import { TABLE2, judgeRefit, refitFailed } from "../src/reproduce/models.js";
import { TABLE3_ROWS, benchmark } from "../src/reproduce/benchmark.js";
import { cellPlan, finishedCell } from "../src/reproduce/table3.js";
import { variantPlan } from "../src/reproduce/table4.js";
import { finishedSearch, label } from "../src/reproduce/search.js";

const ctx = (dir: string): Context => ({ quick: true, dir, seed: 1, log: () => {}, command: "test" });

/** Three classes of 6-pixel rows around different means, as the search's splits: small enough for seconds. */
function toyData(seed: number) {
  const r = rng(seed);
  const D = 6;
  const split = (n: number) => {
    const labels = Array.from({ length: n }, (_, i) => String(i % 3));
    const data = Float32Array.from({ length: n * D }, (_, i) => 0.3 * Number(labels[Math.floor(i / D)]) * ((i % D) / D) + 0.4 * r.uniform());
    return { X: { shape: [n, D], data }, labels };
  };
  const [train, valid, test] = [split(300), split(90), split(90)];
  const all = { X: { shape: [390, D], data: Float32Array.from([...train.X.data, ...valid.X.data]) }, labels: [...train.labels, ...valid.labels] };
  return { train, valid, all, test };
}

/** Configuration k fitted afresh to 2 finetuning epochs, its options written out here (not the search's). */
function freshFit(k: Config, plan: SearchPlan, data: ReturnType<typeof toyData>, model: { activation: "sigmoid" | "tanh"; factored: boolean }, onFinetune?: (e: EpochReport) => void) {
  return fit(createEngineSync(), data.train.X, data.train.labels, {
    hidden: k.hidden, ...(model.factored ? { factors: k.hidden } : {}), activation: model.activation, output: "real", variant: "csae", seed: 1, workers: 0, valid: data.valid,
    pretrain: { epochs: plan.pretrainEpochs, batch: 100, lr: k.pretrainLr!, momentum: 0.9, weightDecay: 0, contractive: k.contractive ?? 0, denoising: k.denoising ?? 0, renormalize: 0, patience: 0 },
    finetune: { epochs: 2, batch: 100, lr: (k.finetuneLr! * 100) / k.hidden, momentum: 0.9, weightDecay: k.weightDecay, loss: "log", learn: "all", patience: 0, decay: plan.decay },
    onFinetune,
  });
}

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

test("an entry its check refuses (an earlier version's) is computed again and replaced", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aescore-rep-"));
  let calls = 0;
  await cached(ctx(dir), "x", { h: 1 }, async () => ({ a: ++calls }));
  const lines: string[] = [];
  const c = { ...ctx(dir), log: (l: string) => void lines.push(l) };
  const b = await cached(c, "x", { h: 1 }, async () => ({ a: ++calls, b: 1 }), (v: { b?: number }) => v.b !== undefined);
  assert.equal([b.value, b.fromCache], [{ a: 2, b: 1 }, false]);
  assert.ok(lines.some((l) => /an entry from an earlier version/.test(l)));
  const again = await cached(c, "x", { h: 1 }, async () => ({ a: ++calls, b: 1 }), (v: { b?: number }) => v.b !== undefined);
  assert.equal([again.value, again.fromCache, calls], [{ a: 2, b: 1 }, true, 2]);
});

test("a refit fails when it fits its own rows worse than the validated model predicted unseen ones", () => {
  // 2000 validation rows at 25%: the standard error is 0.97 points, the bound 25 + 1.94.
  assert.not.ok(refitFailed(26.9, 25, 2000));
  assert.ok(refitFailed(27, 25, 2000));
  assert.ok(refitFailed(50, 27.19, 2000), "rectangles-image's collapse to chance");
  assert.not.ok(refitFailed(0, 0, 200));
  // At 0% on validation, one row's worth: 2·sqrt((1/200)(199/200)/200) = 0.997 points.
  assert.not.ok(refitFailed(0.99, 0, 200));
  assert.ok(refitFailed(1.0, 0, 200));
});

test("a refit retried at smaller learning rates than the validated fit's has failed; unrecorded retries judge nothing", () => {
  const lines: string[] = [];
  const c = { ...ctx(tmpdir()), log: (l: string) => void lines.push(l) };
  const judge = (refit: { trainError: number; retries?: number }, valid: { validError: number; retries?: number }) => judgeRefit(c, "t", refit, valid, 2000);
  assert.ok(judge({ trainError: 57.65, retries: 1 }, { validError: 56.9, retries: 0 }).failed, "mnist-rot-back-image's degraded refit");
  assert.equal(lines.at(-1), "t: the refit failed (diverged at the validated learning rates and was trained at 1/3 of the given ones)");
  assert.ok(judge({ trainError: 40, retries: 2 }, { validError: 56.9, retries: 1 }).failed);
  assert.equal(lines.at(-1), "t: the refit failed (diverged at the validated learning rates (1/3 of the given ones) and was trained at 1/9 of the given ones)");
  // Diverged at every rate left: a failed refit whatever its retries, not a stopped table.
  const none = judgeRefit(c, "t", { trainError: 100, retries: 3, diverged: "finetune: the loss became not a number in epoch 1" }, { validError: 20, retries: 3 }, 2000);
  assert.ok(none.failed);
  assert.match(none.why!, /^diverged at every learning rate from the validated ones down to 1\/27 of the given ones \(finetune: the loss/);
  assert.not.ok(judge({ trainError: 57.65, retries: 1 }, { validError: 56.9, retries: 1 }).failed, "the same rates as validated");
  assert.not.ok(judge({ trainError: 57.65, retries: 1 }, { validError: 56.9 }).failed, "the validated fit's retries unrecorded");
  assert.not.ok(judge({ trainError: 57.65 }, { validError: 56.9, retries: 0 }).failed);
  const collapsed = judge({ trainError: 50, retries: 0 }, { validError: 27.19, retries: 0 });
  assert.equal([collapsed.failed, collapsed.why], [true, "scored 50.00% on its training rows against 27.19% on validation"]);
});

test("unknown experiments are a clear error", async () => {
  try {
    await reproduce("table9", ctx(tmpdir()));
    assert.unreachable();
  } catch (err) {
    assert.ok(err instanceof InputError && /unknown experiment "table9" \(start, table2, search, search-modulus, search-linear, search-tanh-factored, search-modulus-factored, search-relu-factored, search-square-factored, search-sigmoid-large, table3, search-table3, table4, search-table4, fig2, fig3, filters\)/.test((err as Error).message));
  }
});

test("successive halving: survivors per rung, curves of resumed runs equal fresh ones, resumable from its cache", async () => {
  const data = toyData(3);
  const { test } = data;
  const plan = { ...searchPlan(true), grid: { ...searchPlan(true).grid, hidden: [3, 5] }, trainRows: 390, valid: 90 };
  const dir = mkdtempSync(join(tmpdir(), "aescore-search-"));
  const lines: string[] = [];
  const c = { ...ctx(dir), workers: 0, log: (l: string) => void lines.push(l) };
  const first = await successiveHalving(c, plan, () => data);
  assert.is(first.log.length, 4);
  assert.equal(first.log.map((x) => x.rungs).sort(), [1, 1, 2, 2]);
  assert.equal(drawConfigs(plan, 1), first.log.map((x) => x.config), "the configurations drawn, in order");
  // A survivor's rung-2 curve (its finetuning resumed from rung 1's checkpoint) is a fresh 2-epoch run's.
  for (const x of first.log.filter((x) => x.rungs === 2)) {
    const curve: number[] = [];
    const k = x.config;
    await freshFit(k, plan, data, { activation: "sigmoid", factored: false }, (e) => void curve.push(100 * e.valid!));
    assert.equal(x.result.curve, curve, `H ${k.hidden}, λ ${k.contractive}: resumed vs fresh`);
  }
  // Everything cached: the same result, nothing trained; without rung 2's entries, the same again.
  // The validated model (read back from the winner's checkpoint) is a fresh run's best epoch.
  const w = first.log.find((x) => x.config === first.winner.config)!.config;
  const fresh = await freshFit(w, plan, data, { activation: "sigmoid", factored: false });
  assert.is(first.validatedTest, testError(fresh.csae, test));
  assert.ok(first.refit.trainError >= 0 && first.refit.trainError <= 100);
  // The winner's checkpoints are gone once the search is done: without its "validated" entry, it is
  // trained again to the same number.
  const entries = () => readdirSync(join(dir, "cache", "search")).map((f) => join(dir, "cache", "search", f));
  const entry = (stage: string, seed?: number) => entries().find((f) => {
    const j = JSON.parse(readFileSync(f, "utf8")).config;
    return j.stage === stage && (seed === undefined || j.seed === seed);
  })!;
  rmSync(entry("validated"));
  const retrained = await successiveHalving(c, plan, () => data);
  assert.is(retrained.validatedTest, first.validatedTest);
  assert.ok(lines.some((l) => /the winner's checkpoint is gone/.test(l)));
  // A refit that fits its own rows worse than validation predicted is replaced by the validated model;
  // one that fits them well is kept.
  const f = entry("final", 1);
  const saved = JSON.parse(readFileSync(f, "utf8"));
  const withTrainError = async (trainError: number) => {
    writeFileSync(f, JSON.stringify({ ...saved, value: { ...saved.value, trainError } }));
    return successiveHalving(c, plan, () => data);
  };
  const kept = await withTrainError(0);
  assert.equal([kept.refit.failed, kept.testError], [false, saved.value.testError]);
  const failed = await withTrainError(first.winner.validError + 20);
  assert.equal([failed.refit.failed, failed.testError], [true, first.validatedTest]);
  writeFileSync(f, JSON.stringify(saved));
  const again = await successiveHalving(c, plan, () => data);
  assert.equal(again.log.map((x) => x.result), first.log.map((x) => x.result));
  assert.is(again.testError, first.testError);
  for (const f of readdirSync(join(dir, "cache", "search"))) {
    if (JSON.parse(readFileSync(join(dir, "cache", "search", f), "utf8")).config.epochs === 2) rmSync(join(dir, "cache", "search", f));
  }
  const third = await successiveHalving(c, plan, () => data);
  assert.equal(third.log.map((x) => x.result), first.log.map((x) => x.result));
});

test("the committed sigmoid search is read back under its keys; a read-only context computes nothing", async () => {
  // The sigmoid plan predates the searches of the other rows: generalizing must not change its keys.
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const lines: string[] = [];
  const ro = { ...ctx(join(root, "results")), quick: false, readOnly: true, log: (l: string) => void lines.push(l) };
  try {
    await successiveHalving(ro, searchPlan(false));
  } catch (err) {
    assert.ok(err instanceof NotCached, String(err));
  }
  assert.ok(lines.filter((l) => l.startsWith("search rung 1 ")).length >= 18, lines.join("\n"));
  const empty = mkdtempSync(join(tmpdir(), "aescore-ro-"));
  try {
    await successiveHalving({ ...ctx(empty), readOnly: true }, searchPlan(true));
    assert.unreachable();
  } catch (err) {
    assert.ok(err instanceof NotCached);
  }
  assert.not.ok(existsSync(join(empty, "cache")) || existsSync(join(empty, "checkpoints")), "nothing written");
});

test("the search of a factored, denoising row: grid, rungs and refit", async () => {
  const row = TABLE2.find((r) => r.activation === "tanh" && r.factored)!;
  const plan = { ...searchPlan(true, row), grid: { ...searchPlan(true, row).grid, hidden: [3, 5] }, trainRows: 390, valid: 90 };
  assert.equal(Object.keys(plan.grid), ["hidden", "denoising", "pretrainLr", "finetuneLr", "weightDecay"]);
  assert.is(experimentOf(plan), "search-tanh-factored");
  const data = toyData(4);
  const dir = mkdtempSync(join(tmpdir(), "aescore-search-"));
  const s = await successiveHalving({ ...ctx(dir), workers: 0 }, plan, () => data);
  assert.equal(s.log.map((x) => x.rungs).sort(), [1, 1, 2, 2]);
  assert.ok(s.log.every((x) => x.config.denoising !== undefined && x.config.contractive === undefined));
  assert.ok(readdirSync(join(dir, "cache", "search-tanh-factored")).length > 0);
  // A survivor's rung-2 curve is a fresh factored run's.
  const x = s.log.find((x) => x.rungs === 2)!;
  const k = x.config;
  const curve: number[] = [];
  await freshFit(k, plan, data, { activation: "tanh", factored: true }, (e) => void curve.push(100 * e.valid!));
  assert.equal(x.result.curve, curve);
  assert.ok(s.refit.trainError >= 0 && s.secondSeed.trainError >= 0 && s.validatedTest >= 0);
});

test("a refit that diverges on train + validation is a failed refit, and the search still ends", async () => {
  // Rows 1e18 times too large in the refit's data only: the rungs train as before, the refit diverges.
  const data = toyData(5);
  const big = { ...data, all: { ...data.all, X: { ...data.all.X, data: data.all.X.data.map((v) => v * 1e18) } } };
  const plan = { ...searchPlan(true), grid: { ...searchPlan(true).grid, hidden: [3, 5] }, trainRows: 390, valid: 90 };
  const lines: string[] = [];
  const s = await successiveHalving({ ...ctx(mkdtempSync(join(tmpdir(), "aescore-search-"))), workers: 0, log: (l) => void lines.push(l) }, plan, () => big);
  assert.equal([s.refit.failed, s.secondSeed.failed, s.testError], [true, true, s.validatedTest]);
  assert.match(s.refit.why ?? "", /^diverged \(/, s.refit.why);
  assert.ok(lines.some((l) => /seed 1: the refit failed \(diverged/.test(l)), lines.join("\n"));
  // Splits that do not match the plan are a bug, said before anything is trained.
  try {
    await successiveHalving({ ...ctx(mkdtempSync(join(tmpdir(), "aescore-search-"))), workers: 0 }, { ...plan, valid: 91 }, () => data);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /the plan says 91 validation rows, the splits have 90/);
  }
});

test("a Table 3 cell's search: its column's grid, the epochs of a 10000-row set, its own keys; table3 reads it back", async () => {
  // Full plans: rectangles (1000 training rows, 2 classes) gets 10 times the epochs; the plain models
  // pretrain on a class's rows (500: 200 epochs), the factored model on all of them (1000: 100).
  const rect = cellPlan(false, "rectangles", TABLE3_ROWS[2]);
  assert.equal([rect.rungs, rect.decay, rect.pretrainEpochs, rect.configs, rect.trainRows, rect.valid], [[40, 120, 360], 100, 200, 12, 1200, 200]);
  assert.equal(rect.grid, searchPlan(false).grid, "the sigmoid column searches the sigmoid row's grid");
  assert.is(cellPlan(false, "rectangles", TABLE3_ROWS[3]).pretrainEpochs, 100);
  const basic = cellPlan(false, "mnist-basic", TABLE3_ROWS[1]);
  assert.equal([basic.rungs, basic.decay, basic.pretrainEpochs, Object.keys(basic.grid)], [[4, 12, 36], 10, 100, ["hidden", "denoising", "pretrainLr", "finetuneLr", "weightDecay"]]);
  assert.equal(cellPlan(false, "convex", TABLE3_ROWS[0]).rungs, [7, 20, 60]);
  assert.is(experimentOf(basic), "search-table3");
  assert.equal(basic.set?.name, "mnist-basic");
  // A quick search of one small cell on the real generated set, then read back as table3 reads it.
  const dir = mkdtempSync(join(tmpdir(), "aescore-cell-"));
  const c = { ...ctx(dir), workers: 0 };
  const row = TABLE3_ROWS[0];
  assert.is(await finishedCell(c, "rectangles", row), undefined, "nothing searched yet");
  const plan = cellPlan(true, "rectangles", row);
  assert.equal(plan.rungs, [10, 20]);
  const s = await successiveHalving(c, plan, () => benchmark("rectangles", c));
  assert.equal(s.log.map((x) => x.rungs).sort(), [1, 1, 2, 2]);
  assert.ok(s.log.every((x) => x.result.curve.length === 10 * x.rungs), "ten epochs of 10 steps per rung");
  assert.ok(readdirSync(join(dir, "cache", "search-table3")).length > 0);
  const back = await finishedCell(c, "rectangles", row);
  assert.equal([back?.testError, back?.winner], [s.testError, s.winner]);
  assert.is(await finishedCell(c, "rectangles", TABLE3_ROWS[1]), undefined, "another column's cell is not this one");
});

test("a Table 4 cell's search: the variant's own grid, fit with that variant, its own keys, read back", async () => {
  const none = variantPlan(false, "mnist-basic", "no-pretraining");
  assert.equal([none.variant, Object.keys(none.grid), none.rungs, none.decay], ["no-pretraining", ["hidden", "finetuneLr", "weightDecay"], [12, 36, 108], 50]);
  const norm = variantPlan(false, "convex", "normalization");
  assert.equal([norm.variant, norm.grid.weightDecay, norm.grid.contractive, norm.rungs], ["normalization", [0], [0.2, 0.5, 1.0], cellPlan(false, "convex", TABLE3_ROWS[2]).rungs]);
  assert.is(experimentOf(none), "search-table4");
  assert.is(experimentOf(cellPlan(false, "convex", TABLE3_ROWS[2])), "search-table3", "Table 3's plans keep their keys");
  const dir = mkdtempSync(join(tmpdir(), "aescore-cell4-"));
  const energies = variantPlan(false, "convex", "energies");
  assert.equal([Object.keys(energies.grid), energies.rungs, energies.grid.weightDecay], [["hidden", "contractive", "pretrainLr", "weightDecay"], [34], [0]], "one rung of the fixed protocol's epochs (2000 steps of 6000 rows)");
  const c = { ...ctx(dir), workers: 0 };
  const data = toyData(5);
  for (const variant of ["no-pretraining", "normalization", "energies"] as const) {
    const plan = { ...variantPlan(true, "convex", variant), trainRows: 390, valid: 90 };
    const lines: string[] = [];
    const s = await successiveHalving({ ...c, log: (l: string) => void lines.push(l) }, plan, () => data);
    if (variant === "energies") {
      // One rung, ranked by the regression's validation error: the fitted model's, recomputed here.
      assert.equal(s.log.map((x) => [x.rungs, x.result.curve.length, x.result.bestEpoch]), s.log.map(() => [1, 1, plan.rungs[0]]));
      assert.not.match(label(s.winner.config), /finetuning lr/);
      const w = s.log.find((x) => x.config === s.winner.config)!;
      const m = (await fit(createEngineSync(), data.train.X, data.train.labels, { ...FIT_DEFAULTS, hidden: w.config.hidden, output: "real", variant: "energies", seed: 1, workers: 0, valid: data.valid,
        pretrain: { ...FIT_DEFAULTS.pretrain, epochs: plan.pretrainEpochs, lr: w.config.pretrainLr!, contractive: w.config.contractive! },
        finetune: { ...FIT_DEFAULTS.finetune, epochs: plan.rungs[0], weightDecay: 0, decay: plan.decay } })).csae;
      assert.is(w.result.best, testError(m, data.valid));
    } else assert.ok(s.log.every((x) => x.result.curve.length === plan.rungs[x.rungs - 1]), variant);
    if (variant === "no-pretraining") assert.not.match(label(s.winner.config), /λ|pretraining lr/);
    // Every rung was fitted as the variant (its options are in each cached entry's key).
    const entries = readdirSync(join(dir, "cache", "search-table4")).map((f) => JSON.parse(readFileSync(join(dir, "cache", "search-table4", f), "utf8")));
    const mine = entries.filter((x) => x.config.plan.variant === variant);
    assert.ok(mine.length > 0 && mine.every((x) => JSON.parse(x.config.options).variant === variant), variant);
    const back = await finishedSearch(c, plan, () => data);
    assert.equal(back?.winner, s.winner);
  }
  const csae = { ...cellPlan(true, "convex", TABLE3_ROWS[2]), trainRows: 390, valid: 90 };
  assert.is(await finishedSearch(c, csae, () => data), undefined, "the CSAE's cell is not the variants'");
  assert.ok(readdirSync(join(dir, "cache", "search-table4")).length > 0);
  rmSync(dir, { recursive: true });
});

test.run();
