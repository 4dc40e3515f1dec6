// The factored CSAE (SPEC.md §6): shared Wx (D, F) and Wh (F, H); per class Wf (K, F), Bh (K, H),
// Br (K, D). Class j's tied weight is W_jᵀ = Wx diag(Wf_j) Wh (D, H).
//
// K = classes, D = visible, F = factors, H = hidden.

import { alloc, fromArray, mark, release, type Engine, type Mat } from "./engine.js";
import { gemm } from "./kernels.js";
import { checkSpecOf, modelMetadata, tensorOf, type Autoencoder, type AeActivation, type Output } from "./autoencoder.js";
import { parseClasses, type Csae } from "./csae.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";
import { FormatError } from "./errors.js";

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
  const t = (x: Mat) => ({ shape: [x.rows, x.cols], data: x.data });
  return encodeSafetensors(
    { Wx: t(m.Wx), Wf: t(m.Wf), Wh: t(m.Wh), Bh: t(m.Bh), Br: t(m.Br), C: { shape: [m.C.length], data: m.C } },
    { format: "aescore", kind: "factored-csae", classes: JSON.stringify(m.classes), activation: m.activation, output: m.output },
  );
}

/** Loads a factored model file into engine e, validating everything. */
export function decodeFactored(e: Engine, bytes: Uint8Array, source = "model"): FactoredCsae {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  modelMetadata(metadata, "factored-csae", source);
  const dims = (name: string, rank: number): number[] => {
    const t = tensors[name];
    if (!t || t.shape.length !== rank) throw new FormatError(`${source}: tensor ${name} is missing or not ${rank}-D`);
    return t.shape;
  };
  const [D, F] = dims("Wx", 2);
  const [K] = dims("Wf", 2);
  const [, H] = dims("Wh", 2);
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
export function classWeight(m: FactoredCsae, j: number, W: Mat): void {
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

/** The same classifier as K plain autoencoders (W_j materialized): for energies and predictions. */
export function factoredAsCsae(m: FactoredCsae): Csae {
  const e = m.Wx.engine;
  const [D, H] = [m.Wx.rows, m.Wh.cols];
  const aes: Autoencoder[] = m.classes.map((_, j) => {
    const W = alloc(e, `W${j}`, H, D);
    classWeight(m, j, W);
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
