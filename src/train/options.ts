// The options of a CSAE fit and their check, apart from the fitter (which needs Node's workers), so
// that every fitter and the command line check the same things the same way before any work.

import { checkInput, checkTrainingRows, checkSpec, type AutoencoderSpec } from "../model/autoencoder.js";
import { checkFinetuneOptions, FINETUNE_DEFAULTS, type FinetuneOptions } from "./finetune.js";
import { checkTrainOptions, TRAIN_DEFAULTS, TRAIN_KEYS, type TrainOptions } from "./autoencoder.js";
import type { EpochReport } from "./driver.js";
import { checkCsae, classesOf, classIndices, labelProblem, type Csae } from "../model/csae.js";
import { InputError, ShapeError, onlyKeys, quote } from "../errors.js";
import { checkSeed } from "../random.js";
import type { Tensor } from "../tensor.js";

export const VARIANTS = ["csae", "hinge", "normalization", "energies", "no-pretraining", "reconstruction"] as const;
export type Variant = (typeof VARIANTS)[number];

export interface FitOptions {
  hidden: number;
  activation: AutoencoderSpec["activation"];
  output: AutoencoderSpec["output"];
  variant: Variant;
  pretrain: TrainOptions;
  finetune: FinetuneOptions;
  seed: number;
  /** Worker threads (default: one per core); 0 runs everything in this thread. Same bits either way. */
  workers?: number;
  /** Validation data: best finetuning epoch (and pretraining epoch) kept. */
  valid?: { X: Tensor; labels: string[] };
  /** Start from these autoencoders (same classes) instead of pretraining: finetune only. */
  init?: Csae;
  /** Fit the factored CSAE with this many factors (absent: the plain CSAE). */
  factors?: number;
  /**
   * Checkpoints in `dir` after every epoch: pretraining (class-K.safetensors per class of the plain
   * CSAE, factored.safetensors for the factored one) and finetuning (finetune.safetensors). With
   * `resume`, each stage goes on from its file where it exists (finished stages are not run again),
   * with the same bits as a fit never stopped; only the numbers of epochs may change.
   */
  checkpoint?: { dir: string; resume: boolean };
  onPretrain?: (label: string, r: EpochReport) => void;
  /** Each finetuning epoch (`valid`: the validation error rate). */
  onFinetune?: (r: EpochReport) => void;
}

/**
 * What `fit` and `aescore train` do when nothing else is asked: chosen on MNIST so that a user who
 * sets nothing gets the paper's mnist-basic number (results/defaults.md: the first 10000 training
 * digits, 2.79% and 2.94% test error for seeds 0 and 1, under a minute on 2 cores; paper 3.18%).
 * Longer training with a decaying finetuning rate is what mattered: 10 + 10 epochs at a constant
 * 0.003 gave 3.99%.
 */
export const FIT_DEFAULTS: Omit<FitOptions, "seed"> = {
  hidden: 100,
  activation: "sigmoid",
  output: "real",
  variant: "csae",
  pretrain: { ...TRAIN_DEFAULTS, epochs: 30, contractive: 0.5, lr: 0.03 },
  finetune: { ...FINETUNE_DEFAULTS, epochs: 30, lr: 0.01, decay: 3 },
};

// (a Record of every key: an option added to FitOptions and not here fails to compile)
const FIT_KEYS = Object.keys({
  hidden: 1, activation: 1, output: 1, variant: 1, pretrain: 1, finetune: 1, seed: 1, workers: 1, valid: 1, init: 1, factors: 1, checkpoint: 1, onPretrain: 1, onFinetune: 1,
} satisfies Record<keyof FitOptions, 1>);

/**
 * Checks data, labels and options together, every problem before any work (the plain and the
 * factored fitter both start here). Pretraining options are checked only when pretraining runs.
 */
export function checkFit(X: Tensor, labels: string[], o: FitOptions): AutoencoderSpec {
  onlyKeys(o, FIT_KEYS, "fit");
  if (o.checkpoint != null) onlyKeys(o.checkpoint, ["dir", "resume"], "fit: checkpoint");
  if (o.valid != null) onlyKeys(o.valid, ["X", "labels"], "fit: valid");
  // Pretraining options are checked whole only when pretraining runs, but a misspelt key never passes.
  if (o.pretrain !== undefined) onlyKeys(o.pretrain, TRAIN_KEYS, "train");
  if (X.shape.length !== 2) throw new ShapeError(`fit: data must be (N, D), not [${X.shape.join(", ")}]`);
  if (!Array.isArray(labels) || labels.length !== X.shape[0]) throw new ShapeError(`fit: ${Array.isArray(labels) ? labels.length : "no list of"} labels for ${X.shape[0]} data rows`);
  if (!VARIANTS.includes(o.variant)) throw new InputError(`fit: unknown variant ${quote(o.variant)} (one of ${VARIANTS.join(", ")})`);
  checkSeed(o.seed, "fit");
  if (o.workers !== undefined && !(Number.isSafeInteger(o.workers) && o.workers >= 0)) {
    throw new InputError(`fit: workers must be a non-negative integer, not ${quote(o.workers)}`);
  }
  if (o.init) {
    // The whole initial model, each class's weights finite (it is trained from, or returned as it is).
    checkCsae(o.init, "fit: the initial model");
    o.init.aes.forEach((ae, i) => {
      for (const [name, m] of [["W", ae.W], ["bh", ae.bh], ["br", ae.br]] as const) {
        const bad = m.data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new InputError(`fit: the initial model's class ${quote(o.init!.classes[i])} has ${name}[${bad}] = ${m.data[bad]}`);
      }
    });
  }
  const spec = o.init
    ? { D: o.init.aes[0].D, H: o.init.aes[0].H, activation: o.init.aes[0].activation, output: o.init.aes[0].output }
    : { D: X.shape[1], H: o.hidden, activation: o.activation, output: o.output };
  checkSpec(spec);
  if (o.init && spec.D !== X.shape[1]) throw new ShapeError(`fit: the initial model has D = ${spec.D}, the data ${X.shape[1]}`);
  if (o.init && o.variant === "no-pretraining") throw new InputError("fit: variant no-pretraining starts from random autoencoders, not from an initial model");
  if (spec.activation === "kmeans") throw new InputError("fit: a CSAE of kmeans autoencoders is not trained here");
  if (o.checkpoint && (typeof o.checkpoint.dir !== "string" || o.checkpoint.dir === "")) throw new InputError(`fit: checkpoint.dir must name a directory, not ${quote(o.checkpoint.dir)}`);
  if (o.checkpoint && o.init && (o.variant === "energies" || o.variant === "reconstruction")) {
    throw new InputError(`fit: nothing to checkpoint: variant ${o.variant} of an initial model trains no epochs`);
  }
  if (o.factors !== undefined) {
    if (!Number.isSafeInteger(o.factors) || o.factors < 1) throw new InputError(`fit: factors must be a positive integer, not ${quote(o.factors)}`);
    if (o.init) throw new InputError("fit: the factored model starts from a new model (an initial model is for the plain CSAE)");
    if (o.pretrain.contractive > 0) throw new InputError("fit: the factored model is pretrained by denoising (pretrain.denoising ν, with pretrain.contractive 0), not with the contractive penalty");
    if (o.variant !== "csae" && o.variant !== "hinge") throw new InputError(`fit: variant ${o.variant} is for the plain CSAE (the factored model takes csae or hinge)`);
  }
  if (!o.init && o.variant !== "no-pretraining") checkTrainOptions(spec, o.pretrain, o.factors !== undefined ? "rows" : "units");
  checkFinetuneOptions(o.finetune);
  checkTrainingRows(checkInput(spec, X, "training data"), "training data");
  // Labels are class names: strings (numbers would come back as strings from a saved model).
  for (const c of new Set(labels)) {
    const bad = labelProblem(c);
    if (bad) throw new InputError(`fit: label ${labels.indexOf(c)} is ${quote(c)}, ${bad}${typeof c === "string" ? "" : " (String(label) converts)"}`);
  }
  if (new Set(labels).size < 2) throw new InputError("fit: a classifier needs at least two classes");
  if (o.valid) {
    if (checkInput(spec, o.valid.X, "validation data").shape[0] === 0) throw new InputError("fit: the validation data has no rows");
    if (!Array.isArray(o.valid.labels) || o.valid.labels.length !== o.valid.X.shape[0]) throw new ShapeError(`fit: ${Array.isArray(o.valid.labels) ? o.valid.labels.length : "no"} validation labels for ${o.valid.X.shape[0]} rows`);
    // Each class's autoencoder keeps its best pretraining epoch on that class's validation rows.
    const classes = o.init ? o.init.classes : classesOf(labels);
    classIndices(o.valid.labels, classes, "validation labels"); // (a label of no class, named)
    const seen = new Set(o.valid.labels);
    const missing = classes.find((c) => !seen.has(c));
    if (missing !== undefined) throw new InputError(`fit: the validation data has no rows of class ${quote(missing)} (every class needs some)`);
  }
  return spec;
}

