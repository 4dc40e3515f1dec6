// Tables 3, 4 and 5: the deep learning benchmark of Larochelle et al. (regenerated sets).

import type { FitOptions } from "../train/fit.js";
import { GENERATOR_VERSION, generate } from "../datasets/generate.js";
import { DATASET_SIZES, type DatasetName } from "../datasets/sets.js";
import type { Tensor } from "../tensor.js";
import { Context, NotCached, Split, cached, signed, spent, testError, versus, writeReport } from "./common.js";
import { MAX_RETRIES, Row, fitModel, judgeRefit, rateGrid } from "./models.js";
import { DivergenceError } from "../train/driver.js";
import { SearchDiverged, finetuneRate, label, searchPlan, successiveHalving, type SearchPlan, type SearchResult } from "./search.js";
import { FIT_DEFAULTS } from "../train/fit.js";

// ---- Tables 3 and 4: the deep learning benchmark -----------------------------------------------------

export interface Bench {
  train: Split;
  valid: Split;
  all: Split;
  test: Split;
}

export const generated = new Map<string, Bench>();

/** A generated benchmark set (seeded; generated once per run, in memory), as labelled splits. */
export function benchmark(name: string, ctx: Context): Bench {
  const key = `${name}/${ctx.seed}/${ctx.quick}`;
  const hit = generated.get(key);
  if (hit) return hit;
  ctx.log(`generating ${name} (seed ${ctx.seed})…`);
  const set = generate(name, { seed: ctx.seed });
  const split = (s: { X: Tensor; y: Int32Array }, max = Infinity): Split => {
    const n = Math.min(s.y.length, max);
    return { X: { shape: [n, 784], data: s.X.data.subarray(0, n * 784) }, labels: Array.from(s.y.subarray(0, n), String) };
  };
  const train = split(set.train);
  const valid = split(set.valid);
  const both = new Float32Array(train.X.data.length + valid.X.data.length);
  both.set(train.X.data);
  both.set(valid.X.data, train.X.data.length);
  const b: Bench = {
    train, valid,
    all: { X: { shape: [train.labels.length + valid.labels.length, 784], data: both }, labels: [...train.labels, ...valid.labels] },
    // --quick tests on the first 10000 of the 50000 test rows.
    test: split(set.test, ctx.quick ? 10000 : Infinity),
  };
  generated.set(key, b);
  return b;
}

/**
 * Selects the hidden size (and the learning rates of `rateGrid`) on valid, each candidate keeping its
 * best finetuning epoch; refits the chosen one on train + valid for the finetuning epochs validation
 * chose; tests. One cached entry per stage.
 * The candidates are tested too (`selectedTest`: the chosen one, trained on the training split only),
 * which shows how much the refit itself moves the number, and stands in for a refit that failed
 * (`refitFailed`; `refit` keeps what the refit scored).
 */
export async function selectAndTest(ctx: Context, experiment: string, set: string, row: Row, variant: FitOptions["variant"], p: ReturnType<typeof benchProtocol>): Promise<{ hidden: number; lr: { pretrain: number; finetune: number }; validError: number; finetuneEpochs?: number; selectedTest: number; testError: number; refit: { testError: number; trainError: number; failed: boolean; why?: string; diverged?: string }; seconds: number }> {
  type Selected = { validError: number; finetuneEpochs?: number; testError: number; retries?: number };
  type Choice = Selected & { hidden: number; lr: { pretrain: number; finetune: number } };
  let best: Choice | undefined;
  // The chosen candidate's entry must record its retries (the refit starts from them): one computed
  // before they were recorded is computed again, with the same bits, before the refit.
  const select = (hidden: number, lr: Choice["lr"], complete?: (v: Partial<Selected>) => boolean) =>
    cached<Selected>(ctx, experiment, { stage: "select+test", set, data: GENERATOR_VERSION, row, variant, hidden, p, lr, seed: ctx.seed }, async () => {
      const b = benchmark(set, ctx);
      const fit = await fitModel(ctx, `${experiment} ${set}`, row, variant, hidden, b.train, b.valid, p, lr);
      return { validError: testError(fit.model, b.valid), finetuneEpochs: fit.bestEpoch, testError: testError(fit.model, b.test), retries: fit.retries };
    }, complete);
  for (const hidden of p.hidden) {
    for (const lr of rateGrid(row, hidden)) {
      const { value } = await select(hidden, lr);
      ctx.log(`${experiment} ${set}, ${row.label}, ${variant}, H = ${hidden}, finetuning lr ${+lr.finetune.toPrecision(3)}: validation error ${value.validError.toFixed(2)}%${value.finetuneEpochs ? ` (finetuning epoch ${value.finetuneEpochs})` : ""}, test error ${value.testError.toFixed(2)}%`);
      if (!best || value.validError < best.validError) best = { hidden, lr, ...value };
    }
  }
  if (best!.retries === undefined) {
    const { value } = await select(best!.hidden, best!.lr, (v) => v.retries !== undefined);
    if (value.validError !== best!.validError) throw new Error(`${experiment} ${set}, ${row.label}: the chosen candidate computed again gave validation error ${value.validError}, not ${best!.validError}: the cache is not this build's`);
    best = { ...best!, ...value };
  }
  const c = best!;
  // The refit starts at the rates the validated fit ended at (a third of the given ones per retry):
  // mnist-rot-back-image's factored model, validated at a third, refitted at the full rates without
  // diverging, scored 63.91% against the validated model's 56.87%. (The key names the retries only
  // where there were some: the other entries keep their keys.)
  const start = c.retries ?? 0;
  const { value, seconds } = await cached(ctx, experiment, { stage: "final", set, data: GENERATOR_VERSION, row, variant, hidden: c.hidden, finetuneEpochs: c.finetuneEpochs, p, lr: c.lr, seed: ctx.seed, ...(start ? { retries: start } : {}) }, async (): Promise<{ testError: number; trainError: number; retries: number; diverged?: string }> => {
    const b = benchmark(set, ctx);
    try {
      const { model: m, retries } = await fitModel(ctx, `${experiment} ${set}`, row, variant, c.hidden, b.all, undefined, p, c.lr, c.finetuneEpochs, start);
      return { testError: testError(m, b.test), trainError: testError(m, b.all), retries };
    } catch (err) {
      // No refit at any rate left to try: a failed refit (the validated model stands in), not a stopped table.
      if (!(err instanceof DivergenceError)) throw err;
      return { testError: 100, trainError: 100, retries: MAX_RETRIES, diverged: err.message };
    }
  }, (v) => v.trainError !== undefined);
  // The validation split's size from the recipe: a cached entry needs no set generated.
  const refit = judgeRefit(ctx, `${experiment} ${set}, ${row.label}, ${variant}`, value, c, DATASET_SIZES[set as DatasetName].valid);
  return { hidden: c.hidden, lr: c.lr, validError: c.validError, finetuneEpochs: c.finetuneEpochs, selectedTest: c.testError, testError: refit.failed ? c.testError : refit.testError, refit, seconds };
}

/** A cell's result: the fixed protocol's (selectAndTest), or its search's (`searched`: see cellOf). */
type Cell = Awaited<ReturnType<typeof selectAndTest>> & { searched?: SearchResult };

/** A cell of the "without the refit" tables: the selected model's test error and what was selected. */
export function unrefitCell(r: Cell, showLr: boolean): string {
  return `${r.selectedTest.toFixed(2)} (H = ${r.hidden}${showLr || r.searched ? `, lr ${+r.lr.finetune.toPrecision(2)}` : ""}, epoch ${r.finetuneEpochs ?? "-"})`;
}

/** A cell of the main tables; † marks a failed refit, whose validated model stands in (listed by `failedRefits`), § a searched cell. */
export function refitCell(r: Cell, paper: number): string {
  return `${versus(r.testError, paper)}${r.refit.failed ? " †" : ""}${r.searched ? " §" : ""}`;
}

const failure = (set: string, what: string, r: Cell) =>
  `${set}, ${what}: the refit ${r.refit.why}${r.refit.diverged ? "" : ` (on the test split: ${r.refit.testError.toFixed(2)}%)`}`;

/** The footnote on the cells marked †. */
export function failedRefits(failures: string[]): string {
  return failures.length === 0
    ? "No refit failed (a refit fails when its error on its own training rows is above the validated model's validation error by more than two standard errors)."
    : `† The refit on train + validation failed, and the validated model (trained on the training split only; the table without the refit, below) stands in: a refit fails when its error on its own training rows is above the validated model's validation error by more than two standard errors, or when it diverged at the validated learning rates and was retried at smaller ones (their count is recorded since 2026-12-02; a chosen candidate computed before is computed again). ${failures.join("; ")}.`;
}

/** Table 3's columns: linear, modulus, sigmoid, sigmoid factored. */
export const TABLE3_ROWS: Row[] = [
  { label: "linear", activation: "linear", factored: false, reg: { contractive: 0.5 }, paper: 0 },
  { label: "modulus", activation: "modulus", factored: false, reg: { denoising: 0.25 }, paper: 0 },
  { label: "sigmoid", activation: "sigmoid", factored: false, reg: { contractive: 0.5 }, paper: 0 },
  { label: "sigmoid (factored)", activation: "sigmoid", factored: true, reg: { denoising: 0.25 }, paper: 0 },
];

export const TABLE3_PAPER: Record<string, number[]> = {
  rectangles: [0.84, 4.82, 2.72, 0.84],
  "rectangles-image": [25.3, 24.9, 21.45, 22.76],
  convex: [36.34, 23.18, 21.52, 22.12],
  "mnist-basic": [3.91, 5.17, 3.18, 3.62],
  "mnist-rot": [16.19, 13.22, 13.11, 14.46],
  "mnist-back-rand": [17.96, 17.08, 19.52, 12.64],
  "mnist-back-image": [22.37, 23.38, 21.87, 22.77],
  "mnist-rot-back-image": [56.15, 52.88, 54.79, 47.14],
};

export const BENCH_NOTE = "The data sets are regenerated from the published recipes (src/datasets.ts, seeded; see each set's recipe JSON from `aescore datasets generate`): numbers are comparable to the paper's in spirit, not to the digit.";

/** Where the committed run (seed 1) is behind, and why as far as we can tell. */
export const TABLE3_READING = [
  "Reading the fixed protocol's run (seed 1, on the calibrated sets: results/calibration — 6 of 8 sets within 10% of the published RBF-SVM error; convex easier by 13%, rectangles harder), where it is behind and why as far as we can tell (a cell marked § has since been searched: its number, in both tables, is its search's, read in search-table3.md beside the fixed protocol's):",
  "- **rectangles-image** (SVM on our set 24.98% against 24.04% on the original: as hard): every column is behind, by 2.0 (linear) to 4.7 points (sigmoid); calibration closed half of the gap (the sigmoid cell was 30.06). The validation errors are as high (25.0–26.5% for the selected models), so it is the models, not the refit: the paper tuned these per set and we use one learning rate per activation and two sizes.",
  "- **the factored sigmoid model** is behind on 6 sets (by 0.06 on mnist-basic, 2.3 on mnist-back-image, 3.3 on rectangles, more below). On mnist-back-image its validated fit ended at a third of the given rates and its refit diverged there too and was trained at a ninth (23.09%): not the validated configuration, so the validated model stands in (25.10%, †). On rectangles-image its refit on train + valid collapsed (42.31% error on its own training rows, 50.00% on the test split): the refit rule caught it and the validated model stands in (27.19%, still 4.4 behind). On mnist-rot-back-image the validated fit had diverged at the given rates and was trained at a third of them, while the refit, which then started at the given rates again, did not diverge: a configuration validation never saw, which scored 63.91% (57.65% on its own rows) where the validated model scores 56.87%. Refits now start at the rates their validated fit ended at; at them this refit scores 55.54% (47.98% on its rows), 8.4 behind the paper. (Every chosen candidate's retries are now recorded: the validated fits of 11 cells were retried at a third of the given rates, their refits started there, and only this one's diverged again.) Its finetuning needs a rate 30 times its pretraining's on the MNIST sets but is unstable at it; the paper's factored model is its best on the two back-* sets; ours is its worst on mnist-back-rand (+6.8) and furthest behind the paper on mnist-rot-back-image (+8.4).",
  "- **sigmoid** is behind on 2 sets (rectangles-image +4.7, mnist-rot-back-image +0.9). **linear** is behind on 5 sets (convex +4.3, rectangles-image +2.0, mnist-rot +1.0, rectangles and mnist-basic +0.2), **modulus** on 3 (convex +4.8, rectangles-image +4.5, mnist-rot +0.4): fixed learning rates per activation; both diverge at them on several sets and are retried at a third (logged), and the paper also validated learning rate and weight decay.",
  "- Where we are ahead, the calibration made it more credible: mnist-back-image (SVM 21.49 against 22.61) is now 1.5–5.2 points ahead instead of 7–9; convex (still easier: SVM 16.56 against 19.13) keeps the sigmoid columns 3.4–4.8 ahead; mnist-back-rand (unchanged, SVM 15.23 against 14.58: a little harder) 0.7–6.7 ahead.",
].join("\n");

/** Table 5's CSAE column: the paper's best per set, with model selection. */
export const TABLE5_PAPER: Record<string, number> = {
  rectangles: 0.84, "rectangles-image": 21.45, convex: 21.52, "mnist-basic": 2.61,
  "mnist-rot": 11.25, "mnist-back-rand": 12.64, "mnist-back-image": 20.15, "mnist-rot-back-image": 47.14,
};

// ---- Table 3's cells by successive halving ---------------------------------------------------------

/**
 * The search of a cell of Table 3: the grid searchPlan gives its column's model (Table 2's sigmoid
 * grid for sigmoid; the rates of `rates` times 1/3–30 for the others, as for Table 2's other rows), 12
 * configurations, and finetuning epochs of a 10000-row set: a smaller set gets proportionally more,
 * so that each rung and τ take as many minibatch steps on every set. Pretraining takes the fixed
 * protocol's steps: at least 1000 per autoencoder (a class's rows for the plain model, all rows for
 * the factored one), 20 epochs at least.
 */
export function cellPlan(quick: boolean, set: string, row: Row): SearchPlan {
  const size = DATASET_SIZES[set as DatasetName];
  if (!size) throw new Error(`cellPlan: no set ${set}`);
  const base = searchPlan(quick, row);
  const scale = Math.max(1, 10000 / size.train);
  const rowsPerModel = row.factored ? size.train : size.train / size.classes;
  const steps = benchProtocol(false).minPretrainSteps * FIT_DEFAULTS.pretrain.batch;
  return {
    ...base,
    model: { activation: row.activation, factored: row.factored },
    set: { name: set, version: GENERATOR_VERSION },
    configs: quick ? base.configs : 12,
    rungs: base.rungs.map((r) => Math.ceil(r * scale)),
    pretrainEpochs: quick ? base.pretrainEpochs : Math.max(base.pretrainEpochs, Math.ceil(steps / rowsPerModel)),
    decay: base.decay * scale,
    trainRows: size.train + size.valid,
    valid: size.valid,
  };
}

/** A search's result in the shape of selectAndTest's, for the tables. */
function searchedCell(s: SearchResult): Cell {
  const c = s.winner.config;
  return {
    hidden: c.hidden, lr: { pretrain: c.pretrainLr, finetune: finetuneRate(c) }, validError: s.winner.validError, finetuneEpochs: s.winner.epochs,
    selectedTest: s.validatedTest, testError: s.testError, refit: s.refit, seconds: s.seconds, searched: s,
  };
}

/** A cell's finished search, read from the cache (never started here); undefined while any of it is missing. */
export async function finishedCell(ctx: Context, set: string, row: Row): Promise<SearchResult | undefined> {
  const ro = { ...ctx, readOnly: true, log: () => {} };
  try {
    const s = await successiveHalving(ro, cellPlan(ctx.quick, set, row), () => benchmark(set, ctx));
    spent.set(ctx, (spent.get(ctx) ?? 0) + (spent.get(ro) ?? 0));
    return s;
  } catch (err) {
    if (!(err instanceof NotCached || err instanceof SearchDiverged)) throw err;
    return undefined;
  }
}

/**
 * `aescore reproduce search-table3`: every cell of Table 3 by successive halving, the cells the fixed
 * protocol left behind the paper first (the others after: the table is not only searched where it
 * loses). Each cell is cached and resumable like Table 2's searches; the report is rewritten after
 * each cell, and `table3` takes every finished one.
 */
export async function searchTable3(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const p = benchProtocol(ctx.quick);
  const cells = Object.keys(TABLE3_PAPER).flatMap((set) => TABLE3_ROWS.map((row, i) => ({ set, row, paper: TABLE3_PAPER[set][i] })));
  // The fixed protocol's result of each cell, if computed (read only): behind the paper, or unknown, first.
  const ro = { ...ctx, readOnly: true, log: () => {} };
  const fixed = new Map<(typeof cells)[number], number>();
  for (const c of cells) {
    try {
      fixed.set(c, (await selectAndTest(ro, "table3", c.set, c.row, "csae", p)).testError);
    } catch (err) {
      if (!(err instanceof NotCached)) throw err;
    }
  }
  const behind = (c: (typeof cells)[number]) => !(fixed.get(c)! <= c.paper);
  const order = [...cells.filter(behind), ...cells.filter((c) => !behind(c))];
  const done = new Map<(typeof cells)[number], SearchResult>();
  const diverged = new Set<(typeof cells)[number]>();
  const report = () => {
    const head = ["| data set | linear | modulus | sigmoid | sigmoid (factored) |", "|---|---|---|---|---|"];
    const table = [...head, ...Object.keys(TABLE3_PAPER).map((set) => `| ${set} | ${cells.filter((c) => c.set === set).map((c) => {
      const s = done.get(c);
      return s ? `${versus(s.testError, c.paper)}${s.refit.failed ? " †" : ""}` : `— (${c.paper}; ${diverged.has(c) ? "every configuration diverged" : "not searched yet"})`;
    }).join(" | ")} |`)];
    const details = order.filter((c) => done.has(c)).map((c) => {
      const s = done.get(c)!;
      const curves = [...s.log].sort((a, b) => b.rungs - a.rungs || a.result.best - b.result.best)
        .map((x) => `  - ${label(x.config)}: rung ${x.rungs}, ${x.result.diverged ? "diverged" : `best ${x.result.best.toFixed(2)}% (epoch ${x.result.bestEpoch})`}; ${x.result.curve.map((v) => v.toFixed(2)).join(" ")}`);
      return [
        `- **${c.set}, ${c.row.label}**: ${label(s.winner.config)}, ${s.winner.epochs} finetuning epochs; validation ${s.winner.validError.toFixed(2)}%, test **${s.testError.toFixed(2)}%**${s.refit.failed ? ` († the refit scored ${s.refit.trainError.toFixed(2)}% on its own training rows: the validated model stands in)` : ""} (paper ${c.paper}%; fixed protocol ${fixed.has(c) ? `${fixed.get(c)!.toFixed(2)}%` : "not computed"}); the validated model ${s.validatedTest.toFixed(2)}%, seed ${(ctx.seed + 1) % 2 ** 32} ${s.secondSeed.testError.toFixed(2)}%${s.secondSeed.failed ? " (a failed refit)" : ""}; ${(s.seconds / 60).toFixed(1)} min.`,
        ...curves,
      ].join("\n");
    });
    const plan = cellPlan(ctx.quick, "mnist-basic", TABLE3_ROWS[0]);
    const behindNow = cells.filter((c) => done.has(c) && done.get(c)!.testError > c.paper).length;
    writeReport(ctx, "search-table3", "Table 3's cells by successive halving — ours (paper; ours − paper)", [
      table.join("\n"), "",
      `${done.size} of ${cells.length} cells searched; ${behindNow} of them behind the paper. † a failed refit: the validated model stands in.`, "",
      `What is searched, per cell: ${plan.configs} configurations drawn (seed ${ctx.seed}) from the grid of its column's model (src/reproduce/benchmark.ts, cellPlan: hidden sizes ${JSON.stringify(plan.grid.hidden)}, the contraction or corruption levels, learning rates and weight decay, as in Table 2's searches); successive halving keeping the best 1/${plan.eta} by the set's validation error at rungs of ${plan.rungs.join(", ")} finetuning epochs on a 10000-row training split (proportionally more on rectangles and convex, as is τ = ${plan.decay} epochs of the decay lr·τ/(τ + t)); pretraining as the fixed protocol's, at least ${benchProtocol(false).minPretrainSteps} minibatch steps per autoencoder; the winner refitted on train + validation for its best epoch count (and with seed ${(ctx.seed + 1) % 2 ** 32}) and tested on the set's ${ctx.quick ? "first 10000" : "50000"} test rows. The cells behind the paper under the fixed protocol (results/table3.md) are searched first.`, "",
      "Every searched cell, in the order searched, with each configuration's validation curve at the last rung it reached:", "",
      details.join("\n") || "(none yet)", "", BENCH_NOTE,
    ].join("\n"), (performance.now() - t0) / 1000);
  };
  for (const c of order) {
    ctx.log(`search-table3: ${c.set}, ${c.row.label} (${done.size + 1} of ${cells.length})`);
    try {
      done.set(c, await successiveHalving(ctx, cellPlan(ctx.quick, c.set, c.row), () => benchmark(c.set, ctx)));
    } catch (err) {
      if (!(err instanceof SearchDiverged)) throw err;
      diverged.add(c);
      ctx.log(`search-table3: ${c.set}, ${c.row.label}: ${err.message}; the cell keeps the fixed protocol`);
    }
    report();
  }
}

export async function table3(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const p = benchProtocol(ctx.quick);
  const head = ["| data set | linear | modulus | sigmoid | sigmoid (factored) |", "|---|---|---|---|---|"];
  const lines = [...head];
  const unrefit = [...head];
  const table5 = ["| data set | chosen by validation | validation error | test error | paper (Table 5, CSAE) | ours − paper |", "|---|---|---|---|---|---|"];
  let behind = 0;
  let searched = 0;
  const failures: string[] = [];
  for (const set of Object.keys(TABLE3_PAPER)) {
    const cells: string[] = [];
    const early: string[] = [];
    let chosen: { label: string; hidden: number; validError: number; testError: number; refit: { failed: boolean } } | undefined;
    for (const [i, row] of TABLE3_ROWS.entries()) {
      // Its finished search where there is one, else the fixed protocol.
      const s = await finishedCell(ctx, set, row);
      const r: Cell = s ? searchedCell(s) : await selectAndTest(ctx, "table3", set, row, "csae", p);
      ctx.log(`table3 ${set}, ${row.label}: test error ${r.testError.toFixed(2)}% (H = ${r.hidden}; paper ${TABLE3_PAPER[set][i]}%)`);
      cells.push(refitCell(r, TABLE3_PAPER[set][i]));
      if (r.refit.failed) failures.push(failure(set, row.label, r));
      if (r.searched) searched++;
      early.push(unrefitCell(r, row.factored));
      if (r.testError > TABLE3_PAPER[set][i]) behind++;
      if (!chosen || r.validError < chosen.validError) chosen = { label: row.label, ...r };
    }
    lines.push(`| ${set} | ${cells.join(" | ")} |`);
    unrefit.push(`| ${set} | ${early.join(" | ")} |`);
    const c = chosen!;
    table5.push(`| ${set} | ${c.label}, H = ${c.hidden} | ${c.validError.toFixed(2)}% | **${c.testError.toFixed(2)}%**${c.refit.failed ? " †" : ""} | ${TABLE5_PAPER[set]}% | ${signed(c.testError - TABLE5_PAPER[set])} |`);
  }
  const cells = (lines.length - 2) * TABLE3_ROWS.length;
  writeReport(ctx, "table3", "Table 3: test error (%) on the deep learning benchmark — ours (paper; ours − paper)", [
    lines.join("\n"), "", `${behind} of ${cells} cells are behind the paper.${searched ? ` § ${searched} cells from their search (\`aescore reproduce search-table3\`: search-table3.md); the others the fixed protocol below.` : ""}`, "", failedRefits(failures), "", ctx.quick ? "(The reading of the full run is in ../table3.md.)" : TABLE3_READING, "",
    "## Table 5's CSAE column: one model per set, chosen by validation error among the four above", "",
    table5.join("\n"), "",
    "## Without the refit: the validation-selected model, trained on the training split only, on the test split", "",
    "The finetuning epoch is the one validation chose; the refit above repeats it on train + validation. Where the two tables differ by much, the refit's outcome is sensitive to the stopping epoch at these learning rates.", "",
    unrefit.join("\n"), "", BENCH_NOTE, "", benchProtocolText(p),
  ].join("\n"), (performance.now() - t0) / 1000);
}

export const TABLE4_PAPER: Record<string, number[]> = {
  "mnist-basic": [3.39, 3.66, 5.53, 3.38],
  "mnist-rot": [14.32, 20.85, 19.95, 13.77],
  convex: [44.36, 33.9, 24.02, 21.52],
};

/** Where the committed run (seed 1) is behind, and why as far as we can tell. */
export const TABLE4_READING = [
  "Reading the committed run (seed 1; convex is the calibrated set, mnist-basic and mnist-rot are unchanged by the calibration): the paper's conclusions hold — the full CSAE is the best variant on all three sets, and finetuning the autoencoders beats learning only the normalization or a logistic regression on their energies. Where we are behind:",
  "- **no pretraining** (+2.0 on mnist-basic, +6.6 on mnist-rot): from random weights, 20 finetuning epochs at the CSAE's learning rate are not enough (the best validation epoch is the last); the paper trained for 100.",
  "- **learn normalization** (+0.4 on mnist-basic, +7.9 on convex) and **energies + logistic regression** (+1.0 on mnist-rot): both keep the pretrained autoencoders frozen, so they inherit our pretraining (fixed λ = 0.5, fixed epochs), which the paper tuned by looking at the filters.",
].join("\n");

/**
 * The no-pretraining variant's protocol: the paper's 100 finetuning epochs, τ five times as long (the
 * rate decays over the longer run as over the others' 20 epochs). From random weights the best
 * validation epoch was the last of 20 on both MNIST sets (7.54 and 26.59% against the paper's 5.53 and
 * 19.95), where the pretrained variants stop improving within 20.
 */
function noPretraining(p: ReturnType<typeof benchProtocol>, quick: boolean): ReturnType<typeof benchProtocol> {
  return quick ? p : { ...p, finetuneEpochs: 5 * p.finetuneEpochs, minFinetuneSteps: 5 * p.minFinetuneSteps, decaySteps: 5 * p.decaySteps };
}

export async function table4(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const p = benchProtocol(ctx.quick);
  const sigmoid = TABLE3_ROWS[2];
  const variants: Array<FitOptions["variant"]> = ["energies", "normalization", "no-pretraining", "csae"];
  const head = ["| data set | energies + logistic regression | learn normalization | no pretraining | CSAE |", "|---|---|---|---|---|"];
  const lines = [...head];
  const unrefit = [...head];
  const failures: string[] = [];
  for (const set of Object.keys(TABLE4_PAPER)) {
    const cells: string[] = [];
    const early: string[] = [];
    for (const [i, variant] of variants.entries()) {
      // The CSAE column is Table 3's sigmoid cell under the fixed protocol (cached once), not its
      // search: the four variants compared under one protocol.
      const r = await selectAndTest(ctx, variant === "csae" ? "table3" : "table4", set, sigmoid, variant, variant === "no-pretraining" ? noPretraining(p, ctx.quick) : p);
      ctx.log(`table4 ${set}, ${variant}: test error ${r.testError.toFixed(2)}% (paper ${TABLE4_PAPER[set][i]}%)`);
      cells.push(refitCell(r, TABLE4_PAPER[set][i]));
      if (r.refit.failed) failures.push(failure(set, variant ?? "csae", r));
      early.push(unrefitCell(r, false));
    }
    lines.push(`| ${set} | ${cells.join(" | ")} |`);
    unrefit.push(`| ${set} | ${early.join(" | ")} |`);
  }
  writeReport(ctx, "table4", "Table 4: the CSAE's variants (sigmoid) — test error (%), ours (paper; ours − paper)", [
    lines.join("\n"), "", failedRefits(failures), "", ctx.quick ? "(The reading of the full run is in ../table4.md.)" : TABLE4_READING, "",
    "## Without the refit: the validation-selected model, trained on the training split only, on the test split", "",
    "The energies + logistic regression variant has no finetuning epochs to choose: its refit trains for all of them.", "",
    unrefit.join("\n"), "", BENCH_NOTE, "", benchProtocolText(p), "",
    ctx.quick ? "" : `No pretraining: the same with five times the finetuning (${noPretraining(p, false).finetuneEpochs} epochs, the paper's count, at least ${noPretraining(p, false).minFinetuneSteps} steps; τ ${noPretraining(p, false).decaySteps} steps): from random weights the best validation epoch was the last of 20.`,
  ].join("\n"), (performance.now() - t0) / 1000);
}

export function benchProtocol(quick: boolean) {
  return quick
    ? { hidden: [100], pretrainEpochs: 5, finetuneEpochs: 6, minPretrainSteps: 600, minFinetuneSteps: 600, decaySteps: 300 }
    : { hidden: [100, 300], pretrainEpochs: 20, finetuneEpochs: 20, minPretrainSteps: 1000, minFinetuneSteps: 2000, decaySteps: 300 };
}

export function benchProtocolText(p: ReturnType<typeof benchProtocol>): string {
  return `Protocol: the hidden size (factors = hidden for the factored model) is chosen from ${JSON.stringify(p.hidden)} (for the factored model, with the finetuning learning rate from {0.003, 0.1}·100/H) by the error on each set's validation split, each candidate keeping its best finetuning epoch; the chosen configuration is refitted on train + validation with the finetuning stopped at that epoch, and tested on the test split. Pretraining ${p.pretrainEpochs} epochs and finetuning ${p.finetuneEpochs} epochs, or more on small sets so that pretraining takes at least ${p.minPretrainSteps} and finetuning ${p.minFinetuneSteps} minibatch steps; finetuning epoch t uses the learning rate · τ/(τ + t), τ being ${p.decaySteps} minibatch steps counted in epochs (3 epochs of 10000 rows; without the decay, the validation error of convex oscillated between 18% and 41% from epoch to epoch, so a refit's outcome hung on its stopping epoch); a fit whose loss diverges is retried with a third of the learning rates (logged). Pretraining with contractive λ = 0.5 (denoising ν = 0.25 for modulus and the factored model), minibatch 100, momentum 0.9, learning rates by activation and size (src/reproduce/models.ts, \`rates\`).`;
}
