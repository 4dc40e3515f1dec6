// A probe of Table 4's frozen-pretraining variants under other contractive weights than the fixed
// protocol's λ = 0.5: node results/probes/table4-lambda.mjs SET VARIANT H λ[,λ…] (after npm run build).
// Prints, per λ, the validation error (best finetuning epoch) and the test error of that model.
import { benchmark, benchProtocol } from "../../dist/src/reproduce/benchmark.js";
import { fitModel, rates, TABLE2 } from "../../dist/src/reproduce/models.js";
import { testError } from "../../dist/src/reproduce/common.js";
const [set, variant, H, lams] = process.argv.slice(2, 6);
const ctx = { seed: 1, quick: false, workers: 1, log: (s) => console.error(s) };
const b = benchmark(set, ctx);
const p = benchProtocol(false);
for (const lam of lams.split(",").map(Number)) {
  const t0 = Date.now();
  const row = { ...TABLE2[0], reg: { contractive: lam } };
  const { model, bestEpoch } = await fitModel(ctx, `probe ${set}`, row, variant, Number(H), b.train, b.valid, p, rates("sigmoid", Number(H), false));
  console.log(`${set} ${variant} H ${H} λ ${lam}: validation ${testError(model, b.valid).toFixed(2)}% (epoch ${bestEpoch ?? "-"}), test ${testError(model, b.test).toFixed(2)}%, ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}
