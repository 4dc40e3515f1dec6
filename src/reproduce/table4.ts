// Table 4: the CSAE's variants (sigmoid) on mnist-basic, mnist-rot and convex, by the fixed protocol
// of benchmark.ts or, for the variants that finetune, cell by cell by successive halving (search-table4).

import { FIT_DEFAULTS, type FitOptions } from "../train/fit.js";
import { Context, writeReport } from "./common.js";
import { finishedSearch, type SearchPlan } from "./search.js";
import { DATASET_SIZES, type DatasetName } from "../datasets/sets.js";
import { BENCH_NOTE, TABLE3_ROWS, benchProtocol, benchProtocolText, benchmark, failedRefits, failure, refitCell, selectAndTest, unrefitCell, type Cell } from "./benchmark.js";
import { cellPlan, searchCells, searchedCell, type SearchedCell } from "./table3.js";

export const TABLE4_PAPER: Record<string, number[]> = {
  "mnist-basic": [3.39, 3.66, 5.53, 3.38],
  "mnist-rot": [14.32, 20.85, 19.95, 13.77],
  convex: [44.36, 33.9, 24.02, 21.52],
};

/** Where the committed run (seed 1) is behind, and why as far as we can tell. */
export const TABLE4_READING = [
  "Reading the committed run (seed 1; convex is the calibrated set, mnist-basic and mnist-rot are unchanged by the calibration): the paper's conclusions hold — the full CSAE is the best variant on all three sets, and finetuning the autoencoders beats learning only the normalization or a logistic regression on their energies.",
  "- **Searched** (§, `aescore reproduce search-table4`): the fixed protocol left learn normalization behind on mnist-basic (4.09%) and convex (41.82%) and no pretraining behind on mnist-basic (6.05%, with the paper's 100 epochs). Searching the pretraining (H, λ, its rate) for the first and the finetuning for the second moved them to 3.79 / 32.55 / 4.84%: the frozen variants had inherited a pretraining that was not theirs to choose (fixed λ = 0.5), which the paper tuned by looking at the filters. The other three cells of those columns (mnist-rot both, convex no pretraining) were ahead already and stay ahead (16.58, 16.01, 20.66%); the six searches took 77 min together.",
  "- **Energies + logistic regression, searched too** (one rung: every configuration of H, λ and the pretraining rate pretrained and its regression fitted, 33 min for the three sets): convex moved from 35.61 to 31.06% (paper 44.36). On mnist-basic the search's winner (H 200, λ 0.5) validated at 2.85%, better than the fixed protocol's model, so the rule takes it, and it tested 3.55% (its validated model 3.66%, seed 2 3.47%), where the fixed protocol's model had tested 3.23%, ahead of the paper's 3.39%: the cell moved behind. Twelve configurations compared on 2000 validation rows (a standard error of about 0.37 points at 3%) pick a lucky one as often as a better one. On mnist-rot the winner validated at 16.40%, worse than the fixed protocol's 16.00%, which stays (15.27%; the search's model tested 15.00%, still behind the paper's 14.32%).",
  "- **Still behind**: learn normalization on mnist-basic (+0.13: the validated model, trained on the training split only, scored 3.54%, ahead of the paper; its refit on train + validation 3.79%, the second seed's 3.77%; a 50000-row test has a standard error of about 0.08 points here), energies + logistic regression on mnist-basic (+0.16, above) and on mnist-rot (+0.95, searched: no configuration of the grid validated better than the fixed protocol's H 300, λ 0.5).",
].join("\n");

/**
 * The no-pretraining variant's protocol: the paper's 100 finetuning epochs, τ five times as long (the
 * rate decays over the longer run as over the others' 20 epochs). From random weights the best
 * validation epoch was the last of 20 on both MNIST sets (7.54 and 26.59% against the paper's 5.53 and
 * 19.95), where the pretrained variants stop improving within 20.
 */
export function noPretraining(p: ReturnType<typeof benchProtocol>, quick: boolean): ReturnType<typeof benchProtocol> {
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
  let searched = 0;
  for (const set of Object.keys(TABLE4_PAPER)) {
    const cells: string[] = [];
    const early: string[] = [];
    for (const [i, variant] of variants.entries()) {
      // The CSAE column is Table 3's sigmoid cell under the fixed protocol (cached once), not its
      // search: the four variants compared under one protocol.
      const fixed = await selectAndTest(ctx, variant === "csae" ? "table3" : "table4", set, sigmoid, variant, variant === "no-pretraining" ? noPretraining(p, ctx.quick) : p);
      // Of the fixed protocol's model and its finished search's winner, the one that validated best.
      const s = variant === "normalization" || variant === "no-pretraining" || variant === "energies" ? await finishedSearch(ctx, variantPlan(ctx.quick, set, variant), () => benchmark(set, ctx)) : undefined;
      const r: Cell = s && s.winner.validError <= fixed.validError ? searchedCell(s) : fixed;
      if (r.searched) searched++;
      ctx.log(`table4 ${set}, ${variant}: test error ${r.testError.toFixed(2)}% (paper ${TABLE4_PAPER[set][i]}%)`);
      cells.push(refitCell(r, TABLE4_PAPER[set][i]));
      if (r.refit.failed) failures.push(failure(set, variant ?? "csae", r));
      early.push(unrefitCell(r, false));
    }
    lines.push(`| ${set} | ${cells.join(" | ")} |`);
    unrefit.push(`| ${set} | ${early.join(" | ")} |`);
  }
  writeReport(ctx, "table4", "Table 4: the CSAE's variants (sigmoid) — test error (%), ours (paper; ours − paper)", [
    lines.join("\n"), "", ...(searched ? [`§ ${searched} cells from their search (\`aescore reproduce search-table4\`: search-table4.md), each taking of its search's winner and the fixed protocol's model the one that validated best.`, ""] : []), failedRefits(failures), "", ctx.quick ? "(The reading of the full run is in ../table4.md.)" : TABLE4_READING, "",
    "## Without the refit: the validation-selected model, trained on the training split only, on the test split", "",
    "The energies + logistic regression variant has no finetuning epochs to choose: its refit trains for all of them.", "",
    unrefit.join("\n"), "", BENCH_NOTE, "", benchProtocolText(p), "",
    ctx.quick ? "" : `No pretraining: the same with five times the finetuning (${noPretraining(p, false).finetuneEpochs} epochs, the paper's count, at least ${noPretraining(p, false).minFinetuneSteps} steps; τ ${noPretraining(p, false).decaySteps} steps): from random weights the best validation epoch was the last of 20.`,
  ].join("\n"), (performance.now() - t0) / 1000);
}

/** The variants searched: every one but the CSAE, whose column is Table 3's sigmoid cell. */
export const SEARCHED_VARIANTS = ["energies", "normalization", "no-pretraining"] as const;
type SearchedVariant = (typeof SEARCHED_VARIANTS)[number];

/**
 * The search of a Table 4 cell: Table 3's sigmoid cell plan (cellPlan) for the variant. Learning the
 * normalization keeps the autoencoders as pretrained, so its search is over the pretraining (H, λ, its
 * rate) and the constants' rate, with no weight decay (the constants are not weights). Without
 * pretraining there is no λ or pretraining rate to search, and finetuning from random weights runs
 * three times the rungs (the fixed protocol's best epochs came at 86–97 of 100) with τ five times as
 * long, as in noPretraining.
 */
export function variantPlan(quick: boolean, set: string, variant: SearchedVariant): SearchPlan {
  const base = cellPlan(quick, set, TABLE3_ROWS[2]);
  if (variant === "energies") {
    // No finetuning epochs to halve on (the regression keeps its best epoch on valid by itself, at
    // its own fixed rate): one rung, every configuration pretrained and its regression fitted, for
    // the fixed protocol's finetuning epochs (the regression runs three times as many).
    const { hidden, contractive, pretrainLr } = base.grid;
    const p = benchProtocol(quick);
    const epochs = Math.max(p.finetuneEpochs, Math.ceil((p.minFinetuneSteps * FIT_DEFAULTS.finetune.batch) / DATASET_SIZES[set as DatasetName].train));
    return { ...base, variant, grid: { hidden, contractive, pretrainLr, weightDecay: [0] }, rungs: [epochs] };
  }
  if (variant === "normalization") return { ...base, variant, grid: { ...base.grid, weightDecay: [0] } };
  const { hidden, finetuneLr, weightDecay } = base.grid;
  return { ...base, variant, grid: { hidden, finetuneLr, weightDecay }, ...(quick ? {} : { rungs: base.rungs.map((r) => 3 * r), decay: 5 * base.decay }) };
}

/** `aescore reproduce search-table4`: the cells of the variants that finetune, by successive halving (searchCells). */
export async function searchTable4(ctx: Context): Promise<void> {
  const p = benchProtocol(ctx.quick);
  const columns = ["energies + logistic regression", "learn normalization", "no pretraining"];
  const cells = Object.keys(TABLE4_PAPER).flatMap((set) => SEARCHED_VARIANTS.map((variant, i): SearchedCell => ({
    set, column: columns[i], paper: TABLE4_PAPER[set][i], plan: variantPlan(ctx.quick, set, variant),
    fixed: async (ro) => (await selectAndTest(ro, "table4", set, TABLE3_ROWS[2], variant, variant === "no-pretraining" ? noPretraining(p, ro.quick) : p)).testError,
  })));
  const en = variantPlan(ctx.quick, "mnist-basic", "energies");
  const n = variantPlan(ctx.quick, "mnist-basic", "normalization");
  const r = variantPlan(ctx.quick, "mnist-basic", "no-pretraining");
  const what = `What is searched, per cell: ${n.configs} configurations drawn (seed ${ctx.seed}) from Table 3's sigmoid grid (src/reproduce/table4.ts, variantPlan): for the energies' logistic regression, hidden sizes, the contraction and the pretraining rate, every configuration pretrained and its regression fitted for ${3 * en.rungs[0]} epochs (no halving: the regression has no epochs to rank by), ranked by validation error; for learning the normalization, hidden sizes ${JSON.stringify(n.grid.hidden)}, the contraction, the pretraining rate and the constants' rate, at rungs of ${n.rungs.join(", ")} epochs; without pretraining, hidden sizes, finetuning rates and weight decay at rungs of ${r.rungs.join(", ")} epochs (τ = ${r.decay}); on a 10000-row training split (proportionally more on convex); the best 1/${n.eta} by the set's validation error kept at each rung; the winner refitted on train + validation for its best epoch count (and with seed ${(ctx.seed + 1) % 2 ** 32}) and tested on the set's ${ctx.quick ? "first 10000" : "50000"} test rows. The cells behind the paper under the fixed protocol (results/table4.md) are searched first.`;
  await searchCells(ctx, "search-table4", "Table 4's variants by successive halving — ours (paper; ours − paper)", columns, cells, what);
}
