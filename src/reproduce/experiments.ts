// The paper's experiments, each reproduced by one command (`aescore reproduce <name> [--quick]`).
// Every experiment writes results/<name>.md (our number beside the paper's, the exact command, seed and
// configuration, the time it took) and its figures under results/<name>/. Finished configurations are
// cached in results/cache/<name>/ and skipped, so a long reproduction can be stopped and continued.

import { join } from "node:path";
import { InputError, quote } from "../errors.js";
import { checkWritable, makeDir } from "../node.js";
import type { Context, Experiment } from "./common.js";
import { filters, start } from "./start.js";
import { table2 } from "./table2.js";
import { searchTable4, table4 } from "./table4.js";
import { searchTable3, table3 } from "./table3.js";
import { fig2, fig3 } from "./figures.js";
import { SEARCHED, search } from "./search.js";

export { cached, type Context } from "./common.js";

export const EXPERIMENTS: Record<string, Experiment> = {
  start: { quick: false, summary: "the README's main job: a sigmoid CSAE on the full real MNIST in 2–3 minutes", run: start },
  table2: { quick: true, summary: "Table 2: MNIST test error for the activations (model selection over hidden sizes)", run: table2 },
  ...Object.fromEntries(Object.entries(SEARCHED).map(([name, { row, part }]) => [name, {
    quick: true, summary: `Table 2's ${row.label} row by successive halving over ${part === "large" ? "the larger hidden sizes" : "hidden size"}, ${row.reg.contractive !== undefined ? "contraction" : "corruption"}, learning rates, weight decay (hours; resumable)`, run: (ctx: Context) => search(ctx, row, part),
  }])),
  table3: { quick: true, summary: "Table 3: 8 benchmark sets x linear / modulus / sigmoid / sigmoid factored", run: table3 },
  "search-table3": { quick: true, summary: "Table 3's 32 cells by successive halving, those behind the paper first (many hours; resumable)", run: searchTable3 },
  table4: { quick: true, summary: "Table 4: the variants on mnist-basic, mnist-rot, convex", run: table4 },
  "search-table4": { quick: true, summary: "Table 4's variants (energies + logistic regression, learn normalization, no pretraining) cell by cell: successive halving where they finetune (hours; resumable)", run: searchTable4 },
  fig2: { quick: true, summary: "Fig. 2: energy surface, field and reconstruction error on a circle", run: fig2 },
  fig3: { quick: true, summary: "Fig. 3: energy histograms of digits 6 and 9 under each activation", run: fig3 },
  filters: { quick: true, summary: "filter mosaics before and after finetuning", run: filters },
};

export async function reproduce(name: string, ctx: Context): Promise<void> {
  const x = EXPERIMENTS[name];
  if (!x) throw new InputError(`reproduce: unknown experiment ${quote(name)} (${Object.keys(EXPERIMENTS).join(", ")})`);
  if (ctx.quick && !x.quick) throw new InputError(`reproduce: ${name} has no quick configuration (it is short already): drop --quick`);
  // Its report is written last, after hours of work: a directory or read-only file in its place is
  // refused now (the finished configurations are cached either way).
  makeDir(ctx.dir, "results directory");
  checkWritable(join(ctx.dir, `${name}.md`), "report");
  await x.run(ctx);
}
