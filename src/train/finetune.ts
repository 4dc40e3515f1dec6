// Discriminative finetuning of a CSAE (docs/math.md §7.2–7.3): minimize −log softmax(E(x) + C)_y (or the
// multiclass hinge loss) over all autoencoders and C. The gradient reaches autoencoder i only through
// E_i, as g_i = dL/dE_i:
//
//   dW_i = (g_i ⊙ Hd_i)ᵀ X,  dbh_i = Σ_b g_ib Hd_ib,  dbr_i = Σ_b g_ib (X_b − br_i) [real] or Σ_b g_ib X_b [binary],
//   dC_i = Σ_b g_ib.
//
// The classes' autoencoders live in "slots" (one engine: this thread or a worker); the driver in the
// main thread forms the softmax from their energies and sends back g, so only B x K numbers cross
// threads per step, and the arithmetic is the same wherever a class lives: bit-identical results.
//
// K = classes, B = minibatch rows, D = visible, H = hidden.

import { log } from "../math.js";
import { alloc, fromArray, rowsOf, view, type Engine, type Mat } from "../engine/engine.js";
import { gemm, axpy, colSums, mulRows, rowBinaryEntropy } from "../engine/kernels.js";
import type { Activation } from "../engine/activations.js";
import { checkInput, checkTrainingRows, checkSpec, checkWeights, encode, type Autoencoder, type AutoencoderSpec } from "../model/autoencoder.js";
import { energies, energyOfU } from "../model/energy.js";
import { softmaxRows, scoresFrom } from "../model/csae.js";
import { aeParams, type AeParam } from "./autoencoder.js";
import { rng } from "../random.js";
import { InputError, ShapeError, onlyKeys, quote } from "../errors.js";
import { divergedIn, divergedParam, loadParamState, paramSet, paramState, sgdStep, type ParamSet, type ParamState } from "./params.js";
import { checkSchedule, runEpochs, startRun, stepRows, type EpochReport, type Trainer } from "./driver.js";
import { checkLayout, countersOf, runStateOf, type Arrays, type Checkpoint } from "./checkpoint.js";
import { argmaxRows, type Tensor } from "../tensor.js";

export interface FinetuneOptions {
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  /** L2 weight decay on every W_i. */
  weightDecay: number;
  loss: "log" | "hinge";
  /** "all": every parameter and C; "C": the autoencoders frozen, only C (learn normalization). */
  learn: "all" | "C";
  /** Stop after this many epochs without a lower validation error (0: never). */
  patience: number;
  /**
   * Learning-rate decay: epoch t (from 0) uses lr · τ / (τ + t) with τ = decay; 0 keeps lr constant.
   * The schedule does not depend on the number of epochs, so a refit stopped early follows it too.
   */
  decay: number;
}

export const FINETUNE_DEFAULTS: FinetuneOptions = {
  epochs: 10, batch: 100, lr: 0.003, momentum: 0.9, weightDecay: 0, loss: "log", learn: "all", patience: 0, decay: 0,
};

export function checkFinetuneOptions(o: FinetuneOptions): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new InputError(`finetune: ${what}`);
  };
  onlyKeys(o, Object.keys(FINETUNE_DEFAULTS), "finetune");
  checkSchedule(o, "finetune");
  need(o.loss === "log" || o.loss === "hinge", `loss must be log or hinge, not ${quote(o.loss)}`);
  need(o.learn === "all" || o.learn === "C", `learn must be all or C, not ${quote(o.learn)}`);
}

/** Parameters of one autoencoder as plain arrays (they cross threads). */
export interface Params {
  W: Float32Array; // (H, D)
  bh: Float32Array; // (H)
  br: Float32Array; // (D)
}

// ---- slots: some classes' autoencoders in one engine ---------------------------------------------

interface Slot {
  ae: Autoencoder;
  Hd: Mat; // (B, H) h(U) of the last minibatch, for the gradient
  /** W, bh, br with dW (H, D), dbh (1, H), dbr (1, D) and their velocities. */
  params: ParamSet<AeParam>;
  best?: Params;
}

export interface Slots {
  slots: Slot[];
  offset: number; // the class index of the first slot
  data: Tensor; // the training rows (N, D)
  X: Mat; // (B, D) the minibatch
  Xc: Mat; // (B, D) X − br
  T: Mat; // (B, H) H(U)
  e1: Mat; // (B, 1)
  e2: Mat; // (B, 1)
  ent: Mat; // (B, 1) the binary-output entropy term, shared by the classes
  g: Mat; // (B, 1) one class's column of g
  b: number; // rows of the last minibatch
}

/**
 * Puts the given classes' autoencoders (classes offset, offset + 1, …) into engine e, with finetuning
 * scratch for minibatches of B rows.
 */
export function makeSlots(e: Engine, spec: AutoencoderSpec, params: Params[], data: Tensor, B: number, offset = 0): Slots {
  B = stepRows(B, data.shape[0]);
  const { D, H } = spec;
  const slots = params.map((p, i): Slot => {
    const ae = { ...spec, W: fromArray(e, `W${i}`, H, D, p.W), bh: fromArray(e, `bh${i}`, 1, H, p.bh), br: fromArray(e, `br${i}`, 1, D, p.br) };
    const Hd = alloc(e, `Hd${i}`, B, H);
    return { ae, Hd, params: aeParams(ae) };
  });
  return {
    slots, data, b: 0, offset,
    X: alloc(e, "X", B, D), Xc: alloc(e, "Xc", B, D), T: alloc(e, "T", B, H),
    e1: alloc(e, "e1", B, 1), e2: alloc(e, "e2", B, 1), ent: alloc(e, "ent", B, 1), g: alloc(e, "g", B, 1),
  };
}

const top = (m: Mat, b: number): Mat => (b === m.rows ? m : rowsOf(m, 0, b));

/** E_i of the training rows `rows` for the slots' classes: (b, k) row-major; keeps h(U) for slotStep. */
export function slotEnergies(s: Slots, rows: Int32Array): Float32Array {
  const b = rows.length;
  const k = s.slots.length;
  const D = s.X.cols;
  s.b = b;
  const X = top(s.X, b), Xc = top(s.Xc, b), T = top(s.T, b), e1 = top(s.e1, b), e2 = top(s.e2, b), ent = top(s.ent, b);
  for (let i = 0; i < b; i++) X.data.set(s.data.data.subarray(rows[i] * D, (rows[i] + 1) * D), i * D);
  const out = new Float32Array(b * k);
  const binary = s.slots[0]?.ae.output === "binary";
  if (binary) rowBinaryEntropy(ent, X);
  s.slots.forEach((slot, c) => {
    const { ae } = slot;
    const Hd = top(slot.Hd, b);
    encode(ae, X, T);
    energyOfU(ae.activation as Activation, ae.output, ae.br, T, X, e1, { Xs: Xc, t: e2, entropy: binary ? ent : undefined }, Hd);
    for (let i = 0; i < b; i++) out[i * k + c] = e1.data[i];
  });
  return out;
}

/** The gradients dW, dbh, dbr (the parameters' grad buffers) of the slots' autoencoders from g = dL/dE (b, k) of the last slotEnergies. */
export function slotGradients(s: Slots, g: Float32Array): void {
  const b = s.b;
  const k = s.slots.length;
  const X = top(s.X, b);
  const gc = top(s.g, b);
  s.slots.forEach((slot, c) => {
    const { ae } = slot;
    const Hd = top(slot.Hd, b);
    const dW = slot.params.W.grad as Mat, dbh = slot.params.bh.grad as Mat, dbr = slot.params.br.grad as Mat;
    let sum = 0;
    for (let i = 0; i < b; i++) sum += gc.data[i] = g[i * k + c];
    mulRows(Hd, gc); // g ⊙ Hd
    gemm(dW, Hd, X, { transA: true });
    colSums(dbh, Hd);
    gemm(dbr, view(gc.engine, "gᵀ", gc.ptr, 1, b), X); // Σ_b g_b x_b
    if (ae.output === "real") axpy(dbr, -Math.fround(sum), ae.br); // − (Σ_b g_b) br
  });
}

/**
 * One SGD-with-momentum step of the slots' autoencoders from g = dL/dE (b, k) of the last
 * slotEnergies. (A slot's gradient reads only its own parameters, so stepping after all the
 * gradients gives the bits of stepping after each.)
 */
export function slotStep(s: Slots, g: Float32Array, o: Pick<FinetuneOptions, "lr" | "momentum" | "weightDecay">): void {
  slotGradients(s, g);
  for (const slot of s.slots) sgdStep(slot.params, o);
}

/** E_i of other rows (validation, test) for the slots' classes: (N, k). */
export function slotClassify(s: Slots, X: Tensor): Float32Array {
  // (unchecked: a model diverging in training is the driver's to report, not an input error)
  return energies(s.slots.map((slot) => slot.ae), X);
}

export function slotKeep(s: Slots): void {
  for (const slot of s.slots) slot.best = slotParams(slot.ae);
}

export function slotRestore(s: Slots): void {
  for (const slot of s.slots) {
    if (!slot.best) continue;
    slot.ae.W.data.set(slot.best.W);
    slot.ae.bh.data.set(slot.best.bh);
    slot.ae.br.data.set(slot.best.br);
  }
}

export function slotParams(ae: Autoencoder): Params {
  checkWeights(ae, "slotParams");
  return { W: ae.W.data.slice(), bh: ae.bh.data.slice(), br: ae.br.data.slice() };
}

/** Parameters, velocities and kept bests of the slots' classes, named W3, bh3, br3 for class 3 (checkpoints). */
export function slotSave(s: Slots): ParamState {
  const parts = s.slots.map((slot, i) => paramState(slot.params, slot.best, String(s.offset + i)));
  const merged = (pick: (st: ParamState) => Arrays | undefined) => Object.assign({}, ...parts.map(pick));
  return { values: merged((st) => st.values), velocities: merged((st) => st.velocities), best: s.slots.some((slot) => slot.best) ? merged((st) => st.best) : undefined };
}

/** The first diverged parameter of the slots' classes, named with its class ("W3"). */
export function slotDiverged(s: Slots): string | undefined {
  for (const [i, slot] of s.slots.entries()) {
    const name = divergedParam(slot.params);
    if (name !== undefined) return `${name}${s.offset + i}`;
  }
  return undefined;
}

/** Loads the slots' own classes from a state (which may hold other classes too); shapes were checked. */
export function slotLoad(s: Slots, st: ParamState): void {
  s.slots.forEach((slot, i) => {
    const suffix = String(s.offset + i);
    loadParamState(slot.params, st, suffix);
    const best = st.best;
    slot.best = best && { W: best[`W${suffix}`].data.slice(), bh: best[`bh${suffix}`].data.slice(), br: best[`br${suffix}`].data.slice() };
  });
}

// ---- the driver ---------------------------------------------------------------------------------

/** The classes' autoencoders, wherever they live (this thread, or workers): energies in class order. */
export interface ClassGroups {
  /** The training rows the groups were made for, and the classes (K): finetune checks its y and K against them. */
  readonly rows: number;
  readonly classes: number;
  energies(rows: Int32Array): Promise<Float32Array>; // (b, K)
  step(g: Float32Array, o: FinetuneOptions): Promise<void>; // g (b, K)
  classify(X: Tensor): Promise<Float32Array>; // (N, K)
  keep(): Promise<void>;
  restore(): Promise<void>;
  params(): Promise<Params[]>;
  /** A diverged parameter's name ("W3"), checked where the parameters live; undefined if none. */
  diverged(): Promise<string | undefined>;
  /** Everything a checkpoint needs to resume (see ParamState). */
  save(): Promise<ParamState>;
  load(s: ParamState): Promise<void>;
  close(): Promise<void>;
}

/** All classes in one engine of this thread. */
export function localGroups(e: Engine, spec: AutoencoderSpec, params: Params[], data: Tensor, B: number): ClassGroups {
  checkSpec(spec);
  const N = checkTrainingRows(checkInput(spec, data, "training data"), "training data").shape[0];
  if (!Array.isArray(params) || params.length === 0) throw new InputError(`localGroups: want one Params per class, not ${quote(params)}`);
  const s = makeSlots(e, spec, params, data, B);
  return {
    rows: N,
    classes: params.length,
    energies: async (rows) => slotEnergies(s, rows),
    step: async (g, o) => slotStep(s, g, o),
    classify: async (X) => slotClassify(s, X),
    keep: async () => slotKeep(s),
    restore: async () => slotRestore(s),
    params: async () => s.slots.map((slot) => slotParams(slot.ae)),
    diverged: async () => slotDiverged(s),
    save: async () => slotSave(s),
    load: async (st) => slotLoad(s, st),
    close: async () => {},
  };
}

/**
 * dL/dz for one row (written into g, K values, already divided by b) and the row's loss: the log-loss
 * p − t, or for the hinge loss max(0, 1 + max_{j≠y} z_j − z_y) the pair −1 at y, +1 at the argmax.
 */
function lossGradient(z: Float64Array, p: Float64Array, r: number, K: number, y: number, loss: "log" | "hinge", b: number, g: Float32Array): number {
  const o = r * K;
  if (loss === "log") {
    for (let i = 0; i < K; i++) g[o + i] = (p[o + i] - (i === y ? 1 : 0)) / b;
    return -log(Math.max(p[o + y], 1e-300));
  }
  let j = -1;
  for (let i = 0; i < K; i++) if (i !== y && (j < 0 || z[o + i] > z[o + j])) j = i;
  for (let i = 0; i < K; i++) g[o + i] = 0;
  const margin = j < 0 ? 0 : 1 + z[o + j] - z[o + y];
  if (margin > 0) {
    g[o + y] = -1 / b;
    g[o + j] = 1 / b;
  }
  return Math.max(0, margin);
}

/** Error rate of scores z (N, K) against class indices y. */
export function errorRate(z: ArrayLike<number>, K: number, y: Int32Array): number {
  const pred = argmaxRows(z, K);
  let wrong = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] !== y[i]) wrong++;
  return wrong / y.length;
}

/**
 * Finetunes the classes in `groups` and C (updated in place) on the training rows with class indices
 * y, shuffled by a generator seeded with `seed`, on the epoch driver. With validation data, the epoch
 * with the lowest validation error is kept. With `checkpoint`, the whole state is handed over after
 * every epoch; with `resume` (such a checkpoint, already checked against the options and data), the
 * run goes on from it with the same bits as a run never stopped.
 */
export async function finetune(
  groups: ClassGroups, K: number, y: Int32Array, C: Float32Array, o: FinetuneOptions,
  run: {
    seed: number; valid?: { X: Tensor; y: Int32Array }; onEpoch?: (r: EpochReport) => void; trainX?: Tensor;
    checkpoint?: (c: Omit<Checkpoint, "options" | "data">) => void | Promise<void>; resume?: { from: Checkpoint; source: string };
  },
): Promise<{ history: Array<{ epoch: number; loss: number; valid?: number }>; bestEpoch?: number }> {
  checkFinetuneOptions(o);
  if (C?.length !== K) throw new ShapeError(`finetune: C holds ${C?.length} constants for ${K} classes`);
  if (groups.classes !== K) throw new ShapeError(`finetune: ${K} classes, but the groups hold ${groups.classes} autoencoders`);
  if (y.length !== groups.rows) throw new ShapeError(`finetune: ${y.length} class indices for the ${groups.rows} training rows of the groups`);
  const bad = y.findIndex((c) => !(Number.isInteger(c) && c >= 0 && c < K));
  if (bad >= 0) throw new InputError(`finetune: row ${bad}'s class index is ${y[bad]}, not in [0, ${K})`);
  if (run.trainX && run.trainX.shape[0] !== y.length) throw new ShapeError(`finetune: ${y.length} class indices for ${run.trainX.shape[0]} training rows`);
  if (run.valid && run.valid.y.length !== run.valid.X.shape[0]) throw new ShapeError(`finetune: ${run.valid.y.length} validation class indices for ${run.valid.X.shape[0]} rows`);
  const constants = paramSet({ C });
  const dC = constants.C.grad as Float64Array;
  const vC = constants.C.vel as Float64Array;
  // With the autoencoders frozen, their energies never change: compute them once.
  const frozen = o.learn === "C" ? await groups.classify(run.trainX!) : undefined;
  const valid = run.valid;
  const trainer: Trainer<Float32Array> = {
    what: "finetune",
    rows: y.length,
    async step(rows, lr) {
      const b = rows.length;
      let E: Float32Array;
      if (frozen) {
        E = new Float32Array(b * K);
        for (let i = 0; i < b; i++) E.set(frozen.subarray(rows[i] * K, (rows[i] + 1) * K), i * K);
      } else {
        E = await groups.energies(rows);
      }
      const z = scoresFrom(E, K, C);
      const p = new Float64Array(b * K);
      softmaxRows(z, K, p);
      const g = new Float32Array(b * K);
      let total = 0;
      for (let i = 0; i < b; i++) total += lossGradient(z, p, i, K, y[rows[i]], o.loss, b, g);
      if (!frozen) await groups.step(g, { ...o, lr });
      for (let c = 0; c < K; c++) {
        let s = 0;
        for (let i = 0; i < b; i++) s += g[i * K + c];
        dC[c] = s;
      }
      sgdStep(constants, { lr, momentum: o.momentum, weightDecay: 0 });
      return total;
    },
    validate: valid ? async () => errorRate(scoresFrom(await groups.classify(valid.X), K, C), K, valid.y) : undefined,
    async keep() {
      await groups.keep();
      return C.slice();
    },
    async restore(best) {
      C.set(best);
      await groups.restore();
    },
    async diverged() {
      return divergedIn({ C }) ?? (await groups.diverged());
    },
  };
  let state = startRun<Float32Array>(rng(run.seed));
  if (run.resume) {
    const c = run.resume.from;
    const g = await groups.save(); // names and shapes to expect
    checkLayout(c, { values: { ...g.values, C: { shape: [K], data: C } }, velocities: { ...g.velocities, C: vC } }, run.resume.source);
    await groups.load({ values: c.values, velocities: c.velocities as Arrays, best: c.best?.values });
    C.set(c.values.C.data);
    vC.set(c.velocities.C as Float64Array); // checkLayout: a float64 velocity
    state = runStateOf(c, c.best?.values.C.data.slice());
  }
  const checkpoint = run.checkpoint;
  const save = checkpoint
    ? async (st: typeof state) => {
        const g = await groups.save();
        await checkpoint({
          trainer: "finetune",
          values: { ...g.values, C: { shape: [K], data: C.slice() } },
          velocities: { ...g.velocities, C: vC.slice() },
          best: st.best && { epoch: st.best.epoch, valid: st.best.valid, values: { ...g.best, C: { shape: [K], data: st.best.params } } },
          ...countersOf(st),
        });
      }
    : undefined;
  state = await runEpochs(trainer, o, state, { onEpoch: run.onEpoch, checkpoint: save });
  return { history: state.history, bestEpoch: state.best?.epoch };
}
