// Fitting a CSAE end to end, class-parallel on worker threads or Web Workers (threads.ts): pretrain one
// autoencoder per class, start C at −mean E_i over class i (docs/math.md §7.4), then the chosen variant
// of docs/math.md §7.5:
//
//   csae            finetune everything by the softmax log-loss (the paper's classifier)
//   hinge           the same with the multiclass hinge loss
//   normalization   autoencoders frozen, only C learned
//   energies        autoencoders frozen, a logistic regression on (E_1(x), …, E_K(x))
//   no-pretraining  random autoencoders, then finetune as csae
//   reconstruction  no finetuning: predict argmin_i ‖r_i(x) − x‖² (the baseline)
//
// Also: adding a class to a trained model, and model selection on a validation split.

import { exp } from "../math.js";
import { compiledBuild, createEngineSync, type Engine, fromArray } from "../engine/engine.js";
import { checkInput, createAutoencoder, type AutoencoderSpec, type Autoencoder } from "../model/autoencoder.js";
import { energies, energy } from "../model/energy.js";
import { classEnergies, scores, softmaxRows, classesOf, rowsWithLabel, classIndices, initialConstants, meanConstants, labelProblem, type Csae } from "../model/csae.js";
import { createFactored, factoredAsCsae, type FactoredCsae } from "../model/factored.js";
import { factoredGroups, pretrainFactored, PARAM_NAMES, type FactoredParam } from "./factored.js";
import type { Classifier } from "../model/files.js";
import { finetune, localGroups, errorRate, slotParams, type FinetuneOptions, type Params } from "./finetune.js";
import { runClasses, runReplicas, shareRows, stageCheckpoint, trainClasses, workerGroups, classSeed, type ClassJob } from "./parallel.js";
import { fingerprint } from "./checkpoint.js";
import { checkMemory } from "./memory.js";
import { canShare, cores, threads } from "./threads.js";
import { exchangeBuffers, exchangeOf, type ExchangeBuffers } from "./replicas.js";
import { checkSeed, rng } from "../random.js";
import { InputError, ShapeError, onlyKeys, quote } from "../errors.js";
import type { TrainOptions } from "./autoencoder.js";
import type { EpochReport } from "./driver.js";
import { checkFit, FIT_DEFAULTS, VARIANTS, type FitOptions, type Variant } from "./options.js";
import { divergedIn, paramSet, sgdStep } from "./params.js";
import { DivergenceError, runEpochs, startRun, type Trainer } from "./driver.js";
import type { Tensor } from "../tensor.js";

export { checkFit, FIT_DEFAULTS, VARIANTS, type FitOptions, type Variant };
export { classesOf, rowsWithLabel, classIndices };

function toAutoencoders(e: Engine, spec: AutoencoderSpec, params: Params[]): Autoencoder[] {
  return params.map((p, i) => ({
    ...spec,
    W: fromArray(e, `W${i}`, spec.H, spec.D, p.W),
    bh: fromArray(e, `bh${i}`, 1, spec.H, p.bh),
    br: fromArray(e, `br${i}`, 1, spec.D, p.br),
  }));
}

/**
 * Fits a classifier (in engine e) to the rows of X with their labels: the plain CSAE, or with
 * o.factors the factored one. Every option is checked first, once, for both.
 */
export async function fit(e: Engine, X: Tensor, labels: string[], o: FitOptions): Promise<Classifier> {
  const spec = checkFit(X, labels, o);
  await checkFitMemory(X, labels, o, spec);
  if (o.factors === undefined) return { kind: "csae", csae: await fitPlain(e, X, labels, o, spec) };
  const factored = await fitFactored(e, X, labels, { ...o, factors: o.factors }, spec);
  try {
    return { kind: "factored-csae", factored, csae: factoredAsCsae(factored) };
  } catch (err) {
    // Factors each within bounds whose product is not: the training diverged, seen only here.
    if (!(err instanceof InputError)) throw err;
    throw new DivergenceError("finetune", o.finetune.epochs, NaN, o.finetune.lr, "Whᵀ diag(Wf_j) Wxᵀ");
  }
}

// A job that cannot fit one instance's 4 GiB is refused with the figure before any class trains (a
// finetuning instance can need more than pretraining did, found out only after it).
async function checkFitMemory(X: Tensor, labels: string[], o: FitOptions, spec: AutoencoderSpec): Promise<void> {
  const K = o.init ? o.init.classes.length : classesOf(labels).length;
  const pretrains = !o.init && o.variant !== "no-pretraining";
  const B = Math.max(o.finetune.batch, pretrains ? o.pretrain.batch : 1);
  const blocks = pretrains ? o.pretrain.blocks : undefined;
  const workers = (await threads()) ? (o.workers ?? (await cores())) : 1;
  const instances = Math.max(1, Math.min(workers, o.factors !== undefined ? (blocks ?? 1) : K));
  const N = X.shape[0] + (o.valid?.X.shape[0] ?? 0);
  checkMemory({ D: spec.D, H: spec.H, K, N, B, instances, finetune: o.variant !== "reconstruction", factors: o.factors, blocks });
}

// What finetuning starts from (the pretrained models and C): a finetuning checkpoint of other ones,
// left by a run whose pretraining has since gone on for more epochs, is started again, not resumed.
const startOf = (arrays: Float32Array[]) => fingerprint(...arrays.map((data) => ({ shape: [data.length], data })));

/** The plain CSAE: fit with no factors. */
export async function fitCsae(e: Engine, X: Tensor, labels: string[], o: FitOptions): Promise<Csae> {
  if (o.factors !== undefined) throw new InputError("fitCsae: the factored model is fitted by fit()");
  return ((await fit(e, X, labels, o)) as Extract<Classifier, { kind: "csae" }>).csae;
}

async function fitPlain(e: Engine, X: Tensor, labels: string[], o: FitOptions, spec: AutoencoderSpec): Promise<Csae> {
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
    params = o.init.aes.map(slotParams);
  } else if (o.variant === "no-pretraining") {
    const scratch = createEngineSync();
    params = classes.map((_, i) => slotParams(createAutoencoder(scratch, spec, rng(classSeed(o.seed, i)))));
  } else {
    const validOf = (c: string) => (o.valid ? rowsWithLabel(o.valid.X, o.valid.labels, c) : undefined);
    const jobs: ClassJob[] = classes.map((label, index) => ({ index, label, data: perClass[index], valid: validOf(label) }));
    const results = await runClasses(spec, o.pretrain, jobs, {
      seed: o.seed, workers, checkpointDir: o.checkpoint?.dir, resume: o.checkpoint?.resume, onEpoch: (job, r) => o.onPretrain?.(job.label, r),
    });
    params = results.map(({ W, bh, br }) => ({ W, bh, br }));
  }
  const aes = toAutoencoders(e, spec, params);

  // 2. C_i = −mean E_i over class i's rows (or the given model's C).
  // (energies unchecked here, as in training: a model that overflows is the driver's to report)
  const C = o.init ? o.init.C.slice() : meanConstants(aes.map((ae, i) => energies([ae], perClass[i])));
  if (o.variant === "reconstruction") return { classes, aes, C, rule: "reconstruction" };

  const valid = o.valid ? { X: o.valid.X, y: classIndices(o.valid.labels, classes, "validation labels") } : undefined;
  if (o.variant === "energies") {
    const E = energies(aes, X);
    const { V, c } = await fitEnergyLogistic(E, K, y, o.finetune, o.seed, valid ? { E: energies(aes, valid.X), y: valid.y } : undefined);
    return { classes, aes, C: c, rule: "energies-lr", V };
  }

  // 3. Finetuning, with the classes on worker threads (or here).
  const f: FinetuneOptions = {
    ...o.finetune,
    loss: o.variant === "hinge" ? "hinge" : "log",
    learn: o.variant === "normalization" ? "C" : "all",
  };
  const n = (await threads()) ? (workers ?? (await cores())) : 0;
  const start = o.checkpoint ? { start: startOf([...params.flatMap((p) => [p.W, p.bh, p.br]), C]) } : {};
  const files = await stageCheckpoint(o.checkpoint, "finetune.safetensors", "finetune", { ...f, variant: o.variant, seed: o.seed, classes, spec, ...start }, () => fingerprint(X, labels, o.valid?.X, o.valid?.labels), ["start"]);
  const groups = n > 0 && f.learn === "all" ? await workerGroups(spec, params, X, f.batch, n) : localGroups(createEngineSync(), spec, params, X, f.batch);
  try {
    await finetune(groups, K, y, C, f, { seed: classSeed(o.seed, -1), valid, onEpoch: o.onFinetune, trainX: X, ...files });
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

/** The factored CSAE: denoising pretraining of all classes together, C init, then finetuning. */
async function fitFactored(e: Engine, X: Tensor, labels: string[], o: FitOptions & { factors: number }, spec: AutoencoderSpec): Promise<FactoredCsae> {
  const classes = classesOf(labels);
  const y = classIndices(labels, classes, "training labels");
  const r = rng(o.seed);
  const m = createFactored(e, classes, spec, o.factors, r);
  const data = () => fingerprint(X, labels);
  const stage = { name: "factored.safetensors", trainer: "factored pretraining", options: { ...o.pretrain, seed: o.seed, classes, spec, factors: o.factors } };
  const onEpoch = o.onPretrain ? (ep: EpochReport) => o.onPretrain!("all", ep) : undefined;
  // One model: on several workers only with blocks to share (row blocks, see replicas.ts), the same bits.
  const P = o.pretrain.blocks ?? 1;
  const spawn = P > 1 && canShare() ? await threads() : undefined;
  const n = spawn ? Math.min(o.workers ?? (await cores()), P) : 0;
  if (n > 1) {
    const size = PARAM_NAMES.reduce((t, k) => t + m[k].data.length, 0);
    const buffers = exchangeBuffers(P, size);
    const rows = shareRows(X);
    const checkpoint = o.checkpoint && { ...o.checkpoint, ...stage, data: data() };
    const values = await runReplicas<Record<FactoredParam, Float32Array>>(spawn!, n, buffers, (w) => ({
      type: "factored", classes, spec, factors: o.factors, options: o.pretrain, seed: o.seed, data: rows, y,
      replica: { w, workers: n, buffers }, checkpoint, wasm: compiledBuild(),
    }), onEpoch);
    for (const k of PARAM_NAMES) m[k].data.set(values[k]);
  } else {
    const files = await stageCheckpoint(o.checkpoint, stage.name, stage.trainer, stage.options, data);
    await pretrainFactored(m, X, y, o.pretrain, r, { onEpoch, ...files });
  }
  const groups = factoredGroups(m, X, o.finetune.batch);
  const K = classes.length;
  const E = await groups.classify(X);
  const own = classes.map(() => [] as number[]);
  y.forEach((c, n) => own[c].push(E[n * K + c]));
  const C = meanConstants(own.map((v) => Float32Array.from(v)));
  const valid = o.valid ? { X: o.valid.X, y: classIndices(o.valid.labels, classes, "validation labels") } : undefined;
  const f: FinetuneOptions = { ...o.finetune, loss: o.variant === "hinge" ? "hinge" : "log", learn: "all" };
  const start = o.checkpoint ? { start: startOf([...PARAM_NAMES.map((k) => m[k].data), C]) } : {};
  const files = await stageCheckpoint(o.checkpoint, "finetune.safetensors", "finetune", { ...f, variant: o.variant, seed: o.seed, classes, spec, factors: o.factors, ...start }, () => fingerprint(X, labels, o.valid?.X, o.valid?.labels), ["start"]);
  await finetune(groups, K, y, C, f, { seed: classSeed(o.seed, -1), valid, onEpoch: o.onFinetune, trainX: X, ...files });
  m.C.set(C);
  return m;
}

/**
 * A replica of factored pretraining in a worker (the "factored" message of fitFactored): builds the
 * same model from the same seed, pretrains it with its share of the blocks, and returns its values.
 */
export async function factoredReplica(
  e: Engine,
  m: { classes: string[]; spec: AutoencoderSpec; factors: number; options: TrainOptions; seed: number; data: Tensor; y: Int32Array;
    replica: { w: number; workers: number; buffers: ExchangeBuffers };
    checkpoint?: { dir: string; resume: boolean; name: string; trainer: string; options: Record<string, unknown>; data: string } },
  onEpoch: (r: EpochReport) => void,
): Promise<Record<FactoredParam, Float32Array>> {
  const r = rng(m.seed);
  const model = createFactored(e, m.classes, m.spec, m.factors, r);
  const lead = m.replica.w === 0;
  const c = m.checkpoint;
  const files = c ? await stageCheckpoint(c, c.name, c.trainer, c.options, () => c.data) : {};
  await pretrainFactored(model, m.data, m.y, m.options, r, {
    onEpoch: lead ? onEpoch : undefined,
    resume: files.resume,
    checkpoint: lead ? files.checkpoint : undefined,
    exchange: exchangeOf(m.replica.buffers, m.replica.w, m.replica.workers, m.options.blocks ?? 1),
  });
  return Object.fromEntries(PARAM_NAMES.map((k) => [k, model[k].data.slice()])) as Record<FactoredParam, Float32Array>;
}

/**
 * Multinomial logistic regression z = V e' + c on standardized energies e' = (E − μ)/σ, by SGD with
 * momentum on the log-loss, on the epoch driver (three times the finetuning epochs, the epoch with the
 * lowest validation error kept); returned folded back onto the raw energies (V/σ, c − V μ/σ).
 */
export async function fitEnergyLogistic(
  E: Float32Array, K: number, y: Int32Array, o: FinetuneOptions, seed: number, valid?: { E: Float32Array; y: Int32Array },
): Promise<{ V: Float32Array; c: Float32Array }> {
  const N = y.length;
  const mu = new Float64Array(K);
  const sd = new Float64Array(K);
  for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) mu[j] += E[n * K + j] / N;
  for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) sd[j] += (E[n * K + j] - mu[j]) ** 2 / N;
  for (let j = 0; j < K; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const P = paramSet({ V: new Float64Array(K * K), c: new Float64Array(K) }, ["V"]);
  const V = P.V.value as Float64Array, c = P.c.value as Float64Array;
  const dV = P.V.grad as Float64Array, dc = P.c.grad as Float64Array;
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
  const trainer: Trainer<{ V: Float32Array; c: Float32Array }> = {
    what: "energies + logistic regression",
    rows: N,
    step(rows, lr) {
      dV.fill(0);
      dc.fill(0);
      for (const n of rows) {
        for (let j = 0; j < K; j++) x[j] = (E[n * K + j] - mu[j]) / sd[j];
        for (let i = 0; i < K; i++) {
          let s = c[i];
          for (let j = 0; j < K; j++) s += V[i * K + j] * x[j];
          z[i] = s;
        }
        softmaxRows(z, K, p);
        for (let i = 0; i < K; i++) {
          const g = (p[i] - (i === y[n] ? 1 : 0)) / rows.length;
          dc[i] += g;
          for (let j = 0; j < K; j++) dV[i * K + j] += g * x[j];
        }
      }
      sgdStep(P, { lr, momentum: o.momentum, weightDecay: o.weightDecay });
      return 0; // the loss is not tracked: the validation error picks the epoch
    },
    validate: valid
      ? () => {
          const m = fold();
          const zs = new Float64Array(valid.E.length);
          for (let n = 0; n < valid.y.length; n++) {
            for (let i = 0; i < K; i++) {
              let s = m.c[i];
              for (let j = 0; j < K; j++) s += m.V[i * K + j] * valid.E[n * K + j];
              zs[n * K + i] = s;
            }
          }
          return errorRate(zs, K, valid.y);
        }
      : undefined,
    keep: fold,
    restore: () => {},
  };
  // Standardized inputs: a fixed, safe step for this convex problem.
  const schedule = { epochs: Math.max(o.epochs, 1) * 3, batch: o.batch, lr: 0.1, decay: 0, patience: 0 };
  const state = await runEpochs(trainer, schedule, startRun(rng(classSeed(seed, -2))));
  // What is returned is checked (the kept epoch, folded back to the raw energies' scale), not P.
  const out = state.best?.params ?? fold();
  const bad = divergedIn({ V: out.V, c: out.c });
  if (bad !== undefined) throw new DivergenceError(trainer.what, state.epoch, NaN, schedule.lr, bad);
  return out;
}

/**
 * Adds a class to a trained model: pretrains one more autoencoder on its rows (seeded by its
 * position K) and learns its constant C_K; every other autoencoder and constant stays bit-identical.
 * With rows of the other classes (`others`), C_K minimizes the log-loss over all the rows given (a
 * one-dimensional convex problem, solved by bisection on its derivative); without, it starts as the
 * other constants did: −mean E_K over its rows.
 */
export async function addClass(
  e: Engine, m: Csae, label: string, X: Tensor,
  o: { pretrain: TrainOptions; seed: number; others?: { X: Tensor; labels: string[] }; onPretrain?: (r: EpochReport) => void },
): Promise<Csae> {
  onlyKeys(o, ["pretrain", "seed", "others", "onPretrain"], "addClass");
  const bad = labelProblem(label);
  if (bad) throw new InputError(`addClass: the label is ${quote(label)}, ${bad}`);
  if (m.classes.includes(label)) throw new InputError(`addClass: the model already has a class ${quote(label)}`);
  checkSeed(o.seed, "addClass");
  if (o.others) {
    onlyKeys(o.others, ["X", "labels"], "addClass: others");
    if (o.others.X.shape[0] === 0) throw new InputError("addClass: the other classes' rows are empty (give some, or none at all)");
    if (!Array.isArray(o.others.labels) || o.others.labels.length !== o.others.X.shape[0]) throw new ShapeError(`addClass: ${Array.isArray(o.others.labels) ? o.others.labels.length : "no"} labels for the other classes' ${o.others.X.shape[0]} rows`);
  }
  if (m.rule && m.rule !== "energy") throw new InputError(`addClass: only models with rule "energy" take new classes (this one: ${m.rule})`);
  const [first] = m.aes;
  const spec = { D: first.D, H: first.H, activation: first.activation, output: first.output };
  checkInput(spec, X, `class ${label} data`);
  if (X.shape[0] === 0) throw new InputError(`addClass: no rows for class ${label}`);
  const K = m.aes.length;
  const [result] = await trainClasses(spec, o.pretrain, [{ index: K, label, data: X }], { seed: o.seed, workers: 0, onEpoch: (_, r) => o.onPretrain?.(r) });
  const [ae] = toAutoencoders(e, spec, [result]);
  let c = initialConstants([ae], [X])[0];
  if (o.others) {
    const y = classIndices(o.others.labels, m.classes, "other classes' labels");
    const base = classEnergies(m, o.others.X).data; // (n, K) of the existing classes
    const Eo = energy(ae, o.others.X);
    const En = energy(ae, X);
    // d/dc of the mean log-loss = mean p_new − (rows of the new class)/(all rows): increasing in c.
    const total = y.length + En.length;
    // p of the new class for one row: its score `extra` against the K existing scores E[off..] + C.
    const pNew = (E: ArrayLike<number>, off: number, extra: number): number => {
      let mx = extra;
      for (let i = 0; i < K; i++) mx = Math.max(mx, E[off + i] + m.C[i]);
      let s = exp(extra - mx);
      for (let i = 0; i < K; i++) s += exp(E[off + i] + m.C[i] - mx);
      return exp(extra - mx) / s;
    };
    const baseNew = classEnergies(m, X).data;
    const slope = (cn: number): number => {
      let s = 0;
      for (let n = 0; n < y.length; n++) s += pNew(base, n * K, Eo[n] + cn);
      for (let n = 0; n < En.length; n++) s += pNew(baseNew, n * K, En[n] + cn);
      return s / total - En.length / total;
    };
    let [lo, hi] = [c - 1, c + 1];
    while (slope(lo) > 0) lo -= 2 * (hi - lo);
    while (slope(hi) < 0) hi += 2 * (hi - lo);
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (slope(mid) < 0) lo = mid;
      else hi = mid;
    }
    c = (lo + hi) / 2;
  }
  const C = new Float32Array(K + 1);
  C.set(m.C);
  C[K] = c;
  return { classes: [...m.classes, label], aes: [...m.aes, ae], C, rule: "energy" };
}

export interface SelectionGrid {
  hidden: number[];
  lr: number[];
  weightDecay: number[];
}

/**
 * Model selection as the paper does it (§4.3–4.4): every (hidden size, finetuning learning rate, weight
 * decay) of the grid is fitted on the training rows and scored by its validation error; the best is
 * refitted on training + validation rows with the same epochs.
 */
export async function selectCsae(
  e: Engine, train: { X: Tensor; labels: string[] }, valid: { X: Tensor; labels: string[] }, grid: SelectionGrid, o: FitOptions,
  onResult?: (r: { hidden: number; lr: number; weightDecay: number; validError: number }) => void,
): Promise<{ model: Csae; best: { hidden: number; lr: number; weightDecay: number; validError: number }; results: Array<{ hidden: number; lr: number; weightDecay: number; validError: number }> }> {
  onlyKeys(grid, ["hidden", "lr", "weightDecay"], "selectCsae: the grid", "axis");
  for (const k of ["hidden", "lr", "weightDecay"] as const) {
    const axis = grid?.[k];
    if (!Array.isArray(axis) || axis.length === 0) throw new InputError(`selectCsae: grid.${k} must list at least one value, not ${quote(axis)}`);
  }
  // Every point checked before the first fit (a bad one would fail after hours of the others).
  for (const hidden of grid.hidden) for (const lr of grid.lr) for (const weightDecay of grid.weightDecay) checkFit(train.X, train.labels, { ...o, hidden, valid, finetune: { ...o.finetune, lr, weightDecay } });
  const results: Array<{ hidden: number; lr: number; weightDecay: number; validError: number }> = [];
  const validClasses = valid.labels;
  for (const hidden of grid.hidden) {
    for (const lr of grid.lr) {
      for (const weightDecay of grid.weightDecay) {
        const m = await fitCsae(e, train.X, train.labels, { ...o, hidden, valid, finetune: { ...o.finetune, lr, weightDecay } });
        const y = classIndices(validClasses, m.classes, "validation labels");
        const r = { hidden, lr, weightDecay, validError: errorRate(scores(m, valid.X), m.classes.length, y) };
        results.push(r);
        onResult?.(r);
      }
    }
  }
  const best = results.reduce((a, b) => (b.validError < a.validError ? b : a));
  const D = train.X.shape[1];
  const X = { shape: [train.X.shape[0] + valid.X.shape[0], D], data: new Float32Array((train.X.shape[0] + valid.X.shape[0]) * D) };
  X.data.set(train.X.data);
  X.data.set(valid.X.data, train.X.data.length);
  const model = await fitCsae(e, X, [...train.labels, ...valid.labels], { ...o, hidden: best.hidden, valid: undefined, finetune: { ...o.finetune, lr: best.lr, weightDecay: best.weightDecay } });
  return { model, best, results };
}
