// Table 3 (and Table 5's CSAE column): the four models on the eight benchmark sets, by the fixed
// protocol of benchmark.ts or, cell by cell, by successive halving (search-table3).

import { GENERATOR_VERSION } from "../datasets/generate.js";
import { DATASET_SIZES, type DatasetName } from "../datasets/sets.js";
import { FIT_DEFAULTS } from "../train/fit.js";
import { Context, NotCached, signed, versus, writeReport } from "./common.js";
import type { Row } from "./models.js";
import { SearchDiverged, finetuneRate, finishedSearch, label, searchPlan, successiveHalving, type SearchPlan, type SearchResult } from "./search.js";
import { BENCH_NOTE, TABLE3_ROWS, benchProtocol, benchProtocolText, benchmark, failedRefits, failure, refitCell, selectAndTest, unrefitCell, type Cell } from "./benchmark.js";

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

/** Where the committed run (seed 1) is behind, and why as far as we can tell. */
export const TABLE3_READING = [
  "Reading the fixed protocol's run (seed 1, on the calibrated sets: results/calibration — 6 of 8 sets within 10% of the published RBF-SVM error; convex easier by 13%, rectangles harder), where it is behind and why as far as we can tell (a cell marked § has since been searched and its search validated better: its number, in both tables, is its search's, read in search-table3.md beside the fixed protocol's):",
  "- **rectangles-image** (SVM on our set 24.98% against 24.04% on the original: as hard): every column is behind, by 2.0 (linear) to 4.7 points (sigmoid); calibration closed half of the gap (the sigmoid cell was 30.06). The validation errors are as high (25.0–26.5% for the selected models), so it is the models, not the refit: the paper tuned these per set and we use one learning rate per activation and two sizes. Searched (search-table3.md, 12 configurations per column), the four columns validate at 24.85–26.10%, where the fixed protocol validated at 25.0–26.5%, and test at 26.02–31.18%: sizes, rates, regularization and weight decay do not move the floor, as far as the search reached.",
  "- **the factored sigmoid model** is behind on 6 sets (by 0.06 on mnist-basic, 2.3 on mnist-back-image, 3.3 on rectangles, more below). Searched, mnist-back-image gives 20.06% (2.7 ahead; validation 21.35% where the fixed protocol's was 23–25%). Under the fixed protocol, on mnist-back-image its validated fit ended at a third of the given rates and its refit diverged there too and was trained at a ninth (23.09%): not the validated configuration, so the validated model stands in (25.10%, †). On rectangles-image its refit on train + valid collapsed (42.31% error on its own training rows, 50.00% on the test split): the refit rule caught it and the validated model stands in (27.19%, still 4.4 behind). On mnist-rot-back-image the validated fit had diverged at the given rates and was trained at a third of them, while the refit, which then started at the given rates again, did not diverge: a configuration validation never saw, which scored 63.91% (57.65% on its own rows) where the validated model scores 56.87%. Refits now start at the rates their validated fit ended at; at them this refit scores 55.54% (47.98% on its rows), 8.4 behind the paper. (Every chosen candidate's retries are now recorded: the validated fits of 11 cells were retried at a third of the given rates, their refits started there, and only this one's diverged again.) Its finetuning needs a rate 30 times its pretraining's on the MNIST sets but is unstable at it; the paper's factored model is its best on the two back-* sets; ours is its worst on mnist-back-rand (+6.8; searched, 18.00%, still +5.4: its 12 configurations validate at 17.55% at best) and furthest behind the paper on mnist-rot-back-image (+8.4 under the fixed protocol; searched, 50.00%, +2.9, validation 51.40%).",
  "- **sigmoid** is behind on 2 sets (rectangles-image +4.7, mnist-rot-back-image +0.9; searched, mnist-rot-back-image gives 54.67%, 0.1 ahead). **linear** is behind on 5 sets (convex +4.3, rectangles-image +2.0, mnist-rot +1.0, rectangles and mnist-basic +0.2), **modulus** on 3 (convex +4.8, rectangles-image +4.5, mnist-rot +0.4; searched, mnist-rot gives 12.01%, 1.2 ahead): fixed learning rates per activation; both diverge at them on several sets and are retried at a third (logged), and the paper also validated learning rate and weight decay.",
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
export function searchedCell(s: SearchResult): Cell {
  const c = s.winner.config;
  return {
    hidden: c.hidden, lr: { pretrain: c.pretrainLr ?? NaN, finetune: finetuneRate(c) }, validError: s.winner.validError, finetuneEpochs: s.winner.epochs,
    selectedTest: s.validatedTest, testError: s.testError, refit: s.refit, seconds: s.seconds, searched: s,
  };
}

/** A cell's finished search, read from the cache (never started here); undefined while any of it is missing. */
export const finishedCell = (ctx: Context, set: string, row: Row): Promise<SearchResult | undefined> =>
  finishedSearch(ctx, cellPlan(ctx.quick, set, row), () => benchmark(set, ctx));

/** A table cell to search: its set and column, the paper's number, its plan, and the fixed protocol's test error (read only; NotCached if never computed). */
export interface SearchedCell {
  set: string;
  column: string;
  paper: number;
  plan: SearchPlan;
  fixed: (ro: Context) => Promise<number>;
}

/**
 * Searches every cell by successive halving, the cells the fixed protocol left behind the paper
 * first (the others after: a table is not only searched where it loses). Each cell is cached and
 * resumable like Table 2's searches; the report `name` is rewritten after each cell (`what`: what
 * is searched, in words), and the tables take every finished one.
 */
export async function searchCells(ctx: Context, name: string, title: string, columns: string[], all: SearchedCell[], what: string): Promise<void> {
  const t0 = performance.now();
  // The fixed protocol's result of each cell, if computed (read only): behind the paper, or unknown, first.
  const ro = { ...ctx, readOnly: true, log: () => {} };
  const fixed = new Map<SearchedCell, number>();
  for (const c of all) {
    try {
      fixed.set(c, await c.fixed(ro));
    } catch (err) {
      if (!(err instanceof NotCached)) throw err;
    }
  }
  const behind = (c: SearchedCell) => !(fixed.get(c)! <= c.paper);
  const order = [...all.filter(behind), ...all.filter((c) => !behind(c))];
  const done = new Map<SearchedCell, SearchResult>();
  const diverged = new Set<SearchedCell>();
  const sets = [...new Set(all.map((c) => c.set))];
  const report = () => {
    const head = [`| data set | ${columns.join(" | ")} |`, `|---|${columns.map(() => "---|").join("")}`];
    const table = [...head, ...sets.map((set) => `| ${set} | ${all.filter((c) => c.set === set).map((c) => {
      const s = done.get(c);
      return s ? `${versus(s.testError, c.paper)}${s.refit.failed ? " †" : ""}` : `— (${c.paper}; ${diverged.has(c) ? "every configuration diverged" : "not searched yet"})`;
    }).join(" | ")} |`)];
    const details = order.filter((c) => done.has(c)).map((c) => {
      const s = done.get(c)!;
      const curves = [...s.log].sort((a, b) => b.rungs - a.rungs || a.result.best - b.result.best)
        .map((x) => `  - ${label(x.config)}: rung ${x.rungs}, ${x.result.diverged ? "diverged" : `best ${x.result.best.toFixed(2)}% (epoch ${x.result.bestEpoch})`}; ${x.result.curve.map((v) => v.toFixed(2)).join(" ")}`);
      return [
        `- **${c.set}, ${c.column}**: ${label(s.winner.config)}, ${s.winner.epochs} finetuning epochs; validation ${s.winner.validError.toFixed(2)}%, test **${s.testError.toFixed(2)}%**${s.refit.failed ? ` († the refit scored ${s.refit.trainError.toFixed(2)}% on its own training rows: the validated model stands in)` : ""} (paper ${c.paper}%; fixed protocol ${fixed.has(c) ? `${fixed.get(c)!.toFixed(2)}%` : "not computed"}); the validated model ${s.validatedTest.toFixed(2)}%, seed ${(ctx.seed + 1) % 2 ** 32} ${s.secondSeed.testError.toFixed(2)}%${s.secondSeed.failed ? " (a failed refit)" : ""}; ${(s.seconds / 60).toFixed(1)} min.`,
        ...curves,
      ].join("\n");
    });
    const behindNow = all.filter((c) => done.has(c) && done.get(c)!.testError > c.paper).length;
    writeReport(ctx, name, title, [
      table.join("\n"), "",
      `${done.size} of ${all.length} cells searched; ${behindNow} of them behind the paper. † a failed refit: the validated model stands in.`, "",
      what, "",
      "Every searched cell, in the order searched, with each configuration's validation curve at the last rung it reached:", "",
      details.join("\n") || "(none yet)", "", BENCH_NOTE,
    ].join("\n"), (performance.now() - t0) / 1000);
  };
  for (const c of order) {
    ctx.log(`${name}: ${c.set}, ${c.column} (${done.size + 1} of ${all.length})`);
    try {
      done.set(c, await successiveHalving(ctx, c.plan, () => benchmark(c.set, ctx)));
    } catch (err) {
      if (!(err instanceof SearchDiverged)) throw err;
      diverged.add(c);
      ctx.log(`${name}: ${c.set}, ${c.column}: ${err.message}; the cell keeps the fixed protocol`);
    }
    report();
  }
}

/** `aescore reproduce search-table3`: every cell of Table 3 by successive halving (searchCells). */
export async function searchTable3(ctx: Context): Promise<void> {
  const p = benchProtocol(ctx.quick);
  const cells = Object.keys(TABLE3_PAPER).flatMap((set) => TABLE3_ROWS.map((row, i): SearchedCell => ({
    set, column: row.label, paper: TABLE3_PAPER[set][i], plan: cellPlan(ctx.quick, set, row),
    fixed: async (ro) => (await selectAndTest(ro, "table3", set, row, "csae", p)).testError,
  })));
  const plan = cellPlan(ctx.quick, "mnist-basic", TABLE3_ROWS[0]);
  const what = `What is searched, per cell: ${plan.configs} configurations drawn (seed ${ctx.seed}) from the grid of its column's model (src/reproduce/table3.ts, cellPlan: hidden sizes ${JSON.stringify(plan.grid.hidden)}, the contraction or corruption levels, learning rates and weight decay, as in Table 2's searches); successive halving keeping the best 1/${plan.eta} by the set's validation error at rungs of ${plan.rungs.join(", ")} finetuning epochs on a 10000-row training split (proportionally more on rectangles and convex, as is τ = ${plan.decay} epochs of the decay lr·τ/(τ + t)); pretraining as the fixed protocol's, at least ${benchProtocol(false).minPretrainSteps} minibatch steps per autoencoder; the winner refitted on train + validation for its best epoch count (and with seed ${(ctx.seed + 1) % 2 ** 32}) and tested on the set's ${ctx.quick ? "first 10000" : "50000"} test rows. The cells behind the paper under the fixed protocol (results/table3.md) are searched first.`;
  await searchCells(ctx, "search-table3", "Table 3's cells by successive halving — ours (paper; ours − paper)", TABLE3_ROWS.map((r) => r.label), cells, what);
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
  let kept = 0; // searched cells whose fixed protocol validated better
  const failures: string[] = [];
  for (const set of Object.keys(TABLE3_PAPER)) {
    const cells: string[] = [];
    const early: string[] = [];
    let chosen: { label: string; hidden: number; validError: number; testError: number; refit: { failed: boolean } } | undefined;
    for (const [i, row] of TABLE3_ROWS.entries()) {
      // Of the fixed protocol's model and its finished search's winner, the one that validated best
      // (the same validation rows; a tie goes to the search, which tried more).
      const s = await finishedCell(ctx, set, row);
      const fixed = await selectAndTest(ctx, "table3", set, row, "csae", p);
      const r: Cell = s && s.winner.validError <= fixed.validError ? searchedCell(s) : fixed;
      if (s && !r.searched) kept++;
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
    lines.join("\n"), "", `${behind} of ${cells} cells are behind the paper.${searched + kept ? ` § ${searched} cells from their search (\`aescore reproduce search-table3\`: search-table3.md)${kept ? `; ${kept} searched cells keep the fixed protocol, which validated better` : ""}; each cell takes, of the two, the model that validated best; the cells not searched, the fixed protocol below.` : ""}`, "", failedRefits(failures), "", ctx.quick ? "(The reading of the full run is in ../table3.md.)" : TABLE3_READING, "",
    "## Table 5's CSAE column: one model per set, chosen by validation error among the four above", "",
    table5.join("\n"), "",
    "## Without the refit: the validation-selected model, trained on the training split only, on the test split", "",
    "The finetuning epoch is the one validation chose; the refit above repeats it on train + validation. Where the two tables differ by much, the refit's outcome is sensitive to the stopping epoch at these learning rates.", "",
    unrefit.join("\n"), "", BENCH_NOTE, "", benchProtocolText(p),
  ].join("\n"), (performance.now() - t0) / 1000);
}
