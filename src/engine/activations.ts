// Hidden-unit activations (docs/math.md §2.1): h, its antiderivative H, h' and h'' in one fused kernel call.
// Only names and shapes are checked here; the math lives in assembly/activations.ts.

import { describe, type Mat } from "./engine.js";
import { InputError, ShapeError, quote } from "../errors.js";

export const ACTIVATIONS = ["sigmoid", "tanh", "linear", "square", "relu", "modulus", "softplus", "sync"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** The outputs to compute, each shaped like U; absent ones are skipped (not computed, not written). */
export interface ActivationOutputs {
  h?: Mat;
  H?: Mat;
  d1?: Mat;
  d2?: Mat;
}

const OUTPUTS = ["h", "H", "d1", "d2"] as const;

function overlaps(a: Mat, b: Mat): boolean {
  return a.ptr < b.ptr + b.rows * b.cols * 4 && b.ptr < a.ptr + a.rows * a.cols * 4;
}

/**
 * Elementwise h(U), H(U), h'(U), h''(U) into the given outputs. An output may be U itself (in place);
 * outputs must otherwise not overlap U or each other.
 */
export function activation(name: Activation, U: Mat, out: ActivationOutputs): void {
  if (!(ACTIVATIONS as readonly string[]).includes(name)) {
    throw new InputError(`activation: unknown activation ${quote(name)}; valid names: ${ACTIVATIONS.join(", ")}`);
  }
  for (const key of OUTPUTS) {
    const m = out[key];
    if (m === undefined) continue;
    if (m.engine !== U.engine) throw new ShapeError(`activation ${name}: output ${key} = ${m.name} lives in another engine than ${U.name}`);
    if (m.rows !== U.rows || m.cols !== U.cols) {
      throw new ShapeError(`activation ${name}: output ${key} = ${describe(m)} does not match the input ${describe(U)}`);
    }
  }
  const n = U.rows * U.cols;
  if (n === 0) return;
  const given = OUTPUTS.filter((key) => out[key] !== undefined);
  for (let i = 0; i < given.length; i++) {
    const a = out[given[i]]!;
    if (a.ptr !== U.ptr && overlaps(a, U)) {
      throw new ShapeError(`activation ${name}: output ${given[i]} = ${a.name} partly overlaps the input ${U.name} (only exact in-place is allowed)`);
    }
    for (let j = 0; j < i; j++) {
      const b = out[given[j]]!;
      if (overlaps(a, b)) throw new ShapeError(`activation ${name}: outputs ${given[j]} = ${b.name} and ${given[i]} = ${a.name} overlap`);
    }
  }
  U.engine.k[`act_${name}` as const](U.ptr, n, out.h?.ptr ?? 0, out.H?.ptr ?? 0, out.d1?.ptr ?? 0, out.d2?.ptr ?? 0);
}
