// Model files, opened one way: `decodeModel` reads any aescore .safetensors model (an autoencoder, a
// CSAE or a factored CSAE) once, and `encodeModel` writes one back. A classifier comes with its CSAE
// view (K autoencoders and C), which is what scoring uses; a factored one keeps its factors too.

import type { Engine } from "../engine/engine.js";
import { decodeAutoencoder, encodeAutoencoder, type Autoencoder } from "./autoencoder.js";
import { decodeCsae, encodeCsae, type Csae } from "./csae.js";
import { decodeFactored, encodeFactored, factoredAsCsae, type FactoredCsae } from "./factored.js";
import { decodeSafetensors } from "../formats/safetensors.js";
import { FormatError, quote } from "../errors.js";

export type Classifier = { kind: "csae"; csae: Csae } | { kind: "factored-csae"; factored: FactoredCsae; csae: Csae };
export type Model = { kind: "autoencoder"; ae: Autoencoder } | Classifier;

export const MODEL_KINDS = ["autoencoder", "csae", "factored-csae"] as const;

/** Opens any model file into engine e, validating everything; `source` names it in errors. */
export function decodeModel(e: Engine, bytes: Uint8Array, source = "model"): Model {
  const file = decodeSafetensors(bytes, source);
  const kind = file.metadata.kind;
  if (kind === "autoencoder") return { kind, ae: decodeAutoencoder(e, file, source) };
  if (kind === "csae") return { kind, csae: decodeCsae(e, file, source) };
  if (kind === "factored-csae") {
    const factored = decodeFactored(e, file, source);
    return { kind, factored, csae: factoredAsCsae(factored) };
  }
  throw new FormatError(`${source}: unknown model kind ${quote(kind)} (${MODEL_KINDS.join(", ")})`);
}

export function encodeModel(m: Model): Uint8Array {
  if (m.kind === "autoencoder") return encodeAutoencoder(m.ae);
  return m.kind === "csae" ? encodeCsae(m.csae) : encodeFactored(m.factored);
}

/** The autoencoders of a model (one, or one per class). */
export function autoencodersOf(m: Model): Autoencoder[] {
  return m.kind === "autoencoder" ? [m.ae] : m.csae.aes;
}
