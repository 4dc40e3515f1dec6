// Export to ONNX (docs/math.md §3, §7.1): an autoencoder's potential energy, or a CSAE classifier's scores
// and probabilities, as a self-contained ONNX model. Bytes out, no Node imports: the caller writes
// the file.
//
// Target: ONNX IR version 8 with the default operator set ("ai.onnx") version 17 (ONNX 1.12), which
// every current ONNX Runtime (including onnxruntime-web's WebAssembly backend) runs. The model is
// written by the minimal protobuf writer below, from the public onnx.proto field numbers.
//
// Graphs (input "x": float [N, D], N symbolic):
//   autoencoder → "energy" [N]: E(x) = Σ_k Φ(u_k) − ½‖x − br‖² (real output) or
//                 Σ_k Φ(u_k) + brᵀx − Σ_j [x_j log x_j + (1−x_j) log(1−x_j)] (binary output, 0 log 0 = 0),
//                 u = W x + bh, Φ the antiderivative of the hidden activation (docs/math.md §2.1).
//   CSAE        → "scores" [N, K] (z = E + C, or V E + C for rule "energies-lr"),
//                 "probabilities" [N, K] (softmax of z), and "energies" [N, K] (E_i).
// All K autoencoders of a CSAE are stacked into one Gemm ([K·H, D] weights).
//
// Φ per activation (U = Gemm(x, W, bh, transB=1)):
//   sigmoid  softplus(u)                    Softplus
//   tanh     log cosh u = |u| − log 2 + softplus(−2|u|)   Abs, Mul, Sub, Softplus, Add
//   linear   u²/2                           Mul
//   square   u³/3 = (u·u)(u/3)              Mul, Div
//   relu     max(u,0)²/2                    Relu, Mul
//   modulus  u|u|/2                         Abs, Mul
//   sync     softplus(u²)/2                 Mul, Softplus
//   kmeans   E = −½‖x − w_s‖², s = argmax_k u_k (first on ties)   ArgMax, Gather, Sub, Mul, ReduceSum
//   softplus refused: Φ = −Li₂(−e^u) needs the dilogarithm, which ONNX has no operator for.
// A factored CSAE is exported by expanding it to per-class weights W_j (factoredAsCsae).

import { mark, release } from "../engine/engine.js";
import { AE_ACTIVATIONS, type Autoencoder, type AeActivation, type Output } from "./autoencoder.js";
import { checkCsae, type Csae } from "./csae.js";
import { factoredAsCsae, type FactoredCsae } from "./factored.js";
import type { Model } from "./files.js";
import { InputError, ShapeError, onlyKeys, quote } from "../errors.js";
import { LITTLE_ENDIAN } from "../tensor.js";

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

export interface OnnxOptions {
  /** ModelProto.producer_version (e.g. the package version). */
  producerVersion?: string;
  /** ModelProto.doc_string. */
  docString?: string;
}

/** Why an activation cannot be exported, or undefined when it can. */
function onnxUnsupported(act: string): string | undefined {
  if (act === "softplus") {
    return "softplus's energy −Li₂(−e^u) needs the dilogarithm, which ONNX has no operator for (and no finite composition of ONNX operators computes it)";
  }
  if (!(AE_ACTIVATIONS as readonly string[]).includes(act)) return `unknown activation ${quote(act)} (one of ${AE_ACTIVATIONS.join(", ")})`;
  return undefined;
}

// ---- protobuf writer (wire types: 0 varint, 2 length-delimited, 5 fixed32) ------------------------

// A message is kept as a list of pieces, its own small bytes and views of large arrays (the weights,
// as the model holds them), so that nesting copies nothing: the weights are copied once, into the
// file, by finish(). The views stay valid because nothing between building and finish() allocates
// in an engine (which could grow, and so detach, its memory).
class Pb {
  private readonly parts: Uint8Array[] = [];
  private buf = new Uint8Array(64);
  private n = 0;
  /** The message's length in bytes so far. */
  length = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
    this.length++;
  }

  // The small bytes written so far become a piece of their own (before a view is added after them).
  private flush(): void {
    if (this.n === 0) return;
    this.parts.push(this.buf.subarray(0, this.n));
    this.buf = new Uint8Array(64);
    this.n = 0;
  }

  /** A base-128 varint; negative values as their 64-bit two's complement (10 bytes). */
  varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf: ${v} is not a safe integer`);
    if (v >= 0) {
      while (v >= 0x80) {
        this.byte((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      this.byte(v);
      return;
    }
    let u = BigInt.asUintN(64, BigInt(v));
    while (u >= 0x80n) {
      this.byte(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.byte(Number(u));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.room(4);
    new DataView(this.buf.buffer).setFloat32(this.n, v, true);
    this.n += 4;
    this.length += 4;
    return this;
  }

  /** A length-delimited field whose bytes are the chunks one after another (large ones kept as views). */
  bytes(field: number, ...chunks: Uint8Array[]): this {
    this.tag(field, 2);
    this.varint(chunks.reduce((a, c) => a + c.length, 0));
    for (const c of chunks) {
      if (c.length < 1024) {
        this.room(c.length);
        this.buf.set(c, this.n);
        this.n += c.length;
      } else {
        this.flush();
        this.parts.push(c);
      }
      this.length += c.length;
    }
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** An embedded message: `m` (built on its own), or what `body` writes into a new one. */
  message(field: number, m: Pb | ((m: Pb) => void)): this {
    const inner = m instanceof Pb ? m : new Pb();
    if (!(m instanceof Pb)) m(inner);
    inner.flush();
    this.tag(field, 2);
    this.varint(inner.length);
    this.flush();
    this.parts.push(...inner.parts);
    this.length += inner.length;
    return this;
  }

  /** The bytes of the message: every piece copied once into one array. */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// onnx.proto field numbers used here.
const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;

type Attr = { name: string; i?: number; f?: number; s?: string };

function littleEndianF32(values: ArrayLike<number>): Uint8Array {
  // float32 on a little-endian machine already is the wire format: a view, not a copy.
  if (LITTLE_ENDIAN && values instanceof Float32Array) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
  return out;
}

function littleEndianI64(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setBigInt64(i * 8, BigInt(values[i]), true);
  return out;
}

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian: the chunks in order). */
function tensorProto(type: number, name: string, dims: number[], raw: Uint8Array[]): Pb {
  const m = new Pb();
  for (const d of dims) m.int(1, d);
  m.int(2, type);
  m.string(8, name);
  return m.bytes(9, ...raw);
}

/** ValueInfoProto of a float tensor: name (1), type (2) → tensor_type (1) → elem_type (1), shape (2). */
function valueInfo(m: Pb, name: string, dims: (number | string)[], doc?: string): void {
  m.string(1, name);
  m.message(2, (t) =>
    t.message(1, (tt) => {
      tt.int(1, TENSOR_FLOAT);
      tt.message(2, (s) => {
        for (const d of dims) s.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
  if (doc) m.string(3, doc);
}

// ---- graph builder --------------------------------------------------------------------------------

class Graph {
  readonly nodes: Pb[] = [];
  readonly initializers: Pb[] = [];
  readonly ops = new Set<string>();
  private count = 0;
  private scalars = new Map<string, string>();

  /** Adds a node; returns its (single) output's name, `out` when given. */
  op(type: string, inputs: string[], attrs: Attr[] = [], out?: string): string {
    const name = out ?? `${type.toLowerCase()}_${this.count}`;
    const node = new Pb();
    for (const i of inputs) node.string(1, i);
    node.string(2, name);
    node.string(3, `n${this.count++}_${type}`);
    node.string(4, type);
    for (const a of attrs) {
      node.message(5, (m) => {
        m.string(1, a.name);
        if (a.i !== undefined) m.int(3, a.i).int(20, ATTR_INT);
        else if (a.f !== undefined) m.float(2, a.f).int(20, ATTR_FLOAT);
        else m.string(4, a.s ?? "").int(20, ATTR_STRING);
      });
    }
    this.nodes.push(node);
    this.ops.add(type);
    return name;
  }

  /** A float initializer: its values, or their chunks one after another (the classes' weights). */
  floats(name: string, dims: number[], ...chunks: ArrayLike<number>[]): string {
    this.initializers.push(tensorProto(TENSOR_FLOAT, name, dims, chunks.map(littleEndianF32)));
    return name;
  }

  int64s(name: string, dims: number[], values: ArrayLike<number>): string {
    this.initializers.push(tensorProto(TENSOR_INT64, name, dims, [littleEndianI64(values)]));
    return name;
  }

  /** A float scalar constant (shared by value). */
  scalar(v: number): string {
    const key = `f${Object.is(v, -0) ? "-0" : v}`;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.floats(`const_${this.scalars.size}`, [], [v]);
      this.scalars.set(key, name);
    }
    return name;
  }

  /** An int64 1-D constant (axes, shapes), shared by value. */
  axes(values: number[]): string {
    const key = `i${values.join(",")}`;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.int64s(`ints_${this.scalars.size}`, [values.length], values);
      this.scalars.set(key, name);
    }
    return name;
  }

  reduceSum(x: string, axis: number, keepdims = false): string {
    return this.op("ReduceSum", [x, this.axes([axis])], [{ name: "keepdims", i: keepdims ? 1 : 0 }]);
  }
}

// Φ(U) elementwise, per docs/math.md §2.1.
function potential(g: Graph, act: AeActivation, U: string): string {
  switch (act) {
    case "sigmoid":
      return g.op("Softplus", [U]);
    case "tanh": {
      const a = g.op("Abs", [U]);
      const sp = g.op("Softplus", [g.op("Mul", [a, g.scalar(-2)])]);
      return g.op("Add", [g.op("Sub", [a, g.scalar(Math.LN2)]), sp]);
    }
    case "linear":
      return g.op("Mul", [g.op("Mul", [U, g.scalar(0.5)]), U]);
    case "square":
      return g.op("Mul", [g.op("Mul", [U, U]), g.op("Div", [U, g.scalar(3)])]);
    case "relu": {
      const r = g.op("Relu", [U]);
      return g.op("Mul", [g.op("Mul", [r, g.scalar(0.5)]), r]);
    }
    case "modulus":
      return g.op("Mul", [g.op("Mul", [U, g.scalar(0.5)]), g.op("Abs", [U])]);
    case "sync":
      return g.op("Mul", [g.op("Softplus", [g.op("Mul", [U, U])]), g.scalar(0.5)]);
    default:
      throw new InputError(`onnx export: activation ${quote(act)}: ${onnxUnsupported(act) ?? "not supported"}`);
  }
}

// t log t with 0 log 0 = 0 (t < 0 gives NaN, as the log of a negative number should).
function xlogx(g: Graph, t: string): string {
  const safe = g.op("Where", [g.op("Equal", [t, g.scalar(0)]), g.scalar(1), t]);
  return g.op("Mul", [t, g.op("Log", [safe])]);
}

interface Stack {
  K: number; // 1 and single: a plain autoencoder, energy [N]
  single: boolean;
  D: number;
  H: number;
  activation: AeActivation;
  output: Output;
  // The classes' parameters, one chunk per class (views of the models' own arrays: nothing is copied
  // before the file is written).
  W: Float32Array[]; // [K·H, D] together
  bh: Float32Array[]; // [K·H]
  br: Float32Array[]; // [K, D]
}

/** The energies of x under the stacked autoencoders: [N] (single) or [N, K]. */
function energies(g: Graph, x: string, s: Stack): string {
  const { K, D, H, single } = s;
  const W = g.floats("W", single ? [H, D] : [K * H, D], ...s.W);
  const bh = g.floats("bh", single ? [H] : [K * H], ...s.bh);
  const U = g.op("Gemm", [x, W, bh], [{ name: "transB", i: 1 }]); // [N, K·H]
  const hiddenAxis = single ? 1 : 2;
  const perClass = (t: string): string => (single ? t : g.op("Reshape", [t, g.axes([-1, K, H])])); // [N, K, H]
  // x as [N, 1, D] against per-class [K, D] rows (the [N] / [N, D] forms for a single model).
  const x3 = single ? x : g.op("Unsqueeze", [x, g.axes([1])]);
  const negHalfSquaredDistance = (rows: string): string => {
    const d = g.op("Sub", [x3, rows]);
    return g.op("Mul", [g.reduceSum(g.op("Mul", [d, d]), hiddenAxis), g.scalar(-0.5)]);
  };

  if (s.activation === "kmeans") {
    // −½‖x − w_s‖², s = the first largest u_k of each autoencoder.
    const best = g.op("ArgMax", [perClass(U)], [{ name: "axis", i: hiddenAxis }, { name: "keepdims", i: 0 }, { name: "select_last_index", i: 0 }]);
    const index = single ? best : g.op("Add", [best, g.int64s("class_offsets", [K], Array.from({ length: K }, (_, k) => k * H))]);
    return negHalfSquaredDistance(g.op("Gather", [W, index], [{ name: "axis", i: 0 }]));
  }

  const hiddenTerm = g.reduceSum(perClass(potential(g, s.activation, U)), hiddenAxis);
  if (s.output === "real") {
    const br = g.floats("br", single ? [D] : [K, D], ...s.br);
    return g.op("Add", [hiddenTerm, negHalfSquaredDistance(br)]);
  }
  // Binary: + brᵀx − Σ_j [x log x + (1−x) log(1−x)].
  let brT: string;
  if (single) {
    // [D, 1], not [D]: onnxruntime's MatMul of x [0, D] by a 1-D operand fails on an empty batch.
    brT = g.floats("br", [D, 1], ...s.br);
  } else {
    const t = new Float32Array(D * K);
    for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) t[j * K + k] = s.br[k][j];
    brT = g.floats("br_transposed", [D, K], t);
  }
  const linear = single ? g.reduceSum(g.op("MatMul", [x, brT]), 1, false) : g.op("MatMul", [x, brT]); // [N] or [N, K]
  const q = g.op("Sub", [g.scalar(1), x]);
  const negEntropy = g.reduceSum(g.op("Add", [xlogx(g, x), xlogx(g, q)]), 1, !single); // [N] or [N, 1]
  return g.op("Sub", [g.op("Add", [hiddenTerm, linear]), negEntropy]);
}

function checkLength(what: string, a: ArrayLike<number>, n: number, shape: string): void {
  if (a.length !== n) throw new ShapeError(`onnx export: ${what} holds ${a.length} values, not ${n} (${shape})`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new InputError(`onnx export: ${what} holds ${a[i]} at index ${i}`);
  }
}

function checkAutoencoder(ae: Autoencoder, what: string): void {
  const { D, H } = ae;
  if (!Number.isInteger(D) || D < 1 || !Number.isInteger(H) || H < 1) {
    throw new ShapeError(`onnx export: ${what}: sizes D = ${quote(D)}, H = ${quote(H)} must be positive integers`);
  }
  if (ae.output !== "real" && ae.output !== "binary") throw new InputError(`onnx export: ${what}: output must be "real" or "binary", not ${quote(ae.output)}`);
  const why = onnxUnsupported(ae.activation);
  if (why) throw new InputError(`onnx export: ${what}: cannot export activation ${quote(ae.activation)}: ${why}`);
  if (ae.activation === "kmeans" && ae.output !== "real") throw new InputError(`onnx export: ${what}: kmeans has real output only`);
  checkLength(`${what} W`, ae.W.data, H * D, `[H, D] = [${H}, ${D}]`);
  checkLength(`${what} bh`, ae.bh.data, H, `[H] = [${H}]`);
  checkLength(`${what} br`, ae.br.data, D, `[D] = [${D}]`);
}

function isCsae(m: unknown): m is Csae {
  return typeof m === "object" && m !== null && Array.isArray((m as Csae).aes);
}

function checkOnnxOptions(o: OnnxOptions): void {
  onlyKeys(o, ["producerVersion", "docString"], "onnx export");
  for (const k of ["producerVersion", "docString"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "string") throw new InputError(`onnx export: ${k} must be a string, not ${quote(o[k])}`);
  }
}

function isFactored(m: unknown): m is FactoredCsae {
  return typeof m === "object" && m !== null && "Wx" in m && "Wf" in m && "Wh" in m;
}

function serialize(g: Graph, inputs: [string, (number | string)[], string][], outputs: [string, (number | string)[], string][], meta: Record<string, string>, o: OnnxOptions): Uint8Array {
  const model = new Pb();
  model.int(1, ONNX_IR_VERSION);
  model.string(2, "aescore");
  if (o.producerVersion) model.string(3, o.producerVersion);
  if (o.docString) model.string(6, o.docString);
  model.message(7, (graph) => {
    for (const n of g.nodes) graph.message(1, n);
    graph.string(2, "aescore");
    for (const t of g.initializers) graph.message(5, t);
    for (const [name, dims, doc] of inputs) graph.message(11, (v) => valueInfo(v, name, dims, doc));
    for (const [name, dims, doc] of outputs) graph.message(12, (v) => valueInfo(v, name, dims, doc));
  });
  model.message(8, (op) => op.int(2, ONNX_OPSET)); // domain "" = ai.onnx
  const props = { ...meta, onnx_ir_version: String(ONNX_IR_VERSION), onnx_opset: String(ONNX_OPSET), operators: [...g.ops].sort().join(",") };
  for (const [k, v] of Object.entries(props)) model.message(14, (p) => p.string(1, k).string(2, v));
  return model.finish();
}

/**
 * The ONNX model (bytes of a ModelProto) of an autoencoder (output "energy" [N]), a CSAE (outputs
 * "scores", "probabilities", "energies", each [N, K]) or a factored CSAE (expanded to per-class
 * weights). Input "x" is float [N, D]. An InputError says why a model cannot be exported.
 */
export function exportOnnx(model: Autoencoder | Csae | FactoredCsae, options: OnnxOptions = {}): Uint8Array {
  checkOnnxOptions(options);
  if (isFactored(model)) {
    const e = model.Wx.engine;
    const top = mark(e);
    try {
      return exportFactored(model, () => factoredAsCsae(model), options);
    } finally {
      release(e, top);
    }
  }
  if (isCsae(model)) return exportClassifier(model, options, { kind: "csae" });
  const ae = model as Autoencoder;
  if (typeof ae !== "object" || ae === null || !ae.W) throw new InputError("onnx export: not an autoencoder, CSAE or factored CSAE");
  checkAutoencoder(ae, "autoencoder");
  checkSize(ae.H * ae.D + ae.H + ae.D);
  const g = new Graph();
  const E = energies(g, "x", { K: 1, single: true, D: ae.D, H: ae.H, activation: ae.activation, output: ae.output, W: [ae.W.data], bh: [ae.bh.data], br: [ae.br.data] });
  g.op("Identity", [E], [], "energy");
  return serialize(
    g,
    [["x", ["N", ae.D], ae.output === "binary" ? "rows in [0, 1]" : "rows"]],
    [["energy", ["N"], "potential energy E(x)"]],
    { kind: "autoencoder", activation: ae.activation, output: ae.output, D: String(ae.D), H: String(ae.H) },
    options,
  );
}

/** A model as decodeModel read it; a factored one exports the classifier it was already expanded to. */
export function exportModel(m: Model, options: OnnxOptions = {}): Uint8Array {
  checkOnnxOptions(options);
  if (typeof m !== "object" || m === null || typeof m.kind !== "string") throw new InputError(`onnx export: want a model as decodeModel reads it, not ${quote(m)}`);
  if (m.kind !== "factored-csae") return exportOnnx(m.kind === "autoencoder" ? m.ae : m.csae, options);
  return exportFactored(m.factored, () => m.csae, options);
}

/** A factored model as the classifier `expanded` gives (asked for once its activation is known to export). */
function exportFactored(f: FactoredCsae, expanded: () => Csae, options: OnnxOptions): Uint8Array {
  const why = onnxUnsupported(f.activation);
  if (why) throw new InputError(`onnx export: cannot export activation ${quote(f.activation)}: ${why}`);
  return exportClassifier(expanded(), options, {
    kind: "factored-csae",
    factors: String(f.Wx.cols),
    expanded: "per-class W_j = Whᵀ diag(Wf_j) Wxᵀ, materialized at export",
  });
}

/** Refuses a model whose weights alone pass protobuf's 2 GiB limit on a message (no external data here). */
function checkSize(values: number): void {
  const bytes = 4 * values;
  if (bytes > 2 ** 31 - 2 ** 24) throw new InputError(`onnx export: the weights take ${(bytes / 2 ** 30).toFixed(2)} GiB; an ONNX file without external data holds at most 2 GiB`);
}

function exportClassifier(m: Csae, options: OnnxOptions, meta: Record<string, string>): Uint8Array {
  const rule = m.rule ?? "energy";
  if (rule === "reconstruction") {
    throw new InputError('onnx export: rule "reconstruction" scores by reconstruction error, not by energy; only the rules "energy" and "energies-lr" can be exported');
  }
  if (rule === "energies-lr" && !m.V) throw new InputError('onnx export: rule "energies-lr" needs V [K, K]');
  // The classifier whole (as scoring checks it), then what export needs beyond: sizes, an
  // exportable activation and finite weights, class by class.
  checkCsae(m, "onnx export");
  m.aes.forEach((ae, i) => checkAutoencoder(ae, `class ${quote(m.classes[i])}`));
  const K = m.aes.length;
  const [first] = m.aes;
  const { D, H, activation, output } = first;
  checkSize(K * (H * D + H + D + K));
  const g = new Graph();
  const E = energies(g, "x", { K, single: false, D, H, activation, output, W: m.aes.map((ae) => ae.W.data), bh: m.aes.map((ae) => ae.bh.data), br: m.aes.map((ae) => ae.br.data) });
  g.op("Identity", [E], [], "energies");
  const C = g.floats("C", [K], m.C);
  const z =
    rule === "energies-lr"
      ? g.op("Gemm", [E, g.floats("V", [K, K], m.V!), C], [{ name: "transB", i: 1 }], "scores")
      : g.op("Add", [E, C], [], "scores");
  g.op("Softmax", [z], [{ name: "axis", i: 1 }], "probabilities");
  return serialize(
    g,
    [["x", ["N", D], output === "binary" ? "rows in [0, 1]" : "rows"]],
    [
      ["scores", ["N", K], rule === "energies-lr" ? "z = V E + C" : "z_i = E_i(x) + C_i"],
      ["probabilities", ["N", K], "softmax(z): P(y = i | x)"],
      ["energies", ["N", K], "E_i(x)"],
    ],
    { ...meta, activation, output, rule, classes: JSON.stringify(m.classes), D: String(D), H: String(H), K: String(K) },
    options,
  );
}
