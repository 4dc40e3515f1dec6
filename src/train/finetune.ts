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
import { gemm, axpy, colSums, rowSums, mulRows, rowBinaryEntropy } from "../engine/kernels.js";
import { activation } from "../engine/activations.js";
import { encode, type Autoencoder, type AutoencoderSpec } from "../model/autoencoder.js";
import { addVisibleTerms } from "../model/energy.js";
import { softmaxRows, argmaxRows, scoresFrom, classEnergies } from "../model/csae.js";
import { aeParams, type AeParam } from "./autoencoder.js";
import { rng } from "../random.js";
import { InputError, quote } from "../errors.js";
import { paramSet, sgdStep, type ParamSet } from "./params.js";
import { runEpochs, startRun, type EpochReport, type Trainer } from "./driver.js";
import type { Tensor } from "../tensor.js";

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
  need(Number.isInteger(o.epochs) && o.epochs >= 0, `epochs must be a non-negative integer, not ${quote(o.epochs)}`);
  need(Number.isInteger(o.batch) && o.batch >= 1, `batch must be a positive integer, not ${quote(o.batch)}`);
  need(o.lr > 0 && Number.isFinite(o.lr), `lr must be positive, not ${quote(o.lr)}`);
  need(o.momentum >= 0 && o.momentum < 1, `momentum must be in [0, 1), not ${quote(o.momentum)}`);
  need(o.weightDecay >= 0, `weight decay must be >= 0, not ${quote(o.weightDecay)}`);
  need(o.loss === "log" || o.loss === "hinge", `loss must be log or hinge, not ${quote(o.loss)}`);
  need(o.learn === "all" || o.learn === "C", `learn must be all or C, not ${quote(o.learn)}`);
  need(Number.isInteger(o.patience) && o.patience >= 0, `patience must be a non-negative integer, not ${quote(o.patience)}`);
  need(o.decay >= 0 && Number.isFinite(o.decay), `decay must be a finite number >= 0, not ${quote(o.decay)}`);
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

/** Puts the given classes' autoencoders into engine e, with finetuning scratch for minibatches of B rows. */
export function makeSlots(e: Engine, spec: AutoencoderSpec, params: Params[], data: Tensor, B: number): Slots {
  const { D, H } = spec;
  const slots = params.map((p, i): Slot => {
    const ae = { ...spec, W: fromArray(e, `W${i}`, H, D, p.W), bh: fromArray(e, `bh${i}`, 1, H, p.bh), br: fromArray(e, `br${i}`, 1, D, p.br) };
    const Hd = alloc(e, `Hd${i}`, B, H);
    return { ae, Hd, params: aeParams(ae) };
  });
  return {
    slots, data, b: 0,
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
    activation(ae.activation as Exclude<typeof ae.activation, "kmeans">, T, { h: Hd, H: T });
    rowSums(e1, T); // Σ_k H(u_k)
    addVisibleTerms(e1, X, ae.br, ae.output, Xc, e2, binary ? ent : undefined);
    for (let i = 0; i < b; i++) out[i * k + c] = e1.data[i];
  });
  return out;
}

/** One SGD-with-momentum step of the slots' autoencoders from g = dL/dE (b, k) of the last slotEnergies. */
export function slotStep(s: Slots, g: Float32Array, o: Pick<FinetuneOptions, "lr" | "momentum" | "weightDecay">): void {
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
    sgdStep(slot.params, o);
  });
}

/** E_i of other rows (validation, test) for the slots' classes: (N, k). */
export function slotClassify(s: Slots, X: Tensor): Float32Array {
  return classEnergies({ aes: s.slots.map((slot) => slot.ae) }, X).data;
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
  return { W: ae.W.data.slice(), bh: ae.bh.data.slice(), br: ae.br.data.slice() };
}

// ---- the driver ---------------------------------------------------------------------------------

/** The classes' autoencoders, wherever they live (this thread, or workers): energies in class order. */
export interface ClassGroups {
  energies(rows: Int32Array): Promise<Float32Array>; // (b, K)
  step(g: Float32Array, o: FinetuneOptions): Promise<void>; // g (b, K)
  classify(X: Tensor): Promise<Float32Array>; // (N, K)
  keep(): Promise<void>;
  restore(): Promise<void>;
  params(): Promise<Params[]>;
  close(): Promise<void>;
}

/** All classes in one engine of this thread. */
export function localGroups(e: Engine, spec: AutoencoderSpec, params: Params[], data: Tensor, B: number): ClassGroups {
  const s = makeSlots(e, spec, params, data, B);
  return {
    energies: async (rows) => slotEnergies(s, rows),
    step: async (g, o) => slotStep(s, g, o),
    classify: async (X) => slotClassify(s, X),
    keep: async () => slotKeep(s),
    restore: async () => slotRestore(s),
    params: async () => s.slots.map((slot) => slotParams(slot.ae)),
    close: async () => {},
  };
}

/** A finetuning epoch's report: the driver's, with `valid` the validation error rate. */
export type FinetuneReport = EpochReport;

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
 * with the lowest validation error is kept.
 */
export async function finetune(
  groups: ClassGroups, K: number, y: Int32Array, C: Float32Array, o: FinetuneOptions,
  run: { seed: number; valid?: { X: Tensor; y: Int32Array }; onEpoch?: (r: EpochReport) => void; trainX?: Tensor },
): Promise<{ history: Array<{ epoch: number; loss: number; valid?: number }>; bestEpoch?: number }> {
  checkFinetuneOptions(o);
  const constants = paramSet({ C });
  const dC = constants.C.grad as Float64Array;
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
  };
  const state = await runEpochs(trainer, o, startRun<Float32Array>(rng(run.seed)), { onEpoch: run.onEpoch });
  return { history: state.history, bestEpoch: state.best?.epoch };
}
