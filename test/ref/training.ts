// The training loss of docs/math.md §6 in float64, as a function of the parameters: the oracle the manual
// backprop is checked against by finite differences.

import type { ActRef } from "./autoencoder.js";

export interface LossRef {
  D: number;
  H: number;
  act: ActRef & { d1: (u: number) => number };
  output: "real" | "binary";
  lambda: number; // contractive weight
}

const softplus = (a: number): number => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));

/**
 * Mean over the b rows of the reconstruction loss (encoder fed Xt, target X) plus the contractive
 * penalty (λ/b) Σ_b Σ_k h'(u_bk)² ‖w_k‖² at Xt. p = [W (H*D), bh (H), br (D)].
 */
export function lossRef(m: LossRef, p: Float64Array, X: ArrayLike<number>, Xt: ArrayLike<number>, b: number): number {
  const { D, H } = m;
  const W = p.subarray(0, H * D);
  const bh = p.subarray(H * D, H * D + H);
  const br = p.subarray(H * D + H);
  let loss = 0;
  let penalty = 0;
  const c = new Float64Array(H);
  for (let k = 0; k < H; k++) for (let j = 0; j < D; j++) c[k] += W[k * D + j] ** 2;
  for (let r = 0; r < b; r++) {
    const a = Float64Array.from(br);
    for (let k = 0; k < H; k++) {
      let u = bh[k];
      for (let j = 0; j < D; j++) u += W[k * D + j] * Xt[r * D + j];
      const h = m.act.h(u);
      for (let j = 0; j < D; j++) a[j] += W[k * D + j] * h;
      penalty += m.act.d1(u) ** 2 * c[k];
    }
    for (let j = 0; j < D; j++) {
      const x = X[r * D + j];
      loss += m.output === "real" ? 0.5 * (a[j] - x) ** 2 : softplus(a[j]) - x * a[j];
    }
  }
  return loss / b + (m.lambda * penalty) / b;
}
