// Model files, opened one way: `decodeModel` reads any aescore .safetensors model (an autoencoder, a
// CSAE or a factored CSAE) once, and `encodeModel` writes one back. A classifier comes with its CSAE
// view (K autoencoders and C), which is what scoring uses; a factored one keeps its factors too.
// A model may carry a novelty threshold (metadata novelty_threshold: JSON of a NoveltyThreshold),
// which `withThreshold` stamps into a file's bytes without touching anything else.

import type { Engine } from "../engine/engine.js";
import { decodeAutoencoder, encodeAutoencoder, type Autoencoder } from "./autoencoder.js";
import { decodeCsae, encodeCsae, type Csae } from "./csae.js";
import { decodeFactored, encodeFactored, factoredAsCsae, type FactoredCsae } from "./factored.js";
import { decodeSafetensors, encodeSafetensors } from "../formats/safetensors.js";
import { FormatError, InputError, quote } from "../errors.js";
import { decodeThreshold, encodeThreshold, methodsOf, type NoveltyThreshold } from "./novelty.js";

export type Classifier = { kind: "csae"; csae: Csae } | { kind: "factored-csae"; factored: FactoredCsae; csae: Csae };
export type Model = ({ kind: "autoencoder"; ae: Autoencoder } | Classifier) & { novelty?: NoveltyThreshold };

/** The metadata key of a stored novelty threshold. */
export const THRESHOLD_KEY = "novelty_threshold";

export const MODEL_KINDS = ["autoencoder", "csae", "factored-csae"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Opens any model file into engine e, validating everything; `source` names it in errors. */
export function decodeModel(e: Engine, bytes: Uint8Array, source = "model"): Model {
  const file = decodeSafetensors(bytes, source);
  const kind = file.metadata.kind;
  let m: Model;
  if (kind === "autoencoder") m = { kind, ae: decodeAutoencoder(e, file, source) };
  else if (kind === "csae") m = { kind, csae: decodeCsae(e, file, source) };
  else if (kind === "factored-csae") {
    const factored = decodeFactored(e, file, source);
    m = { kind, factored, csae: factoredAsCsae(factored, source) };
  } else if (kind === "checkpoint") {
    throw new FormatError(`${source}: a training checkpoint, not a model: go on from it with --checkpoint DIR --resume, and use the model that run saves`);
  } else {
    throw new FormatError(`${source}: unknown model kind ${quote(kind)} (${MODEL_KINDS.join(", ")})`);
  }
  const text = file.metadata[THRESHOLD_KEY]; // absent in files written before thresholds existed
  if (text !== undefined) m.novelty = decodeThreshold(text, methodsOf(kind), source);
  return m;
}

/** A model's file bytes, with its novelty threshold when it has one. */
export function encodeModel(m: Model): Uint8Array {
  const bytes = m.kind === "autoencoder" ? encodeAutoencoder(m.ae) : m.kind === "csae" ? encodeCsae(m.csae) : encodeFactored(m.factored);
  return m.novelty ? withThreshold(bytes, m.novelty) : bytes;
}

/**
 * The bytes of model file `bytes` with threshold t stored (replacing any stored one); its tensors
 * (written as F32, the values the model computes with) and other metadata are kept. The method must
 * be one of the model kind's.
 */
export function withThreshold(bytes: Uint8Array, t: NoveltyThreshold, source = "model"): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const kind = metadata.kind;
  if (metadata.format !== "aescore" || !MODEL_KINDS.includes(kind as ModelKind)) {
    throw new FormatError(`${source}: not an aescore model (metadata format ${quote(metadata.format)}, kind ${quote(kind)})`);
  }
  const text = encodeThreshold(t);
  try {
    decodeThreshold(text, methodsOf(kind as ModelKind), source);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  return encodeSafetensors(tensors, { ...metadata, [THRESHOLD_KEY]: text });
}

/** The autoencoders of a model (one, or one per class). */
export function autoencodersOf(m: Model): Autoencoder[] {
  return m.kind === "autoencoder" ? [m.ae] : m.csae.aes;
}
