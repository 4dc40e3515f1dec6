// Model files, opened one way: `decodeModel` reads any aescore .safetensors model (an autoencoder, a
// CSAE or a factored CSAE) once, and `encodeModel` writes one back. A classifier comes with its CSAE
// view (K autoencoders and C), which is what scoring uses; a factored one keeps its factors too.
// A model may carry a novelty threshold (metadata novelty_threshold: JSON of a NoveltyThreshold),
// which `withThreshold` stamps into a file's bytes without touching anything else.

import { createEngineSync, mark, release, type Engine } from "../engine/engine.js";
import { checkAescoreFile, decodeAutoencoder, encodeAutoencoder, type Autoencoder } from "./autoencoder.js";
import { decodeCsae, encodeCsae, type Csae } from "./csae.js";
import { decodeFactored, encodeFactored, factoredAsCsae, type FactoredCsae } from "./factored.js";
import { decodeSafetensors, parsedFile, withMetadata, type Safetensors } from "../formats/safetensors.js";
import { AescoreError, FormatError, InputError, quote } from "../errors.js";
import { decodeThreshold, encodeThreshold, methodsOf, type NoveltyThreshold } from "./novelty.js";

export type Classifier = { kind: "csae"; csae: Csae } | { kind: "factored-csae"; factored: FactoredCsae; csae: Csae };
export type Model = ({ kind: "autoencoder"; ae: Autoencoder } | Classifier) & { novelty?: NoveltyThreshold };

/** The metadata key of a stored novelty threshold. */
export const THRESHOLD_KEY = "novelty_threshold";

export const MODEL_KINDS = ["autoencoder", "csae", "factored-csae"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Opens any model file into engine e, validating everything; `source` names it in errors. */
export function decodeModel(e: Engine, bytes: Uint8Array | Safetensors, source = "model"): Model {
  const file = parsedFile(bytes, source);
  const kind = file.metadata.kind;
  checkAescoreFile(file.metadata, source);
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
  const part = { autoencoder: "ae", csae: "csae", "factored-csae": "factored" } as const;
  if (typeof m !== "object" || m === null || !Object.hasOwn(part, m.kind)) throw new InputError(`encode model: ${quote(m?.kind ?? m)} is not a model kind (${MODEL_KINDS.join(", ")})`);
  const inner = (m as unknown as Record<string, unknown>)[part[m.kind]];
  if (typeof inner !== "object" || inner === null) throw new InputError(`encode model: a ${m.kind} model needs its ${part[m.kind]}`);
  const bytes = m.kind === "autoencoder" ? encodeAutoencoder(m.ae) : m.kind === "csae" ? encodeCsae(m.csae) : encodeFactored(m.factored);
  return m.novelty ? stamp(bytes, decodeSafetensors(bytes).metadata, m.novelty, "model") : bytes; // (bytes of a model just checked)
}

/**
 * The bytes of model file `bytes` with threshold t stored (replacing any stored one); its tensors
 * (their bytes as they were, in whatever dtype) and other metadata are kept. The method must
 * be one of the model kind's. The model is checked whole first, as decodeModel reads it (in engine e,
 * its arena given back afterwards, or in a scratch engine).
 */
export function withThreshold(bytes: Uint8Array, t: NoveltyThreshold, source = "model", e?: Engine): Uint8Array {
  // The whole model, as reading it checks it: bytes that would not read back are not stamped.
  const file = decodeSafetensors(bytes, source); // (parsed once: checked whole, then stamped)
  const engine = e ?? scratchEngine();
  const at = mark(engine);
  try {
    decodeModel(engine, file, source);
  } finally {
    release(engine, at);
  }
  return stamp(bytes, file.metadata, t, source);
}

// Edge runtimes forbid compiling WebAssembly at run time: there the caller's engine (made from a
// precompiled module) is needed.
function scratchEngine(): Engine {
  try {
    return createEngineSync();
  } catch (err) {
    if (err instanceof AescoreError) throw err;
    throw new InputError(`withThreshold: this runtime cannot compile WebAssembly here (${(err as Error).message}); pass an engine: withThreshold(bytes, t, source, e)`);
  }
}

function stamp(bytes: Uint8Array, metadata: Record<string, string>, t: NoveltyThreshold, source: string): Uint8Array {
  const kind = metadata.kind;
  if (metadata.format !== "aescore" || !MODEL_KINDS.includes(kind as ModelKind)) {
    throw new FormatError(`${source}: not an aescore model (metadata format ${quote(metadata.format)}, kind ${quote(kind)})`);
  }
  if (typeof t !== "object" || t === null) throw new InputError(`novelty threshold: ${quote(t)} is not a threshold`);
  let text;
  try {
    text = encodeThreshold(t);
    decodeThreshold(text, methodsOf(kind as ModelKind), "the threshold given");
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  return withMetadata(bytes, { ...metadata, [THRESHOLD_KEY]: text });
}

/** The autoencoders of a model (one, or one per class). */
export function autoencodersOf(m: Model): Autoencoder[] {
  if (typeof m !== "object" || m === null || (m.kind === "autoencoder" ? !m.ae : !m.csae?.aes)) throw new InputError(`autoencodersOf: ${quote(m?.kind ?? m)} is not a decoded model`);
  return m.kind === "autoencoder" ? [m.ae] : m.csae.aes;
}
