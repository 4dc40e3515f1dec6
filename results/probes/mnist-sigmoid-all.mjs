// A probe of the sigmoid CSAE trained on all 60000 MNIST training digits for a fixed number of epochs
// (no validation rows, the last epoch kept), tested on the 10000 test digits:
// node results/probes/mnist-sigmoid-all.mjs H λ pretrainLr pretrainEpochs lr epochs τ weightDecay workers seed
// (after npm run build). Prints the test error after every finetuning epoch, for the record only: the
// model is the last epoch's, whatever those numbers say.
import { createEngineSync } from "../../dist/src/engine/engine.js";
import { fitCsae, FIT_DEFAULTS } from "../../dist/src/train/fit.js";
import { mnistSplits, testError } from "../../dist/src/reproduce/common.js";
const [H, lam, pl, pe, fl, fe, decay, wd, workers, seed] = process.argv.slice(2).map(Number);
const { all, test } = mnistSplits(0);
const t0 = Date.now();
const m = await fitCsae(createEngineSync(), all.X, all.labels, { ...FIT_DEFAULTS, hidden: H, activation: "sigmoid", output: "real", seed: seed || 1, workers,
  pretrain: { ...FIT_DEFAULTS.pretrain, epochs: pe, lr: pl, contractive: lam },
  finetune: { ...FIT_DEFAULTS.finetune, epochs: fe, lr: fl, decay, weightDecay: wd } });
const minutes = (Date.now() - t0) / 60000;
console.log(`all 60000, H ${H} λ ${lam} pre ${pl}x${pe} fine ${fl}x${fe} τ ${decay} wd ${wd} seed ${seed || 1}: test ${testError(m, test).toFixed(2)}% ${minutes.toFixed(1)} min`);
