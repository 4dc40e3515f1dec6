// Hidden-unit activations (docs/math.md §2.1): h, its antiderivative H, h' and h'' in one fused kernel call.
// Only names and shapes are checked here; the math lives in assembly/activations.ts.

import { describe, inArena, overlaps, type Mat } from "./engine.js";
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

// The kernel of each name, as literal keys: no string is built per call, and an unknown name
// (from untyped callers) finds no entry.
const KERNEL: Record<Activation, `act_${Activation}`> = {
  sigmoid: "act_sigmoid", tanh: "act_tanh", linear: "act_linear", square: "act_square",
  relu: "act_relu", modulus: "act_modulus", softplus: "act_softplus", sync: "act_sync",
};

// Each given output, in the order h, H, d1, d2: same engine and shape as U (all of them first), then
// no partial overlap with U or an earlier output. Spelled out pair by pair, with no arrays or keyed
// lookups per call: the common call computes one output on 50000 values in a few microseconds, so
// the wrapper's own cost shows (these checks took 0.3 us as loops over the output names).
function checkShape(name: Activation, U: Mat, key: (typeof OUTPUTS)[number], m: Mat): void {
  if (m.engine !== U.engine) throw new ShapeError(`activation ${name}: output ${key} = ${m.name} lives in another engine than ${U.name}`);
  if (m.rows !== U.rows || m.cols !== U.cols) {
    throw new ShapeError(`activation ${name}: output ${key} = ${describe(m)} does not match the input ${describe(U)}`);
  }
  inArena("activation", m, U);
}

function checkInPlace(name: Activation, U: Mat, key: (typeof OUTPUTS)[number], m: Mat): void {
  if (m.ptr !== U.ptr && overlaps(m, U)) {
    throw new ShapeError(`activation ${name}: output ${key} = ${m.name} partly overlaps the input ${U.name} (only exact in-place is allowed)`);
  }
}

function checkApart(name: Activation, ka: (typeof OUTPUTS)[number], a: Mat | undefined, kb: (typeof OUTPUTS)[number], b: Mat): void {
  if (a !== undefined && overlaps(a, b)) throw new ShapeError(`activation ${name}: outputs ${ka} = ${a.name} and ${kb} = ${b.name} overlap`);
}

/**
 * Elementwise h(U), H(U), h'(U), h''(U) into the given outputs. An output may be U itself (in place);
 * outputs must otherwise not overlap U or each other.
 */
export function activation(name: Activation, U: Mat, out: ActivationOutputs): void {
  const kernel = Object.hasOwn(KERNEL, name) ? KERNEL[name] : undefined;
  if (kernel === undefined) {
    throw new InputError(`activation: unknown activation ${quote(name)}; valid names: ${ACTIVATIONS.join(", ")}`);
  }
  if (typeof out !== "object" || out === null) throw new InputError(`activation: want the outputs { h, H, d1, d2 } (matrices, any of them), not ${quote(out)}`);
  const { h, H, d1, d2 } = out;
  inArena("activation", U, U);
  if (h !== undefined) checkShape(name, U, "h", h);
  if (H !== undefined) checkShape(name, U, "H", H);
  if (d1 !== undefined) checkShape(name, U, "d1", d1);
  if (d2 !== undefined) checkShape(name, U, "d2", d2);
  const n = U.rows * U.cols;
  if (n === 0) return;
  if (h !== undefined) checkInPlace(name, U, "h", h);
  if (H !== undefined) {
    checkInPlace(name, U, "H", H);
    checkApart(name, "h", h, "H", H);
  }
  if (d1 !== undefined) {
    checkInPlace(name, U, "d1", d1);
    checkApart(name, "h", h, "d1", d1);
    checkApart(name, "H", H, "d1", d1);
  }
  if (d2 !== undefined) {
    checkInPlace(name, U, "d2", d2);
    checkApart(name, "h", h, "d2", d2);
    checkApart(name, "H", H, "d2", d2);
    checkApart(name, "d1", d1, "d2", d2);
  }
  U.engine.k[kernel](U.ptr, n, h === undefined ? 0 : h.ptr, H === undefined ? 0 : H.ptr, d1 === undefined ? 0 : d1.ptr, d2 === undefined ? 0 : d2.ptr);
}
