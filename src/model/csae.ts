// The class-specific autoencoder classifier (docs/math.md §7.1): K autoencoders, one per class, and the
// normalizing constants C. z_i(x) = E_i(x) + C_i, P(y = i | x) = softmax(z)_i.
//
// K = classes, D = visible, H = hidden, N = rows.

import { exp } from "../math.js";
import { fromArray, type Engine } from "../engine/engine.js";
import { checkInput, checkSpecOf, checkToWrite, modelMetadata, onlyTensors, tensorOf, type Autoencoder, type AeActivation, type Output } from "./autoencoder.js";
import { energy, energies, finiteRows, reconstructOf } from "./energy.js";
import { encodeSafetensors, parsedFile, type Safetensors } from "../formats/safetensors.js";
import { argmaxRows, isFloat32Array, type Tensor } from "../tensor.js";
import { FormatError, InputError, ShapeError, hasUnsafe, listed, quote } from "../errors.js";

export interface Csae {
  /** Class labels, in the order of the autoencoders. */
  readonly classes: string[];
  readonly aes: Autoencoder[];
  /** C (K): the learned normalizing constants (the bias, for the energies-lr rule). */
  readonly C: Float32Array;
  /** How scores are formed (default "energy": z = E + C). */
  readonly rule?: Rule;
  /** (K, K) weights of the logistic regression on the energies (rule "energies-lr"). */
  readonly V?: Float32Array;
}

/**
 * Refuses a classifier that is not whole (hand-built or altered after loading; a file is checked as
 * it is read): at least one class, a label and a constant per class, autoencoders of one D, H,
 * activation and output with weights of their sizes, a known rule and its V. Shapes only: a scan
 * of every weight would cost more than scoring a row.
 */
export function checkCsae(m: Pick<Csae, "aes"> & Partial<Csae>, what: string, whole = true): void {
  if (typeof m !== "object" || m === null || !Array.isArray(m.aes) || m.aes.length === 0) {
    const kind = (m as { kind?: unknown } | null)?.kind;
    throw new InputError(`${what}: ${typeof kind === "string" ? `a decoded model file of kind ${quote(kind)}, not a classifier (its classifier is .csae, its autoencoder .ae)` : "not a classifier with at least one class"}`);
  }
  m.aes.forEach((ae, i) => {
    if (typeof ae !== "object" || ae === null) throw new InputError(`${what}: autoencoder ${i} is ${quote(ae)}, not an autoencoder`);
  });
  const K = m.aes.length;
  const [first] = m.aes;
  m.aes.forEach((ae, i) => {
    if (ae.D !== first.D || ae.H !== first.H || ae.activation !== first.activation || ae.output !== first.output) {
      throw new ShapeError(`${what}: autoencoder ${i} is ${ae.activation}/${ae.output} of D = ${ae.D}, H = ${ae.H}, autoencoder 0 ${first.activation}/${first.output} of D = ${first.D}, H = ${first.H}`);
    }
    if (ae.W?.data?.length !== ae.H * ae.D || ae.bh?.data?.length !== ae.H || ae.br?.data?.length !== ae.D) {
      throw new ShapeError(`${what}: autoencoder ${i}'s W, bh, br hold ${ae.W?.data?.length}, ${ae.bh?.data?.length}, ${ae.br?.data?.length} values, not ${ae.H * ae.D}, ${ae.H}, ${ae.D}`);
    }
  });
  if (!whole) return;
  if (!Array.isArray(m.classes) || m.classes.length !== K) throw new ShapeError(`${what}: ${Array.isArray(m.classes) ? m.classes.length : "no list of"} class labels for ${K} autoencoders`);
  checkLabels(m.classes, what);
  const rule = m.rule ?? "energy";
  if (!RULES.includes(rule)) throw new InputError(`${what}: unknown rule ${quote(rule)} (one of ${RULES.join(", ")})`);
  const values = (name: string, a: ArrayLike<number> | undefined, n: number, shape: string) => {
    if (a?.length !== n) throw new ShapeError(`${what}: ${name} must hold ${shape} values, not ${a?.length ?? "none"}`);
    // (finite in float32: 1e39 is finite as a double, Infinity in a file or an ONNX graph)
    for (let i = 0; i < n; i++) if (!Number.isFinite(Math.fround(a[i]))) throw new InputError(`${what}: ${name}[${i}] is ${a[i]}${Number.isFinite(a[i]) ? " (beyond float32)" : ""}`);
  };
  values("C", m.C, K, `${K} (a constant per class)`);
  if (rule === "energies-lr") values("V", m.V, K * K, `${K} x ${K} (rule "energies-lr")`);
}

/** E_i(x) for every row and class: (N, K), row-major. */
export function classEnergies(m: Pick<Csae, "aes">, X: Tensor): Tensor {
  checkCsae(m, "energy", false);
  const data = finiteRows(energies(m.aes, X), m.aes.length, "energy", false, m.aes);
  return { shape: [data.length / m.aes.length, m.aes.length], data };
}

/** The constants a classifier starts from: C_i = −mean of E_i over class i's rows (docs/math.md §7.4). */
export function initialConstants(aes: Autoencoder[], perClass: Tensor[]): Float32Array {
  if (!Array.isArray(aes)) throw new InputError(`initial constants: want a list of autoencoders, not ${quote(aes)}`);
  if (!Array.isArray(perClass) || perClass.length !== aes.length) throw new ShapeError(`initial constants: ${perClass?.length} sets of rows for ${aes.length} classes`);
  perClass.forEach((X, i) => {
    if (checkInput(aes[i], X, `class ${i}'s rows`).shape[0] === 0) throw new InputError(`initial constants: class ${i} has no rows (its constant is a mean over them)`);
  });
  return meanConstants(aes.map((ae, i) => energy(ae, perClass[i])));
}

/** C_i = −mean E_i from each class's energies of its own rows (the one rule, for every model). */
export function meanConstants(own: Float32Array[]): Float32Array {
  return Float32Array.from(own, (E) => {
    let s = 0;
    for (const v of E) s += v;
    return -s / E.length;
  });
}

/** Parses the `classes` metadata (JSON list of K distinct, non-empty string labels). */
export function parseClasses(text: string | undefined, K: number, source: string): string[] {
  let classes: unknown;
  try {
    classes = JSON.parse(text ?? "");
  } catch {
    throw new FormatError(`${source}: metadata classes is ${text === undefined ? "missing" : "not JSON text of a list of labels"}`);
  }
  if (!Array.isArray(classes) || classes.length !== K) {
    throw new FormatError(`${source}: metadata classes must list ${K} labels (one per autoencoder)`);
  }
  // Numbers are accepted as labels (older files); anything else would print differently than it reads.
  const labels = classes.map((c, i) => {
    if (typeof c === "number" && Number.isFinite(c)) return String(c);
    const bad = labelProblem(c);
    if (bad) throw new FormatError(`${source}: metadata classes: label ${i} is ${quote(c)}, ${bad}`);
    return c as string;
  });
  const seen = new Map<string, number>();
  labels.forEach((c, i) => {
    if (seen.has(c)) throw new FormatError(`${source}: metadata classes: label ${quote(c)} appears twice (at ${seen.get(c)} and ${i})`);
    seen.set(c, i);
  });
  return labels;
}

/**
 * Why `c` cannot name a class, or undefined. Labels name the classes in predictions, files, terminal
 * output and ONNX metadata: non-empty strings without control or invisible characters (a newline
 * would split a prediction in two, an escape sequence reach the terminal, a bidi control or a zero
 * width make two labels look alike).
 */
export function labelProblem(c: unknown): string | undefined {
  if (typeof c !== "string" || c === "") return "not a non-empty string";
  if (hasUnsafe(c)) return "which holds a control or invisible character";
  return undefined;
}

/** A classifier's class labels: each one that labelProblem passes, no two the same. */
export function checkLabels(classes: unknown[], what: string): void {
  const seen = new Set<unknown>();
  classes.forEach((c, i) => {
    const bad = labelProblem(c);
    if (bad) throw new InputError(`${what}: class label ${i} is ${quote(c)}, ${bad}`);
    if (seen.has(c)) throw new InputError(`${what}: class label ${quote(c)} appears twice`);
    seen.add(c);
  });
}

/** The K-class file: W [K, H, D], bh [K, H], br [K, D], C [K]; kind "csae", classes, activation, output. */
export function encodeCsae(m: Csae): Uint8Array {
  checkCsae(m, "encode csae"); // (the file records one activation and output for every class)
  const [first] = m.aes;
  const { D, H } = first;
  const K = m.aes.length;
  const cat = (pick: (ae: Autoencoder) => Float32Array, size: number): Float32Array => {
    const out = new Float32Array(K * size);
    m.aes.forEach((ae, i) => out.set(pick(ae), i * size));
    return out;
  };
  const tensors: Record<string, Tensor> = {
    W: { shape: [K, H, D], data: cat((ae) => ae.W.data, H * D) },
    bh: { shape: [K, H], data: cat((ae) => ae.bh.data, H) },
    br: { shape: [K, D], data: cat((ae) => ae.br.data, D) },
    C: { shape: [K], data: m.C },
  };
  if (m.V) tensors.V = { shape: [K, K], data: m.V };
  checkToWrite(tensors, "encode csae", { W: K, bh: K, br: K });
  return encodeSafetensors(tensors, {
    format: "aescore", kind: "csae", classes: JSON.stringify(m.classes), activation: first.activation, output: first.output,
    rule: m.rule ?? "energy",
  });
}

/** Loads a K-class model file into engine e, validating everything. */
export function decodeCsae(e: Engine, bytes: Uint8Array | Safetensors, source = "model"): Csae {
  // Bytes, or a file already parsed (decodeModel parses once for any kind).
  const { tensors, metadata } = parsedFile(bytes, source);
  modelMetadata(metadata, "csae", source);
  const W = tensors.W;
  if (!W || W.shape.length !== 3) throw new FormatError(`${source}: tensor W [K, H, D] is missing or not 3-D`);
  const [K, H, D] = W.shape;
  if (K < 1) throw new FormatError(`${source}: the model has no classes`);
  const spec = checkSpecOf({ D, H, activation: metadata.activation as AeActivation, output: metadata.output as Output }, source);
  const w = tensorOf(tensors, "W", [K, H, D], source, K);
  const bh = tensorOf(tensors, "bh", [K, H], source, K);
  const br = tensorOf(tensors, "br", [K, D], source, K);
  const C = tensorOf(tensors, "C", [K], source);
  const classes = parseClasses(metadata.classes, K, source);
  const rule = (metadata.rule ?? "energy") as Rule;
  if (!RULES.includes(rule)) throw new FormatError(`${source}: metadata rule ${quote(rule)} is not one of ${RULES.join(", ")}`);
  onlyTensors(tensors, rule === "energies-lr" ? ["W", "bh", "br", "C", "V"] : ["W", "bh", "br", "C"], source);
  const V = rule === "energies-lr" ? tensorOf(tensors, "V", [K, K], source).slice() : undefined;
  const aes = classes.map((_, i) => ({
    ...spec,
    W: fromArray(e, `W${i}`, H, D, w.subarray(i * H * D, (i + 1) * H * D)),
    bh: fromArray(e, `bh${i}`, 1, H, bh.subarray(i * H, (i + 1) * H)),
    br: fromArray(e, `br${i}`, 1, D, br.subarray(i * D, (i + 1) * D)),
  }));
  return { classes, aes, C: C.slice(), rule, V };
}

// ---- prediction ---------------------------------------------------------------------------------

/** How a model turns energies into scores (metadata `rule`). */
export type Rule = "energy" | "energies-lr" | "reconstruction";
export const RULES: readonly Rule[] = ["energy", "energies-lr", "reconstruction"];

/** softmax of z (n rows of K) in float64, per row, in place into p. */
export function softmaxRows(z: ArrayLike<number>, K: number, p: Float64Array): void {
  for (let r = 0; r < z.length / K; r++) {
    let m = -Infinity;
    for (let i = 0; i < K; i++) m = Math.max(m, z[r * K + i]);
    let s = 0;
    for (let i = 0; i < K; i++) s += p[r * K + i] = exp(z[r * K + i] - m);
    for (let i = 0; i < K; i++) p[r * K + i] /= s;
  }
}

/** Scores z (N, K) from class energies E (N, K): E + C, or the logistic regression V E + C. */
export function scoresFrom(E: Float32Array, K: number, C: Float32Array, V?: Float32Array): Float64Array {
  const z = new Float64Array(E.length);
  for (let r = 0; r < E.length / K; r++) {
    for (let i = 0; i < K; i++) {
      let s = C[i];
      if (V) for (let j = 0; j < K; j++) s += V[i * K + j] * E[r * K + j];
      else s += E[r * K + i];
      z[r * K + i] = s;
    }
  }
  return z;
}


/**
 * ‖r_i(x) − x‖² for every row and class (N, K): the reconstruction-error baseline. `infinite`: a
 * row whose error overflows float32 is +Infinity (novelty), instead of refused.
 */
export function reconstructionErrors(m: Pick<Csae, "aes">, X: Tensor, infinite = false): Float32Array {
  checkCsae(m, "reconstruction error", false);
  const K = m.aes.length;
  X = checkInput(m.aes[0], X);
  const N = X.shape[0];
  const D = m.aes[0].D;
  const out = new Float32Array(N * K);
  m.aes.forEach((ae, i) => {
    const R = reconstructOf(ae, X, N).data; // (X checked above, once for the K classes)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += (R[n * D + j] - X.data[n * D + j]) ** 2;
      out[n * K + i] = s;
    }
  });
  return finiteRows(out, K, "reconstruction error", infinite, m.aes);
}

/**
 * Scores z (N, K) of the rows of X under the model's rule. `infinite`: energies beyond float32 are
 * ±Infinity (novelty scores them), instead of refused.
 */
export function scores(m: Csae, X: Tensor, infinite = false): Float64Array {
  checkCsae(m, "scores");
  const K = m.aes.length;
  const N = X?.shape?.[0];
  // (N, K) scores as float64 beside the energies: a bound that an engine's 4 GiB also keeps.
  if (Number.isSafeInteger(N) && N * K > 2 ** 27) throw new InputError(`scores: ${N} rows x ${K} classes is ${N * K} scores, more than the 2^27 (1 GiB of float64) computed at once: score fewer rows at a time`);
  if (m.rule === "reconstruction") return Float64Array.from(reconstructionErrors(m, X, infinite), (v) => -v);
  return scoresFrom(finiteRows(energies(m.aes, X), K, "energy", infinite, m.aes), K, m.C, m.rule === "energies-lr" ? m.V : undefined);
}

/** The predicted class label of every row of X. */
export function predict(m: Csae, X: Tensor): string[] {
  return Array.from(argmaxRows(scores(m, X), m.aes.length), (i) => m.classes[i]);
}

/** P(y = i | x) for every row and class (N, K), row-major: softmax of the scores. */
export function predictProba(m: Csae, X: Tensor): Float64Array {
  const z = scores(m, X);
  const p = new Float64Array(z.length);
  softmaxRows(z, m.aes.length, p);
  return p;
}

// ---- labels ----------------------------------------------------------------------------------------

/** Sorted distinct labels (numerically when they are all numbers). */
export function classesOf(labels: string[]): string[] {
  if (!Array.isArray(labels)) throw new InputError(`classesOf: want a list of labels, not ${quote(labels)}`);
  const set = [...new Set(labels)];
  return set.every((l) => l !== "" && Number.isFinite(Number(l))) ? set.sort((a, b) => Number(a) - Number(b)) : set.sort();
}

/** Rows of X whose label is `label`. */
export function rowsWithLabel(X: Tensor, labels: string[], label: string): Tensor {
  if (X?.shape?.length !== 2 || !Array.isArray(labels) || labels.length !== X.shape[0]) {
    throw new ShapeError(`rows with label: want (N, D) rows and N labels, not shape [${X?.shape?.join(", ")}] and ${Array.isArray(labels) ? labels.length : "no"} labels`);
  }
  const [N, D] = X.shape;
  if (!Number.isSafeInteger(D) || D < 1 || !isFloat32Array(X.data) || X.data.length !== N * D) {
    throw new ShapeError(`rows with label: shape [${X.shape.join(", ")}] must be (N, D) with D >= 1 and a Float32Array of N·D values as data, not ${isFloat32Array(X.data) ? `${X.data.length} values` : quote(X.data)}`);
  }
  const idx = labels.flatMap((l, i) => (l === label ? [i] : []));
  const data = new Float32Array(idx.length * D);
  idx.forEach((r, i) => data.set(X.data.subarray(r * D, (r + 1) * D), i * D));
  return { shape: [idx.length, D], data };
}

/** Class index of every label (an InputError names a label the model does not know). */
export function classIndices(labels: string[], classes: string[], what = "labels"): Int32Array {
  if (!Array.isArray(labels)) throw new InputError(`${what}: want a list of labels, not ${quote(labels)}`);
  if (!Array.isArray(classes)) throw new InputError(`${what}: want a list of classes, not ${quote(classes)}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return Int32Array.from(labels, (l, n) => {
    const i = index.get(l);
    if (i === undefined) throw new InputError(`${what}: row ${n} has label ${quote(l)}, not one of the classes (${listed(classes)})`);
    return i;
  });
}

