// The potential energy of an autoencoder and its dynamics (docs/math.md §3–5), batched on the kernels:
// an (N, D) input gives N results. Inputs are checked first (finite; in [0, 1] for binary output).
//
// Sign convention of the paper: dE/dx = F(x), with F(x) = r(x) − x (real output) or the log-odds
// field ξ(r(x)) − ξ(x) (binary output). Larger E: the model "likes" x more.

import { alloc, mark, release, type Mat } from "../engine/engine.js";
import { gemm, addRowBias, axpy, sub, rowSums, rowSumsq, rowBinaryEntropy, logit } from "../engine/kernels.js";
import { activation, type Activation } from "../engine/activations.js";
import { checkInput, eachChunk, encode, decode, type Autoencoder, type Output } from "./autoencoder.js";
import { InputError, RowError, onlyKeys, quote } from "../errors.js";
import { MAX_VALUES, argmaxRows, type Tensor } from "../tensor.js";

/** E(x) for each row of X (N, D). */
export function energy(ae: Autoencoder, X: Tensor): Float32Array {
  return finiteRows(energies([ae], X), 1, "energy", false, [ae]);
}

/**
 * v, (N, K) per row, when every value is finite (or, with `infinite`, not NaN); else an InputError
 * naming the first row. Inputs far outside a model's data (1e20 where it saw [0, 1]) overflow
 * float32 in ‖x − br‖² or the hidden terms, and an infinite energy makes the scores after it NaN:
 * refused at the public calls. Novelty lets ±Infinity through: such a row is as novel as can be.
 * `aes` are the K models that scored v: one that holds NaN is named instead of the row.
 */
export function finiteRows(v: Float32Array, K: number, quantity: string, infinite: boolean, aes: Autoencoder[]): Float32Array {
  let checked: Set<number> | undefined; // (made only off the way that works: this runs on every scoring call)
  for (let i = 0; i < v.length; i++) {
    if (Number.isFinite(v[i])) continue;
    // Only here, where it costs nothing on the way that works: a model that holds NaN or Infinity
    // is named as the cause, not the row (also where ±Infinity would pass as a novel row's score).
    const k = i % K;
    checked ??= new Set();
    if (!checked.has(k)) checkNotBroken(aes[k], K > 1 ? `'s autoencoder ${k}` : "");
    checked.add(k);
    if (infinite && !Number.isNaN(v[i])) continue;
    throw new RowError("input", Math.floor(i / K), `'s ${quantity} is ${v[i]} (beyond float32): its values are too far from the data the model was trained on`);
  }
  return v;
}

// An InputError naming the model's parameter that holds NaN or Infinity, if one does.
function checkNotBroken(ae: Autoencoder, which = ""): void {
  const bad = (["W", "bh", "br"] as const).find((p) => ae[p].data.some((x) => !Number.isFinite(x)));
  if (bad) throw new InputError(`the model${which} is broken: its ${bad} holds values that are not finite numbers`);
}

// The result of a call other than energy: where it holds NaN or ±Infinity, a model that holds NaN or
// Infinity is named as the cause (a NaN from the input itself cannot be: checkInput refused it; an
// infinite field where a binary model's x_j is 0 or 1 is the answer, and passes the check). A NaN left
// then came from hidden units beyond float32 (Infinity − Infinity in the decoder): the row is named,
// as energy names one whose energy overflows, rather than a NaN returned as if it were a value.
function named<T extends Float32Array | Tensor>(ae: Autoencoder, out: T, quantity: string, rows: number): T {
  const data = out instanceof Float32Array ? out : out.data;
  if (data.every(Number.isFinite)) return out;
  checkNotBroken(ae);
  const i = data.findIndex(Number.isNaN);
  if (i < 0) return out;
  const row = Math.floor(i / (data.length / rows));
  throw new RowError("input", row, `'s ${quantity} is not a number: its hidden units overflow float32 (its values are too far from the data the model was trained on)`);
}

/**
 * E_i(x) of K autoencoders with the same D and output for every row of X: (N, K) row-major (N for
 * one). The input is checked once; chunks of rows go outside, the models inside, so each chunk is
 * copied into the arena once for all of them.
 */
export function energies(aes: Autoencoder[], X: Tensor): Float32Array {
  const x = checkInput(aes[0], X);
  return energiesOf(aes, x, x.shape[0]);
}

// The same on the N rows of X already checked.
function energiesOf(aes: Autoencoder[], X: Tensor, N: number): Float32Array {
  const K = aes.length;
  const row = aes[0].row;
  if (N === 1 && K === 1 && row && aes[0].activation !== "kmeans") {
    // One row on a scoring snapshot (the edge's case): its own scratch, no allocation, the same bits.
    const ae = aes[0];
    row.X.data.set(X.data);
    encode(ae, row.X, row.U);
    energyOfU(ae.activation as Activation, ae.output, ae.br, row.U, row.X, row.E, { Xs: row.X, t: row.t });
    return Float32Array.of(row.E.data[0]);
  }
  const out = new Float32Array(N * K);
  const e = aes[0].W.engine;
  eachChunk(e, X, aes[0].D, (Xc, r0) => {
    const Xs = K > 1 ? alloc(e, "Xs", Xc.rows, Xc.cols) : Xc; // visible terms' scratch: Xc stays intact
    aes.forEach((ae, k) => {
      const top = mark(e);
      const E = chunkEnergy(ae, Xc, Xs);
      for (let i = 0; i < Xc.rows; i++) out[(r0 + i) * K + k] = E[i];
      release(e, top);
    });
  });
  return out;
}

/** E of the rows of Xc (already in ae's arena, trusted); Xs (same shape, may be Xc) is overwritten. */
function chunkEnergy(ae: Autoencoder, Xc: Mat, Xs: Mat): Float32Array {
  const e = ae.W.engine;
  const { D, H } = ae;
  const n = Xc.rows;
  const U = alloc(e, "U", n, H);
  encode(ae, Xc, U);
  if (ae.activation === "kmeans") {
    // E = −½‖x − w_s‖², s the nearest filter.
    const s = argmaxRows(U.data, U.cols);
    const x = Xc.data;
    const w = ae.W.data;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < D; j++) d += (x[i * D + j] - w[s[i] * D + j]) ** 2;
      out[i] = -0.5 * d;
    }
    return out;
  }
  const E = alloc(e, "E", n, 1);
  energyOfU(ae.activation, ae.output, ae.br, U, Xc, E, { Xs, t: alloc(e, "t", n, 1) });
  return E.data.slice();
}

/**
 * The energy's one routine after the encoder, shared by energy(), finetuning and the factored model:
 * E (n, 1) = Σ_k H(u_k) + the visible terms of the rows X (n, D), from their net inputs U (n, H),
 * which it overwrites with H(U); Hd (n, H), when given, receives h(U) for a gradient. Trusted arena
 * matrices of matching shapes; Xs (n, D, may be X) and t (n, 1) are scratch, entropy as in
 * addVisibleTerms.
 */
export function energyOfU(
  act: Activation, output: Output, br: Mat, U: Mat, X: Mat, E: Mat, scratch: { Xs: Mat; t: Mat; entropy?: Mat }, Hd?: Mat,
): void {
  activation(act, U, Hd ? { h: Hd, H: U } : { H: U });
  rowSums(E, U);
  addVisibleTerms(E, X, br, output, scratch.Xs, scratch.t, scratch.entropy);
}

/**
 * E (n x 1) += the visible part of the energy of the rows of X (n x D): −½‖x − br‖² for real output,
 * brᵀx − Σ_j [x log x + (1−x) log(1−x)] for binary output. Xc (n x D, may be X itself, which it then
 * overwrites) and t (n x 1) are scratch; `entropy`, when given, already holds the entropy term of X.
 */
function addVisibleTerms(E: Mat, X: Mat, br: Mat, output: Output, Xc: Mat, t: Mat, entropy?: Mat): void {
  if (output === "real") {
    if (Xc !== X) Xc.data.set(X.data);
    addRowBias(Xc, br, -1);
    rowSumsq(t, Xc); // ‖x − br‖²
    axpy(E, -0.5, t);
    return;
  }
  gemm(t, X, br, { transB: true }); // brᵀx
  axpy(E, 1, t);
  if (!entropy) {
    rowBinaryEntropy(t, X); // −Σ_j [x log x + (1−x) log(1−x)]
    entropy = t;
  }
  axpy(E, 1, entropy);
}

/** The hidden units h(u) (N, H); for kmeans, the one-hot code of the nearest filter. */
export function hidden(ae: Autoencoder, X: Tensor): Tensor {
  X = checkInput(ae, X);
  const N = X.shape[0];
  const out = new Float32Array(N * ae.H);
  const e = ae.W.engine;
  eachChunk(e, X, ae.D, (Xc, r0) => {
    const U = alloc(e, "U", Xc.rows, ae.H);
    encode(ae, Xc, U, { Hd: U });
    if (ae.activation === "kmeans") {
      argmaxRows(U.data, U.cols).forEach((s, i) => (out[(r0 + i) * ae.H + s] = 1));
    } else {
      out.set(U.data, r0 * ae.H);
    }
  });
  return named(ae, { shape: [N, ae.H], data: out }, "hidden units", N);
}

// A (n, D) = the decoder's input for each row of Xc: Hd W + br, or the nearest filter (kmeans).
function decoderInput(ae: Autoencoder, Xc: Mat): Mat {
  const e = ae.W.engine;
  const U = alloc(e, "U", Xc.rows, ae.H);
  const A = alloc(e, "A", Xc.rows, ae.D);
  encode(ae, Xc, U, { Hd: U });
  if (ae.activation === "kmeans") {
    const s = argmaxRows(U.data, U.cols);
    for (let i = 0; i < Xc.rows; i++) A.data.set(ae.W.data.subarray(s[i] * ae.D, (s[i] + 1) * ae.D), i * ae.D);
  } else {
    decode(ae, U, A);
  }
  return A;
}

/** The reconstruction r(x) (N, D). */
export function reconstruct(ae: Autoencoder, X: Tensor): Tensor {
  const x = checkInput(ae, X);
  return named(ae, reconstructOf(ae, x, x.shape[0]), "reconstruction", x.shape[0]);
}

/** reconstruct on the N rows of X already checked (by the caller's checkInput). */
export function reconstructOf(ae: Autoencoder, X: Tensor, N: number): Tensor {
  const out = new Float32Array(N * ae.D);
  eachChunk(ae.W.engine, X, ae.D, (Xc, r0) => {
    const A = decoderInput(ae, Xc);
    if (ae.output === "binary") activation("sigmoid", A, { h: A });
    out.set(A.data, r0 * ae.D);
  });
  return { shape: [N, ae.D], data: out };
}

/**
 * The field F(x) = dE/dx (N, D): r(x) − x for real output; ξ(r(x)) − ξ(x) = a − ξ(x) for binary
 * output (a the decoder's input), which is ±Inf where x_j is exactly 0 or 1, as the math says.
 */
export function field(ae: Autoencoder, X: Tensor): Tensor {
  X = checkInput(ae, X);
  const N = X.shape[0];
  const out = new Float32Array(N * ae.D);
  eachChunk(ae.W.engine, X, ae.D, (Xc, r0) => {
    const A = decoderInput(ae, Xc);
    if (ae.output === "binary") logit(Xc, Xc);
    sub(A, A, Xc);
    out.set(A.data, r0 * ae.D);
  });
  return named(ae, { shape: [N, ae.D], data: out }, "field", N);
}

/** ‖w_k‖² of every filter, (H x 1), in the arena. */
function filterNorms(ae: Autoencoder): Mat {
  const c = alloc(ae.W.engine, "c", ae.H, 1);
  rowSumsq(c, ae.W);
  return c;
}

/**
 * The Laplacian ΔE = div F (N): Σ_k h'(u_k)‖w_k‖² − D (real), − Σ_j 1/(x_j(1−x_j)) in place of −D
 * (binary); −D for kmeans. x is a sink (absorbing) where it is negative.
 */
export function laplacian(ae: Autoencoder, X: Tensor): Float32Array {
  X = checkInput(ae, X);
  const N = X.shape[0];
  const out = new Float32Array(N);
  if (ae.activation === "kmeans") return out.fill(-ae.D);
  const e = ae.W.engine;
  const top = mark(e);
  const c = filterNorms(ae);
  eachChunk(e, X, ae.D, (Xc, r0) => {
    const n = Xc.rows;
    const U = alloc(e, "U", n, ae.H);
    encode(ae, Xc, U, { G: U });
    const L = alloc(e, "L", n, 1);
    gemm(L, U, c);
    const x = Xc.data;
    for (let i = 0; i < n; i++) {
      let rest = 0;
      if (ae.output === "real") rest = ae.D;
      else for (let j = 0; j < ae.D; j++) rest += 1 / (x[i * ae.D + j] * (1 - x[i * ae.D + j]));
      out[r0 + i] = L.data[i] - rest;
    }
  });
  release(e, top);
  return named(ae, out, "Laplacian", N);
}

/** Whether each row is in an absorbing (sink) region: ΔE(x) < 0. */
export function absorbing(ae: Autoencoder, X: Tensor): boolean[] {
  return Array.from(laplacian(ae, X), (l) => l < 0);
}

/** Largest D for `hessian` (the result is D x D). */
export const HESSIAN_MAX_D = 4096;

/**
 * The Hessian ∂²E/∂x² (D, D) at one x: Wᵀ diag(h'(u)) W − I (real) or − diag(1/(x(1−x))) (binary);
 * −I for kmeans (almost everywhere).
 */
export function hessian(ae: Autoencoder, x: Tensor): Tensor {
  x = checkInput(ae, x);
  const N = x.shape[0];
  const { D, H } = ae;
  if (N !== 1) throw new InputError(`hessian: give one input row, not ${quote(N)}`);
  if (D > HESSIAN_MAX_D) throw new InputError(`hessian: D = ${D} is larger than ${HESSIAN_MAX_D}; the D x D result would be too large`);
  const out = new Float32Array(D * D);
  const e = ae.W.engine;
  const top = mark(e);
  try {
    if (ae.activation !== "kmeans") {
      const U = alloc(e, "U", 1, H);
      const Xc = alloc(e, "x", 1, D);
      Xc.data.set(x.data);
      encode(ae, Xc, U, { G: U });
      // Ws = diag(h'(u)) W, then Wᵀ Ws.
      const Ws = alloc(e, "Ws", H, D);
      const w = ae.W.data;
      const ws = Ws.data;
      const g = U.data;
      for (let k = 0; k < H; k++) for (let j = 0; j < D; j++) ws[k * D + j] = g[k] * w[k * D + j];
      const Hs = alloc(e, "Hess", D, D);
      gemm(Hs, ae.W, Ws, { transA: true });
      out.set(Hs.data);
    }
    for (let j = 0; j < D; j++) {
      const xj = x.data[j];
      out[j * D + j] -= ae.output === "real" ? 1 : 1 / (xj * (1 - xj));
    }
  } finally {
    release(e, top);
  }
  return named(ae, { shape: [D, D], data: out }, "Hessian", 1);
}

export interface DynamicsOptions {
  /** Step size ε (0 < ε ≤ 1). */
  eps: number;
  /** Number of steps T. */
  steps: number;
}

/**
 * Runs x ← x + ε (r(x) − x) for T steps from each row of X0: the trajectory (T+1, N, D) and the energy
 * at every step (T+1, N). E does not decrease along the path for small ε.
 */
export function dynamics(ae: Autoencoder, X0: Tensor, o: DynamicsOptions): { trajectory: Tensor; energy: Tensor } {
  X0 = checkInput(ae, X0, "start");
  const N = X0.shape[0];
  onlyKeys(o, ["eps", "steps"], "dynamics");
  const { eps, steps } = o;
  if (!(eps > 0 && eps <= 1)) throw new InputError(`dynamics: eps must be in (0, 1], not ${quote(eps)}`);
  if (!Number.isInteger(steps) || steps < 0) throw new InputError(`dynamics: steps must be a non-negative integer, not ${quote(steps)}`);
  const { D } = ae;
  // The whole trajectory is returned: it must fit in one array.
  // (counted as one row at least: no rows would otherwise allow any number of empty steps)
  const values = (steps + 1) * Math.max(N, 1) * D;
  if (values > MAX_VALUES) throw new InputError(`dynamics: ${steps} steps of ${N} rows of ${D} values need ${N > 0 ? "" : "(counting one row) "}${values} values, more than the ${MAX_VALUES} an array holds: run fewer steps at a time`);
  const trajectory = new Float32Array((steps + 1) * N * D);
  const E = new Float32Array((steps + 1) * N);
  trajectory.set(X0.data);
  for (let t = 0; t <= steps && N > 0; t++) {
    const x = trajectory.subarray(t * N * D, (t + 1) * N * D);
    const X = { shape: [N, D], data: x };
    // Only the start is checked: a trajectory that runs off to ±Infinity is the answer, not an error.
    E.set(energiesOf([ae], X, N), t * N);
    if (t === steps) break;
    const r = reconstructOf(ae, X, N).data;
    const next = trajectory.subarray((t + 1) * N * D, (t + 2) * N * D);
    for (let i = 0; i < x.length; i++) next[i] = x[i] + eps * (r[i] - x[i]);
  }
  return { trajectory: { shape: [steps + 1, N, D], data: trajectory }, energy: { shape: [steps + 1, N], data: E } };
}
