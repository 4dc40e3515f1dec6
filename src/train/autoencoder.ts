// Training one autoencoder (docs/math.md §6): minibatch SGD with momentum and L2 weight decay on the
// reconstruction loss, with the contractive penalty or denoising. Manual backprop; the forward and
// backward passes sit side by side and the buffers carry the names of docs/math.md §6.1.
//
// B = rows of a minibatch, D = visible, H = hidden.

import { alloc, fromArray, mark, release, rowsOf, view, type Engine, type Mat } from "../engine/engine.js";
import { gemm, gemmPacked, packB, repackB, sub, mul, scale, axpy, addRowBias, bernoulliTerms, colSums, colSumsq, contractiveDelta, rowSums, rowSumsq, mulRows, axpyRows, type PackedB } from "../engine/kernels.js";
import { activation } from "../engine/activations.js";
import { checkInput, checkTrainingRows, checkWeights, eachChunk, encode, decode, type Autoencoder, type AutoencoderSpec } from "../model/autoencoder.js";
import { InputError, onlyKeys, quote } from "../errors.js";
import type { Rng } from "../random.js";
import { checkLayout, countersOf, runStateOf, type Arrays, type Checkpoint } from "./checkpoint.js";
import { barrier, blockRange, collect, exchangeBuffers, exchangeOf, publish, type Exchange } from "./replicas.js";
import type { Tensor } from "../tensor.js";
import { divergedParam, loadParamState, paramSet, paramState, restore, sgdStep, snapshot, type ParamSet } from "./params.js";
import { checkSchedule, runEpochs, startRun, stepRows, type EpochReport, type RunState, type Trainer } from "./driver.js";

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
   * The step's work in this many fixed blocks whose shares are added in block order (absent or 1: one
   * block): an autoencoder's hidden units (the blocks' shares of the decoder input Hd W are added), the
   * factored model's minibatch rows (the blocks' gradients are added). The bits depend on it, not on
   * the number of workers: one model trains on up to `blocks` workers with the same result as on one
   * (see replicas.ts).
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

// (a Record of every key: an option added to TrainOptions and not here fails to compile)
export const TRAIN_KEYS = Object.keys({
  epochs: 1, batch: 1, lr: 1, momentum: 1, weightDecay: 1, contractive: 1, denoising: 1, renormalize: 1, patience: 1, decay: 1, blocks: 1,
} satisfies Record<keyof TrainOptions, 1>);

/** The most blocks a step is split into (one per worker at most). */
export const MAX_BLOCKS = 64;

/** Checks options against the model; every problem is an InputError before any work starts. */
export function checkTrainOptions(ae: Pick<Autoencoder, "activation" | "H">, o: TrainOptions, blocksOf: "units" | "rows" = "units"): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new InputError(`train: ${what}`);
  };
  onlyKeys(o, TRAIN_KEYS, "train");
  checkSchedule(o, "train");
  need(o.contractive >= 0 && Number.isFinite(o.contractive), `contractive λ must be >= 0, not ${quote(o.contractive)}`);
  need(o.denoising >= 0 && o.denoising < 1, `denoising ν must be in [0, 1), not ${quote(o.denoising)}`);
  need(o.renormalize >= 0 && Number.isFinite(o.renormalize), `renormalize must be >= 0, not ${quote(o.renormalize)}`);
  const most = blocksOf === "units" ? ae.H : o.batch;
  need(o.blocks === undefined || (Number.isInteger(o.blocks) && o.blocks >= 1 && o.blocks <= Math.min(most, MAX_BLOCKS)),
    `blocks must be an integer from 1 to ${Math.min(most, MAX_BLOCKS)} (the ${blocksOf === "units" ? `${most} hidden units` : `batch size ${most}`}, and at most ${MAX_BLOCKS}), not ${quote(o.blocks)}`);
  need(!(o.contractive > 0 && o.denoising > 0), "choose the contractive penalty or denoising, not both");
  need(ae.activation !== "kmeans", "kmeans is not trained by gradient descent here; choose another activation");
  need(!(o.contractive > 0 && (ae.activation === "relu" || ae.activation === "modulus")),
    `the contractive penalty needs a differentiable h'; ${ae.activation} has none at 0: use denoising`);
}

/**
 * The hidden units of a block (docs/math.md §6.7): rows k0..k1 of W with their gradient and packed
 * copies, and the block's (B, Hj) scratch. Every hidden unit's quantities (u_k, h(u_k), its row of dW,
 * c_k) depend only on its own row of W: a block is a model of its own but for the decoder input A,
 * which sums every block's share Hd_j W_j.
 */
export interface UnitBlock {
  j: number;
  k0: number;
  k1: number;
  W: Mat; // (Hj, D) rows k0..k1 of W
  bh: Mat; // (1, Hj) entries k0..k1 of bh
  /** The block as an autoencoder of Hj hidden units for encode (its W_jᵀ packed). */
  model: Autoencoder;
  dW: Mat; // (Hj, D) rows k0..k1 of dW
  dbh: Mat; // (1, Hj)
  WtP: PackedB; // W_jᵀ packed, for U_j = X̃ W_jᵀ and Delta W_jᵀ
  WP: PackedB; // W_j packed, for Hd_j W_j
  U: Mat; // (B, Hj) net input; reused for Delta W_jᵀ, then E_j
  Hd: Mat; // (B, Hj) h(U)
  G: Mat; // (B, Hj) h'(U)
  S: Mat; // (B, Hj) h''(U) (contractive), else 0 rows
  c: Mat; // (Hj, 1) ‖w_k‖²; cRow: the same as (1, Hj)
  cRow: Mat;
  g2: Mat; // (1, Hj) Σ_b G²; g2Col: the same as (Hj, 1)
  g2Col: Mat;
}

/** The scratch one step needs, for minibatches of up to B rows. */
export interface StepBuffers {
  X: Mat; // (B, D) the clean minibatch (also the target)
  Xt: Mat; // (B, D) the corrupted input X̃ (denoising), else X itself
  A: Mat; // (B, D) decoder input Σ_j Hd_j W_j + br
  Aj: Mat; // (B, D) one block's share Hd_j W_j (blocks > 1), else 0 rows
  R: Mat; // (B, D) reconstruction σ(A) (binary) / softplus(A) for the loss
  Delta: Mat; // (B, D) dloss/dA = (R − X)/B
  rowLoss: Mat; // (B, 1)
  /** W (H, D), bh (1, H), br (1, D) with their gradients dW, dbh, dbr and velocities. */
  params: ParamSet<AeParam>;
  /** The part of params this worker steps: its blocks' rows of W and entries of bh, and br. */
  own: ParamSet<AeParam>;
  /** This worker's blocks of hidden units (every block when it trains alone). */
  units: UnitBlock[];
  /** The blocks' shares of A and of the penalty (blocks > 1): in this thread, or shared by workers. */
  exchange?: Exchange;
}

export type AeParam = "W" | "bh" | "br";

/** An autoencoder's parameter set (weight decay on W only). */
export function aeParams(ae: Autoencoder): ParamSet<AeParam> {
  return paramSet({ W: ae.W, bh: ae.bh, br: ae.br }, ["W"]);
}

// Entries k0..k1 of a (1, H) row.
const entries = (m: Mat, k0: number, k1: number): Mat => view(m.engine, `${m.name}[${k0}:${k1}]`, m.ptr + 4 * k0, 1, k1 - k0);

/**
 * Allocates the step buffers (velocities zeroed). With o.blocks > 1 the hidden units are split into
 * blocks; `ex` is this worker's place among several training the same model (absent: all blocks here).
 */
export function stepBuffers(ae: Autoencoder, B: number, o: Pick<TrainOptions, "denoising" | "contractive" | "blocks">, ex?: Exchange): StepBuffers {
  const e = ae.W.engine;
  const { D, H } = ae;
  const P = o.blocks ?? 1;
  const exchange = P > 1 ? ex ?? exchangeOf(exchangeBuffers(P, B * D, 0, false), 0, 1, P) : undefined;
  const own = exchange ? exchange.own : [0];
  const X = alloc(e, "X", B, D);
  const contractive = o.contractive > 0;
  const params = aeParams(ae);
  const units = own.map((j): UnitBlock => {
    const [k0, k1] = blockRange(H, P, j);
    const n = k1 - k0;
    const W = rowsOf(ae.W, k0, k1);
    const bh = entries(ae.bh, k0, k1);
    const WtP = packB(W, { transB: true });
    const c = alloc(e, "c", n, 1), g2 = alloc(e, "g2", 1, n);
    return {
      j, k0, k1, W, bh, model: { ...ae, H: n, W, bh, Wp: WtP },
      dW: rowsOf(params.W.grad as Mat, k0, k1), dbh: entries(params.bh.grad as Mat, k0, k1),
      WtP, WP: packB(W),
      U: alloc(e, "U", B, n), Hd: alloc(e, "Hd", B, n), G: alloc(e, "G", B, n),
      S: alloc(e, "S", contractive ? B : 0, n),
      c, cRow: view(e, "c", c.ptr, 1, n), g2, g2Col: view(e, "g2", g2.ptr, n, 1),
    };
  });
  // This worker's blocks are contiguous: one range of rows for the step.
  const K0 = units[0].k0, K1 = units[units.length - 1].k1;
  const part = (name: AeParam, pick: (m: Mat) => Mat) => ({ ...params[name], value: pick(params[name].value as Mat), grad: pick(params[name].grad as Mat), vel: pick(params[name].vel as Mat) });
  return {
    X,
    Xt: o.denoising > 0 ? alloc(e, "Xt", B, D) : X,
    A: alloc(e, "A", B, D),
    Aj: alloc(e, "Aj", P > 1 ? B : 0, D),
    R: alloc(e, "R", B, D),
    Delta: alloc(e, "Delta", B, D),
    rowLoss: alloc(e, "rowLoss", B, 1),
    params,
    own: K0 === 0 && K1 === H ? params : { W: part("W", (m) => rowsOf(m, K0, K1)), bh: part("bh", (m) => entries(m, K0, K1)), br: params.br },
    units,
    exchange,
  };
}

function sum(m: Mat): number {
  let s = 0;
  for (const v of m.data) s += v;
  return s;
}

/**
 * Loss and gradient of one minibatch of b rows (already in buf.X, and buf.Xt when denoising): writes
 * dW, dbh, dbr (of this worker's blocks; dbr whole); returns the mean reconstruction loss plus the
 * contractive penalty. With blocks, A and the penalty are their blocks' shares added in block order,
 * whichever worker computed them: the bits depend on the blocks, not on the workers (docs/math.md §6.7).
 */
export function lossAndGradient(ae: Autoencoder, buf: StepBuffers, b: number, o: Pick<TrainOptions, "contractive" | "denoising">): number {
  const top = (m: Mat): Mat => (b === m.rows ? m : rowsOf(m, 0, b));
  const X = top(buf.X), Xt = top(buf.Xt), A = top(buf.A), R = top(buf.R), Delta = top(buf.Delta), rowLoss = top(buf.rowLoss);
  const lambda = o.contractive;
  const ex = buf.exchange;

  // forward, per block: U_j = X̃ W_jᵀ + bh_j, Hd_j = h(U_j), G_j = h'(U_j) [, S_j = h''(U_j)], Hd_j W_j;
  // the penalty's block share Σ_k∈j c_k Σ_b G_bk² needs only the block's units.
  let penalty = 0;
  for (const u of buf.units) {
    repackB(u.WtP, u.W, { transB: true });
    repackB(u.WP, u.W);
    const U = top(u.U), Hd = top(u.Hd), G = top(u.G);
    let share = 0;
    if (lambda > 0) {
      encode(u.model, Xt, U, { Hd, G, S: top(u.S) });
      rowSumsq(u.c, u.W);
      colSumsq(u.g2, G);
      for (let k = 0; k < u.k1 - u.k0; k++) share += u.g2.data[k] * u.c.data[k];
    } else {
      encode(u.model, Xt, U, { Hd, G });
    }
    if (!ex) {
      gemmPacked(A, Hd, u.WP);
      penalty = share;
    } else {
      const Aj = top(buf.Aj);
      gemmPacked(Aj, Hd, u.WP);
      publish(ex, u.j, [Aj], share);
    }
  }
  // A = Σ_j Hd_j W_j + br, the blocks in order (every worker adds the same numbers the same way).
  if (ex) {
    barrier(ex);
    for (let j = 0; j < ex.blocks; j++) {
      penalty += collect(ex, j, [j === 0 ? A : top(buf.Aj)]);
      if (j > 0) axpy(A, 1, top(buf.Aj));
    }
    ex.parity ^= 1;
  }
  addRowBias(A, ae.br);
  penalty *= lambda / b;

  // loss and Delta = dloss/dA = (R − X)/b (the whole minibatch, on every worker)
  let loss: number;
  if (ae.output === "real") {
    sub(Delta, A, X);
    rowSumsq(rowLoss, Delta);
    loss = sum(rowLoss) / (2 * b);
    scale(Delta, 1 / b);
  } else {
    // −[x log σ(a) + (1−x) log(1−σ(a))] = softplus(a) − x a, without forming log σ.
    bernoulliTerms(Delta, R, A, X, 1 / b); // Delta = (σ(A) − X)/b, R = softplus(A) − X A
    rowSums(rowLoss, R);
    loss = sum(rowLoss) / b;
  }
  colSums(buf.params.br.grad as Mat, Delta); // dbr = Σ_b Delta

  // backward, per block
  for (const u of buf.units) {
    const Hd = top(u.Hd), G = top(u.G);
    // decoder path: dW_j = Hd_jᵀ Delta; encoder path: E_j = (Delta W_jᵀ) ⊙ h'(U_j) (into U_j)
    gemm(u.dW, Hd, Delta, { transA: true });
    const E = top(u.U);
    gemmPacked(E, Delta, u.WtP);
    if (lambda > 0) {
      // P = (λ/b) Σ_b Σ_k h'(u_bk)² c_k: its u-gradient 2 G ⊙ S ⊙ c joins E (both are (·)ᵀ X̃ with
      // X̃ = X), and its c-gradient adds 2 diag(Σ_b G²) W to dW.
      contractiveDelta(E, G, top(u.S), u.cRow, (2 * lambda) / b); // E ⊙ G + (2λ/b) G ⊙ S ⊙ c
      colSums(u.dbh, E);
      gemm(u.dW, E, Xt, { transA: true, beta: 1 });
      axpyRows(u.dW, (2 * lambda) / b, u.g2Col, u.W);
    } else {
      mul(E, E, G);
      colSums(u.dbh, E);
      gemm(u.dW, E, Xt, { transA: true, beta: 1 });
    }
  }
  return loss + penalty;
}

/** The SGD-with-momentum update of this worker's part from its gradients at rate lr, then the optional filter renormalization. */
function update(buf: StepBuffers, o: TrainOptions, lr: number): void {
  sgdStep(buf.own, { lr, momentum: o.momentum, weightDecay: o.weightDecay });
  if (o.renormalize > 0) {
    for (const u of buf.units) {
      rowSumsq(u.c, u.W);
      const s = u.c.data;
      for (let k = 0; k < s.length; k++) s[k] = s[k] > 0 ? o.renormalize / Math.sqrt(s[k]) : 1;
      mulRows(u.W, u.c);
    }
  }
}

/**
 * After an epoch on several workers: every worker's rows of W and entries of bh, with their
 * velocities, copied to every other, so that each holds the whole model (for validation, the kept
 * best, checkpoints and the result) as training alone would.
 */
function gatherModel(buf: StepBuffers): void {
  const ex = buf.exchange;
  if (!ex || ex.workers === 1) return;
  // Each part of the model beside this worker's view of it (buf.own: its rows), one after another in ex.model.
  let at = 0;
  const parts = (["W", "bh"] as const).flatMap((name) => (["value", "vel"] as const).map((k) => {
    const whole = buf.params[name][k] as Mat, mine = buf.own[name][k] as Mat;
    const lo = (mine.ptr - whole.ptr) / 4;
    const p = { data: whole.data, at, lo, hi: lo + mine.rows * mine.cols };
    at += p.data.length;
    return p;
  }));
  for (const p of parts) ex.model!.set(p.data.subarray(p.lo, p.hi), p.at + p.lo);
  barrier(ex);
  for (const p of parts) {
    p.data.set(ex.model!.subarray(p.at, p.at + p.lo), 0);
    p.data.set(ex.model!.subarray(p.at + p.hi, p.at + p.data.length), p.hi);
  }
}

/** Zeroes each entry of X into Xt with probability ν (the denoising corruption), from rng. */
export function corrupt(Xt: Mat, X: Mat, b: number, nu: number, rng: Rng): void {
  const x = X.data;
  const xt = Xt.data;
  const n = b * X.cols;
  for (let i = 0; i < n; i++) xt[i] = rng.uniform() < nu ? 0 : x[i];
}

// Mean reconstruction loss over the rows of X (clean inputs, no penalty), the validation loss, on rows
// already checked (the validation set is checked once, not every epoch).
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
}

/**
 * Starts a run: step buffers with zero velocities, epoch 0, the generator that drives the run; `ex`:
 * this worker's part in training one model on several (see replicas.ts); `rows`: the training rows,
 * when fewer than a batch (the buffers hold no more).
 */
export function startState(ae: Autoencoder, o: TrainOptions, rng: Rng, ex?: Exchange, rows = o?.batch): TrainState {
  checkWeights(ae, "startState");
  checkTrainOptions(ae, o);
  if (typeof rng?.uniform !== "function") throw new InputError(`startState: want a generator (rng(seed)), not ${quote(rng)}`);
  // Buffers that do not all fit are given back: the engine stays usable after the error.
  const e = ae.W.engine;
  const at = mark(e);
  try {
    return { ...startRun<AeSnapshot>(rng), buf: stepBuffers(ae, stepRows(o.batch, rows), o, ex) };
  } catch (err) {
    release(e, at);
    throw err;
  }
}

/**
 * Trains ae in place on the rows of data (N, D) for o.epochs epochs (from the state's epoch on). The
 * state's generator shuffles and drives the corruption, so the same seed and data give the same bits.
 * With validation data, the parameters of the epoch with the lowest validation loss are kept at the
 * end (and o.patience stops early).
 */
export function trainAutoencoder(ae: Autoencoder, data: Tensor, o: TrainOptions, state: TrainState, hooks: TrainHooks = {}): Promise<TrainState> {
  // Checked here, synchronously: bad input throws before a promise exists.
  checkWeights(ae, "train");
  checkTrainOptions(ae, o);
  onlyKeys(hooks, ["valid", "onEpoch", "checkpoint"], "train", "hook");
  for (const k of ["onEpoch", "checkpoint"] as const) {
    if (hooks[k] !== undefined && typeof hooks[k] !== "function") throw new InputError(`train: hook ${k} must be a function, not ${quote(hooks[k])}`);
  }
  const N = checkTrainingRows(checkInput(ae, data, "training data"), "training data").shape[0];
  if (N === 0) throw new InputError("train: no training rows");
  if (hooks.valid && checkInput(ae, hooks.valid, "validation data").shape[0] === 0) throw new InputError("train: the validation data has no rows");
  // The state's buffers hold this model's parameters, sized for these options (see startState).
  const b = state?.buf;
  if (!b || b.params.W.value !== ae.W) throw new InputError("train: the state was started for another autoencoder (startState(ae, o, rng) with this one)");
  const [contractive, denoising] = [b.units[0].S.rows > 0, b.Xt !== b.X];
  if (b.X.rows < stepRows(o.batch, N) || (o.contractive > 0) !== contractive || (o.denoising > 0) !== denoising || (o.blocks ?? 1) !== b.units.length) {
    throw new InputError(`train: the state was started with other options (batch ${b.X.rows}, contractive ${contractive ? "on" : "off"}, denoising ${denoising ? "on" : "off"}, blocks ${b.units.length}): start it with these`);
  }
  // Two runs interleaving their epochs on one model would step each other's weights and velocities.
  if (training.has(ae.W)) throw new InputError("train: this autoencoder is already training (await the run in progress first)");
  training.add(ae.W);
  return train(ae, data, o, state, hooks).finally(() => training.delete(ae.W));
}

/** The weights of the autoencoders trainAutoencoder is running on. */
const training = new WeakSet<Mat>();

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
      const loss = lossAndGradient(ae, buf, b, o) * b;
      update(buf, o, lr);
      return loss;
    },
    settle: () => gatherModel(buf),
    validate: hooks.valid ? () => meanLoss(ae, hooks.valid!) : undefined,
    keep: () => snapshot(buf.params) as AeSnapshot,
    restore: (best) => restore(buf.params, best),
    diverged: () => divergedParam(buf.params),
  };
  await runEpochs(trainer, { epochs: o.epochs, batch: o.batch, lr: o.lr, decay: o.decay ?? 0, patience: o.patience }, state, {
    onEpoch: hooks.onEpoch,
    checkpoint: hooks.checkpoint ? () => hooks.checkpoint!(state) : undefined,
  });
  return state;
}

// ---- checkpoints ----------------------------------------------------------------------------------

/** The checkpoint of a run (see checkpoint.ts): W, bh, br, their velocities and the kept best. */
export function aeCheckpoint(ae: Autoencoder, s: TrainState, o: TrainOptions, data: string): Checkpoint {
  const st = paramState(s.buf.params, s.best?.params);
  return {
    trainer: "train",
    values: st.values,
    velocities: st.velocities,
    best: s.best && { epoch: s.best.epoch, valid: s.best.valid, values: st.best! },
    ...countersOf(s), options: { ...o }, data,
    // blocks: of hidden units since this format (row blocks before, whose bits a resume cannot continue)
    meta: { activation: ae.activation, output: ae.output, blocks: "units" },
  };
}

/**
 * The autoencoder and run state of a checkpoint (already checked against the options by
 * checkResumable), in engine e, with step buffers for the options o; refused if it is not `spec`.
 */
export function aeFromCheckpoint(e: Engine, spec: AutoencoderSpec, o: TrainOptions, c: Checkpoint, source: string, ex?: Exchange, rows = o.batch): { ae: Autoencoder; state: TrainState } {
  const { D, H } = spec;
  const W = c.values.W;
  if (!W || W.shape.length !== 2 || W.shape[0] !== H || W.shape[1] !== D || c.meta?.activation !== spec.activation || c.meta?.output !== spec.output) {
    const [h, d] = W?.shape ?? [];
    throw new InputError(`${source}: a ${h}x${d} ${c.meta?.activation}/${c.meta?.output} model, not the ${H}-hidden ${spec.activation}/${spec.output} one asked for`);
  }
  if ((o.blocks ?? 1) > 1 && c.meta?.blocks !== "units") {
    throw new InputError(`${source}: made by an earlier aescore whose blocks were row blocks; blocks are hidden units now: start again without resuming`);
  }
  const layout: Arrays = {};
  for (const [name, shape] of [["W", [H, D]], ["bh", [1, H]], ["br", [1, D]]] as const) layout[name] = { shape: [...shape], data: new Float32Array(0) };
  checkLayout(c, { values: layout, velocities: layout }, source);
  // The values before the step buffers: they pack W.
  const ae: Autoencoder = { ...spec, W: fromArray(e, "W", H, D, c.values.W.data), bh: fromArray(e, "bh", 1, H, c.values.bh.data), br: fromArray(e, "br", 1, D, c.values.br.data) };
  const buf = stepBuffers(ae, stepRows(o.batch, rows), o, ex);
  loadParamState(buf.params, c);
  const best = c.best && { W: c.best.values.W.data, bh: c.best.values.bh.data, br: c.best.values.br.data };
  return { ae, state: { ...runStateOf<AeSnapshot>(c, best), buf } };
}
