// Float64 references for the linear-algebra kernels, written as the definitions.

/** op(A)[i,k] for A stored rows x cols, row-major. */
function at(A: ArrayLike<number>, cols: number, trans: boolean, i: number, k: number): number {
  return trans ? A[k * cols + i] : A[i * cols + k];
}

/**
 * C = alpha*op(A)*op(B) + beta*C in float64, and the bound of each element's f32 rounding error for
 * sequential summation: (K + 2) u (|alpha| sum_k |a||b| + |beta c|).
 */
export function gemmRef(
  M: number, N: number, K: number, alpha: number, A: ArrayLike<number>, aCols: number, transA: boolean,
  B: ArrayLike<number>, bCols: number, transB: boolean, beta: number, C: ArrayLike<number>,
): { C: Float64Array; bound: Float64Array } {
  const out = new Float64Array(M * N);
  const bound = new Float64Array(M * N);
  const u = 2 ** -24;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let abs = 0;
      for (let k = 0; k < K; k++) {
        const p = at(A, aCols, transA, i, k) * at(B, bCols, transB, k, j);
        s += p;
        abs += Math.abs(p);
      }
      const c = beta === 0 ? 0 : beta * C[i * N + j];
      out[i * N + j] = alpha * s + c;
      bound[i * N + j] = (K + 2) * u * (Math.abs(alpha) * abs + Math.abs(c)) + 1e-45;
    }
  }
  return { C: out, bound };
}
