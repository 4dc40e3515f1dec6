// A probe: sigmoid autoencoders pretrained with binary output (cross-entropy, as CAEs on MNIST usually
// are), then finetuned as a real-output CSAE (the energy Σ softplus(u) − ½‖x − br‖²), to see whether
// the paper's large pretrained filters (±4.7, shrunk to ±0.64 by finetuning) come from that.
// node results/probes/mnist-sigmoid-binpre.mjs H λ pretrainLr pretrainEpochs lr epochs τ workers [weightDecay] (after npm run build).
import { createEngineSync } from "../../dist/src/engine/engine.js";
import { fitCsae, FIT_DEFAULTS, rowsWithLabel } from "../../dist/src/train/fit.js";
import { initialConstants } from "../../dist/src/model/csae.js";
import { mnistSplits, testError } from "../../dist/src/reproduce/common.js";
const [H, lam, pl, pe, fl, fe, decay, workers] = process.argv.slice(2, 10).map(Number);
const wd = Number(process.argv[10] ?? 0);
const { train, valid, test } = mnistSplits(10000);
const e = createEngineSync();
const t0 = Date.now();
const base = { ...FIT_DEFAULTS, hidden: H, activation: "sigmoid", seed: 1, workers, pretrain: { ...FIT_DEFAULTS.pretrain, epochs: pe, lr: pl, contractive: lam } };
const pre = await fitCsae(e, train.X, train.labels, { ...base, output: "binary", variant: "reconstruction" });
const scale = (m) => { let max = 0; for (const ae of m.aes) for (const v of ae.W.data) max = Math.max(max, Math.abs(v)); return max.toFixed(2); };
const aes = pre.aes.map((ae) => ({ ...ae, output: "real" }));
const C = initialConstants(aes, pre.classes.map((c) => rowsWithLabel(train.X, train.labels, c)));
const init = { classes: pre.classes, aes, C, rule: "energy" };
console.log(`pretrained (binary): max|W| ${scale(pre)}, real-energy classifier before finetuning: valid ${testError(init, valid).toFixed(2)}% ${((Date.now() - t0) / 60000).toFixed(1)} min`);
const hist = [];
const m = await fitCsae(e, train.X, train.labels, { ...base, output: "real", valid, init, finetune: { ...FIT_DEFAULTS.finetune, epochs: fe, lr: fl, decay, weightDecay: wd }, onFinetune: (r) => hist.push((r.valid * 100).toFixed(2)) });
console.log(`binary-pretrained H ${H} λ ${lam} pre ${pl}x${pe} fine ${fl}x${fe} τ ${decay} wd ${wd}: valid ${hist.join(" ")} | max|W| ${scale(m)} | train ${testError(m, train).toFixed(2)}% test ${testError(m, test).toFixed(2)}% ${((Date.now() - t0) / 60000).toFixed(1)} min`);
