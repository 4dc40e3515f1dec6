// The factored CSAE (docs/math.md §8.1): shared Wx (D, F) and Wh (F, H); per class Wf (K, F), Bh (K, H),
// Br (K, D). Class j's tied weight is W_jᵀ = Wx diag(Wf_j) Wh (D, H).
//
// K = classes, D = visible, F = factors, H = hidden.

import { alloc, fromArray, mark, release, type Engine, type Mat } from "../engine/engine.js";
import { gemm } from "../engine/kernels.js";
import {
  checkSpec, checkSpecOf, checkToWrite, modelMetadata, onlyTensors, tensorOf, type Autoencoder, type AeActivation, type AutoencoderSpec, type Output,
} from "./autoencoder.js";
import type { Rng } from "../random.js";
import { FLOAT32_MAX, squaredNorm } from "../tensor.js";
import { checkLabels, parseClasses, type Csae } from "./csae.js";
import { encodeSafetensors, parsedFile, type Safetensors } from "../formats/safetensors.js";
import { FormatError, InputError, ShapeError, quote } from "../errors.js";

export interface FactoredCsae {
  readonly classes: string[];
  readonly activation: AeActivation;
  readonly output: Output;
  readonly Wx: Mat; // (D, F)
  readonly Wf: Mat; // (K, F)
  readonly Wh: Mat; // (F, H)
  readonly Bh: Mat; // (K, H)
  readonly Br: Mat; // (K, D)
  readonly C: Float32Array; // (K)
}

/** The factored file: Wx [D, F], Wf [K, F], Wh [F, H], Bh [K, H], Br [K, D], C [K]; kind "factored-csae". */
export function encodeFactored(m: FactoredCsae): Uint8Array {
  checkFactoredShapes(m, "encode factored csae");
  checkLabels(m.classes, "encode factored csae");
  checkSpec({ D: m.Wx.rows, H: m.Wh.cols, activation: m.activation, output: m.output });
  if (m.activation === "kmeans") throw new InputError("encode factored csae: a factored model cannot use kmeans");
  const t = (x: Mat) => ({ shape: [x.rows, x.cols], data: x.data });
  const tensors = { Wx: t(m.Wx), Wf: t(m.Wf), Wh: t(m.Wh), Bh: t(m.Bh), Br: t(m.Br), C: { shape: [m.C.length], data: m.C } };
  checkToWrite(tensors, "encode factored csae");
  return encodeSafetensors(tensors, { format: "aescore", kind: "factored-csae", classes: JSON.stringify(m.classes), activation: m.activation, output: m.output });
}

/** Loads a factored model file into engine e, validating everything. */
export function decodeFactored(e: Engine, bytes: Uint8Array | Safetensors, source = "model"): FactoredCsae {
  // Bytes, or a file already parsed (decodeModel parses once for any kind).
  const { tensors, metadata } = parsedFile(bytes, source);
  modelMetadata(metadata, "factored-csae", source);
  onlyTensors(tensors, ["Wx", "Wf", "Wh", "Bh", "Br", "C"], source);
  const dims = (name: string, rank: number): number[] => {
    const t = tensors[name];
    if (!t || t.shape.length !== rank) throw new FormatError(`${source}: tensor ${name} is missing or not ${rank}-D`);
    return t.shape;
  };
  const [D, F] = dims("Wx", 2);
  const [K] = dims("Wf", 2);
  const [Fh, H] = dims("Wh", 2);
  if (Fh !== F) throw new FormatError(`${source}: tensor Wh has shape [${Fh}, ${H}], expected [${F}, H]: its rows are the ${F} factors of Wx`);
  // The factored model scores by its energies alone; a file asking for another rule is not one of ours.
  if (metadata.rule !== undefined && metadata.rule !== "energy") throw new FormatError(`${source}: metadata rule ${quote(metadata.rule)}: a factored model scores by its energies (rule "energy")`);
  const { activation, output } = checkSpecOf({ D, H, activation: metadata.activation as AeActivation, output: metadata.output as Output }, source);
  if (activation === "kmeans") throw new FormatError(`${source}: a factored model cannot use kmeans`);
  const mat = (name: string, rows: number, cols: number, shape = [rows, cols]) => fromArray(e, name, rows, cols, tensorOf(tensors, name, shape, source));
  return {
    classes: parseClasses(metadata.classes, K, source),
    activation,
    output,
    Wx: mat("Wx", D, F),
    Wf: mat("Wf", K, F),
    Wh: mat("Wh", F, H),
    Bh: mat("Bh", K, H),
    Br: mat("Br", K, D),
    C: tensorOf(tensors, "C", [K], source).slice(),
  };
}

/** Class j's tied weight W_j = Whᵀ diag(Wf_j) Wxᵀ (H, D), written into W. */
function classWeight(m: FactoredCsae, j: number, W: Mat): void {
  const e = W.engine;
  const top = mark(e);
  const [D, F] = [m.Wx.rows, m.Wx.cols];
  const Ws = alloc(e, "Ws", D, F); // Wx diag(Wf_j)
  const wx = m.Wx.data;
  const wf = m.Wf.data.subarray(j * F, (j + 1) * F);
  const ws = Ws.data;
  for (let d = 0; d < D; d++) for (let f = 0; f < F; f++) ws[d * F + f] = wx[d * F + f] * wf[f];
  gemm(W, m.Wh, Ws, { transA: true, transB: true });
  release(e, top);
}

/** The most weights a factored model expands to (K·H·D values, 2 GiB). */
const MAX_EXPANDED = 2 ** 29;

/** The factored model's shapes agree (Wx [D, F], Wf [K, F], Wh [F, H], Bh [K, H], Br [K, D], C [K]); K. */
function checkFactoredShapes(m: FactoredCsae, what: string): number {
  if (typeof m !== "object" || m === null || !Array.isArray(m.classes) || typeof m.Wx !== "object" || m.Wx === null) throw new InputError(`${what}: not a factored classifier (classes, Wx, Wf, Wh, Bh, Br, C): ${quote(m)}`);
  const [D, H] = [m.Wx?.rows, m.Wh?.cols];
  const K = m.classes?.length;
  const F = m.Wx?.cols;
  if (!(m.Wf?.rows === K && m.Wf.cols === F && m.Wh.rows === F && m.Bh?.rows === K && m.Bh.cols === H && m.Br?.rows === K && m.Br.cols === D && m.C?.length === K)) {
    throw new ShapeError(`${what}: ${K} classes, Wx ${m.Wx?.rows}x${F}, Wf ${m.Wf?.rows}x${m.Wf?.cols}, Wh ${m.Wh?.rows}x${H}, Bh ${m.Bh?.rows}x${m.Bh?.cols}, Br ${m.Br?.rows}x${m.Br?.cols}, C ${m.C?.length}: the shapes must be Wx [D, F], Wf [K, F], Wh [F, H], Bh [K, H], Br [K, D], C [K]`);
  }
  return K;
}

/**
 * The same classifier as K plain autoencoders (W_j materialized): for energies and predictions.
 * Factors each within float32 can multiply beyond it: a W_j that does is refused as diverged (a
 * FormatError naming `source` when the model was read from it).
 */
export function factoredAsCsae(m: FactoredCsae, source?: string): Csae {
  const K = checkFactoredShapes(m, "factored model");
  const e = m.Wx.engine;
  const [D, H] = [m.Wx.rows, m.Wh.cols];
  // K matrices of H x D: a small file of factors can ask for more than any engine holds (checked
  // before allocating, naming the file).
  const values = K * H * D;
  if (values > MAX_EXPANDED) {
    const why = `its ${K} classes' weights W_j (${H} x ${D} each) would take ${(values * 4 / 2 ** 30).toFixed(1)} GiB expanded, more than the ${MAX_EXPANDED * 4 / 2 ** 30} GiB allowed (an engine's memory is at most 4 GiB)`;
    throw source === undefined ? new InputError(`factored model: ${why}`) : new FormatError(`${source}: ${why}`);
  }
  const aes: Autoencoder[] = m.classes.map((_, j) => {
    const W = alloc(e, `W${j}`, H, D);
    classWeight(m, j, W);
    const ss = squaredNorm(W.data);
    if (!(ss <= FLOAT32_MAX)) {
      const why = Number.isNaN(ss)
        ? `class ${quote(m.classes[j])}'s weight Whᵀ diag(Wf_j) Wxᵀ holds values that are not numbers (a factor holds NaN, or the factors overflow): a diverged model`
        : `class ${quote(m.classes[j])}'s weight Whᵀ diag(Wf_j) Wxᵀ is beyond float32's range (squared norm ${ss.toPrecision(3)}): a diverged model`;
      throw source === undefined ? new InputError(`factored model: ${why}`) : new FormatError(`${source}: ${why}`);
    }
    return {
      activation: m.activation,
      output: m.output,
      D,
      H,
      W,
      bh: fromArray(e, `bh${j}`, 1, H, m.Bh.data.subarray(j * H, (j + 1) * H)),
      br: fromArray(e, `br${j}`, 1, D, m.Br.data.subarray(j * D, (j + 1) * D)),
    };
  });
  return { classes: m.classes, aes, C: m.C };
}

/** A new factored model: Wx, Wh uniform in ±sqrt(6/(fan-in + fan-out)), Wf = 1, biases 0. */
export function createFactored(e: Engine, classes: string[], spec: AutoencoderSpec, F: number, r: Rng): FactoredCsae {
  const { D, H } = spec;
  const K = classes.length;
  const uniform = (name: string, rows: number, cols: number, a: number) => {
    const m = alloc(e, name, rows, cols);
    for (let i = 0; i < m.data.length; i++) m.data[i] = (2 * r.uniform() - 1) * a;
    return m;
  };
  const filled = (name: string, rows: number, cols: number, v: number) => {
    const m = alloc(e, name, rows, cols);
    m.data.fill(v);
    return m;
  };
  return {
    classes, activation: spec.activation, output: spec.output,
    Wx: uniform("Wx", D, F, Math.sqrt(6 / (D + F))),
    Wf: filled("Wf", K, F, 1),
    Wh: uniform("Wh", F, H, Math.sqrt(6 / (F + H))),
    Bh: filled("Bh", K, H, 0),
    Br: filled("Br", K, D, 0),
    C: new Float32Array(K),
  };
}
