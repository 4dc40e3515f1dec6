// Finetuning probes of the sigmoid CSAE on real MNIST from one pretraining (50000 train, the last 10000
// of the training file for validation, the 10000 test digits):
//   node results/probes/mnist-sigmoid-finetune.mjs H λ pretrainLr pretrainEpochs lr epochs τ weightDecay batch momentum workers
// (after npm run build). The pretrained autoencoders are kept in /tmp/aescore-probes (pretraining is
// most of the time, and every finetuning variant starts from the same bits); with batch 100 and
// momentum 0.9 this is `npm start`'s fit exactly. Prints the validation error per finetuning epoch,
// the training error and the test error of the best epoch.
import { mkdirSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createEngineSync } from "../../dist/src/engine/engine.js";
import { fitCsae, FIT_DEFAULTS } from "../../dist/src/train/fit.js";
import { encodeCsae, decodeCsae } from "../../dist/src/model/csae.js";
import { mnistSplits, testError } from "../../dist/src/reproduce/common.js";
const [H, lam, pl, pe, fl, fe, decay, wd, batch, momentum, workers] = process.argv.slice(2, 13).map(Number);
const { train, valid, test } = mnistSplits(10000);
const e = createEngineSync();
const base = { ...FIT_DEFAULTS, hidden: H, activation: "sigmoid", output: "real", seed: 1, valid, workers,
  pretrain: { ...FIT_DEFAULTS.pretrain, epochs: pe, lr: pl, contractive: lam } };
const t0 = Date.now();
mkdirSync("/tmp/aescore-probes", { recursive: true });
const file = `/tmp/aescore-probes/pre-H${H}-l${lam}-${pl}x${pe}.safetensors`;
let pre;
if (existsSync(file)) pre = decodeCsae(e, readFileSync(file));
else {
  pre = await fitCsae(e, train.X, train.labels, { ...base, variant: "reconstruction" });
  writeFileSync(file, encodeCsae(pre));
}
const t1 = Date.now();
const hist = [];
const m = await fitCsae(e, train.X, train.labels, { ...base, variant: "csae", init: { ...pre, rule: "energy" },
  finetune: { ...FIT_DEFAULTS.finetune, epochs: fe, lr: fl, decay, weightDecay: wd, batch, momentum },
  onFinetune: (r) => hist.push((r.valid * 100).toFixed(2)) });
console.log(`H ${H} λ ${lam} pre ${pl}x${pe} fine ${fl}x${fe} τ ${decay} wd ${wd} batch ${batch} momentum ${momentum}: valid ${hist.join(" ")} | train ${testError(m, train).toFixed(2)}% test ${testError(m, test).toFixed(2)}% | pretraining ${((t1 - t0) / 60000).toFixed(1)} min, finetuning ${((Date.now() - t1) / 60000).toFixed(1)} min`);
