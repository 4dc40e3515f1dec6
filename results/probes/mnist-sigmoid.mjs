// A probe of the sigmoid CSAE on real MNIST (50000 train, last 10000 of the training file for validation,
// the 10000 test digits): node results/probes/mnist-sigmoid.mjs H λ pretrainLr pretrainEpochs lr epochs τ weightDecay workers
// [output [ν]] (after npm run build; ν > 0: denoising pretraining with corruption ν instead of λ). Prints the validation error per finetuning epoch and the test error of the best epoch.
import { createEngineSync } from "../../dist/src/engine/engine.js";
import { fitCsae, FIT_DEFAULTS } from "../../dist/src/train/fit.js";
import { mnistSplits, testError } from "../../dist/src/reproduce/common.js";
const [H, lam, pl, pe, fl, fe, decay, wd, workers] = process.argv.slice(2, 11).map(Number);
const output = process.argv[11] ?? "real";
const nu = Number(process.argv[12] ?? 0);
const { train, valid, test } = mnistSplits(10000);
const hist = [];
const t0 = Date.now();
const m = await fitCsae(createEngineSync(), train.X, train.labels, { ...FIT_DEFAULTS, hidden: H, activation: "sigmoid", output, seed: 1, valid, workers,
  pretrain: { ...FIT_DEFAULTS.pretrain, epochs: pe, lr: pl, contractive: nu > 0 ? 0 : lam, denoising: nu },
  finetune: { ...FIT_DEFAULTS.finetune, epochs: fe, lr: fl, decay, weightDecay: wd },
  onFinetune: (r) => hist.push((r.valid * 100).toFixed(2)) });
const scale = () => { let max = 0; for (const ae of m.aes) for (const v of ae.W.data) max = Math.max(max, Math.abs(v)); return max.toFixed(2); };
console.log(`${output} H ${H} ${nu > 0 ? `ν ${nu}` : `λ ${lam}`} pre ${pl}x${pe} fine ${fl}x${fe} τ ${decay} wd ${wd}: valid ${hist.join(" ")} | max|W| ${scale()} | train ${testError(m, train).toFixed(2)}% test ${testError(m, test).toFixed(2)}% ${((Date.now() - t0) / 60000).toFixed(1)} min`);
