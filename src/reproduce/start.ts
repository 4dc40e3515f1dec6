// npm start (the README's main job) and the filter mosaics before and after finetuning.

import { createEngineSync } from "../engine/engine.js";
import { fitCsae, FIT_DEFAULTS, type FitOptions } from "../train/fit.js";
import { TRAIN_DEFAULTS } from "../train/autoencoder.js";
import { FINETUNE_DEFAULTS } from "../train/finetune.js";
import { Context, filterMosaic, mnistSplits, savePng, testError, writeReport } from "./common.js";

// ---- npm start: the main job --------------------------------------------------------------------

/**
 * The preset of `npm start`: the library's defaults (H = 100 sigmoid, real output, contractive
 * pretraining, 30 + 30 epochs, the finetuning rate decaying), with the best finetuning epoch chosen
 * on validation rows. (Probes of other settings on the same split: results/table2-probes.md.)
 */
export const START: Pick<FitOptions, "hidden" | "activation" | "output" | "variant" | "pretrain" | "finetune"> = {
  hidden: FIT_DEFAULTS.hidden,
  activation: FIT_DEFAULTS.activation,
  output: FIT_DEFAULTS.output,
  variant: FIT_DEFAULTS.variant,
  pretrain: { ...FIT_DEFAULTS.pretrain },
  finetune: { ...FIT_DEFAULTS.finetune },
};

export async function start(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const { train, valid, test } = mnistSplits(10000);
  ctx.log(`real MNIST: ${train.labels.length} training digits, ${valid!.labels.length} for validation, ${test.labels.length} test digits`);
  const e = createEngineSync();
  const m = await fitCsae(e, train.X, train.labels, {
    ...FIT_DEFAULTS, ...START, seed: ctx.seed, workers: ctx.workers, valid: valid!,
    onPretrain: (label, r) => {
      if (r.epoch === r.epochs) ctx.log(`pretrained class ${label}: loss ${r.loss.toFixed(3)}`);
    },
    onFinetune: (r) => ctx.log(`finetuning epoch ${r.epoch}/${r.epochs}: loss ${r.loss.toFixed(4)}, validation error ${(100 * r.valid!).toFixed(2)}%`),
  });
  const err = testError(m, test);
  const seconds = (performance.now() - t0) / 1000;
  const fig = savePng(ctx, "start", "filters.png", filterMosaic(m, 10));
  ctx.log(`test error on the 10000 MNIST test digits: ${err.toFixed(2)}% (paper: 1.27%, with model selection) in ${(seconds / 60).toFixed(1)} min`);
  ctx.log(`figure: ${fig} (the first 10 filters of each class's autoencoder, one row per digit)`);
  writeReport(ctx, "start", "npm start: a sigmoid CSAE on real MNIST", [
    `| model | test error | paper |`,
    `|---|---|---|`,
    `| CSAE, sigmoid, H = 100, contractive pretraining, finetuned | **${err.toFixed(2)}%** | 1.27% (model selection; the ICML version names 100 hidden units for its comparison of activations) |`,
    ``,
    `Configuration: ${JSON.stringify(START)}; 50000 training digits, the best finetuning epoch chosen on the last 10000 of MNIST's training file, tested on the 10000 test digits.`,
    ``,
    `![filters](start/filters.png)`,
  ].join("\n"), seconds);
}


export async function filters(ctx: Context): Promise<void> {
  const t0 = performance.now();
  const { train, test } = mnistSplits(0, ctx.quick ? 12000 : 60000);
  const e = createEngineSync();
  // Its own configuration, written out (the committed figures were made with it): pretraining 10 epochs,
  // finetuning at a constant 0.01.
  const fixed = { ...START, pretrain: { ...TRAIN_DEFAULTS, epochs: 10, lr: 0.03, contractive: 0.5 }, finetune: { ...FINETUNE_DEFAULTS, lr: 0.01, decay: 0 } };
  const o: FitOptions = { ...FIT_DEFAULTS, ...fixed, seed: ctx.seed, workers: ctx.workers, finetune: { ...fixed.finetune, epochs: 0 } };
  // "Pretrained only": the autoencoders as pretraining left them, with only their constants C learned
  // (the convex problem of docs/math.md §7.5); then the whole model finetuned from there.
  const before = await fitCsae(e, train.X, train.labels, { ...o, variant: "normalization", finetune: { ...fixed.finetune, epochs: 5 } });
  const after = await fitCsae(e, train.X, train.labels, { ...o, init: before, finetune: { ...fixed.finetune, epochs: ctx.quick ? 3 : 13 } });
  const a = savePng(ctx, "filters", "pretrained.png", filterMosaic(before, 10));
  const b = savePng(ctx, "filters", "finetuned.png", filterMosaic(after, 10));
  writeReport(ctx, "filters", "Filters before and after finetuning", [
    `The first 10 filters of each class's autoencoder (rows: digits 0–9), sigmoid, H = 100, after contractive pretraining and after discriminative finetuning on ${train.labels.length} MNIST digits.`,
    `Test error: pretrained only (autoencoders frozen, C learned) ${testError(before, test).toFixed(2)}%, finetuned ${testError(after, test).toFixed(2)}%.`,
    "",
    `![pretrained](filters/${a.split("/").pop()}) ![finetuned](filters/${b.split("/").pop()})`,
  ].join("\n"), (performance.now() - t0) / 1000);
}
