// Training one autoencoder (docs/math.md §6): minibatch SGD with momentum and L2 weight decay on the
// reconstruction loss, with the contractive penalty or denoising. Manual backprop; the forward and
// backward passes sit side by side and the buffers carry the names of docs/math.md §6.1.
//
// B = rows of a minibatch, D = visible, H = hidden.

import { alloc, fromArray, rowsOf, view, type Engine, type Mat } from "../engine/engine.js";
import { gemm, gemmPacked, packB, repackB, sub, mul, scale, axpy, addRowBias, colSums, rowSums, rowSumsq, mulCols, mulRows, axpyRows, type PackedB } from "../engine/kernels.js";
import { activation } from "../engine/activations.js";
import { checkInput, eachChunk, encode, decode, type Autoencoder, type AutoencoderSpec } from "../model/autoencoder.js";
import { FormatError, InputError, quote } from "../errors.js";
import type { Rng } from "../random.js";
import { countersOf, runStateOf, type Checkpoint } from "./checkpoint.js";
import { barrier, collect, publish, type Exchange } from "./replicas.js";
import type { Tensor } from "../tensor.js";
import { paramSet, restore, sgdStep, snapshot, type ParamSet } from "./params.js";
import { runEpochs, startRun, type EpochReport, type RunState, type Trainer } from "./driver.js";

export { permutation } from "./driver.js";

export interface TrainOptions {
  epochs: number;
  /** Minibatch rows B. */
  batch: number;
  lr: number;
  momentum: number;
  /** L2 weight decay on W (biases are not decayed). */
  weightDecay: number;
  /** Contractive penalty weight λ (0: off). */
  contractive: number;
  /** Denoising corruption level ν: each input entry is zeroed with this probability (0: off). */
  denoising: number;
  /** After each step, rescale every filter w_k to this norm (0: off). */
  renormalize: number;
  /** Stop after this many epochs without a better validation loss (0: never). */
  patience: number;
  /** Learning-rate decay τ (see Schedule in src/train/driver.ts); absent or 0: constant. */
  decay?: number;
  /**
   * The minibatch's gradient as the sum of this many fixed row blocks, added in block order (absent
   * or 1: one block). The bits depend on it, not on the number of workers: one autoencoder trains on
   * up to `blocks` workers with the same result as on one (see replicas.ts).
   */
  blocks?: number;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  epochs: 20,
  batch: 100,
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0,
  contractive: 0,
  denoising: 0,
  renormalize: 0,
  patience: 0,
};

/** The most row blocks a minibatch is split into (one per worker at most). */
export const MAX_BLOCKS = 64;

/** Checks options against the model; every problem is an InputError before any work starts. */
export function checkTrainOptions(ae: Pick<Autoencoder, "activation">, o: TrainOptions): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new InputError(`train: ${what}`);
  };
  need(Number.isInteger(o.epochs) && o.epochs >= 0, `epochs must be a non-negative integer, not ${quote(o.epochs)}`);
  need(Number.isInteger(o.batch) && o.batch >= 1, `batch must be a positive integer, not ${quote(o.batch)}`);
  need(o.lr > 0 && Number.isFinite(o.lr), `lr must be positive, not ${quote(o.lr)}`);
  need(o.momentum >= 0 && o.momentum < 1, `momentum must be in [0, 1), not ${quote(o.momentum)}`);
  need(o.weightDecay >= 0 && Number.isFinite(o.weightDecay), `weight decay must be >= 0, not ${quote(o.weightDecay)}`);
  need(o.contractive >= 0 && Number.isFinite(o.contractive), `contractive λ must be >= 0, not ${quote(o.contractive)}`);
  need(o.denoising >= 0 && o.denoising < 1, `denoising ν must be in [0, 1), not ${quote(o.denoising)}`);
  need(o.renormalize >= 0 && Number.isFinite(o.renormalize), `renormalize must be >= 0, not ${quote(o.renormalize)}`);
  need(Number.isInteger(o.patience) && o.patience >= 0, `patience must be a non-negative integer, not ${quote(o.patience)}`);
  need(o.decay === undefined || (o.decay >= 0 && Number.isFinite(o.decay)), `decay must be a finite number >= 0, not ${quote(o.decay)}`);
  need(o.blocks === undefined || (Number.isInteger(o.blocks) && o.blocks >= 1 && o.blocks <= Math.min(o.batch, MAX_BLOCKS)),
    `blocks must be an integer from 1 to the batch size (at most ${MAX_BLOCKS}), not ${quote(o.blocks)}`);
  need(!(o.contractive > 0 && o.denoising > 0), "choose the contractive penalty or denoising, not both");
  need(ae.activation !== "kmeans", "kmeans is not trained by gradient descent here; choose another activation");
  need(!(o.contractive > 0 && (ae.activation === "relu" || ae.activation === "modulus")),
    `the contractive penalty needs a differentiable h'; ${ae.activation} has none at 0: use denoising`);
}

/** The scratch one step needs, for minibatches of up to B rows. */
export interface StepBuffers {
  X: Mat; // (B, D) the clean minibatch (also the target)
  Xt: Mat; // (B, D) the corrupted input X̃ (denoising), else X itself
  U: Mat; // (B, H) net input; reused for Delta Wᵀ, then E
  Hd: Mat; // (B, H) h(U)
  G: Mat; // (B, H) h'(U)
  S: Mat; // (B, H) h''(U) (contractive), else unused
  T: Mat; // (B, H) contractive temporaries
  A: Mat; // (B, D) decoder input Hd W + br
  R: Mat; // (B, D) reconstruction σ(A) (binary) / softplus(A) for the loss
  Delta: Mat; // (B, D) dloss/dA = (R − X)/B
  rowLoss: Mat; // (B, 1)
  c: Mat; // (H, 1) ‖w_k‖²
  g2: Mat; // (1, H) Σ_b G²
  /** W (H, D), bh (1, H), br (1, D) with their gradients dW, dbh, dbr and velocities. */
  params: ParamSet<AeParam>;
  /** A block's gradients (blocks > 1), added into the parameters' in block order. */
  scratch?: Grads;
  /** Wᵀ (for U = X̃Wᵀ and ΔWᵀ) and W (for HdW) packed once a step for the GEMMs of every block. */
  WtP: PackedB;
  WP: PackedB;
}

export type AeParam = "W" | "bh" | "br";

/** An autoencoder's parameter set (weight decay on W only). */
export function aeParams(ae: Autoencoder): ParamSet<AeParam> {
  return paramSet({ W: ae.W, bh: ae.bh, br: ae.br }, ["W"]);
}

/** Allocates the step buffers (velocities zeroed). */
export function stepBuffers(ae: Autoencoder, B: number, o: Pick<TrainOptions, "denoising" | "contractive" | "blocks">): StepBuffers {
  const e = ae.W.engine;
  const { D, H } = ae;
  const X = alloc(e, "X", B, D);
  const contractive = o.contractive > 0;
  return {
    X,
    Xt: o.denoising > 0 ? alloc(e, "Xt", B, D) : X,
    U: alloc(e, "U", B, H),
    Hd: alloc(e, "Hd", B, H),
    G: alloc(e, "G", B, H),
    S: contractive ? alloc(e, "S", B, H) : alloc(e, "S", 0, H),
    T: contractive ? alloc(e, "T", B, H) : alloc(e, "T", 0, H),
    A: alloc(e, "A", B, D),
    R: alloc(e, "R", B, D),
    Delta: alloc(e, "Delta", B, D),
    rowLoss: alloc(e, "rowLoss", B, 1),
    c: alloc(e, "c", H, 1),
    g2: alloc(e, "g2", 1, H),
    params: aeParams(ae),
    scratch: (o.blocks ?? 1) > 1 ? { dW: alloc(e, "dW'", H, D), dbh: alloc(e, "dbh'", 1, H), dbr: alloc(e, "dbr'", 1, D) } : undefined,
    WtP: packB(ae.W, { transB: true }),
    WP: packB(ae.W),
  };
}

function sum(m: Mat): number {
  let s = 0;
  for (const v of m.data) s += v;
  return s;
}

/** Where a block's gradients go: the parameters' own (one block) or a block's scratch. */
export interface Grads {
  dW: Mat; // (H, D)
  dbh: Mat; // (1, H)
  dbr: Mat; // (1, D)
}

export const gradsOf = (p: ParamSet<AeParam>): Grads => ({ dW: p.W.grad as Mat, dbh: p.bh.grad as Mat, dbr: p.br.grad as Mat });

/**
 * Loss and gradient of one minibatch of b rows (already in buf.X, and buf.Xt when denoising):
 * writes dW, dbh, dbr; returns the mean reconstruction loss plus the contractive penalty.
 */
export function lossAndGradient(ae: Autoencoder, buf: StepBuffers, b: number, o: Pick<TrainOptions, "contractive" | "denoising">): number {
  packWeights(ae, buf);
  return blockGradient(ae, buf, 0, b, b, o, gradsOf(buf.params));
}

/** Packs this step's W for the GEMMs (once a step, however many blocks use it). */
function packWeights(ae: Autoencoder, buf: StepBuffers): void {
  repackB(buf.WtP, ae.W, { transB: true });
  repackB(buf.WP, ae.W);
}

/**
 * The share of rows r0..r1 of a minibatch of b rows in its loss and gradient (each row weighted 1/b,
 * as in the whole minibatch's mean), written into G. The minibatch's gradient is the sum of its
 * blocks' (see blockedGradient). Writes into.dW, into.dbh, into.dbr. W must be packed (packWeights).
 */
export function blockGradient(
  ae: Autoencoder, buf: StepBuffers, r0: number, r1: number, b: number, o: Pick<TrainOptions, "contractive" | "denoising">, into: Grads,
): number {
  const { H } = ae;
  const part = (m: Mat): Mat => (r0 === 0 && r1 === m.rows ? m : rowsOf(m, r0, r1));
  const X = part(buf.X), Xt = part(buf.Xt), U = part(buf.U), Hd = part(buf.Hd), G = part(buf.G);
  const A = part(buf.A), R = part(buf.R), Delta = part(buf.Delta), rowLoss = part(buf.rowLoss);
  const lambda = o.contractive;
  const { dW, dbh, dbr } = into;

  // forward: U = X̃ Wᵀ + bh, Hd = h(U), G = h'(U) [, S = h''(U)], A = Hd W + br
  const packed = { ...ae, Wp: buf.WtP };
  if (lambda > 0) encode(packed, Xt, U, { Hd, G, S: part(buf.S) });
  else encode(packed, Xt, U, { Hd, G });
  gemmPacked(A, Hd, buf.WP);
  addRowBias(A, ae.br);

  // loss and Delta = dloss/dA = (R − X)/b
  let loss: number;
  if (ae.output === "real") {
    sub(Delta, A, X);
    rowSumsq(rowLoss, Delta);
    loss = sum(rowLoss) / (2 * b);
  } else {
    // −[x log σ(a) + (1−x) log(1−σ(a))] = softplus(a) − x a, without forming log σ.
    activation("sigmoid", A, { h: Delta, H: R }); // Delta = σ(A), R = softplus(A)
    mul(A, X, A);
    sub(R, R, A);
    rowSums(rowLoss, R);
    loss = sum(rowLoss) / b;
    sub(Delta, Delta, X);
  }
  scale(Delta, 1 / b);

  // backward, decoder path: dW = Hdᵀ Delta, dbr = Σ_b Delta
  gemm(dW, Hd, Delta, { transA: true });
  colSums(dbr, Delta);
  // encoder path: E = (Delta Wᵀ) ⊙ h'(U) (into U)
  const E = U;
  gemmPacked(E, Delta, buf.WtP);
  mul(E, E, G);
  let penalty = 0;
  if (lambda > 0) {
    // P = (λ/b) Σ_b Σ_k h'(u_bk)² c_k: its u-gradient 2 G ⊙ S ⊙ c joins E (both are (·)ᵀ X̃ with
    // X̃ = X), and its c-gradient adds 2 diag(Σ_b G²) W to dW.
    const T = part(buf.T);
    const cRow = view(buf.c.engine, "c", buf.c.ptr, 1, H);
    const g2Col = view(buf.g2.engine, "g2", buf.g2.ptr, H, 1);
    rowSumsq(buf.c, ae.W);
    mul(T, G, G);
    colSums(buf.g2, T);
    for (let k = 0; k < H; k++) penalty += buf.g2.data[k] * buf.c.data[k];
    penalty *= lambda / b;
    mul(T, G, part(buf.S));
    mulCols(T, cRow);
    axpy(E, (2 * lambda) / b, T);
    colSums(dbh, E);
    gemm(dW, E, Xt, { transA: true, beta: 1 });
    axpyRows(dW, (2 * lambda) / b, g2Col, ae.W);
  } else {
    colSums(dbh, E);
    gemm(dW, E, Xt, { transA: true, beta: 1 });
  }
  return loss + penalty;
}

/** Rows of block j of P of a minibatch of b rows: [⌊jb/P⌋, ⌊(j+1)b/P⌋). */
export function blockRows(b: number, P: number, j: number): [number, number] {
  return [Math.floor((j * b) / P), Math.floor(((j + 1) * b) / P)];
}

/** The block's share, or zeros for an empty block (a last minibatch smaller than the blocks). */
function blockShare(ae: Autoencoder, buf: StepBuffers, j: number, P: number, b: number, o: TrainOptions, into: Grads): number {
  const [r0, r1] = blockRows(b, P, j);
  if (r0 < r1) return blockGradient(ae, buf, r0, r1, b, o, into);
  into.dW.data.fill(0);
  into.dbh.data.fill(0);
  into.dbr.data.fill(0);
  return 0;
}

const addGrads = (G: Grads, S: Grads) => {
  axpy(G.dW, 1, S.dW);
  axpy(G.dbh, 1, S.dbh);
  axpy(G.dbr, 1, S.dbr);
};

/**
 * The minibatch's loss and gradient as the sum of o.blocks row blocks in block order (docs/math.md §6.7): block 0 into
 * the parameters' gradients, every further block through the scratch. With an exchange (one model on
 * several workers), this worker computes its own blocks, the workers swap them, and each adds all of
 * them in the same order: the same bits as here alone.
 */
export function blockedGradient(ae: Autoencoder, buf: StepBuffers, b: number, o: TrainOptions, ex?: Exchange): number {
  const P = o.blocks ?? 1;
  if (P === 1) return lossAndGradient(ae, buf, b, o);
  packWeights(ae, buf);
  const G = gradsOf(buf.params);
  const S = buf.scratch!;
  let loss = 0;
  if (!ex) {
    for (let j = 0; j < P; j++) {
      loss += blockShare(ae, buf, j, P, b, o, j === 0 ? G : S);
      if (j > 0) addGrads(G, S);
    }
    return loss;
  }
  const list = (g: Grads) => [g.dW, g.dbh, g.dbr];
  for (const j of ex.own) publish(ex, j, list(S), blockShare(ae, buf, j, P, b, o, S));
  barrier(ex);
  for (let j = 0; j < P; j++) {
    loss += collect(ex, j, list(j === 0 ? G : S));
    if (j > 0) addGrads(G, S);
  }
  ex.parity ^= 1;
  return loss;
}

/** The SGD-with-momentum update from the gradients in buf at rate lr, then the optional filter renormalization. */
function update(ae: Autoencoder, buf: StepBuffers, o: TrainOptions, lr: number): void {
  sgdStep(buf.params, { lr, momentum: o.momentum, weightDecay: o.weightDecay });
  if (o.renormalize > 0) {
    rowSumsq(buf.c, ae.W);
    const s = buf.c.data;
    for (let k = 0; k < s.length; k++) s[k] = s[k] > 0 ? o.renormalize / Math.sqrt(s[k]) : 1;
    mulRows(ae.W, buf.c);
  }
}

/** Zeroes each entry of X into Xt with probability ν (the denoising corruption), from rng. */
export function corrupt(Xt: Mat, X: Mat, b: number, nu: number, rng: Rng): void {
  const x = X.data;
  const xt = Xt.data;
  const n = b * X.cols;
  for (let i = 0; i < n; i++) xt[i] = rng.uniform() < nu ? 0 : x[i];
}

/** Mean reconstruction loss over the rows of X (clean inputs, no penalty): the validation loss. */
export function reconstructionLoss(ae: Autoencoder, X: Tensor): number {
  checkInput(ae, X, "validation data");
  return meanLoss(ae, X);
}

// The same on rows already checked (the validation set is checked once, not every epoch).
function meanLoss(ae: Autoencoder, X: Tensor): number {
  const N = X.shape[0];
  const e = ae.W.engine;
  let total = 0;
  eachChunk(e, X, ae.D, (Xc) => {
    const n = Xc.rows;
    const U = alloc(e, "U", n, ae.H);
    const A = alloc(e, "A", n, ae.D);
    const r = alloc(e, "r", n, 1);
    encode(ae, Xc, U, { Hd: U });
    decode(ae, U, A);
    if (ae.output === "real") {
      sub(A, A, Xc);
      rowSumsq(r, A);
      total += sum(r) / 2;
    } else {
      const SP = alloc(e, "SP", n, ae.D);
      activation("sigmoid", A, { H: SP });
      mul(A, Xc, A);
      sub(SP, SP, A);
      rowSums(r, SP);
      total += sum(r);
    }
  });
  return total / N;
}

// ---- the trainer on the epoch driver -------------------------------------------------------------

export type { EpochReport };

/** The parameters kept for the best validation epoch. */
export type AeSnapshot = Record<AeParam, Float32Array>;

/** Everything a run needs to continue exactly where it stopped (see encodeCheckpoint). */
export interface TrainState extends RunState<AeSnapshot> {
  buf: StepBuffers; // velocities live here
}

export interface TrainHooks {
  valid?: Tensor;
  onEpoch?: (r: EpochReport) => void;
  /** Called after every epoch with the state to save (e.g. an atomic checkpoint). */
  checkpoint?: (s: TrainState) => void;
  /** This worker's part in training one model on several (see replicas.ts). */
  exchange?: Exchange;
}

/** Starts a run: step buffers with zero velocities, epoch 0, the generator that drives the run. */
export function startState(ae: Autoencoder, o: TrainOptions, rng: Rng): TrainState {
  return { ...startRun<AeSnapshot>(rng), buf: stepBuffers(ae, o.batch, o) };
}

/**
 * Trains ae in place on the rows of data (N, D) for o.epochs epochs (from the state's epoch on). The
 * state's generator shuffles and drives the corruption, so the same seed and data give the same bits.
 * With validation data, the parameters of the epoch with the lowest validation loss are kept at the
 * end (and o.patience stops early).
 */
export function trainAutoencoder(ae: Autoencoder, data: Tensor, o: TrainOptions, state: TrainState, hooks: TrainHooks = {}): Promise<TrainState> {
  // Checked here, synchronously: bad input throws before a promise exists.
  checkTrainOptions(ae, o);
  if (checkInput(ae, data, "training data") === 0) throw new InputError("train: no training rows");
  if (hooks.valid) checkInput(ae, hooks.valid, "validation data");
  return train(ae, data, o, state, hooks);
}

/** trainAutoencoder on options and data already checked (the class-parallel fitter checks once, up front). */
export async function train(ae: Autoencoder, data: Tensor, o: TrainOptions, state: TrainState, hooks: TrainHooks = {}): Promise<TrainState> {
  const { buf } = state;
  const D = ae.D;
  const x = data.data;
  const trainer: Trainer<AeSnapshot> = {
    what: "train",
    rows: data.shape[0],
    step(rows, lr, rng) {
      const b = rows.length;
      const X = buf.X.data;
      for (let i = 0; i < b; i++) X.set(x.subarray(rows[i] * D, (rows[i] + 1) * D), i * D);
      if (o.denoising > 0) corrupt(buf.Xt, buf.X, b, o.denoising, rng);
      const loss = blockedGradient(ae, buf, b, o, hooks.exchange) * b;
      update(ae, buf, o, lr);
      return loss;
    },
    validate: hooks.valid ? () => meanLoss(ae, hooks.valid!) : undefined,
    keep: () => snapshot(buf.params) as AeSnapshot,
    restore: (best) => restore(buf.params, best),
  };
  await runEpochs(trainer, { epochs: o.epochs, batch: o.batch, lr: o.lr, decay: o.decay ?? 0, patience: o.patience }, state, {
    onEpoch: hooks.onEpoch,
    checkpoint: hooks.checkpoint ? () => hooks.checkpoint!(state) : undefined,
  });
  return state;
}

// ---- checkpoints ----------------------------------------------------------------------------------

const mat = (m: Mat): Tensor => ({ shape: [m.rows, m.cols], data: m.data });

/** The checkpoint of a run (see checkpoint.ts): W, bh, br, their velocities and the kept best. */
export function aeCheckpoint(ae: Autoencoder, s: TrainState, o: TrainOptions, data: string): Checkpoint {
  const p = s.buf.params;
  const best = s.best && {
    epoch: s.best.epoch,
    valid: s.best.valid,
    values: { W: { shape: [ae.H, ae.D], data: s.best.params.W }, bh: { shape: [1, ae.H], data: s.best.params.bh }, br: { shape: [1, ae.D], data: s.best.params.br } },
  };
  return {
    trainer: "train",
    values: { W: mat(ae.W), bh: mat(ae.bh), br: mat(ae.br) },
    velocities: { W: mat(p.W.vel as Mat), bh: mat(p.bh.vel as Mat), br: mat(p.br.vel as Mat) },
    best, ...countersOf(s), options: { ...o }, data,
    meta: { activation: ae.activation, output: ae.output },
  };
}

/**
 * The autoencoder and run state of a checkpoint (already checked against the options by
 * checkResumable), in engine e, with step buffers for the options o; refused if it is not `spec`.
 */
export function aeFromCheckpoint(e: Engine, spec: AutoencoderSpec, o: TrainOptions, c: Checkpoint, source: string): { ae: Autoencoder; state: TrainState } {
  const { D, H } = spec;
  const W = c.values.W;
  if (!W || W.shape.length !== 2 || W.shape[0] !== H || W.shape[1] !== D || c.meta?.activation !== spec.activation || c.meta?.output !== spec.output) {
    const [h, d] = W?.shape ?? [];
    throw new InputError(`${source}: a ${h}x${d} ${c.meta?.activation}/${c.meta?.output} model, not the ${H}-hidden ${spec.activation}/${spec.output} one asked for`);
  }
  const get = (a: Checkpoint["velocities"], name: string, shape: number[]) => {
    const t = a[name];
    if (!t || t instanceof Float64Array || t.shape.join() !== shape.join()) throw new FormatError(`${source}: tensor ${name} is missing or not [${shape.join(", ")}]`);
    return t.data;
  };
  const ae: Autoencoder = {
    ...spec,
    W: fromArray(e, "W", H, D, get(c.values, "W", [H, D])),
    bh: fromArray(e, "bh", 1, H, get(c.values, "bh", [1, H])),
    br: fromArray(e, "br", 1, D, get(c.values, "br", [1, D])),
  };
  const buf = stepBuffers(ae, o.batch, o);
  for (const [name, shape] of [["W", [H, D]], ["bh", [1, H]], ["br", [1, D]]] as const) {
    (buf.params[name].vel as Mat).data.set(get(c.velocities, name, [...shape]));
  }
  const best = c.best && { W: get(c.best.values, "W", [H, D]), bh: get(c.best.values, "bh", [1, H]), br: get(c.best.values, "br", [1, D]) };
  return { ae, state: { ...runStateOf<AeSnapshot>(c, best), buf } };
}
