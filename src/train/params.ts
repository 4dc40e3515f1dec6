// One parameter layout for every trainer: named parameters, each with a gradient and a velocity
// allocated alike, and one SGD-with-momentum step. Arena matrices (W, bh, br; Wx, Wf, Wh, Bh, Br)
// step through the sgd_momentum kernel; the few host parameters (the constants C, the logistic
// regression's V and c) through the same formula in JavaScript:
//
//   v ← μ v − η (g + λ w)      w ← w + v        (λ only for the parameters marked decayed)

import { alloc, type Mat } from "../engine/engine.js";
import { sgdMomentum } from "../engine/kernels.js";
import { FLOAT32_MAX, squaredNorm } from "../tensor.js";
import type { Arrays } from "./checkpoint.js";

type Host = Float32Array | Float64Array;

export interface Param<T extends Mat | Host = Mat | Host> {
  readonly name: string;
  readonly value: T;
  readonly grad: T;
  readonly vel: T;
  /** Whether weight decay applies (weights, not biases or constants). */
  readonly decayed: boolean;
}

export type ParamSet<N extends string = string> = { readonly [K in N]: Param };

export interface StepOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
}

const isMat = (v: Mat | Host): v is Mat => !ArrayBuffer.isView(v);

// Host gradients and velocities are float64 whatever the value's type (the constants C are f32).
function like(name: string, v: Mat | Host, zero: boolean): Mat | Host {
  if (!isMat(v)) return new Float64Array(v.length);
  const m = alloc(v.engine, name, v.rows, v.cols);
  if (zero) m.data.fill(0);
  return m;
}

/**
 * A parameter set over existing values: gradients (contents undefined until a step writes them) and
 * zero velocities, in the values' engine (or on the host for typed arrays). `decayed` names the
 * parameters weight decay applies to.
 */
export function paramSet<N extends string>(values: Record<N, Mat | Host>, decayed: readonly NoInfer<N>[] = []): ParamSet<N> {
  const out = {} as Record<N, Param>;
  for (const name of Object.keys(values) as N[]) {
    const value = values[name];
    out[name] = { name, value, grad: like(`d${name}`, value, false), vel: like(`v${name}`, value, true), decayed: decayed.includes(name) };
  }
  return out;
}

/** The values of a set as plain arrays (copies: for snapshots, threads and files). */
export function snapshot<N extends string>(p: ParamSet<N>): Record<N, Host> {
  const out = {} as Record<N, Host>;
  for (const name of Object.keys(p) as N[]) {
    const v = p[name].value;
    out[name] = isMat(v) ? v.data.slice() : v.slice();
  }
  return out;
}

/** Writes values (a snapshot, or arrays of the same sizes) back into the set. */
export function restore<N extends string>(p: ParamSet<N>, values: Partial<Record<N, ArrayLike<number>>>): void {
  for (const name of Object.keys(values) as N[]) {
    const v = p[name].value;
    (isMat(v) ? v.data : v).set(values[name] as ArrayLike<number>);
  }
}

/** A run's parameters, velocities and kept best as named tensors: what its checkpoints hold. */
export interface ParamState {
  values: Arrays;
  velocities: Arrays;
  best?: Arrays;
}

/**
 * The arena parameters of a set as named tensors (copies), each name followed by `suffix` (the class
 * in finetuning's groups: "W3"); `best` holds the kept best values by parameter name, if any.
 */
export function paramState<N extends string>(p: ParamSet<N>, best?: Record<N, Float32Array>, suffix = ""): ParamState {
  const out: ParamState = { values: {}, velocities: {}, best: best ? {} : undefined };
  for (const { name, value, vel } of Object.values<Param>(p)) {
    const [m, v] = [value as Mat, vel as Mat];
    const shape = [m.rows, m.cols];
    out.values[name + suffix] = { shape, data: m.data.slice() };
    out.velocities[name + suffix] = { shape, data: v.data.slice() };
    if (best) out.best![name + suffix] = { shape, data: best[name as N].slice() };
  }
  return out;
}

/** Loads a set's parameters and velocities from a state (names followed by `suffix`), checked by checkLayout. */
export function loadParamState(p: ParamSet, st: { values: Arrays; velocities: Record<string, { data: ArrayLike<number> } | Float64Array> }, suffix = ""): void {
  for (const { name, value, vel } of Object.values(p)) {
    const v = st.velocities[name + suffix];
    (value as Mat).data.set(st.values[name + suffix].data);
    (vel as Mat).data.set(v instanceof Float64Array ? v : v.data);
  }
}

/**
 * The first of the named values of a diverged model, if any: one that is not finite, or whose squared
 * norm is beyond float32's range (then even the model's Laplacian, Σ h′‖w_k‖², overflows).
 */
export function divergedIn(values: Record<string, ArrayLike<number>>): string | undefined {
  for (const [name, x] of Object.entries(values)) if (!(squaredNorm(x) <= FLOAT32_MAX)) return name; // NaN fails too
  return undefined;
}

/** divergedIn over a parameter set's values. */
export function divergedParam(p: ParamSet): string | undefined {
  return divergedIn(Object.fromEntries(Object.values(p).map((q) => [q.name, isMat(q.value) ? q.value.data : q.value])));
}

/** One SGD-with-momentum step of every parameter from its gradient. */
export function sgdStep(p: ParamSet, o: StepOptions): void {
  for (const name of Object.keys(p)) {
    const { value, grad, vel, decayed } = p[name];
    const weightDecay = decayed ? o.weightDecay : 0;
    if (isMat(value)) {
      sgdMomentum(value, vel as Mat, grad as Mat, { lr: o.lr, momentum: o.momentum, weightDecay });
      continue;
    }
    const g = grad as Host;
    const v = vel as Host;
    for (let i = 0; i < value.length; i++) {
      v[i] = o.momentum * v[i] - o.lr * (decayed ? g[i] + weightDecay * value[i] : g[i]);
      value[i] += v[i];
    }
  }
}
