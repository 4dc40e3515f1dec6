// Shape-checked calls into the kernels. Shapes are checked here, at the boundary, so a wrong shape
// throws a ShapeError naming both operands and never reaches WebAssembly.

import { describe, type Mat } from "./engine.js";
import { ShapeError } from "./errors.js";

export interface GemmOptions {
  /** Use A^T (A stored K x M). */
  transA?: boolean;
  /** Use B^T (B stored N x K). */
  transB?: boolean;
  alpha?: number;
  /** 0 (default) overwrites C, NaN included; 1 accumulates. */
  beta?: number;
}

function sameEngine(op: string, ...ms: Mat[]): void {
  for (const m of ms) {
    if (m.engine !== ms[0].engine) throw new ShapeError(`${op}: ${m.name} lives in another engine than ${ms[0].name}`);
  }
}

function overlaps(a: Mat, b: Mat): boolean {
  const aEnd = a.ptr + a.rows * a.cols * 4;
  const bEnd = b.ptr + b.rows * b.cols * 4;
  return a.ptr < bEnd && b.ptr < aEnd && a.rows * a.cols > 0 && b.rows * b.cols > 0;
}

function noAlias(op: string, out: Mat, ...ins: Mat[]): void {
  for (const m of ins) {
    if (overlaps(out, m)) throw new ShapeError(`${op}: output ${out.name} overlaps input ${m.name}`);
  }
}

/** C = alpha * op(A) * op(B) + beta * C. */
export function gemm(C: Mat, A: Mat, B: Mat, options: GemmOptions = {}): void {
  const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
  sameEngine("gemm", C, A, B);
  const [M, K] = transA ? [A.cols, A.rows] : [A.rows, A.cols];
  const [K2, N] = transB ? [B.cols, B.rows] : [B.rows, B.cols];
  const opA = transA ? `${A.name}^T` : A.name;
  const opB = transB ? `${B.name}^T` : B.name;
  if (K !== K2) {
    throw new ShapeError(`gemm: ${opA} is ${M}x${K} (${describe(A)}) but ${opB} is ${K2}x${N} (${describe(B)}): inner dimensions ${K} and ${K2} differ`);
  }
  if (C.rows !== M || C.cols !== N) {
    throw new ShapeError(`gemm: ${opA}*${opB} is ${M}x${N} but the output ${describe(C)} is not`);
  }
  noAlias("gemm", C, A, B);
  if (M === 0 || N === 0) return;
  if (K === 0) {
    // An empty sum: C = beta * C.
    const c = C.data;
    for (let i = 0; i < c.length; i++) c[i] = beta === 0 ? 0 : beta * c[i];
    return;
  }
  const e = C.engine;
  e.k.gemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A.ptr, A.cols, B.ptr, B.cols, beta, C.ptr, C.cols, e.gemmWork);
}
