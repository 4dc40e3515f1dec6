// The models of Tables 2-4 and how they are fitted: rows of the tables, learning rates that keep each
// stable, the fit with its retries at a third of the rate when the loss diverges.

import { createEngineSync } from "../engine/engine.js";
import { fit, FIT_DEFAULTS, type FitOptions } from "../train/fit.js";
import { type Csae } from "../model/csae.js";
import { type AeActivation } from "../model/autoencoder.js";
import { DivergenceError } from "../train/driver.js";
import { Context, Split, standardError } from "./common.js";

export interface Row {
  label: string;
  activation: AeActivation;
  factored: boolean;
  /** Pretraining regularizer: contractive λ, or denoising ν. */
  reg: { contractive?: number; denoising?: number };
  paper: number;
}

export const TABLE2: Row[] = [
  { label: "sigmoid (contractive)", activation: "sigmoid", factored: false, reg: { contractive: 0.5 }, paper: 1.27 },
  { label: "modulus (denoising)", activation: "modulus", factored: false, reg: { denoising: 0.25 }, paper: 1.76 },
  { label: "linear (contractive)", activation: "linear", factored: false, reg: { contractive: 0.5 }, paper: 1.99 },
  { label: "tanh (factored, denoising)", activation: "tanh", factored: true, reg: { denoising: 0.25 }, paper: 2.02 },
  { label: "modulus (factored, denoising)", activation: "modulus", factored: true, reg: { denoising: 0.25 }, paper: 2.04 },
  { label: "relu (factored, denoising)", activation: "relu", factored: true, reg: { denoising: 0.25 }, paper: 2.35 },
  { label: "square (factored, denoising)", activation: "square", factored: true, reg: { denoising: 0.25 }, paper: 2.5 },
];

/** The grid and epochs of a reproduction; --quick shrinks them. */
export function protocol(quick: boolean) {
  return quick
    ? { trainRows: 22000, valid: 2000, hidden: [100], pretrainEpochs: 5, finetuneEpochs: 6 }
    : { trainRows: 60000, valid: 10000, hidden: [100, 300, 500], pretrainEpochs: 10, finetuneEpochs: 13 };
}

/**
 * Learning rates that keep each model stable (docs/math.md §7.7: smaller as H grows). Unbounded activations
 * and the factored models (a product of three weight matrices) need smaller steps; square (h = u²)
 * the smallest. Found by short runs on 10000 digits: larger ones diverge (NaN) in the first epochs.
 */
export function rates(activation: AeActivation, hidden: number, factored: boolean): { pretrain: number; finetune: number } {
  const unbounded = activation === "linear" || activation === "relu" || activation === "modulus";
  const base = activation === "square" ? 0.0003 : factored ? (unbounded ? 0.001 : 0.003) : unbounded ? 0.005 : 0.03;
  const scale = 100 / hidden;
  const finetune = activation === "square" || factored ? base : unbounded ? 0.001 : 0.01;
  return { pretrain: base * Math.min(1, scale * 2), finetune: finetune * scale };
}

/**
 * The learning rates the benchmark tables validate. The factored model with a bounded activation gets
 * a second, much larger finetuning rate: at `rates`' 0.003 its validation error was still falling after
 * 20 epochs on the MNIST sets (mnist-rot 30.5%; 14.4% at 0.1), while 0.1 breaks it on the two-class sets
 * (rectangles-image at chance), so validation chooses per set.
 */
export function rateGrid(row: Row, hidden: number): Array<{ pretrain: number; finetune: number }> {
  const lr = rates(row.activation, hidden, row.factored);
  const bounded = row.activation === "sigmoid" || row.activation === "tanh";
  return row.factored && bounded ? [lr, { ...lr, finetune: 0.1 * (100 / hidden) }] : [lr];
}

/** The most times fitModel divides the learning rates by 3. */
export const MAX_RETRIES = 3;

/**
 * Fits one model of a table row. Small sets get more epochs, so that pretraining and finetuning take
 * at least p.minPretrainSteps / p.minFinetuneSteps minibatch steps (when given); `finetuneEpochs` fixes
 * the finetuning epochs instead (a refit repeats the epochs that validation chose). A fit whose loss
 * diverges is retried with a third of the learning rates (at most three times, logged); `retries`
 * starts it that many thirds down (a refit starts at the rates its validated fit ended at). Returns the
 * model, its retries counted from the given rates and, when validation data was given, the finetuning
 * epoch with the lowest validation error.
 */
export async function fitModel(
  ctx: Context, what: string, row: Row, variant: FitOptions["variant"], hidden: number, data: Split, valid: Split | undefined,
  p: { pretrainEpochs: number; finetuneEpochs: number; minPretrainSteps?: number; minFinetuneSteps?: number; decaySteps?: number },
  lr: { pretrain: number; finetune: number }, finetuneEpochs?: number, retries = 0,
): Promise<{ model: Csae; bestEpoch?: number; retries: number }> {
  const e = createEngineSync();
  const perClass = data.labels.length / new Set(data.labels).size;
  const epochs = (base: number, rows: number, minSteps = 0) => Math.max(base, Math.ceil((minSteps * 100) / rows));
  for (let attempt = retries; ; attempt++) {
    const shrink = 1 / 3 ** attempt; // 3^k exact, one division: the same bits in every engine
    let bestEpoch: number | undefined;
    const o: FitOptions = {
      ...FIT_DEFAULTS, hidden, activation: row.activation, variant, seed: ctx.seed, workers: ctx.workers, valid,
      pretrain: {
        ...FIT_DEFAULTS.pretrain, epochs: epochs(p.pretrainEpochs, row.factored ? data.labels.length : perClass, p.minPretrainSteps), lr: lr.pretrain * shrink,
        contractive: row.reg.contractive ?? 0, denoising: row.reg.denoising ?? 0,
      },
      finetune: { ...FIT_DEFAULTS.finetune, epochs: finetuneEpochs ?? epochs(p.finetuneEpochs, data.labels.length, p.minFinetuneSteps), lr: lr.finetune * shrink, decay: ((p.decaySteps ?? 0) * 100) / data.labels.length },
      onFinetune: (r) => void (bestEpoch = r.bestEpoch),
    };
    try {
      const model = (await fit(e, data.X, data.labels, row.factored ? { ...o, factors: hidden } : o)).csae;
      return { model, bestEpoch, retries: attempt };
    } catch (err) {
      if (!(err instanceof DivergenceError) || attempt >= MAX_RETRIES) throw err;
      ctx.log(`${what}, ${row.label}, H = ${hidden}: ${err.message}; retrying with learning rates / 3`);
    }
  }
}

/**
 * Whether a refit on train + validation failed: its error on the very rows it was trained on is above
 * the validated model's error on rows it never saw, by more than two standard errors of that estimate
 * (at least one row's worth). A refit that trains as the validated model did fits its own rows at least
 * as well; one that collapsed (a step too large for the larger set, an unlucky stopping epoch) does
 * not, and the validated model, trained on the training split only, stands in for it.
 */
export function refitFailed(trainError: number, validError: number, validRows: number): boolean {
  return trainError > validError + 2 * standardError(Math.max(validError, 100 / validRows), validRows);
}

/**
 * A refit's errors with its verdict, logged when it failed (`what` names the refit). It failed by
 * refitFailed, or when it diverged at the validated learning rates (it starts at them: fitModel's
 * `retries`) and was retried at smaller ones: then it is a configuration validation never saw (or,
 * with `diverged`, no model at all: it diverged at every rate down to the last retry's). Cache
 * entries from before the retries were recorded have none: only the error rule judges those.
 */
export function judgeRefit<T extends { trainError: number; retries?: number; diverged?: string }>(
  ctx: Context, what: string, refit: T, valid: { validError: number; retries?: number }, validRows: number,
): T & { failed: boolean; why?: string } {
  const why = refit.diverged !== undefined
    ? refit.retries !== undefined
      ? `diverged at every learning rate from the validated ones down to 1/${3 ** MAX_RETRIES} of the given ones (${refit.diverged})`
      : `diverged (${refit.diverged})` // (a search's refit: no retries)
    : refitFailed(refit.trainError, valid.validError, validRows)
      ? `scored ${refit.trainError.toFixed(2)}% on its training rows against ${valid.validError.toFixed(2)}% on validation`
      : refit.retries !== undefined && valid.retries !== undefined && refit.retries > valid.retries
        ? `diverged at the validated learning rates${valid.retries ? ` (1/${3 ** valid.retries} of the given ones)` : ""} and was trained at 1/${3 ** refit.retries} of the given ones`
        : undefined;
  if (why) ctx.log(`${what}: the refit failed (${why})`);
  return { ...refit, failed: why !== undefined, ...(why ? { why } : {}) };
}
