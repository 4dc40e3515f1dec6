// Golden digests (issue 10 §5): SHA-256 of the raw little-endian bytes of seeded results, compared
// with the committed test/golden.json by test/golden.test.ts. Any change to a kernel, a summation
// order, the initialization or the random generator that moves one bit changes a digest.
//
// A deliberate change updates golden.json in the same commit, with the reason in the message
// (regenerate it with `npm run build && node dist/test/golden-update.js`).
//
// This module is runtime-independent on purpose: it takes the library as an argument (only its
// public API, src/index.ts), hashes with WebCrypto (globalThis.crypto.subtle) and imports nothing at
// run time, so browsers, Deno, Bun and workerd can compute the same digests and compare them with the
// same golden.json. No node:* module, no worker threads, no file system here.
//
// Everything here is WebAssembly f32 arithmetic and plain +, −, ×, ÷, sqrt in JavaScript (the
// softmax of finetuning and predictProba use src/math.ts, not the host's Math.exp), which every
// runtime rounds the same way: every entry must match everywhere.

import type * as Aescore from "../src/index.js";

export type Lib = typeof Aescore;
type Autoencoder = Aescore.Autoencoder;
type Engine = Aescore.Engine;
type Tensor = Aescore.Tensor;
type Rng = Aescore.Rng;

export type Values = Float32Array | Float64Array | Int32Array | Uint32Array;

/** One digest: element count, the first element as shortest text (readable diffs), SHA-256 of the bytes. */
export interface Digest {
  n: number;
  first: string;
  sha256: string;
}

export type Digests = Record<string, Digest>;

export interface GoldenOptions {
  /** The engine's build ("auto": SIMD where the runtime has it). Both builds must give the same digests. */
  backend?: Aescore.Backend | "auto";
}

/** Visible and hidden sizes of every model (odd, so every 4- and 8-wide kernel runs its tail). */
export const D = 13;
export const H = 7;
/** Rows of every input batch (odd). */
export const N = 9;

/** Prefixes of entries that would depend on the host's Math functions: none (see above). */
export const JS_MATH: string[] = [];

/**
 * What the library refuses, so no digest exists: kmeans with binary output (createAutoencoder),
 * training kmeans by gradient descent, the contractive penalty for relu and modulus (no h' at 0),
 * and a CSAE of kmeans autoencoders. golden.test.ts checks that these are still refused.
 */
export const REFUSED = ["kmeans/binary", "train kmeans", "contractive relu", "contractive modulus", "csae kmeans"];

// ---- bytes and hashes ----------------------------------------------------------------------------

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The little-endian bytes of a typed array (a copy; element bytes reversed on a big-endian host). */
export function leBytes(a: Values): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(a.byteLength);
  bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  if (!littleEndian) {
    const w = a.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
  }
  return bytes;
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The digest of one array (f32 values shown as their shortest round-trip text). */
export async function digestOf(lib: Lib, a: Values): Promise<Digest> {
  const sha256 = hex(await globalThis.crypto.subtle.digest("SHA-256", leBytes(a)));
  const first = a.length === 0 ? "" : a instanceof Float32Array ? lib.shortestF32(a[0]) : String(a[0]);
  return { n: a.length, first, sha256 };
}

/** Digests of every named array, keys sorted. */
export async function digestAll(lib: Lib, arrays: Record<string, Values>): Promise<Digests> {
  const out: Digests = {};
  for (const key of Object.keys(arrays).sort()) out[key] = await digestOf(lib, arrays[key]);
  return out;
}

// ---- seeded inputs ---------------------------------------------------------------------------------

/** A case's seed from its name (FNV-1a), so adding a case does not move the others. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** n x cols values: uniform in [lo, hi) for real output, in [0.02, 0.98) for binary (never 0 or 1). */
function inputs(r: Rng, rows: number, cols: number, output: Aescore.Output, lo = -1.5, hi = 1.5): Tensor {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = output === "binary" ? 0.02 + 0.96 * r.uniform() : lo + (hi - lo) * r.uniform();
  return { shape: [rows, cols], data };
}

/** A seeded model: createAutoencoder's W, then biases from the same generator (kmeans keeps its bh). */
function seededModel(lib: Lib, e: Engine, activation: Aescore.AeActivation, output: Aescore.Output, r: Rng): Autoencoder {
  const ae = lib.createAutoencoder(e, { D, H, activation, output }, r);
  if (activation !== "kmeans") for (let k = 0; k < H; k++) ae.bh.data[k] = 0.5 * (2 * r.uniform() - 1);
  for (let j = 0; j < D; j++) ae.br.data[j] = 0.5 * (2 * r.uniform() - 1);
  return ae;
}

function params(ae: Autoencoder, prefix: string, out: Record<string, Values>): void {
  out[`${prefix}/W`] = ae.W.data.slice();
  out[`${prefix}/bh`] = ae.bh.data.slice();
  out[`${prefix}/br`] = ae.br.data.slice();
}

// ---- the cases ---------------------------------------------------------------------------------------

/** The generator itself: raw 32-bit outputs, uniforms and a Fisher–Yates permutation. */
function rngCases(lib: Lib, out: Record<string, Values>): void {
  const r = lib.rng(seedOf("rng"));
  out["rng/u32"] = Uint32Array.from({ length: 64 }, () => r.u32());
  out["rng/uniform"] = Float32Array.from({ length: 64 }, () => r.uniform());
  out["rng/int"] = Int32Array.from({ length: 64 }, (_, i) => r.int(i + 1));
  out["rng/permutation"] = lib.permutation(50, r);
}

/** Every activation × output: energy, field, laplacian, hessian (row 0), hidden and reconstruct of N rows. */
function modelCases(lib: Lib, e: Engine, out: Record<string, Values>): void {
  for (const activation of lib.AE_ACTIVATIONS) {
    for (const output of ["real", "binary"] as const) {
      if (activation === "kmeans" && output === "binary") continue; // refused: kmeans has real output only
      const name = `ae/${activation}/${output}`;
      const top = lib.mark(e);
      const r = lib.rng(seedOf(name));
      const ae = seededModel(lib, e, activation, output, r);
      const X = inputs(r, N, D, output);
      out[`${name}/W`] = ae.W.data.slice();
      out[`${name}/energy`] = lib.energy(ae, X);
      out[`${name}/field`] = lib.field(ae, X).data;
      out[`${name}/laplacian`] = lib.laplacian(ae, X);
      out[`${name}/hessian0`] = lib.hessian(ae, { shape: [D], data: X.data.subarray(0, D) }).data;
      out[`${name}/hidden`] = lib.hidden(ae, X).data;
      out[`${name}/reconstruct`] = lib.reconstruct(ae, X).data;
      lib.release(e, top);
    }
  }
  // More rows than one chunk (CHUNK = 1024): the batched functions' chunk loop.
  const name = "ae/chunked/softplus/binary";
  const top = lib.mark(e);
  const r = lib.rng(seedOf(name));
  const ae = seededModel(lib, e, "softplus", "binary", r);
  const X = inputs(r, lib.CHUNK + 7, D, "binary");
  out[`${name}/energy`] = lib.energy(ae, X);
  out[`${name}/field`] = lib.field(ae, X).data;
  out[`${name}/laplacian`] = lib.laplacian(ae, X);
  lib.release(e, top);
}

/** The training runs: 3 epochs on 60 seeded rows, minibatches of 16 (a short last one). */
export const TRAIN_CASES: Array<{ name: string; activation: Aescore.Activation; output: Aescore.Output; options: Partial<Aescore.TrainOptions> }> = [
  { name: "train/sigmoid/binary/contractive", activation: "sigmoid", output: "binary", options: { contractive: 0.3 } },
  { name: "train/tanh/real/denoising", activation: "tanh", output: "real", options: { denoising: 0.25 } },
  { name: "train/relu/real/decay-renormalize", activation: "relu", output: "real", options: { weightDecay: 0.01, renormalize: 1.5 } },
];

async function trainCases(lib: Lib, e: Engine, out: Record<string, Values>): Promise<void> {
  for (const c of TRAIN_CASES) {
    const top = lib.mark(e);
    const r = lib.rng(seedOf(c.name));
    const data = inputs(r, 60, D, c.output, -1, 1);
    const o: Aescore.TrainOptions = { ...lib.TRAIN_DEFAULTS, epochs: 3, batch: 16, lr: 0.05, momentum: 0.9, ...c.options };
    const ae = lib.createAutoencoder(e, { D, H, activation: c.activation, output: c.output }, r);
    const state = lib.startState(ae, o, r);
    await lib.trainAutoencoder(ae, data, o, state);
    params(ae, c.name, out);
    out[`${c.name}/loss`] = Float64Array.from(state.history, (h) => h.loss);
    out[`${c.name}/rng`] = Uint32Array.from(state.rng.state());
    lib.release(e, top);
  }
}

// ---- the CSAE ----------------------------------------------------------------------------------------

/** The CSAE problem: 3 classes of 40 rows (interleaved), its options, and 6 probe rows. */
export interface CsaeProblem {
  X: Tensor;
  labels: string[];
  spec: Aescore.AutoencoderSpec;
  pretrain: Aescore.TrainOptions;
  finetune: Aescore.FinetuneOptions;
  seed: number;
  probe: Tensor;
}

export function csaeProblem(lib: Lib): CsaeProblem {
  const r = lib.rng(seedOf("csae/data"));
  const K = 3;
  const perClass = 40;
  const centers = inputs(r, K, D, "real", -1, 1).data;
  const rows = K * perClass;
  const X = new Float32Array(rows * D);
  const labels: string[] = [];
  const order = lib.permutation(rows, r); // classes interleaved, so rowsWithLabel has work to do
  for (let n = 0; n < rows; n++) {
    const k = order[n] % K;
    labels.push(String(k));
    for (let j = 0; j < D; j++) X[n * D + j] = centers[k * D + j] + 0.6 * (2 * r.uniform() - 1);
  }
  const probe = inputs(r, 6, D, "real", -1.2, 1.2);
  return {
    X: { shape: [rows, D], data: X },
    labels,
    spec: { D, H, activation: "sigmoid", output: "real" },
    pretrain: { ...lib.TRAIN_DEFAULTS, epochs: 3, batch: 16, lr: 0.05, momentum: 0.9, contractive: 0.1 },
    finetune: { ...lib.FINETUNE_DEFAULTS, epochs: 3, batch: 16, lr: 0.01, momentum: 0.9, weightDecay: 0.001, loss: "log", learn: "all" },
    seed: seedOf("csae/fit"),
    probe,
  };
}

/**
 * The "csae" variant of fitCsae done in this thread with the runtime-independent pieces: pretrain
 * each class (trainAutoencoder, its generator seeded by classSeed), C from initialConstants, then
 * finetune with localGroups. fitCsae itself imports src/parallel.ts (node:worker_threads) and so
 * only loads in Node.
 */
export async function csaeInThread(lib: Lib, e: Engine, p: CsaeProblem): Promise<Aescore.Csae> {
  const classes = lib.classesOf(p.labels);
  const y = lib.classIndices(p.labels, classes, "labels");
  const perClass = classes.map((c) => lib.rowsWithLabel(p.X, p.labels, c));
  const aes: Aescore.Autoencoder[] = [];
  for (const [i, data] of perClass.entries()) {
    const r = lib.rng(lib.classSeed(p.seed, i));
    const ae = lib.createAutoencoder(e, p.spec, r);
    await lib.trainAutoencoder(ae, data, p.pretrain, lib.startState(ae, p.pretrain, r));
    aes.push(ae);
  }
  const C = lib.initialConstants(aes, perClass);
  const groups = lib.localGroups(e, p.spec, aes.map(lib.slotParams), p.X, p.finetune.batch);
  await lib.finetune(groups, classes.length, y, C, p.finetune, { seed: lib.classSeed(p.seed, -1), trainX: p.X });
  const tuned = await groups.params();
  tuned.forEach((t, i) => {
    aes[i].W.data.set(t.W);
    aes[i].bh.data.set(t.bh);
    aes[i].br.data.set(t.br);
  });
  await groups.close();
  return { classes, aes, C, rule: "energy" };
}

/** The arrays of a fitted CSAE: every class's W, bh, br; C; classEnergies and predictProba of the probe rows. */
export function csaeArrays(lib: Lib, m: Aescore.Csae, probe: Tensor): Record<string, Values> {
  const out: Record<string, Values> = {};
  m.aes.forEach((ae, i) => params(ae, `csae/class${m.classes[i]}`, out));
  out["csae/C"] = m.C.slice();
  out["csae/classEnergies"] = lib.classEnergies(m, probe).data;
  out["csae/predictProba"] = lib.predictProba(m, probe);
  return out;
}

// ---- everything --------------------------------------------------------------------------------------

/** Every golden digest, computed with the given library build (one fresh engine). */
export async function goldenDigests(lib: Lib, options: GoldenOptions = {}): Promise<Digests> {
  const e = await lib.createEngine({ backend: options.backend ?? "auto" });
  const arrays: Record<string, Values> = {};
  rngCases(lib, arrays);
  modelCases(lib, e, arrays);
  await trainCases(lib, e, arrays);
  const top = lib.mark(e);
  const p = csaeProblem(lib);
  Object.assign(arrays, csaeArrays(lib, await csaeInThread(lib, e, p), p.probe));
  lib.release(e, top);
  return digestAll(lib, arrays);
}

/** The differences between two digest sets: entries that differ, and entries missing on either side. */
export function compareDigests(want: Digests, got: Digests): { differ: string[]; missing: string[]; extra: string[] } {
  const differ: string[] = [];
  const missing: string[] = [];
  const extra: string[] = [];
  for (const key of Object.keys(want).sort()) {
    const g = got[key];
    const w = want[key];
    if (!g) missing.push(key);
    else if (g.sha256 !== w.sha256 || g.n !== w.n || g.first !== w.first) differ.push(`${key}: n ${w.n} → ${g.n}, first ${w.first} → ${g.first}, sha256 ${w.sha256.slice(0, 12)}… → ${g.sha256.slice(0, 12)}…`);
  }
  for (const key of Object.keys(got).sort()) if (!(key in want)) extra.push(key);
  return { differ, missing, extra };
}
