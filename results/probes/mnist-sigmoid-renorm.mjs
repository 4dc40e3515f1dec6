// A probe of the sigmoid CSAE's pretraining regime on real MNIST (50000 train, the last 10000 of the
// training file for validation, the 10000 test digits), with filter renormalization during pretraining
// and the filters' scale printed before and after finetuning (the paper's Fig. 5: ±4.7 before, ±0.64 after):
// node results/probes/mnist-sigmoid-renorm.mjs H λ pretrainLr pretrainEpochs renorm lr epochs τ weightDecay workers
// (after npm run build; renorm 0 = off).
import { createEngineSync } from "../../dist/src/engine/engine.js";
import { fitCsae, FIT_DEFAULTS } from "../../dist/src/train/fit.js";
import { mnistSplits, testError } from "../../dist/src/reproduce/common.js";
const [H, lam, pl, pe, renorm, fl, fe, decay, wd, workers] = process.argv.slice(2, 12).map(Number);
const { train, valid, test } = mnistSplits(10000);
const stats = (m) => {
  let max = 0, norms = 0, rows = 0;
  for (const ae of m.aes) {
    const w = ae.W.data;
    for (let k = 0; k < ae.H; k++) {
      let s = 0;
      for (let j = 0; j < ae.D; j++) { const v = w[k * ae.D + j]; s += v * v; max = Math.max(max, Math.abs(v)); }
      norms += Math.sqrt(s); rows++;
    }
  }
  return `max|W| ${max.toFixed(2)}, mean filter norm ${(norms / rows).toFixed(2)}`;
};
const t0 = Date.now();
const base = { ...FIT_DEFAULTS, hidden: H, activation: "sigmoid", output: "real", seed: 1, workers, valid };
const pre = await fitCsae(createEngineSync(), train.X, train.labels, { ...base, variant: "normalization",
  pretrain: { ...FIT_DEFAULTS.pretrain, epochs: pe, lr: pl, contractive: lam, renormalize: renorm },
  finetune: { ...FIT_DEFAULTS.finetune, epochs: 3, lr: 0.01, decay: 0 } });
console.log(`pretrained (${((Date.now() - t0) / 60000).toFixed(1)} min): ${stats(pre)}; C only: test ${testError(pre, test).toFixed(2)}%`);
const hist = [];
const m = await fitCsae(createEngineSync(), train.X, train.labels, { ...base, init: pre,
  finetune: { ...FIT_DEFAULTS.finetune, epochs: fe, lr: fl, decay, weightDecay: wd },
  onFinetune: (r) => hist.push((r.valid * 100).toFixed(2)) });
console.log(`H ${H} λ ${lam} pre ${pl}x${pe} renorm ${renorm} fine ${fl}x${fe} τ ${decay} wd ${wd}: valid ${hist.join(" ")} | ${stats(m)} | train ${testError(m, train).toFixed(2)}% test ${testError(m, test).toFixed(2)}% ${((Date.now() - t0) / 60000).toFixed(1)} min`);
