// The ONNX export run in onnxruntime-web (WebAssembly backend, in Node): every exportable activation ×
// output, CSAEs (rules energy and energies-lr) and a factored CSAE reproduce aescore's energy, scores
// and probabilities; unexportable models are refused with a reason.
//
// onnxruntime-web is not a dependency of aescore: it lives in its own package, test/onnx-runtime
// (`npm --prefix test/onnx-runtime ci`), or wherever AESCORE_ONNXRUNTIME points (a directory whose
// node_modules holds onnxruntime-web). Without it the runtime tests are skipped with a note.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { createEngineSync } from "../src/engine/engine.js";
import { createAutoencoder, type Autoencoder, type AeActivation, type Output } from "../src/model/autoencoder.js";
import { energy } from "../src/model/energy.js";
import { classEnergies, scores, predictProba, type Csae } from "../src/model/csae.js";
import { createFactored, factoredAsCsae } from "../src/model/factored.js";
import { InputError } from "../src/errors.js";
import { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET } from "../src/model/onnx.js";
import { rng, type Rng } from "../src/random.js";

// ---- the runtime ----------------------------------------------------------------------------------

// dist/test/onnx.test.js → the repository's test/onnx-runtime.
const runtimeDir = process.env.AESCORE_ONNXRUNTIME ?? fileURLToPath(new URL("../../test/onnx-runtime/", import.meta.url));
// The part of onnxruntime-web's API used here (its types are not installed with aescore).
interface OrtTensor {
  data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  env: { logLevel?: string; wasm: { numThreads?: number } };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options?: { executionProviders?: string[] }): Promise<OrtSession> };
}
let ort: Ort | undefined;
let ortVersion = "";
if (existsSync(join(runtimeDir, "node_modules", "onnxruntime-web", "package.json"))) {
  const require = createRequire(join(runtimeDir, "package.json"));
  ort = require("onnxruntime-web") as Ort;
  ortVersion = (JSON.parse(readFileSync(join(runtimeDir, "node_modules", "onnxruntime-web", "package.json"), "utf8")) as { version: string }).version;
  ort.env.wasm.numThreads = 1; // no worker threads (the machine is shared; results do not depend on it)
  ort.env.logLevel = "error";
} else if (process.env.AESCORE_REQUIRE_RUNTIMES) {
  // CI installs every runtime the tests name: a missing one is a failure there, not a skip.
  throw new Error(`onnx.test: onnxruntime-web is not installed under ${runtimeDir} (npm --prefix test/onnx-runtime ci)`);
} else {
  console.log(`onnx.test: onnxruntime-web not found under ${runtimeDir}; skipping the runtime checks (npm --prefix test/onnx-runtime ci)`);
}

async function run(bytes: Uint8Array, X: Float32Array, N: number, D: number): Promise<Record<string, Float32Array>> {
  const session = await ort!.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  try {
    const out = await session.run({ x: new ort!.Tensor("float32", X, [N, D]) });
    const res: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
    return res;
  } finally {
    await session.release();
  }
}

// ---- models and inputs ----------------------------------------------------------------------------

const e = createEngineSync();
const [D, H, K, N, F] = [13, 7, 3, 9, 5];
const CLASSES = ["zero", "one", "two"];
const ACTS: AeActivation[] = ["sigmoid", "tanh", "linear", "square", "relu", "modulus", "sync", "kmeans"];
const cases: [AeActivation, Output][] = ACTS.flatMap((a) => (a === "kmeans" ? [[a, "real"]] : [[a, "real"], [a, "binary"]]) as [AeActivation, Output][]);

function fill(r: Rng, a: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * r.uniform();
}

function randomAe(act: AeActivation, output: Output, seed: number): Autoencoder {
  const ae = createAutoencoder(e, { D, H, activation: act, output }, seed);
  const r = rng(seed + 1000);
  if (act !== "kmeans") fill(r, ae.bh.data, -0.5, 0.5); // kmeans keeps bh_k = −½‖w_k‖²
  fill(r, ae.br.data, -0.5, 0.5);
  return ae;
}

function inputs(output: Output, seed: number, rows = N): Float32Array {
  const X = new Float32Array(rows * D);
  if (output === "binary") fill(rng(seed), X, 0.001, 0.999);
  else fill(rng(seed), X, -1.5, 1.5);
  if (output === "binary") for (let i = 0; i < X.length; i++) if (!(X[i] > 0 && X[i] < 1)) X[i] = 0.5;
  return X;
}

function randomCsae(act: AeActivation, output: Output, seed: number, rule?: "energies-lr"): Csae {
  const aes = CLASSES.map((_, i) => randomAe(act, output, seed + 17 * i));
  const C = new Float32Array(K);
  fill(rng(seed + 5), C, -2, 2);
  if (!rule) return { classes: CLASSES, aes, C };
  const V = new Float32Array(K * K);
  fill(rng(seed + 6), V, -1, 1);
  return { classes: CLASSES, aes, C, rule, V };
}

// ---- comparison ------------------------------------------------------------------------------------

const worst: Record<string, number> = {};

/** |got − want| <= 1e-5·max(1, |want|) everywhere; records the worst relative error under `name`. */
function close(name: string, got: ArrayLike<number> | undefined, want: ArrayLike<number>): void {
  assert.ok(got, `${name}: no output`);
  assert.is(got!.length, want.length, `${name}: length`);
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got![i] - want[i]) / Math.max(1, Math.abs(want[i]));
    assert.ok(err <= 1e-5, `${name}: element ${i}: onnx ${got![i]}, aescore ${want[i]} (relative error ${err})`);
    w = Math.max(w, err);
  }
  worst[name] = Math.max(worst[name] ?? 0, w);
}

// ---- a minimal protobuf reader, to check the model's header and list its operators -----------------

type Fields = Map<number, (number | Uint8Array)[]>;
function readFields(b: Uint8Array): Fields {
  const out: Fields = new Map();
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let m = 1;
    for (;;) {
      const c = b[p++];
      v += (c & 0x7f) * m;
      if (c < 0x80) return v;
      m *= 128;
    }
  };
  while (p < b.length) {
    const tag = varint();
    const [field, wire] = [Math.floor(tag / 8), tag % 8];
    let v: number | Uint8Array;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const n = varint();
      v = b.subarray(p, p + n);
      p += n;
    } else if (wire === 5) {
      v = b.subarray(p, p + 4);
      p += 4;
    } else throw new Error(`wire type ${wire}`);
    if (!out.has(field)) out.set(field, []);
    out.get(field)!.push(v);
  }
  return out;
}
const text = (v: number | Uint8Array | undefined) => new TextDecoder().decode(v as Uint8Array);

function header(bytes: Uint8Array): { ir: number; opset: number; producer: string; meta: Record<string, string>; ops: string[]; io: string[] } {
  const m = readFields(bytes);
  const graph = readFields(m.get(7)![0] as Uint8Array);
  const opset = readFields(m.get(8)![0] as Uint8Array);
  const meta: Record<string, string> = {};
  for (const p of m.get(14) ?? []) {
    const kv = readFields(p as Uint8Array);
    meta[text(kv.get(1)![0])] = text(kv.get(2)![0]);
  }
  const ops = [...new Set((graph.get(1) ?? []).map((n) => text(readFields(n as Uint8Array).get(4)![0])))].sort();
  const io = [...(graph.get(11) ?? []), ...(graph.get(12) ?? [])].map((v) => text(readFields(v as Uint8Array).get(1)![0]));
  return { ir: m.get(1)![0] as number, opset: opset.get(2)![0] as number, producer: text(m.get(2)![0]), meta, ops, io };
}

// ---- tests -------------------------------------------------------------------------------------------

const started = Date.now();
const operators: Record<string, string> = {};

test("the model's header: IR version, opset, producer, metadata, inputs and outputs", () => {
  const ae = randomAe("tanh", "binary", 1);
  const h = header(exportOnnx(ae, { producerVersion: "0.1.0" }));
  assert.is(h.ir, ONNX_IR_VERSION);
  assert.is(h.opset, ONNX_OPSET);
  assert.is(h.producer, "aescore");
  assert.is(h.meta.kind, "autoencoder");
  assert.is(h.meta.activation, "tanh");
  assert.is(h.meta.output, "binary");
  assert.is(h.meta.operators, h.ops.join(","));
  assert.equal(h.io, ["x", "energy"]);
  const c = header(exportOnnx(randomCsae("sigmoid", "real", 2)));
  assert.equal(JSON.parse(c.meta.classes), CLASSES);
  assert.is(c.meta.rule, "energy");
  assert.equal(c.io, ["x", "scores", "probabilities", "energies"]);
});

test("every exportable activation × output: the ONNX energy is aescore's energy", async () => {
  if (!ort) return;
  let seed = 10;
  for (const [act, output] of cases) {
    const ae = randomAe(act, output, seed++);
    const X = inputs(output, seed++);
    const bytes = exportOnnx(ae);
    operators[`${act}/${output}`] = header(bytes).ops.join(" ");
    const got = await run(bytes, X, N, D);
    close(`autoencoder ${act}/${output}`, got.energy, energy(ae, { shape: [N, D], data: X }));
  }
});

test("binary output: exact 0s and 1s in the input (0 log 0 = 0)", async () => {
  if (!ort) return;
  for (const act of ["sigmoid", "relu"] as const) {
    const ae = randomAe(act, "binary", 3);
    const X = inputs("binary", 4);
    for (let j = 0; j < D; j++) X[j] = j % 2; // row 0 all 0/1
    X[D + 3] = 0;
    X[2 * D + 5] = 1;
    const got = await run(exportOnnx(ae), X, N, D);
    close(`autoencoder ${act}/binary with 0s and 1s`, got.energy, energy(ae, { shape: [N, D], data: X }));
  }
});

test("an empty batch: every autoencoder graph gives no energies (binary output's MatMul by a 1-D br failed)", async () => {
  if (!ort) return;
  for (const [act, output] of cases) {
    const got = await run(exportOnnx(randomAe(act, output, 5)), new Float32Array(0), 0, D);
    assert.is(got.energy.length, 0, `${act}/${output}`);
  }
});

test("CSAE, every exportable activation × output: energies, scores E + C and probabilities", async () => {
  if (!ort) return;
  let seed = 100;
  for (const [act, output] of cases) {
    const m = randomCsae(act, output, seed++);
    const X = { shape: [N, D], data: inputs(output, seed++) };
    const got = await run(exportOnnx(m), X.data, N, D);
    close(`csae ${act}/${output} energies`, got.energies, classEnergies(m, X).data);
    close(`csae ${act}/${output} scores`, got.scores, scores(m, X));
    close(`csae ${act}/${output} probabilities`, got.probabilities, predictProba(m, X));
  }
});

test("CSAE with rule energies-lr: scores V E + C", async () => {
  if (!ort) return;
  for (const output of ["real", "binary"] as const) {
    const m = randomCsae("sigmoid", output, 300, "energies-lr");
    const X = { shape: [N, D], data: inputs(output, 301) };
    const bytes = exportOnnx(m);
    assert.is(header(bytes).meta.rule, "energies-lr");
    const got = await run(bytes, X.data, N, D);
    close(`csae energies-lr ${output} scores`, got.scores, scores(m, X));
    close(`csae energies-lr ${output} probabilities`, got.probabilities, predictProba(m, X));
  }
});

test("factored CSAE (expanded to per-class W): as factoredAsCsae predicts", async () => {
  if (!ort) return;
  for (const [act, output] of [["sigmoid", "real"], ["tanh", "binary"], ["relu", "real"]] as [AeActivation, Output][]) {
    const r = rng(400);
    const f = createFactored(e, CLASSES, { D, H, activation: act, output }, F, r);
    for (const t of [f.Wf, f.Bh, f.Br]) fill(r, t.data, -0.5, 0.5);
    fill(r, f.C, -1, 1);
    const bytes = exportOnnx(f);
    const h = header(bytes);
    assert.is(h.meta.kind, "factored-csae");
    assert.is(h.meta.factors, String(F));
    const m = factoredAsCsae(f);
    const X = { shape: [N, D], data: inputs(output, 401) };
    const got = await run(bytes, X.data, N, D);
    close(`factored ${act}/${output} scores`, got.scores, scores(m, X));
    close(`factored ${act}/${output} probabilities`, got.probabilities, predictProba(m, X));
  }
});

test("large net inputs (|u| up to ~60): the stable forms of softplus and log cosh hold", async () => {
  if (!ort) return;
  for (const act of ["sigmoid", "tanh", "sync", "square", "modulus"] as const) {
    const ae = randomAe(act, "real", 700);
    for (let i = 0; i < ae.W.data.length; i++) ae.W.data[i] *= 40;
    const X = inputs("real", 701);
    const got = await run(exportOnnx(ae), X, N, D);
    close(`autoencoder ${act}/real, W x 40`, got.energy, energy(ae, { shape: [N, D], data: X }));
  }
});

test("a batch of other size than the one exported with: N is symbolic", async () => {
  if (!ort) return;
  const ae = randomAe("sigmoid", "real", 500);
  const bytes = exportOnnx(ae);
  for (const rows of [1, 2, 33]) {
    const X = inputs("real", 501 + rows, rows);
    const got = await run(bytes, X, rows, D);
    close(`autoencoder sigmoid/real, N = ${rows}`, got.energy, energy(ae, { shape: [rows, D], data: X }));
  }
});

function refuses(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof InputError, `${(err as Error).name}: ${(err as Error).message}`);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable("exported");
}

test("unexportable models are refused with the reason", () => {
  for (const output of ["real", "binary"] as const) {
    refuses(() => exportOnnx(randomAe("softplus", output, 600)), /softplus.*dilogarithm.*ONNX has no operator/);
    refuses(() => exportOnnx(randomCsae("softplus", output, 601)), /softplus.*dilogarithm/);
  }
  const f = createFactored(e, CLASSES, { D, H, activation: "softplus", output: "real" }, F, rng(602));
  refuses(() => exportOnnx(f), /softplus.*dilogarithm/);
  refuses(() => exportOnnx({ ...randomCsae("sigmoid", "real", 603), rule: "reconstruction" }), /"reconstruction".*reconstruction error/);
  refuses(() => exportOnnx({ ...randomAe("sigmoid", "real", 604), activation: "gelu" as AeActivation }), /unknown activation "gelu"/);
  refuses(() => exportOnnx({ ...randomCsae("sigmoid", "real", 605), rule: "energies-lr" }), /needs V/);
});

test.after(() => {
  if (!ort) return;
  console.log(`\nonnx.test: onnxruntime-web ${ortVersion}, IR ${ONNX_IR_VERSION}, opset ${ONNX_OPSET}, ${((Date.now() - started) / 1000).toFixed(2)} s`);
  for (const [k, v] of Object.entries(operators)) console.log(`  operators ${k.padEnd(16)} ${v}`);
  for (const [k, v] of Object.entries(worst)) console.log(`  worst relative error ${k.padEnd(42)} ${v.toExponential(2)}`);
});

test.run();
