// The tied-weight autoencoder (docs/math.md §1): parameters, initialization, the batched encoder and
// decoder on the kernels, input checks, and its .safetensors file.
//
// D = visible units, H = hidden units, N = rows of a batch.

import { alloc, fromArray, mark, release, type Engine, type Mat } from "../engine/engine.js";
import { gemm, gemmPacked, packB, addRowBias, type PackedB } from "../engine/kernels.js";
import { activation, ACTIVATIONS, type Activation } from "../engine/activations.js";
import { InputError, FormatError, RowError, ShapeError, listed, quote } from "../errors.js";
import { encodeSafetensors, parsedFile, type Safetensors } from "../formats/safetensors.js";
import { FLOAT32_MAX, isFloat32Array, squaredNorm, type Conversion, type Tensor } from "../tensor.js";
import { checkSeed, rng as makeRng, type Rng } from "../random.js";
import { shortestF32 } from "../formats/idx-csv.js";

export type Output = "real" | "binary";
/** The activations of docs/math.md §2, plus "kmeans" (a max activation: r(x) is the nearest filter). */
export type AeActivation = Activation | "kmeans";
export const AE_ACTIVATIONS: readonly AeActivation[] = [...ACTIVATIONS, "kmeans"];

export interface Autoencoder {
  readonly activation: AeActivation;
  readonly output: Output;
  readonly D: number;
  readonly H: number;
  readonly W: Mat; // (H, D): row k is hidden unit k's filter w_k
  readonly bh: Mat; // (1, H)
  readonly br: Mat; // (1, D)
  /** Wᵀ packed once for the encoder's GEMM (see packForScoring); absent: packed at every call. */
  readonly Wp?: PackedB;
  /** A scoring snapshot's scratch for one row, allocated once: X (1, D), U (1, H), E and t (1, 1). */
  readonly row?: { X: Mat; U: Mat; E: Mat; t: Mat };
}

export interface AutoencoderSpec {
  D: number;
  H: number;
  activation: AeActivation;
  output: Output;
}

/** Rows processed at once by the batched functions: bounds the scratch to CHUNK x max(D, H) floats. */
export const CHUNK = 1024;

/** Checks sizes, activation and output; an InputError names what is wrong. */
export function checkSpec(spec: AutoencoderSpec): void {
  if (typeof spec !== "object" || spec === null) throw new InputError(`autoencoder: want a spec { D, H, activation, output }, not ${quote(spec)}`);
  const { D, H, activation: act, output } = spec;
  if (!Number.isInteger(D) || D < 1) throw new InputError(`autoencoder: visible size D must be a positive integer, not ${quote(D)}`);
  if (!Number.isInteger(H) || H < 1) throw new InputError(`autoencoder: hidden size H must be a positive integer, not ${quote(H)}`);
  if (!AE_ACTIVATIONS.includes(act)) {
    throw new InputError(`autoencoder: unknown activation ${quote(act)} (one of ${AE_ACTIVATIONS.join(", ")})`);
  }
  checkOutputType(output, "autoencoder: output");
  if (act === "kmeans" && output !== "real") throw new InputError("autoencoder: kmeans has real output only");
}

// The one rule for a model's output, in its spec and at every scoring call (an output neither of the
// two would take the binary branch in one function and the real one in another).
function checkOutputType(output: unknown, what: string): void {
  if (output !== "real" && output !== "binary") throw new InputError(`${what} must be "real" or "binary", not ${quote(output)}`);
}

/**
 * A new autoencoder: W uniform in ±sqrt(6/(D+H)) from the seeded generator, biases 0 (docs/math.md §6.6).
 * For kmeans, bh_k = −½‖w_k‖² so that argmax_k u_k is the nearest filter.
 */
export function createAutoencoder(e: Engine, spec: AutoencoderSpec, seed: number | Rng = 0): Autoencoder {
  checkSpec(spec);
  const { D, H } = spec;
  if (typeof (seed as Rng)?.uniform !== "function") checkSeed(seed, "createAutoencoder", " or a generator (rng(seed))");
  const r = typeof seed === "number" ? makeRng(seed) : seed;
  const W = alloc(e, "W", H, D);
  const scale = Math.sqrt(6 / (D + H));
  const w = W.data;
  for (let i = 0; i < w.length; i++) w[i] = (2 * r.uniform() - 1) * scale;
  const ae = { ...spec, W, bh: alloc(e, "bh", 1, H), br: alloc(e, "br", 1, D) };
  ae.bh.data.fill(0);
  ae.br.data.fill(0);
  if (spec.activation === "kmeans") kmeansBiases(ae);
  return ae;
}

/** Sets bh_k = −½‖w_k‖² (k-means as a max-activation autoencoder, docs/math.md §3.3). */
function kmeansBiases(ae: Autoencoder): void {
  const { W, bh, D } = ae;
  for (let k = 0; k < ae.H; k++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += W.data[k * D + j] ** 2;
    bh.data[k] = -0.5 * s;
  }
}

/** U (N,H) = X Wᵀ + bh; then, where given, Hd = h(U) and G = h'(U). Not for kmeans. */
export function encode(ae: Autoencoder, X: Mat, U: Mat, out: { Hd?: Mat; G?: Mat; S?: Mat } = {}): void {
  if (ae.Wp) gemmPacked(U, X, ae.Wp);
  else gemm(U, X, ae.W, { transB: true });
  addRowBias(U, ae.bh);
  if (ae.activation !== "kmeans" && (out.Hd || out.G || out.S)) {
    activation(ae.activation, U, { h: out.Hd, d1: out.G, d2: out.S });
  }
}

/**
 * A snapshot of ae for scoring many small batches (one row at a time, at the edge): a copy of its
 * weights with Wᵀ packed once, so the encoder's GEMM does not re-pack W at every call. Every result is
 * bit-identical to ae's; later changes to ae's weights do not reach the snapshot (make a new one).
 */
export function packForScoring(ae: Autoencoder): Autoencoder {
  checkWeights(ae, "packForScoring");
  const e = ae.W.engine;
  const W = fromArray(e, `${ae.W.name} (scoring)`, ae.H, ae.D, ae.W.data);
  return {
    activation: ae.activation, output: ae.output, D: ae.D, H: ae.H, W,
    bh: fromArray(e, `${ae.bh.name} (scoring)`, 1, ae.H, ae.bh.data),
    br: fromArray(e, `${ae.br.name} (scoring)`, 1, ae.D, ae.br.data),
    Wp: packB(W, { transB: true }),
    row: { X: alloc(e, "x (scoring)", 1, ae.D), U: alloc(e, "u (scoring)", 1, ae.H), E: alloc(e, "E (scoring)", 1, 1), t: alloc(e, "t (scoring)", 1, 1) },
  };
}

/** A (N,D) = Hd W + br: the decoder's input to its output nonlinearity (R = A, or σ(A) for binary). */
export function decode(ae: Autoencoder, Hd: Mat, A: Mat): void {
  gemm(A, Hd, ae.W);
  addRowBias(A, ae.br);
}

/**
 * Checks an (N, D) input (or a single (D) row): finite values, and inside [0, 1] for binary output.
 * The error names the row and column. Returns the rows checked as a plain (N, D) tensor, X's data read
 * once: callers compute on it, not on X again (a getter could hand the kernels other data the second time).
 */
export function checkInput(ae: Pick<Autoencoder, "D" | "output">, X: Tensor, what = "input"): Tensor {
  if (typeof ae !== "object" || ae === null || !Number.isSafeInteger(ae.D) || ae.D < 1) throw notAnAutoencoder(ae);
  checkOutputType(ae.output, "the model's output");
  if (typeof X !== "object" || X === null || !Array.isArray(X.shape)) throw new ShapeError(`${what}: want a tensor { shape: [N, ${ae.D}], data: Float32Array }, not ${typeof X === "object" && X !== null ? "an object without a shape array" : quote(X)}`);
  const { data } = X;
  const shape = Array.from(X.shape);
  if (!isFloat32Array(data)) throw new ShapeError(`${what}: data must be a Float32Array, not ${Array.isArray(data) ? "an array" : Object.prototype.toString.call(data).slice(8, -1)} (Float32Array.from converts)`);
  const D = shape[shape.length - 1];
  if ((shape.length !== 1 && shape.length !== 2) || D !== ae.D) {
    throw new ShapeError(`${what}: shape [${shape.join(", ")}] does not fit a model with D = ${ae.D} (want [N, ${ae.D}])`);
  }
  const N = shape.length === 2 ? shape[0] : 1;
  if (!Number.isSafeInteger(N) || N < 0) throw new ShapeError(`${what}: shape [${shape.join(", ")}] must count its rows with a non-negative integer`);
  if (data.length !== N * D) throw new ShapeError(`${what}: shape [${shape.join(", ")}] holds ${N * D} values, its data ${data.length}`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      throw new InputError(`${what}: row ${Math.floor(i / D)}, column ${i % D} is ${v}`);
    }
    if (ae.output === "binary" && (v < 0 || v > 1)) {
      throw new InputError(`${what}: row ${Math.floor(i / D)}, column ${i % D} is ${shortestF32(v)}, outside [0, 1] (binary-output model)`);
    }
  }
  return { shape: [N, D], data };
}

/**
 * Checks rows to train on, the (N, D) tensor checkInput returns: each row's squared norm within float32, so the
 * reconstruction loss can be computed at all (1e30 pixels would overflow it in the first step, and
 * be reported as a learning rate too large). Returns X.
 */
export function checkTrainingRows(X: Tensor, what: string): Tensor {
  const D = X.shape[1];
  for (let r = 0; r * D < X.data.length; r++) {
    const ss = squaredNorm(X.data, r * D, (r + 1) * D);
    if (!(ss <= FLOAT32_MAX)) throw new RowError(what, r, `'s squared norm ${ss.toPrecision(3)} is beyond float32's range: the loss of training on it overflows (scale the data)`);
  }
  return X;
}

/**
 * Runs body over row chunks of X (at most CHUNK rows) copied into the arena; body gets the chunk
 * and its first row. Scratch allocated inside body is released after each chunk.
 */
export function eachChunk(e: Engine, X: Tensor, D: number, body: (Xc: Mat, r0: number) => void): void {
  // Rows that live in this engine's memory (a Mat's .data) are copied first: a chunk's allocation may
  // grow the memory, which detaches them.
  const data = X.data.buffer === e.memory.buffer ? X.data.slice() : X.data;
  const N = data.length / D;
  for (let r0 = 0; r0 < N; r0 += CHUNK) {
    const top = mark(e);
    const n = Math.min(CHUNK, N - r0);
    const Xc = fromArray(e, "X", n, D, data.subarray(r0 * D, (r0 + n) * D));
    try {
      body(Xc, r0);
    } finally {
      release(e, top);
    }
  }
}

/**
 * Refuses what is not an autoencoder with weights of its sizes, for the calls that read its weights
 * without an input to check it by (encoding, packing, copying its parameters).
 */
export function checkWeights(ae: Autoencoder, what: string): void {
  if (typeof ae !== "object" || ae === null || !Number.isSafeInteger(ae.D) || ae.D < 1 || !Number.isSafeInteger(ae.H) || ae.H < 1) throw notAnAutoencoder(ae);
  const [W, bh, br] = [ae.W?.data?.length, ae.bh?.data?.length, ae.br?.data?.length];
  if (W !== ae.H * ae.D || bh !== ae.H || br !== ae.D) throw new ShapeError(`${what}: W, bh, br hold ${W}, ${bh}, ${br} values, not ${ae.H * ae.D}, ${ae.H}, ${ae.D} (H = ${ae.H}, D = ${ae.D})`);
}

// (apart, so that checkInput stays small: it runs on every scoring call)
function notAnAutoencoder(m: unknown): InputError {
  const o = m as Record<string, unknown> | null;
  const what = Array.isArray(o?.aes) ? "a classifier (its autoencoders are .aes; score it with scores, predict or classEnergies)"
    : o && typeof o === "object" && "Wx" in o ? "a factored classifier (factoredAsCsae gives its autoencoders)"
    : o && typeof o.kind === "string" ? `a decoded model file of kind ${quote(o.kind)} (its autoencoder is .ae, its classifier .csae)`
    : `not an autoencoder (${quote(m)})`;
  return new InputError(`the model given is ${what}`);
}

/** The model file layout: W [H, D], bh [H], br [D], metadata format/kind/activation/output. */
export function encodeAutoencoder(ae: Autoencoder): Uint8Array {
  checkWeights(ae, "encode autoencoder");
  const tensors = {
    W: { shape: [ae.H, ae.D], data: ae.W.data },
    bh: { shape: [ae.H], data: ae.bh.data },
    br: { shape: [ae.D], data: ae.br.data },
  };
  checkToWrite(tensors, "encode autoencoder");
  return encodeSafetensors(tensors, { format: "aescore", kind: "autoencoder", activation: ae.activation, output: ae.output });
}

/**
 * The decoder's value checks (tensorOf) on tensors about to be written: a model file we write is one
 * we read back. `blocks`: the tensors split per class for the squared-norm bound.
 */
export function checkToWrite(tensors: Record<string, Tensor>, what: string, blocks: Record<string, number> = {}): void {
  for (const [name, t] of Object.entries(tensors)) {
    try {
      tensorOf(tensors, name, t.shape, what, blocks[name] ?? 1);
    } catch (err) {
      throw err instanceof FormatError ? new InputError(err.message) : err;
    }
  }
}

/** Reads the metadata common to every aescore model file, checking kind. */
export function modelMetadata(metadata: Record<string, string>, kind: string, source: string): Record<string, string> {
  checkAescoreFile(metadata, source);
  if (metadata.kind !== kind) throw new FormatError(`${source}: is a ${quote(metadata.kind)} model, not ${quote(kind)}`);
  return metadata;
}

/** Refuses a safetensors file that aescore did not write (no metadata, or another format's). */
export function checkAescoreFile(metadata: Record<string, string>, source: string): void {
  if (metadata.format === "aescore") return;
  const why = Object.keys(metadata).length === 0 ? "the file has no __metadata__" : `its metadata's format is ${quote(metadata.format)}`;
  throw new FormatError(`${source}: not an aescore model (${why}); aescore reads the safetensors files it wrote`);
}

/** Refuses tensors a model of this kind does not have (a file from something else, or a mix-up). */
export function onlyTensors(tensors: Record<string, Tensor>, names: string[], source: string): void {
  const extra = Object.keys(tensors).filter((k) => !names.includes(k));
  if (extra.length > 0) throw new FormatError(`${source}: unexpected tensor${extra.length > 1 ? "s" : ""} ${listed(extra)} (this kind of model has ${names.join(", ")})`);
}

/**
 * Checks that tensor `name` exists with the given shape and holds finite values; `blocks` > 1 splits
 * it along its first axis for the squared-norm bound (one bound per class, as training checks).
 */
export function tensorOf(tensors: Record<string, Tensor>, name: string, shape: number[], source: string, blocks = 1): Float32Array {
  const t = tensors[name];
  if (!t) throw new FormatError(`${source}: tensor ${name} is missing`);
  if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new FormatError(`${source}: tensor ${name} has shape ${Array.isArray(t.shape) ? `[${t.shape.join(", ")}]` : quote(t.shape)}, expected [${shape.join(", ")}]`);
  }
  // (a decoded file's data always fits its shape; a parsed { tensors } given by hand may not)
  const want = shape.reduce((a, b) => a * b, 1);
  if (!isFloat32Array(t.data) || t.data.length !== want) {
    throw new FormatError(`${source}: tensor ${name} must hold ${want} float32 values for its shape [${shape.join(", ")}], not ${isFloat32Array(t.data) ? t.data.length : quote(t.data)}`);
  }
  const overflow = (t as Tensor & Conversion).overflow;
  for (let i = 0; i < t.data.length; i++) {
    if (Number.isFinite(t.data[i])) continue;
    // (an f64 file's 1e300 is named as the file holds it, not as the Infinity it became)
    const held = overflow?.index === i ? `${overflow.value}, beyond float32's range,` : String(t.data[i]);
    throw new FormatError(`${source}: tensor ${name} holds ${held} at index ${i}`);
  }
  const per = t.data.length / blocks;
  for (let b = 0; b < blocks; b++) {
    const ss = squaredNorm(t.data, b * per, (b + 1) * per); // as training refuses (divergedIn)
    if (!(ss <= FLOAT32_MAX)) throw new FormatError(`${source}: tensor ${name}${blocks > 1 ? ` (class ${b})` : ""} is too large (its squared norm ${ss.toPrecision(3)} is beyond float32's range): a diverged model`);
  }
  return t.data;
}

/** The spec read from a model file, checked: a bad one is a FormatError naming the file. */
export function checkSpecOf(spec: AutoencoderSpec, source: string): AutoencoderSpec {
  try {
    checkSpec(spec);
  } catch (err) {
    throw new FormatError(`${source}: metadata: ${(err as Error).message}`);
  }
  return spec;
}

/** Loads an autoencoder model file into engine e, validating everything. */
export function decodeAutoencoder(e: Engine, bytes: Uint8Array | Safetensors, source = "model"): Autoencoder {
  // Bytes, or a file already parsed (decodeModel parses once for any kind).
  const { tensors, metadata } = parsedFile(bytes, source);
  modelMetadata(metadata, "autoencoder", source);
  onlyTensors(tensors, ["W", "bh", "br"], source);
  const W = tensors.W;
  if (!W || W.shape.length !== 2) throw new FormatError(`${source}: tensor W [H, D] is missing or not 2-D`);
  const [H, D] = W.shape;
  const spec = checkSpecOf({ D, H, activation: metadata.activation as AeActivation, output: metadata.output as Output }, source);
  return {
    ...spec,
    W: fromArray(e, "W", H, D, tensorOf(tensors, "W", [H, D], source)),
    bh: fromArray(e, "bh", 1, H, tensorOf(tensors, "bh", [H], source)),
    br: fromArray(e, "br", 1, D, tensorOf(tensors, "br", [D], source)),
  };
}
