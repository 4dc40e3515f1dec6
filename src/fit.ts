// Fitting a CSAE end to end (Node: it trains on worker threads): pretrain one autoencoder per class,
// start C at −mean E_i over class i (SPEC.md §8), then the chosen variant of SPEC.md §5:
//
//   csae            finetune everything by the softmax log-loss (the paper's classifier)
//   hinge           the same with the multiclass hinge loss
//   normalization   autoencoders frozen, only C learned
//   energies        autoencoders frozen, a logistic regression on (E_1(x), …, E_K(x))
//   no-pretraining  random autoencoders, then finetune as csae
//   reconstruction  no finetuning: predict argmin_i ‖r_i(x) − x‖² (the baseline)
//
// Also: adding a class to a trained model, and model selection on a validation split.

import { createEngineSync, type Engine, fromArray } from "./engine.js";
import { checkInput, checkSpec, createAutoencoder, type AutoencoderSpec, type Autoencoder } from "./autoencoder.js";
import { energy } from "./energy.js";
import { classEnergies, softmaxRows, type Csae } from "./csae.js";
import { finetune, localGroups, checkFinetuneOptions, errorRate, slotParams, FINETUNE_DEFAULTS, type FinetuneOptions, type FinetuneReport, type Params } from "./finetune.js";
import { checkTrainOptions, permutation, TRAIN_DEFAULTS, type EpochReport, type TrainOptions } from "./training.js";
import { trainClasses, workerGroups, classSeed, type ClassJob } from "./parallel.js";
import { rng } from "./random.js";
import { InputError, ShapeError } from "./errors.js";
import type { Tensor } from "./safetensors.js";

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
  onPretrain?: (label: string, r: EpochReport) => void;
  onFinetune?: (r: FinetuneReport) => void;
}

export const FIT_DEFAULTS: Omit<FitOptions, "seed"> = {
  hidden: 100,
  activation: "sigmoid",
  output: "real",
  variant: "csae",
  pretrain: { ...TRAIN_DEFAULTS, epochs: 10, contractive: 0.5, lr: 0.03 },
  finetune: { ...FINETUNE_DEFAULTS },
};

/** Sorted distinct labels (numerically when they are all numbers). */
export function classesOf(labels: string[]): string[] {
  const set = [...new Set(labels)];
  return set.every((l) => l !== "" && Number.isFinite(Number(l))) ? set.sort((a, b) => Number(a) - Number(b)) : set.sort();
}

/** Rows of X whose label is `label`. */
export function rowsWithLabel(X: Tensor, labels: string[], label: string): Tensor {
  const D = X.shape[1];
  const idx = labels.flatMap((l, i) => (l === label ? [i] : []));
  const data = new Float32Array(idx.length * D);
  idx.forEach((r, i) => data.set(X.data.subarray(r * D, (r + 1) * D), i * D));
  return { shape: [idx.length, D], data };
}

/** Class index of every label (an InputError names a label the model does not know). */
export function classIndices(labels: string[], classes: string[], what: string): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  return Int32Array.from(labels, (l, n) => {
    const i = index.get(l);
    if (i === undefined) throw new InputError(`${what}: row ${n} has label ${JSON.stringify(l)}, not one of the classes (${classes.join(", ")})`);
    return i;
  });
}

function mean(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

function toAutoencoders(e: Engine, spec: AutoencoderSpec, params: Params[]): Autoencoder[] {
  return params.map((p, i) => ({
    ...spec,
    W: fromArray(e, `W${i}`, spec.H, spec.D, p.W),
    bh: fromArray(e, `bh${i}`, 1, spec.H, p.bh),
    br: fromArray(e, `br${i}`, 1, spec.D, p.br),
  }));
}

/** Checks data, labels and options together; every problem before any work. */
function checkFit(X: Tensor, labels: string[], o: FitOptions): AutoencoderSpec {
  if (X.shape.length !== 2) throw new ShapeError(`fit: data must be (N, D), not [${X.shape.join(", ")}]`);
  if (labels.length !== X.shape[0]) throw new ShapeError(`fit: ${labels.length} labels for ${X.shape[0]} data rows`);
  if (!VARIANTS.includes(o.variant)) throw new InputError(`fit: unknown variant ${JSON.stringify(o.variant)} (one of ${VARIANTS.join(", ")})`);
  const spec = { D: X.shape[1], H: o.hidden, activation: o.activation, output: o.output };
  checkSpec(spec);
  if (spec.activation === "kmeans") throw new InputError("fit: a CSAE of kmeans autoencoders is not trained here");
  checkTrainOptions(spec, o.pretrain);
  checkFinetuneOptions(o.finetune);
  checkInput(spec, X, "training data");
  if (o.valid) {
    checkInput(spec, o.valid.X, "validation data");
    if (o.valid.labels.length !== o.valid.X.shape[0]) throw new ShapeError(`fit: ${o.valid.labels.length} validation labels for ${o.valid.X.shape[0]} rows`);
  }
  if (new Set(labels).size < 2) throw new InputError("fit: a classifier needs at least two classes");
  return spec;
}

/** Fits a CSAE (in engine e) to the rows of X with their labels. */
export async function fitCsae(e: Engine, X: Tensor, labels: string[], o: FitOptions): Promise<Csae> {
  const spec = checkFit(X, labels, o);
  const classes = o.init ? o.init.classes : classesOf(labels);
  const y = classIndices(labels, classes, "training labels");
  const K = classes.length;
  const perClass = classes.map((c) => rowsWithLabel(X, labels, c));
  perClass.forEach((d, i) => {
    if (d.shape[0] === 0) throw new InputError(`fit: class ${classes[i]} has no training rows`);
  });
  const workers = o.workers;

  // 1. The autoencoders: given, random, or pretrained one per class (in parallel).
  let params: Params[];
  if (o.init) {
    if (o.init.aes[0].D !== spec.D) throw new ShapeError(`fit: the initial model has D = ${o.init.aes[0].D}, the data ${spec.D}`);
    params = o.init.aes.map(slotParams);
  } else if (o.variant === "no-pretraining") {
    const scratch = createEngineSync();
    params = classes.map((_, i) => slotParams(createAutoencoder(scratch, spec, rng(classSeed(o.seed, i)))));
  } else {
    const validOf = (c: string) => (o.valid ? rowsWithLabel(o.valid.X, o.valid.labels, c) : undefined);
    const jobs: ClassJob[] = classes.map((label, index) => ({ index, label, data: perClass[index], valid: validOf(label) }));
    const results = await trainClasses(spec, o.pretrain, jobs, { seed: o.seed, workers, onEpoch: (job, r) => o.onPretrain?.(job.label, r) });
    params = results.map(({ W, bh, br }) => ({ W, bh, br }));
  }
  const aes = toAutoencoders(e, spec, params);

  // 2. C_i = −mean E_i over class i's rows (or the given model's C).
  const C = o.init ? o.init.C.slice() : Float32Array.from(aes, (ae, i) => -mean(energy(ae, perClass[i])));
  if (o.variant === "reconstruction") return { classes, aes, C, rule: "reconstruction" };

  const valid = o.valid ? { X: o.valid.X, y: classIndices(o.valid.labels, classes, "validation labels") } : undefined;
  if (o.variant === "energies") {
    const E = classEnergies({ aes }, X).data;
    const { V, c } = fitEnergyLogistic(E, K, y, o.finetune, o.seed, valid ? { E: classEnergies({ aes }, valid.X).data, y: valid.y } : undefined);
    return { classes, aes, C: c, rule: "energies-lr", V };
  }

  // 3. Finetuning, with the classes on worker threads (or here).
  const f: FinetuneOptions = {
    ...o.finetune,
    loss: o.variant === "hinge" ? "hinge" : "log",
    learn: o.variant === "normalization" ? "C" : "all",
  };
  const n = workers ?? (await import("node:os")).availableParallelism();
  const groups = n > 0 && f.learn === "all" ? await workerGroups(spec, params, X, f.batch, n) : localGroups(createEngineSync(), spec, params, X, f.batch);
  try {
    await finetune(groups, K, y, C, f, { seed: classSeed(o.seed, -1), valid, onEpoch: o.onFinetune, trainX: X });
    const tuned = await groups.params();
    tuned.forEach((p, i) => {
      aes[i].W.data.set(p.W);
      aes[i].bh.data.set(p.bh);
      aes[i].br.data.set(p.br);
    });
  } finally {
    await groups.close();
  }
  return { classes, aes, C, rule: "energy" };
}

/**
 * Multinomial logistic regression z = V e' + c on standardized energies e' = (E − μ)/σ, by SGD with
 * momentum on the log-loss; returned folded back onto the raw energies (V/σ, c − V μ/σ).
 */
export function fitEnergyLogistic(
  E: Float32Array, K: number, y: Int32Array, o: FinetuneOptions, seed: number, valid?: { E: Float32Array; y: Int32Array },
): { V: Float32Array; c: Float32Array } {
  const N = y.length;
  const mu = new Float64Array(K);
  const sd = new Float64Array(K);
  for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) mu[j] += E[n * K + j] / N;
  for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) sd[j] += (E[n * K + j] - mu[j]) ** 2 / N;
  for (let j = 0; j < K; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const V = new Float64Array(K * K);
  const c = new Float64Array(K);
  const dV = new Float64Array(K * K);
  const dc = new Float64Array(K);
  const vV = new Float64Array(K * K);
  const vc = new Float64Array(K);
  const r = rng(classSeed(seed, -2));
  const z = new Float64Array(K);
  const p = new Float64Array(K);
  const x = new Float64Array(K);
  const fold = () => {
    const Vr = new Float32Array(K * K);
    const cr = new Float32Array(K);
    for (let i = 0; i < K; i++) {
      let s = c[i];
      for (let j = 0; j < K; j++) {
        Vr[i * K + j] = V[i * K + j] / sd[j];
        s -= (V[i * K + j] * mu[j]) / sd[j];
      }
      cr[i] = s;
    }
    return { V: Vr, c: cr };
  };
  let best: { error: number; V: Float32Array; c: Float32Array } | undefined;
  const lr = 0.1; // standardized inputs: a fixed, safe step for this convex problem
  for (let epoch = 0; epoch < Math.max(o.epochs, 1) * 3; epoch++) {
    const order = permutation(N, r);
    for (let start = 0; start < N; start += o.batch) {
      const end = Math.min(N, start + o.batch);
      dV.fill(0);
      dc.fill(0);
      for (let t = start; t < end; t++) {
        const n = order[t];
        for (let j = 0; j < K; j++) x[j] = (E[n * K + j] - mu[j]) / sd[j];
        for (let i = 0; i < K; i++) {
          let s = c[i];
          for (let j = 0; j < K; j++) s += V[i * K + j] * x[j];
          z[i] = s;
        }
        softmaxRows(z, K, p);
        for (let i = 0; i < K; i++) {
          const g = (p[i] - (i === y[n] ? 1 : 0)) / (end - start);
          dc[i] += g;
          for (let j = 0; j < K; j++) dV[i * K + j] += g * x[j];
        }
      }
      for (let i = 0; i < K * K; i++) V[i] += vV[i] = o.momentum * vV[i] - lr * (dV[i] + o.weightDecay * V[i]);
      for (let i = 0; i < K; i++) c[i] += vc[i] = o.momentum * vc[i] - lr * dc[i];
    }
    if (valid) {
      const m = fold();
      const zs = new Float64Array(valid.E.length);
      for (let n = 0; n < valid.y.length; n++) {
        for (let i = 0; i < K; i++) {
          let s = m.c[i];
          for (let j = 0; j < K; j++) s += m.V[i * K + j] * valid.E[n * K + j];
          zs[n * K + i] = s;
        }
      }
      const err = errorRate(zs, K, valid.y);
      if (!best || err < best.error) best = { error: err, ...m };
    }
  }
  return best ? { V: best.V, c: best.c } : fold();
}
