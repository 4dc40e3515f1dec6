// Table 2: MNIST test error of the activations, with model selection over hidden sizes.

import { Context, cached, mnistSplits, signed, testError, writeReport } from "./common.js";
import { TABLE2, fitModel, protocol, rates, type Row } from "./models.js";
import { SEARCHED, experimentOf, finishedSearch, label, searchPlan, type SearchResult } from "./search.js";

// A row's finished search; of several parts finished, the one whose winner validated best (the same
// validation digits for every part).
async function finishedRowSearch(ctx: Context, row: Row): Promise<SearchResult | undefined> {
  let best: SearchResult | undefined;
  for (const { part } of Object.values(SEARCHED).filter((x) => x.row === row)) {
    const s = await finishedSearch(ctx, searchPlan(ctx.quick, row, part));
    if (s && (!best || s.winner.validError < best.winner.validError)) best = s;
  }
  return best;
}

/** How the committed run (seed 1) compares with the paper, row by row, and why as far as we can tell. */
export const TABLE2_READING = [
  "Each row against the paper, and why (as far as we can tell):",
  "- **sigmoid**, from its search (results/search.md; 63 min): of 27 configurations of size, λ, learning rates and weight decay, the best after 36 finetuning epochs is H = 100, 1.56% on the test digits (1.57% with seed 2), no better than the library's defaults (`npm start`: 1.54%, 30 pretraining epochs). H = 200 validated as well (1.64% against 1.63%). H = 300 and 500 were cut after 4 finetuning epochs while their validation error was still falling fast (successive halving judges slow starters early), and were pretrained with λ ≥ 0.2, which the reference of SPEC §8 found too strong at H = 500 (it suggests 0.1). Their own search (search-sigmoid-large: λ 0.05–0.2, finetuning up to 0.1 per 100 hidden units; paused at 14 of its 27 first-rung configurations) has them at 2.35–3.40% validation error after 4 finetuning epochs, the slowest finetuning rates best, where H = 100 was at 1.8–2.0%: not the missing ingredient so far. The paper's 1.27% is 0.3 points (about 2.4 standard errors) beyond anything we found, probes included (results/table2-probes.md).",
  "- **tanh (factored)**, from its search (results/search-tanh-factored.md; 207 min): **1.75%, ahead of the paper's 2.02%** (1.61% with seed 2; the validated model, trained on 50000 digits only, 1.83%), where the fixed protocol gave 2.43%. The winner (H 200, ν 0.2) finetunes at 0.045, 30 times the fixed protocol's rate for that size: the factored model had been undertrained, not unstable, at the rate that keeps its three-matrix product safe. Its validation error was 1.63–1.74% over the last 25 epochs, so the 36 epochs were enough.",
  "- **square (factored)**, from its search (results/search-square-factored.md; 216 min): **2.06%, ahead of the paper's 2.5%** (2.12% with seed 2; the validated model, trained on 50000 digits only, 2.03%), where the fixed protocol gave 4.06%. The winner (H 100, ν 0.5, pretraining lr 0.0001, weight decay 1e-4, 34 finetuning epochs) finetunes at 0.009, 30 times the fixed protocol's rate for square: as with tanh, the factored model had been undertrained.",
  "- **relu (factored)**, from its search (results/search-relu-factored.md; 131 min, run beside the modulus-factored search, one core each): **1.83%, ahead of the paper's 2.35%** (2.08% with seed 2; the validated model, trained on 50000 digits only, 2.02%), where the fixed protocol gave 3.18%. The winner (H 300, ν 0.5, pretraining lr 0.000333, weight decay 0) finetunes at 0.01 per 100 hidden units, 10 times the fixed protocol's: like tanh and square, the factored relu model had been undertrained.",
  "- **modulus (factored)**, from its search (results/search-modulus-factored.md; 159 min, run beside the relu-factored search, one core each): **1.67%, ahead of the paper's 2.04%** (1.64% with seed 2; the validated model, trained on 50000 digits only, 1.79%), where the fixed protocol gave 3.24%. The winner is the largest model searched (H 500, ν 0.5, pretraining lr 0.001, weight decay 0.0001), finetuned at 0.006 per 100 hidden units for 29 epochs: the fixed protocol had chosen H 100 because its larger models were undertrained.",
  "- **linear**, from its search (results/search-linear.md; 121 min): **1.84%, ahead of the paper's 1.99%** (1.83% with seed 2; the validated model, trained on 50000 digits only, 1.99%), where the fixed protocol gave 2.40%. The winner (H 300, λ 0.2, pretraining lr 0.005, finetuning lr 0.01 per 100 hidden units, weight decay 0) validated best after only 8 finetuning epochs and stayed at 1.9–2.0% over the 28 after. A first linear search, on finetuning rates of 0.3–3 times the fixed protocol's, ranked the top rate first at every size; so every row but sigmoid now searches 1–30 times.",
  "- **the row not searched** (the fixed protocol): modulus, which matches the paper (1.72% against 1.76%). On the fixed protocol every row selected the smallest hidden size, because with the learning rates scaled by 100/H and the same 10 + 13 epochs the larger models are undertrained (their validation error rises with H), while the paper's best results came from larger models tuned per size, over up to 100 epochs.",
].join("\n");

export async function table2(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const p = protocol(ctx.quick);
  const { train, valid, all, test } = mnistSplits(p.valid, p.trainRows);
  const lines = ["| model | selected | validation error | test error | paper | ours − paper | time |", "|---|---|---|---|---|---|---|"];
  const searched: string[] = [];
  for (const row of TABLE2) {
    // Model selection over the hidden sizes on the validation split (then a refit on train + valid).
    const choices: Array<{ hidden: number; validError: number; retries?: number }> = [];
    for (const hidden of p.hidden) {
      const lr = rates(row.activation, hidden, row.factored);
      const { value } = await cached(ctx, "table2", { stage: "select", row, hidden, p, lr, seed: ctx.seed }, async () => {
        const fit = await fitModel(ctx, "table2", row, "csae", hidden, train, valid, p, lr);
        return { validError: testError(fit.model, valid!), retries: fit.retries };
      });
      ctx.log(`table2 ${row.label}, H = ${hidden}: validation error ${value.validError.toFixed(2)}%`);
      choices.push({ hidden, ...value });
    }
    const best = choices.reduce((a, b) => (b.validError < a.validError ? b : a));
    // Of the fixed protocol's choice and the row's finished search, the one that validated best (the
    // same validation digits; a tie goes to the search, which tried more).
    const s = await finishedRowSearch(ctx, row);
    if (s && s.winner.validError <= best.validError) {
      ctx.log(`table2 ${row.label}: searched, test error ${s.testError.toFixed(2)}% (paper ${row.paper}%)`);
      lines.push(`| ${row.label} | searched: ${label(s.winner.config)}, ${s.winner.epochs} finetuning epochs | ${s.winner.validError.toFixed(2)}% | **${s.testError.toFixed(2)}%**${s.refit.failed ? " †" : ""} | ${row.paper}% | ${signed(s.testError - row.paper)} | ${(s.seconds / 60).toFixed(1)} min |`);
      searched.push(`- ${row.label}: ${experimentOf(s.plan)}.md (second seed ${s.secondSeed.testError.toFixed(2)}%; the validated model before the refit ${s.validatedTest.toFixed(2)}%)${s.refit.failed ? `; † the refit failed (${s.refit.trainError.toFixed(2)}% error on its own training rows against ${s.winner.validError.toFixed(2)}% on validation, ${s.refit.testError.toFixed(2)}% on the test digits): the validated model stands in` : ""}`);
      continue;
    }
    if (s) searched.push(`- ${row.label}: ${experimentOf(s.plan)}.md validated at ${s.winner.validError.toFixed(2)}%, the fixed protocol at ${best.validError.toFixed(2)}%: the row keeps the fixed protocol`);
    const lr = rates(row.activation, best.hidden, row.factored);
    // The refit starts at the rates the validated fit ended at (as in Tables 3 and 4).
    const start = best.retries ?? 0;
    const { value, seconds } = await cached(ctx, "table2", { stage: "final", row, hidden: best.hidden, p, lr, seed: ctx.seed, ...(start ? { retries: start } : {}) }, async () => {
      const refit = await fitModel(ctx, "table2", row, "csae", best.hidden, all, undefined, p, lr, undefined, start);
      return { testError: testError(refit.model, test), retries: refit.retries };
    });
    ctx.log(`table2 ${row.label}: test error ${value.testError.toFixed(2)}% (paper ${row.paper}%)`);
    const gap = value.testError - row.paper;
    lines.push(`| ${row.label} | H = ${best.hidden} | ${best.validError.toFixed(2)}% | **${value.testError.toFixed(2)}%** | ${row.paper}% | ${signed(gap)} | ${(seconds / 60).toFixed(1)} min |`);
  }
  const seconds = (performance.now() - t0) / 1000;
  writeReport(ctx, "table2", "Table 2: MNIST test error of CSAEs with different activations", [
    lines.join("\n"),
    "",
    searched.length > 0 ? `Rows marked "searched" come from their successive-halving search (\`aescore reproduce search[-<row>]\`; every configuration's curve in its report), which validated better than the fixed protocol below (a row takes, of the two, the model that validated best):\n${searched.join("\n")}` : "No row has a finished search yet (`aescore reproduce search[-<row>]`): every row is the fixed protocol below.",
    "",
    ctx.quick ? "(The reading of the full run is in ../table2.md.)" : TABLE2_READING,
    "",
    `Protocol of the rows not searched: ${p.trainRows - p.valid} training digits and ${p.valid} for validation (the last of MNIST's training file); the hidden size (factors = hidden for the factored models) is chosen from ${JSON.stringify(p.hidden)} by validation error (the best finetuning epoch kept); the chosen configuration is refitted on all ${p.trainRows} digits for the same epochs and tested on the 10000 test digits. Pretraining ${p.pretrainEpochs} epochs, finetuning ${p.finetuneEpochs} epochs, minibatch 100, momentum 0.9; learning rates by activation and size (src/reproduce/models.ts, \`rates\`).`,
  ].join("\n"), seconds);
}
