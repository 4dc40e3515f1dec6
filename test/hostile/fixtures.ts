// Bytes of hostile (and a few valid) input files for the CLI corpus, all made at test time: small
// models from the library, hand-built .npy / IDX / .safetensors / CSV files, and gzip bombs built
// as many gzip members of one compressed block (no large file is ever committed or held whole).

import { gzipSync } from "node:zlib";
import { createEngineSync, fromArray } from "../../src/engine/engine.js";
import { createAutoencoder, encodeAutoencoder } from "../../src/model/autoencoder.js";
import { encodeCsae } from "../../src/model/csae.js";
import { encodeFactored, type FactoredCsae } from "../../src/model/factored.js";
import { encodeNpy } from "../../src/formats/npy.js";
import { encodeIdx } from "../../src/formats/idx-csv.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/formats/safetensors.js";
import { TRAIN_DEFAULTS, aeCheckpoint, startState } from "../../src/train/autoencoder.js";
import { encodeCheckpoint } from "../../src/train/checkpoint.js";
import { rng } from "../../src/random.js";

export const D = 6;
export const H = 4;
export const N = 12;

const e = createEngineSync();
const r = rng(11);
const uniform = (n: number) => Float32Array.from({ length: n }, () => r.uniform());

export const X = uniform(N * D);
/** Labels 0, 1, 2, 0, 1, 2, … */
export const Y = Float32Array.from({ length: N }, (_, i) => i % 3);

const ae = createAutoencoder(e, { D, H, activation: "tanh", output: "real" }, 1);
const aes = [2, 3, 4].map((s) => createAutoencoder(e, { D, H, activation: "tanh", output: "real" }, s));
const csae = { classes: ["0", "1", "2"], aes, C: Float32Array.of(0.1, -0.2, 0.3) };

export const aeBytes = encodeAutoencoder(ae);
export const csaeBytes = encodeCsae(csae);

const F = 3;
const m = (name: string, rows: number, cols: number) => fromArray(e, name, rows, cols, uniform(rows * cols).map((v) => v - 0.5));
const fac: FactoredCsae = {
  classes: ["0", "1", "2"], activation: "tanh", output: "real",
  Wx: m("Wx", D, F), Wf: m("Wf", 3, F), Wh: m("Wh", F, H), Bh: m("Bh", 3, H), Br: m("Br", 3, D), C: Float32Array.of(0, 0, 0),
};
export const facBytes = encodeFactored(fac);

export const npy = (shape: number[], data: ArrayLike<number>): Uint8Array => encodeNpy({ shape, data: Float32Array.from(data) });
export const xNpy = npy([N, D], X);
export const yNpy = npy([N], Y);
export const csv = (rows: ArrayLike<number>[]): string => rows.map((row) => Array.from(row).join(",")).join("\n") + "\n";
export const xRows = Array.from({ length: N }, (_, i) => X.subarray(i * D, (i + 1) * D));
export const xCsv = csv(xRows);
export const yCsv = Array.from(Y).join("\n") + "\n";

// ---- hand-built .npy ----

const enc = new TextEncoder();
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
export { concat };

/** A .npy file with this header text (padded to 64 bytes) and these data bytes; version 1 or 2. */
export function rawNpy(header: string, data: Uint8Array = new Uint8Array(0), version = 1, lengthOverride?: number): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  const text = header.padEnd(total - prefix - 1, " ") + "\n";
  const head = new Uint8Array(prefix);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(head.buffer);
  const len = lengthOverride ?? text.length;
  if (version === 1) view.setUint16(8, len, true);
  else view.setUint32(8, len, true);
  return concat(head, enc.encode(text), data);
}

export const f4 = (values: ArrayLike<number>): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
export const f8 = (values: ArrayLike<number>): Uint8Array => new Uint8Array(Float64Array.from(values).buffer);
export const npyHeader = (descr: string, shape: string, fortran = "False") => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

// ---- hand-built IDX ----

/** An IDX file: type code, dimensions, then these data bytes. */
export function rawIdx(type: number, dims: number[], data: Uint8Array, ndimOverride?: number): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = type;
  head[3] = ndimOverride ?? dims.length;
  const view = new DataView(head.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return concat(head, data);
}
export const xIdxU8 = encodeIdx({ shape: [N, 2, 3], data: X.map((v) => Math.round(v * 255)) }, "u8");

// ---- hand-built .safetensors ----

/** A .safetensors file from header JSON text and data bytes (the length field may lie). */
export function rawSt(json: string, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const body = enc.encode(json);
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, lengthOverride ?? BigInt(body.length), true);
  return concat(head, body, data);
}

const t = (shape: number[], data: ArrayLike<number>) => ({ shape, data: Float32Array.from(data) });
const W = ae.W.data;
const bh = ae.bh.data;
const br = ae.br.data;
const aeMeta = { format: "aescore", kind: "autoencoder", activation: "tanh", output: "real" };

/** An autoencoder file with tensors and metadata changed. */
export function aeWith(tensors: Record<string, { shape: number[]; data: Float32Array }> = {}, meta: Record<string, string> = {}, drop: string[] = []): Uint8Array {
  const all: Record<string, { shape: number[]; data: Float32Array }> = { W: t([H, D], W), bh: t([H], bh), br: t([D], br), ...tensors };
  for (const k of drop) delete all[k];
  const md: Record<string, string> = { ...aeMeta, ...meta };
  for (const k of drop) delete md[k];
  return encodeSafetensors(all, md);
}

const K = 3;
const cat = (pick: (a: (typeof aes)[number]) => Float32Array) => Float32Array.from(aes.flatMap((a) => Array.from(pick(a))));
/** A csae file with tensors and metadata changed. */
export function csaeWith(tensors: Record<string, { shape: number[]; data: Float32Array }> = {}, meta: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(
    { W: t([K, H, D], cat((a) => a.W.data)), bh: t([K, H], cat((a) => a.bh.data)), br: t([K, D], cat((a) => a.br.data)), C: t([K], csae.C), ...tensors },
    { format: "aescore", kind: "csae", classes: JSON.stringify(csae.classes), activation: "tanh", output: "real", rule: "energy", ...meta },
  );
}
export { t as tensor };

/** The same model file with metadata entries replaced. */
export function restamp(bytes: Uint8Array, meta: Record<string, string>): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  return encodeSafetensors(tensors, { ...metadata, ...meta });
}

/** A checkpoint of the autoencoder whose recorded training options are `options` (e.g. a huge batch). */
export function checkpointWith(options: Record<string, unknown>): Uint8Array {
  const o = { ...TRAIN_DEFAULTS, epochs: 2, batch: 4 };
  const s = startState(ae, o, rng(0));
  return encodeCheckpoint(aeCheckpoint(ae, s, { ...o, ...options } as typeof o, "fingerprint"));
}

// ---- gzip bombs ----

const MiB = 1024 * 1024;
const blocks = new Map<string, Uint8Array>();
/**
 * gzip(prefix) followed by gzip members of 64 MiB of `unit` repeated, `mib` MiB in all: a file of
 * a few MB that inflates to `mib` MiB. gunzip reads concatenated members as one stream.
 */
export function gzipBomb(prefix: Uint8Array, mib: number, unit: Uint8Array = new Uint8Array(1)): Uint8Array {
  const key = Array.from(unit).join(",");
  let block = blocks.get(key);
  if (!block) {
    const raw = new Uint8Array(64 * MiB);
    for (let i = 0; i < raw.length; i += unit.length) raw.set(unit.subarray(0, Math.min(unit.length, raw.length - i)), i);
    block = gzipSync(raw, { level: 9 });
    blocks.set(key, block);
  }
  const parts: Uint8Array[] = [gzipSync(prefix)];
  for (let i = 0; i < Math.ceil(mib / 64); i++) parts.push(block);
  return concat(...parts);
}
export const gzip = (bytes: Uint8Array | string): Uint8Array => gzipSync(typeof bytes === "string" ? enc.encode(bytes) : bytes);
export const utf8 = (s: string): Uint8Array => enc.encode(s);
