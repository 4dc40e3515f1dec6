// Training the factored CSAE (docs/math.md §8.3): denoising pretraining of all classes together on
// the epoch driver, and the model as finetuning's class groups. Minibatch buffers hold B rows of mixed
// classes y; Wfy (B, F) holds Wf[y_b] row by row.

import { alloc, mark, release, rowsOf, view, type Mat } from "../engine/engine.js";
import {
  gemm, mul, sub, scale, axpy, bernoulliTerms, colSums, rowSums, rowSumsq, mulCols, mulRows, addRowBias, rowBinaryEntropy,
} from "../engine/kernels.js";
import { activation, type Activation } from "../engine/activations.js";
import { corrupt, type TrainOptions } from "./autoencoder.js";
import type { EpochReport } from "./driver.js";
import { barrier, blockRange, collect, publish, type Exchange } from "./replicas.js";
import { divergedParam, loadParamState, paramSet, paramState, restore, sgdStep, snapshot, type ParamSet } from "./params.js";
import { runEpochs, startRun, stepRows, type Trainer } from "./driver.js";
import type { ClassGroups } from "./finetune.js";
import { checkLayout, countersOf, runStateOf, type Checkpoint } from "./checkpoint.js";
import { energyOfU } from "../model/energy.js";
import type { Rng } from "../random.js";
import type { Tensor } from "../tensor.js";
import type { FactoredCsae } from "../model/factored.js";

const PARAMS = ["Wx", "Wf", "Wh", "Bh", "Br"] as const;
/** The factored model's parameters, in the order of its gradients everywhere (exchange, checkpoints). */
export const PARAM_NAMES = PARAMS;
export type FactoredParam = (typeof PARAMS)[number];
export type Grads = Record<FactoredParam, Mat>;

/** The factored model's parameter set (weight decay on the shared Wx and Wh). */
function factoredParams(m: FactoredCsae): ParamSet<FactoredParam> {
  return paramSet({ Wx: m.Wx, Wf: m.Wf, Wh: m.Wh, Bh: m.Bh, Br: m.Br }, ["Wx", "Wh"]);
}

const gradsOf = (p: ParamSet<FactoredParam>): Grads => Object.fromEntries(PARAMS.map((k) => [k, p[k].grad as Mat])) as Grads;

/** Adds row b of src (n values) into row y of dst. */
function scatterAdd(dst: Mat, y: number, src: Float32Array, b: number): void {
  const n = dst.cols;
  const d = dst.data;
  for (let j = 0; j < n; j++) d[y * n + j] += src[b * n + j];
}

/** Gathers rows y_b of M into out (B, cols). */
function gather(out: Mat, M: Mat, y: ArrayLike<number>, b: number): void {
  for (let i = 0; i < b; i++) out.data.set(M.data.subarray(y[i] * M.cols, (y[i] + 1) * M.cols), i * M.cols);
}

/** Scratch of one factored pretraining step for minibatches of up to B rows. */
export interface FactoredStep {
  X: Mat; Xt: Mat; // (B, D) clean target and corrupted input
  P: Mat; Wfy: Mat; Q: Mat; // (B, F)
  U: Mat; A: Mat; G: Mat; // (B, H)
  V: Mat; Vp: Mat; // (B, F)
  R: Mat; Delta: Mat; // (B, D)
  dVp: Mat; dV: Mat; dQ: Mat; T: Mat; // (B, F)
  dU: Mat; // (B, H)
  rowLoss: Mat; // (B, 1)
  y: Int32Array; // (B) the rows' classes
  params: ParamSet<FactoredParam>;
  grad: Grads; // the parameters' gradients, by name
  scratch?: Grads; // a block's gradients (blocks > 1)
}

export function factoredStep(m: FactoredCsae, B: number, denoising: boolean, blocks = 1): FactoredStep {
  const e = m.Wx.engine;
  const [D, F, H] = [m.Wx.rows, m.Wx.cols, m.Wh.cols];
  const X = alloc(e, "X", B, D);
  const params = factoredParams(m);
  return {
    X, Xt: denoising ? alloc(e, "Xt", B, D) : X,
    P: alloc(e, "P", B, F), Wfy: alloc(e, "Wfy", B, F), Q: alloc(e, "Q", B, F),
    U: alloc(e, "U", B, H), A: alloc(e, "A", B, H), G: alloc(e, "G", B, H),
    V: alloc(e, "V", B, F), Vp: alloc(e, "V'", B, F),
    R: alloc(e, "R", B, D), Delta: alloc(e, "Delta", B, D),
    dVp: alloc(e, "dV'", B, F), dV: alloc(e, "dV", B, F), dQ: alloc(e, "dQ", B, F), T: alloc(e, "T", B, F),
    dU: alloc(e, "dU", B, H), rowLoss: alloc(e, "rowLoss", B, 1), y: new Int32Array(B),
    params, grad: gradsOf(params),
    scratch: blocks > 1 ? (Object.fromEntries(PARAMS.map((k) => [k, alloc(e, `${k}'`, m[k].rows, m[k].cols)])) as Grads) : undefined,
  };
}

/**
 * Loss (mean over the b rows in s.X / s.Xt with classes s.y) and its gradient into s.grad, through
 * the factored graph of docs/math.md §8.3; both uses of the tied Wx and Wh add into the same gradient.
 */
export function factoredLossAndGradient(m: FactoredCsae, s: FactoredStep, b: number): number {
  return factoredBlock(m, s, 0, b, b, s.grad);
}

/**
 * The share of rows r0..r1 of a minibatch of b rows in its loss and gradient (each row weighted 1/b),
 * written into G: the minibatch's gradient is the sum of its blocks' (see factoredBlocked).
 */
function factoredBlock(m: FactoredCsae, s: FactoredStep, r0: number, r1: number, b: number, G: Grads): number {
  const [D, H] = [m.Wx.rows, m.Wh.cols];
  const n = r1 - r0;
  const rows = (mm: Mat) => (r0 === 0 && r1 === mm.rows ? mm : rowsOf(mm, r0, r1));
  const x = rows(s.X), xt = rows(s.Xt), p = rows(s.P), wfy = rows(s.Wfy), q = rows(s.Q), u = rows(s.U), a = rows(s.A), g = rows(s.G);
  const v = rows(s.V), vp = rows(s.Vp), r = rows(s.R), delta = rows(s.Delta);
  const dvp = rows(s.dVp), dv = rows(s.dV), du = rows(s.dU), dq = rows(s.dQ), t = rows(s.T), rowLoss = rows(s.rowLoss);
  const ys = s.y.subarray(r0, r1);
  // forward: p = Wxᵀx̃, q = Wf_y ⊙ p, u = Whᵀq + Bh_y, a = h(u), v = Wh a, v' = Wf_y ⊙ v, r = Wx v' + Br_y
  gemm(p, xt, m.Wx);
  gather(wfy, m.Wf, ys, n);
  mul(q, p, wfy);
  gemm(u, q, m.Wh);
  for (let i = 0; i < n; i++) for (let k = 0; k < H; k++) u.data[i * H + k] += m.Bh.data[ys[i] * H + k];
  activation(m.activation as Activation, u, { h: a, d1: g });
  gemm(v, a, m.Wh, { transB: true });
  mul(vp, v, wfy);
  gemm(r, vp, m.Wx, { transB: true });
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) r.data[i * D + j] += m.Br.data[ys[i] * D + j];
  // loss and δ = dloss/d(decoder input) = (output − x)/b
  let total = 0;
  if (m.output === "real") {
    sub(delta, r, x);
    rowSumsq(rowLoss, delta);
    for (let i = 0; i < n; i++) total += rowLoss.data[i] / 2;
    scale(delta, 1 / b);
  } else {
    bernoulliTerms(delta, r, r, x, 1 / b); // δ = (σ(a) − x)/b, r = softplus(a) − x a
    rowSums(rowLoss, r);
    for (let i = 0; i < n; i++) total += rowLoss.data[i];
  }
  // backward
  for (const k of PARAMS) G[k].data.fill(0);
  gemm(G.Wx, delta, vp, { transA: true }); // δ v'ᵀ
  for (let i = 0; i < n; i++) scatterAdd(G.Br, ys[i], delta.data, i);
  gemm(dvp, delta, m.Wx); // Wxᵀ δ
  mul(t, dvp, v);
  for (let i = 0; i < n; i++) scatterAdd(G.Wf, ys[i], t.data, i); // dv' ⊙ v
  mul(dv, dvp, wfy);
  gemm(G.Wh, dv, a, { transA: true }); // dv aᵀ
  gemm(du, dv, m.Wh);
  mul(du, du, g); // (Whᵀ dv) ⊙ h'(u)
  for (let i = 0; i < n; i++) scatterAdd(G.Bh, ys[i], du.data, i);
  gemm(G.Wh, q, du, { transA: true, beta: 1 }); // q duᵀ
  gemm(dq, du, m.Wh, { transB: true }); // Wh du
  mul(t, dq, p);
  for (let i = 0; i < n; i++) scatterAdd(G.Wf, ys[i], t.data, i); // dq ⊙ p
  mul(dq, dq, wfy);
  gemm(G.Wx, xt, dq, { transA: true, beta: 1 }); // x̃ (dq ⊙ Wf_y)ᵀ
  return total / b;
}

/**
 * The minibatch's loss and gradient as the sum of P row blocks in block order (see replicas.ts): alone, or with an exchange, on several workers with the same bits.
 */
function factoredBlocked(m: FactoredCsae, s: FactoredStep, b: number, P: number, ex?: Exchange): number {
  if (P === 1) return factoredLossAndGradient(m, s, b);
  const S = s.scratch!;
  const list = (g: Grads) => PARAMS.map((k) => g[k]);
  const share = (j: number, into: Grads) => {
    const [r0, r1] = blockRange(b, P, j);
    if (r0 < r1) return factoredBlock(m, s, r0, r1, b, into);
    for (const k of PARAMS) into[k].data.fill(0);
    return 0;
  };
  const add = () => PARAMS.forEach((k) => axpy(s.grad[k], 1, S[k]));
  let loss = 0;
  if (!ex) {
    for (let j = 0; j < P; j++) {
      loss += share(j, j === 0 ? s.grad : S);
      if (j > 0) add();
    }
    return loss;
  }
  for (const j of ex.own) publish(ex, j, list(S), share(j, S));
  barrier(ex);
  for (let j = 0; j < P; j++) {
    loss += collect(ex, j, list(j === 0 ? s.grad : S));
    if (j > 0) add();
  }
  ex.parity ^= 1;
  return loss;
}

/**
 * Denoising pretraining of all classes together (docs/math.md §8.3) on the epoch driver: each row updates
 * the shared Wx, Wh and its own class's Wf, Bh, Br. Returns the mean loss of every epoch. With
 * `checkpoint`, the state after every epoch; with `resume`, the run goes on from such a checkpoint
 * (checked against options and data by the caller), with the same bits as one never stopped.
 */
export async function pretrainFactored(
  m: FactoredCsae, X: Tensor, y: Int32Array, o: TrainOptions, r: Rng,
  hooks: {
    onEpoch?: (ep: EpochReport) => void;
    checkpoint?: (c: Omit<Checkpoint, "options" | "data">) => void;
    resume?: { from: Checkpoint; source: string };
    exchange?: Exchange;
  } = {},
): Promise<number[]> {
  const e = m.Wx.engine;
  const top = mark(e);
  const D = m.Wx.rows;
  const P = o.blocks ?? 1;
  const s = factoredStep(m, stepRows(o.batch, X.shape[0]), o.denoising > 0, P);
  const trainer: Trainer<undefined> = {
    what: "factored pretraining",
    rows: y.length,
    step(rows, lr, rng) {
      const b = rows.length;
      for (let i = 0; i < b; i++) {
        const n = rows[i];
        s.y[i] = y[n];
        s.X.data.set(X.data.subarray(n * D, (n + 1) * D), i * D);
      }
      if (o.denoising > 0) corrupt(s.Xt, s.X, b, o.denoising, rng);
      const loss = factoredBlocked(m, s, b, P, hooks.exchange) * b;
      sgdStep(s.params, { lr, momentum: o.momentum, weightDecay: o.weightDecay });
      return loss;
    },
    keep: () => undefined,
    restore: () => {},
    diverged: () => divergedParam(s.params),
  };
  let state = startRun<undefined>(r);
  if (hooks.resume) {
    checkLayout(hooks.resume.from, paramState(s.params), hooks.resume.source);
    loadParamState(s.params, hooks.resume.from);
    state = runStateOf<undefined>(hooks.resume.from);
  }
  const save = hooks.checkpoint;
  try {
    state = await runEpochs(trainer, { epochs: o.epochs, batch: o.batch, lr: o.lr, decay: o.decay ?? 0, patience: 0 }, state, {
      onEpoch: hooks.onEpoch,
      checkpoint: save ? (st) => save({ trainer: "factored pretraining", ...paramState(s.params), best: undefined, ...countersOf(st) }) : undefined,
    });
    return state.history.map((h) => h.loss);
  } finally {
    release(e, top);
  }
}

/**
 * The factored model as finetuning "class groups" (one engine: Wx and Wh are shared by all classes).
 * E_j(x) = Σ_k H(u_jk) − ½‖x − Br_j‖² with u_j = Whᵀ(Wf_j ⊙ Wxᵀx) + Bh_j; its gradients (docs/math.md §8.2):
 * ∂E_j/∂Wh = q_j a_jᵀ, ∂E_j/∂Wf_j = p ⊙ v_j, ∂E_j/∂Wx = x (Wf_j ⊙ v_j)ᵀ, ∂E_j/∂Bh_j = a_j,
 * ∂E_j/∂Br_j = x − Br_j (x for binary output), with p = Wxᵀx, q_j = Wf_j ⊙ p, a_j = h(u_j), v_j = Wh a_j.
 */
export function factoredGroups(m: FactoredCsae, data: Tensor, B: number): ClassGroups & { grad: Grads; gradients: (g: Float32Array) => void } {
  B = stepRows(B, data.shape[0]);
  const e = m.Wx.engine;
  const [D, F, H, K] = [m.Wx.rows, m.Wx.cols, m.Wh.cols, m.Wf.rows];
  const X = alloc(e, "X", B, D), P = alloc(e, "P", B, F), T = alloc(e, "T", B, H), Xc = alloc(e, "Xc", B, D);
  const e1 = alloc(e, "e1", B, 1), e2 = alloc(e, "e2", B, 1), ent = alloc(e, "ent", B, 1), gc = alloc(e, "g", B, 1);
  const Qs = Array.from({ length: K }, (_, j) => alloc(e, `Q${j}`, B, F));
  const As = Array.from({ length: K }, (_, j) => alloc(e, `A${j}`, B, H));
  const Vj = alloc(e, "Vj", B, F), Mx = alloc(e, "M", B, F), T2 = alloc(e, "T2", B, F);
  const params = factoredParams(m);
  const grad = gradsOf(params);
  const row = (M: Mat, j: number) => view(e, `${M.name}[${j}]`, M.ptr + j * M.cols * 4, 1, M.cols);
  let best: ReturnType<typeof snapshot<FactoredParam>> | undefined;
  let b = 0;
  const rows = (M: Mat) => (b === M.rows ? M : rowsOf(M, 0, b));

  // Energies of the b rows in X for every class: (b, K); keeps q_j and a_j for step.
  const energiesOfX = (): Float32Array => {
    const x = rows(X), p = rows(P), t = rows(T), xc = rows(Xc), s1 = rows(e1), s2 = rows(e2), en = rows(ent);
    const out = new Float32Array(b * K);
    gemm(p, x, m.Wx);
    if (m.output === "binary") rowBinaryEntropy(en, x);
    for (let j = 0; j < K; j++) {
      const q = rows(Qs[j]);
      q.data.set(p.data);
      mulCols(q, row(m.Wf, j));
      gemm(t, q, m.Wh);
      addRowBias(t, row(m.Bh, j));
      energyOfU(m.activation as Activation, m.output, row(m.Br, j), t, x, s1, { Xs: xc, t: s2, entropy: m.output === "binary" ? en : undefined }, rows(As[j]));
      for (let i = 0; i < b; i++) out[i * K + j] = s1.data[i];
    }
    return out;
  };

  // The gradients of every parameter (grad, by name) from g = dL/dE (b, K) of the last energies.
  const gradients = (g: Float32Array): void => {
    const x = rows(X), p = rows(P), vj = rows(Vj), mx = rows(Mx), t2 = rows(T2), gcol = rows(gc);
    for (const k of PARAMS) grad[k].data.fill(0);
    mx.data.fill(0);
    for (let j = 0; j < K; j++) {
      let sum = 0;
      for (let i = 0; i < b; i++) sum += gcol.data[i] = g[i * K + j];
      const a = rows(As[j]);
      mulRows(a, gcol); // g ⊙ a_j
      gemm(grad.Wh, rows(Qs[j]), a, { transA: true, beta: 1 });
      colSums(row(grad.Bh, j), a);
      gemm(vj, a, m.Wh, { transB: true }); // g ⊙ v_j
      mul(t2, p, vj);
      colSums(row(grad.Wf, j), t2);
      mulCols(vj, row(m.Wf, j));
      axpy(mx, 1, vj);
      gemm(row(grad.Br, j), view(e, "gᵀ", gcol.ptr, 1, b), x);
      if (m.output === "real") axpy(row(grad.Br, j), -Math.fround(sum), row(m.Br, j));
    }
    gemm(grad.Wx, x, mx, { transA: true });
  };

  return {
    rows: data.shape[0],
    classes: K,
    grad,
    async energies(idx) {
      b = idx.length;
      for (let i = 0; i < b; i++) X.data.set(data.data.subarray(idx[i] * D, (idx[i] + 1) * D), i * D);
      return energiesOfX();
    },
    async step(g, o) {
      gradients(g);
      sgdStep(params, o);
    },
    gradients,
    async classify(Xq) {
      const n = Xq.data.length / D;
      const out = new Float32Array(n * K);
      for (let r0 = 0; r0 < n; r0 += B) {
        b = Math.min(B, n - r0);
        X.data.set(Xq.data.subarray(r0 * D, (r0 + b) * D));
        out.set(energiesOfX(), r0 * K);
      }
      return out;
    },
    async keep() {
      best = snapshot(params);
    },
    async restore() {
      if (best) restore(params, best);
    },
    async params() {
      return [];
    },
    async diverged() {
      return divergedParam(params);
    },
    async save() {
      return paramState(params, best as Record<FactoredParam, Float32Array> | undefined);
    },
    async load(st) {
      loadParamState(params, st);
      best = st.best ? Object.fromEntries(PARAMS.map((k) => [k, st.best![k].data.slice()])) as typeof best : undefined;
    },
    async close() {},
  };
}
