// Shape-checked calls into the kernels. Shapes are checked here, at the boundary, so a wrong shape
// throws a ShapeError naming both operands and never reaches WebAssembly.

import { alloc, describe, inArena, overlaps, type Mat } from "./engine.js";
import { InputError, ShapeError, quote } from "../errors.js";

export interface GemmOptions {
  /** Use A^T (A stored K x M). */
  transA?: boolean;
  /** Use B^T (B stored N x K). */
  transB?: boolean;
  alpha?: number;
  /** 0 (default) overwrites C, NaN included; 1 accumulates. */
  beta?: number;
}

// Every operand in the first one's engine and inside its allocated memory (inArena). Fixed arity:
// these run on every call. (The count of operands given, not their value: an operand passed as
// undefined is refused, not skipped.)
function sameEngine(op: string, a: Mat, b?: Mat, c?: Mat, d?: Mat): void {
  const n = arguments.length;
  inArena(op, a, a);
  if (n > 2) inArena(op, b!, a);
  if (n > 3) inArena(op, c!, a);
  if (n > 4) inArena(op, d!, a);
}

// A misspelt flag ("transb") or a string for a number would silently compute another product: refused.
// A loop over the given keys, no allocation (it runs on every call).
function checkGemmOptions(op: string, o: GemmOptions, transB: boolean): void {
  if (typeof o !== "object" || o === null) throw new InputError(`${op}: options must be an object, not ${quote(o)}`);
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (k === "transA" || (k === "transB" && transB)) checkFlag(op, k, v);
    else if (k === "alpha" || k === "beta") scalar(op, k, v as number);
    else throw new InputError(`${op}: unknown option ${quote(k)} (known: ${transB ? "transA, transB, alpha, beta" : "transA, alpha, beta"})`);
  }
}

// A scalar that is not a number (undefined, a string) would reach WebAssembly as NaN or as what the
// string converts to: a silent wrong matrix. A NaN or infinite number passes: a diverging run makes
// them (a step of lr · NaN), and its driver reports that as the divergence it is.
function scalar(op: string, name: string, v: number): void {
  if (typeof v !== "number") throw new InputError(`${op}: ${name} must be a number, not ${quote(v)}`);
}

function checkFlag(op: string, name: string, v: unknown): void {
  if (typeof v !== "boolean") throw new InputError(`${op}: ${name} must be true or false, not ${quote(v)}`);
}

/** The one flag of an options object ({ transB } of packB, { accumulate } of colSums), false when absent. */
function flagOf(op: string, o: Record<string, unknown>, name: string): boolean {
  if (typeof o !== "object" || o === null) throw new InputError(`${op}: options must be an object, not ${quote(o)}`);
  for (const k in o) if (k !== name && o[k] !== undefined) throw new InputError(`${op}: unknown option ${quote(k)} (known: ${name})`);
  const v = o[name] ?? false;
  checkFlag(op, name, v);
  return v as boolean;
}

// A PackedB holds the panels of a K x N operand: a hand-made one with too few floats (or another's
// shape) would make the kernel read or write past it.
function checkPacked(op: string, P: PackedB, first: Mat): void {
  const ok = typeof P === "object" && P !== null && Number.isSafeInteger(P.K) && P.K >= 0 && Number.isSafeInteger(P.N) && P.N >= 0 && typeof P.data === "object" && P.data !== null;
  if (!ok) throw new InputError(`${op}: not a packed operand (packB makes one)`);
  inArena(op, P.data, first);
  const need = first.engine.k.gemm_packed_floats(P.N, P.K);
  if (P.data.rows * P.data.cols < need) throw new ShapeError(`${op}: a packed ${P.K}x${P.N} operand holds ${need} floats, ${describe(P.data)} is fewer`);
}

function noAlias(op: string, out: Mat, ...ins: Mat[]): void {
  for (const m of ins) {
    if (overlaps(out, m)) throw new ShapeError(`${op}: output ${out.name} overlaps input ${m.name}`);
  }
}

/** C = alpha * op(A) * op(B) + beta * C. */
export function gemm(C: Mat, A: Mat, B: Mat, options: GemmOptions = {}): void {
  checkGemmOptions("gemm", options, true);
  const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
  sameEngine("gemm", C, A, B);
  const [M, K] = transA ? [A.cols, A.rows] : [A.rows, A.cols];
  const [K2, N] = transB ? [B.cols, B.rows] : [B.rows, B.cols];
  const opA = () => (transA ? `${A.name}^T` : A.name);
  const opB = () => (transB ? `${B.name}^T` : B.name);
  if (K !== K2) {
    throw new ShapeError(`gemm: ${opA()} is ${M}x${K} (${describe(A)}) but ${opB()} is ${K2}x${N} (${describe(B)}): inner dimensions ${K} and ${K2} differ`);
  }
  if (C.rows !== M || C.cols !== N) {
    throw new ShapeError(`gemm: ${opA()}*${opB()} is ${M}x${N} but the output ${describe(C)} is not`);
  }
  noAlias("gemm", C, A, B);
  if (M === 0 || N === 0) return;
  if (K === 0) return emptySum(C, beta);
  const e = C.engine;
  e.k.gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A.ptr, A.cols, B.ptr, B.cols, beta, C.ptr, C.cols, e.gemmWork);
}

// A product over K = 0: C = beta * C.
function emptySum(C: Mat, beta: number): void {
  const c = C.data;
  for (let i = 0; i < c.length; i++) c[i] = beta === 0 ? 0 : beta * c[i];
}

function sameShape(op: string, a: Mat, b: Mat): void {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new ShapeError(`${op}: ${describe(a)} and ${describe(b)} must have the same shape`);
}

// `why` is a function: the message is built only when the check fails (these run on every call).
function wantShape(op: string, m: Mat, rows: number, cols: number, why: () => string): void {
  if (m.rows !== rows || m.cols !== cols) throw new ShapeError(`${op}: ${describe(m)} must be ${rows}x${cols} (${why()})`);
}

function size(m: Mat): number {
  return m.rows * m.cols;
}

/** X += alpha * b on every row; b is 1 x X.cols. */
export function addRowBias(X: Mat, b: Mat, alpha = 1): void {
  sameEngine("addRowBias", X, b);
  scalar("addRowBias", "alpha", alpha);
  wantShape("addRowBias", b, 1, X.cols, () => `one bias per column of ${describe(X)}`);
  X.engine.k.add_row_bias(X.ptr, b.ptr, alpha, X.rows, X.cols);
}

/** y += a * x. */
export function axpy(y: Mat, a: number, x: Mat): void {
  sameEngine("axpy", y, x);
  scalar("axpy", "a", a);
  sameShape("axpy", y, x);
  y.engine.k.axpy(y.ptr, a, x.ptr, size(y));
}

/** y *= a. */
export function scale(y: Mat, a: number): void {
  sameEngine("scale", y);
  scalar("scale", "a", a);
  y.engine.k.scale(y.ptr, a, size(y));
}

/** out = a ⊙ b (out may be a or b). */
export function mul(out: Mat, a: Mat, b: Mat): void {
  sameEngine("mul", out, a, b);
  sameShape("mul", a, b);
  sameShape("mul", out, a);
  out.engine.k.mul(out.ptr, a.ptr, b.ptr, size(out));
}

/** out = a − b (out may be a or b). */
export function sub(out: Mat, a: Mat, b: Mat): void {
  sameEngine("sub", out, a, b);
  sameShape("sub", a, b);
  sameShape("sub", out, a);
  out.engine.k.sub(out.ptr, a.ptr, b.ptr, size(out));
}

/**
 * The binary-output loss terms from decoder inputs A and targets X (one pass, one exp a value):
 * Delta = (σ(A) − X)·s, R = softplus(A) − X⊙A, whose row sums are the rows' cross-entropies. Delta
 * or R may be A.
 */
export function bernoulliTerms(Delta: Mat, R: Mat, A: Mat, X: Mat, s: number): void {
  sameEngine("bernoulliTerms", Delta, R, A, X);
  scalar("bernoulliTerms", "s", s);
  sameShape("bernoulliTerms", A, X);
  sameShape("bernoulliTerms", Delta, A);
  sameShape("bernoulliTerms", R, A);
  noAlias("bernoulliTerms", Delta, R);
  Delta.engine.k.bernoulli_terms(Delta.ptr, R.ptr, A.ptr, X.ptr, s, size(A));
}

/** E = E ⊙ G + a · (G ⊙ S) ⊙ c, c (1, N) broadcast to every row of E, G, S (M, N). */
export function contractiveDelta(E: Mat, G: Mat, S: Mat, c: Mat, a: number): void {
  sameEngine("contractiveDelta", E, G, S, c);
  scalar("contractiveDelta", "a", a);
  sameShape("contractiveDelta", E, G);
  sameShape("contractiveDelta", E, S);
  wantShape("contractiveDelta", c, 1, E.cols, () => `one weight per column of ${describe(E)}`);
  E.engine.k.contractive_delta(E.ptr, G.ptr, S.ptr, c.ptr, a, E.rows, E.cols);
}

export interface SgdOptions {
  lr: number;
  momentum: number;
  /** L2 weight decay (not the learning-rate decay τ of the schedules). */
  weightDecay: number;
}

/** One SGD step with momentum: V = momentum*V − lr*(G + weightDecay*W); W += V. */
export function sgdMomentum(W: Mat, V: Mat, G: Mat, o: SgdOptions): void {
  sameEngine("sgdMomentum", W, V, G);
  if (typeof o !== "object" || o === null) throw new InputError(`sgdMomentum: want { lr, momentum, weightDecay }, not ${quote(o)}`);
  const { lr, momentum, weightDecay } = o;
  scalar("sgdMomentum", "lr", lr);
  scalar("sgdMomentum", "momentum", momentum);
  scalar("sgdMomentum", "weightDecay", weightDecay);
  sameShape("sgdMomentum", W, V);
  sameShape("sgdMomentum", W, G);
  W.engine.k.sgd_momentum(W.ptr, V.ptr, G.ptr, size(W), lr, momentum, weightDecay);
}

/** out (1 x N) = column sums of X (M x N); with accumulate, out += them. */
export function colSums(out: Mat, X: Mat, options: { accumulate?: boolean } = {}): void {
  sameEngine("colSums", out, X);
  const accumulate = flagOf("colSums", options, "accumulate");
  wantShape("colSums", out, 1, X.cols, () => `one sum per column of ${describe(X)}`);
  noAlias("colSums", out, X);
  X.engine.k.col_sums(out.ptr, X.ptr, X.rows, X.cols, accumulate ? 1 : 0);
}

/** out (1 x N) = sums of squares of the columns of X (M x N): colSums of X ⊙ X, the same bits. */
export function colSumsq(out: Mat, X: Mat): void {
  sameEngine("colSumsq", out, X);
  wantShape("colSumsq", out, 1, X.cols, () => `one sum per column of ${describe(X)}`);
  noAlias("colSumsq", out, X);
  X.engine.k.col_sumsq(out.ptr, X.ptr, X.rows, X.cols);
}

/** out (M x 1) = row sums of X (M x N). */
export function rowSums(out: Mat, X: Mat): void {
  sameEngine("rowSums", out, X);
  wantShape("rowSums", out, X.rows, 1, () => `one sum per row of ${describe(X)}`);
  noAlias("rowSums", out, X);
  X.engine.k.row_sums(out.ptr, X.ptr, X.rows, X.cols);
}

/** out (M x 1) = row sums of squares of X (M x N). */
export function rowSumsq(out: Mat, X: Mat): void {
  sameEngine("rowSumsq", out, X);
  wantShape("rowSumsq", out, X.rows, 1, () => `one sum per row of ${describe(X)}`);
  noAlias("rowSumsq", out, X);
  X.engine.k.row_sumsq(out.ptr, X.ptr, X.rows, X.cols);
}

/** out (M x 1) = −Σ_j [x log x + (1−x) log(1−x)] per row of X (M x N), x in [0, 1], 0 log 0 = 0. */
export function rowBinaryEntropy(out: Mat, X: Mat): void {
  sameEngine("rowBinaryEntropy", out, X);
  wantShape("rowBinaryEntropy", out, X.rows, 1, () => `one value per row of ${describe(X)}`);
  noAlias("rowBinaryEntropy", out, X);
  X.engine.k.row_binary_entropy(out.ptr, X.ptr, X.rows, X.cols);
}

/** out = ξ(X) = log(X / (1 − X)) elementwise, for X in [0, 1] (out may be X). */
export function logit(out: Mat, X: Mat): void {
  sameEngine("logit", out, X);
  sameShape("logit", out, X);
  X.engine.k.logit(out.ptr, X.ptr, size(X));
}

/** X[i, j] *= v[j]; v is 1 x X.cols. */
export function mulCols(X: Mat, v: Mat): void {
  sameEngine("mulCols", X, v);
  wantShape("mulCols", v, 1, X.cols, () => `one factor per column of ${describe(X)}`);
  noAlias("mulCols", X, v);
  X.engine.k.mul_cols(X.ptr, v.ptr, X.rows, X.cols);
}

/** X[i, :] *= s[i]; s is X.rows x 1. */
export function mulRows(X: Mat, s: Mat): void {
  sameEngine("mulRows", X, s);
  wantShape("mulRows", s, X.rows, 1, () => `one factor per row of ${describe(X)}`);
  noAlias("mulRows", X, s);
  X.engine.k.mul_rows(X.ptr, s.ptr, X.rows, X.cols);
}

/** Y[i, :] += (a * s[i]) * X[i, :]; s is X.rows x 1. */
export function axpyRows(Y: Mat, a: number, s: Mat, X: Mat): void {
  sameEngine("axpyRows", Y, s, X);
  scalar("axpyRows", "a", a);
  sameShape("axpyRows", Y, X);
  wantShape("axpyRows", s, X.rows, 1, () => `one factor per row of ${describe(X)}`);
  noAlias("axpyRows", Y, s);
  X.engine.k.axpy_rows(Y.ptr, a, s.ptr, X.ptr, X.rows, X.cols);
}

/** op(B) packed once for gemmPacked (a model's W for one-row scoring): a snapshot of B when packed. */
export interface PackedB {
  readonly data: Mat; // the panels (1 x floats)
  readonly K: number;
  readonly N: number;
}

/** Packs op(B) (K x N) as gemm would, into a new arena matrix. */
export function packB(B: Mat, options: { transB?: boolean } = {}): PackedB {
  sameEngine("packB", B);
  const transB = flagOf("packB", options, "transB");
  const [K, N] = transB ? [B.cols, B.rows] : [B.rows, B.cols];
  const e = B.engine;
  const data = alloc(e, `${B.name} packed`, 1, e.k.gemm_packed_floats(N, K));
  e.k.gemm_pack_b(transB ? 1 : 0, N, K, B.ptr, B.cols, data.ptr);
  return { data, K, N };
}

/** Packs op(B) again into P (made by packB from a matrix of B's shape): after B changed, no allocation. */
export function repackB(P: PackedB, B: Mat, options: { transB?: boolean } = {}): void {
  const transB = flagOf("repackB", options, "transB");
  const [K, N] = transB ? [B.cols, B.rows] : [B.rows, B.cols];
  sameEngine("repackB", B);
  checkPacked("repackB", P, B);
  if (K !== P.K || N !== P.N) throw new ShapeError(`repackB: op(${B.name}) is ${K}x${N}, the packed operand ${P.K}x${P.N}`);
  B.engine.k.gemm_pack_b(transB ? 1 : 0, N, K, B.ptr, B.cols, P.data.ptr);
}

/** C = alpha * op(A) * P + beta * C with P from packB: bit-identical to gemm with the B packed. */
export function gemmPacked(C: Mat, A: Mat, P: PackedB, options: Omit<GemmOptions, "transB"> = {}): void {
  checkGemmOptions("gemmPacked", options, false);
  const { transA = false, alpha = 1, beta = 0 } = options;
  sameEngine("gemmPacked", C, A);
  checkPacked("gemmPacked", P, C);
  const [M, K] = transA ? [A.cols, A.rows] : [A.rows, A.cols];
  if (K !== P.K) throw new ShapeError(`gemmPacked: ${describe(A)} has ${K} columns for a packed ${P.K}x${P.N} operand`);
  if (C.rows !== M || C.cols !== P.N) throw new ShapeError(`gemmPacked: the product is ${M}x${P.N} but the output ${describe(C)} is not`);
  noAlias("gemmPacked", C, A, P.data);
  if (M === 0 || P.N === 0) return;
  if (K === 0) return emptySum(C, beta);
  const e = C.engine;
  e.k.gemm_packed(transA ? 1 : 0, M, P.N, K, alpha, A.ptr, A.cols, P.data.ptr, beta, C.ptr, C.cols, e.gemmWork);
}
