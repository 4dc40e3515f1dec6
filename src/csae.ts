// The class-specific autoencoder classifier (SPEC.md §5): K autoencoders, one per class, and the
// normalizing constants C. z_i(x) = E_i(x) + C_i, P(y = i | x) = softmax(z)_i.
//
// K = classes, D = visible, H = hidden, N = rows.

import { fromArray, type Engine } from "./engine.js";
import { checkSpecOf, modelMetadata, tensorOf, type Autoencoder, type AeActivation, type Output } from "./autoencoder.js";
import { energy } from "./energy.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "./safetensors.js";
import { FormatError } from "./errors.js";

export interface Csae {
  /** Class labels, in the order of the autoencoders. */
  readonly classes: string[];
  readonly aes: Autoencoder[];
  /** C (K): the learned normalizing constants. */
  readonly C: Float32Array;
}

/** E_i(x) for every row and class: (N, K), row-major. */
export function classEnergies(m: Pick<Csae, "aes">, X: Tensor): Tensor {
  const K = m.aes.length;
  const N = X.shape.length === 2 ? X.shape[0] : 1;
  const out = new Float32Array(N * K);
  m.aes.forEach((ae, i) => {
    const E = energy(ae, X);
    for (let n = 0; n < N; n++) out[n * K + i] = E[n];
  });
  return { shape: [N, K], data: out };
}

/** Parses the `classes` metadata (JSON list of labels) and checks it has K entries. */
export function parseClasses(text: string | undefined, K: number, source: string): string[] {
  let classes: unknown;
  try {
    classes = JSON.parse(text ?? "");
  } catch {
    throw new FormatError(`${source}: metadata classes is not JSON text of a list of labels`);
  }
  if (!Array.isArray(classes) || classes.length !== K) {
    throw new FormatError(`${source}: metadata classes must list ${K} labels (one per autoencoder)`);
  }
  return classes.map(String);
}

/** The K-class file: W [K, H, D], bh [K, H], br [K, D], C [K]; kind "csae", classes, activation, output. */
export function encodeCsae(m: Csae): Uint8Array {
  const [first] = m.aes;
  const { D, H } = first;
  const K = m.aes.length;
  const cat = (pick: (ae: Autoencoder) => Float32Array, size: number): Float32Array => {
    const out = new Float32Array(K * size);
    m.aes.forEach((ae, i) => out.set(pick(ae), i * size));
    return out;
  };
  return encodeSafetensors(
    {
      W: { shape: [K, H, D], data: cat((ae) => ae.W.data, H * D) },
      bh: { shape: [K, H], data: cat((ae) => ae.bh.data, H) },
      br: { shape: [K, D], data: cat((ae) => ae.br.data, D) },
      C: { shape: [K], data: m.C },
    },
    { format: "aescore", kind: "csae", classes: JSON.stringify(m.classes), activation: first.activation, output: first.output },
  );
}

/** Loads a K-class model file into engine e, validating everything. */
export function decodeCsae(e: Engine, bytes: Uint8Array, source = "model"): Csae {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  modelMetadata(metadata, "csae", source);
  const W = tensors.W;
  if (!W || W.shape.length !== 3) throw new FormatError(`${source}: tensor W [K, H, D] is missing or not 3-D`);
  const [K, H, D] = W.shape;
  if (K < 1) throw new FormatError(`${source}: the model has no classes`);
  const spec = checkSpecOf({ D, H, activation: metadata.activation as AeActivation, output: metadata.output as Output }, source);
  const w = tensorOf(tensors, "W", [K, H, D], source);
  const bh = tensorOf(tensors, "bh", [K, H], source);
  const br = tensorOf(tensors, "br", [K, D], source);
  const C = tensorOf(tensors, "C", [K], source);
  const classes = parseClasses(metadata.classes, K, source);
  const aes = classes.map((_, i) => ({
    ...spec,
    W: fromArray(e, `W${i}`, H, D, w.subarray(i * H * D, (i + 1) * H * D)),
    bh: fromArray(e, `bh${i}`, 1, H, bh.subarray(i * H, (i + 1) * H)),
    br: fromArray(e, `br${i}`, 1, D, br.subarray(i * D, (i + 1) * D)),
  }));
  return { classes, aes, C: C.slice() };
}
