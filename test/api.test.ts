// The library as a programmer calls it, on hostile input (a second audit's findings, each a case that
// failed before its fix): a typed one-line error or the right answer, never a hang, a crash inside
// WebAssembly or a silent wrong number.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { alloc, createEngineSync, fromArray, mark, release, rowsOf, view, type Mat } from "../src/engine/engine.js";
import * as kernels from "../src/engine/kernels.js";
import { activation } from "../src/engine/activations.js";
import { gemm } from "../src/engine/kernels.js";
import { createAutoencoder, packForScoring } from "../src/model/autoencoder.js";
import { energy, dynamics, field, hessian, hidden, laplacian, reconstruct } from "../src/model/energy.js";
import { classEnergies, encodeCsae, initialConstants, predict, predictProba, reconstructionErrors, rowsWithLabel, scores, type Csae } from "../src/model/csae.js";
import { createFactored, encodeFactored, factoredAsCsae } from "../src/model/factored.js";
import { autoencodersOf, decodeModel, encodeModel } from "../src/model/files.js";
import { exportOnnx } from "../src/model/onnx.js";
import { noveltyFlags, noveltyMetrics, noveltyScores, rocCurve } from "../src/model/novelty.js";
import { decodeSafetensors, encodeSafetensors } from "../src/formats/safetensors.js";
import { decodeNpy, encodeNpy } from "../src/formats/npy.js";
import { decodeCsv, encodeCsv, encodeIdx } from "../src/formats/idx-csv.js";
import { FormatError, InputError, RowError, ShapeError, printable, quote, safeText } from "../src/errors.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS } from "../src/train/autoencoder.js";
import { finetune, localGroups, slotParams, FINETUNE_DEFAULTS } from "../src/train/finetune.js";
import { addClass, fitCsae, selectCsae, FIT_DEFAULTS } from "../src/train/fit.js";
import { rng } from "./util.js";
import { permutation } from "../src/train/driver.js";
import { classSeed, rngFrom } from "../src/random.js";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const e = createEngineSync();
const D = 3;
const aes = [1, 2].map((s) => createAutoencoder(e, { D, H: 2, activation: "sigmoid", output: "real" }, s));
const m: Csae = { classes: ["a", "b"], aes, C: Float32Array.of(0.5, -0.5) };
const rows = (...v: number[][]) => ({ shape: [v.length, D], data: Float32Array.from(v.flat()) });
const ok = rows([0.1, 0.2, 0.3]);

/** fn throws an error of class E whose message matches re (and is one line). */
function refuses(fn: () => unknown, E: new (...a: never[]) => Error, re: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, E, `${(err as Error).name}: ${(err as Error).message}`);
    assert.match((err as Error).message, re);
    assert.not.match((err as Error).message, /\n/);
    return;
  }
  assert.unreachable(`no error (want ${E.name} ${re})`);
}

test("a NaN score is refused by the ROC curve (it looped until the heap ran out)", () => {
  refuses(() => rocCurve([NaN, 1], [2]), InputError, /held-in score 0 is NaN \(not a number\)/);
  refuses(() => rocCurve([1], []), InputError, /held-in and novel rows/);
  assert.equal(rocCurve([0, 1], [2]), [[0, 0], [0, 1], [0.5, 1], [1, 1]]);
  const t = { method: "energy" as const, threshold: 0, fpr: 0.1, rows: 10, flagged: 1 };
  refuses(() => noveltyFlags([1, NaN], t, "energy"), InputError, /score 1 is not a number/);
  assert.equal(Array.from(noveltyFlags([1, -1, Infinity], t, "energy")), [1, 0, 1]);
});

test("an energy beyond float32 is refused naming the row (it was scored NaN); novelty flags it as most novel", () => {
  const huge = rows([0.1, 0.2, 0.3], [1e20, 0, 0]);
  refuses(() => energy(aes[0], huge), InputError, /^input: row 1's energy is -Infinity \(beyond float32\)/);
  refuses(() => predict(m, huge), InputError, /row 1's energy/);
  refuses(() => predictProba(m, rows([3e38, 3e38, 3e38])), InputError, /row 0's energy is (-Infinity|NaN)/);
  refuses(() => reconstructionErrors(m, rows([3e38, 0, 0])), InputError, /row 0's reconstruction error is Infinity/);
  assert.ok(Number.isFinite(energy(aes[0], ok)[0]));
  // Novelty: such a row is as novel as can be, and a threshold flags it (before: NaN, never flagged).
  for (const how of ["logsumexp", "max-score", "reconstruction"] as const) {
    const s = noveltyScores(m, huge, how);
    assert.is(s[1], Infinity, how);
    assert.ok(Number.isFinite(s[0]), how);
    assert.equal(Array.from(noveltyFlags(s, { method: how, threshold: 0, fpr: 0.1, rows: 10, flagged: 1 }, how)).slice(1), [1]);
  }
  assert.is(noveltyScores(aes[0], huge, "energy")[1], Infinity);
  assert.is(noveltyScores(aes[0], rows([3e38, 0, 0]), "reconstruction")[0], Infinity);
  refuses(() => noveltyScores(m, huge, "max-prob"), InputError, /row 1's class scores are infinite .* max-prob score undefined: logsumexp scores it/);
  refuses(() => noveltyScores(aes[0], rows([3e38, 3e38, 3e38]), "energy"), InputError, /row 0's energy is NaN/);
  assert.equal(rocCurve([0, 1], [Infinity]), [[0, 0], [0, 1], [0.5, 1], [1, 1]]);
});

test("input tensors: a Float32Array whose length is the shape's, integer sizes, nothing else", () => {
  refuses(() => energy(aes[0], { shape: [1, 3], data: Float64Array.of(1e300, 0, 0) as unknown as Float32Array }), ShapeError, /data must be a Float32Array, not Float64Array/);
  refuses(() => hidden(aes[0], { shape: [1, 3], data: [1, 2, 3] as unknown as Float32Array }), ShapeError, /not an array/);
  refuses(() => energy(aes[0], { shape: [1, 3], data: new Float32Array(6) }), ShapeError, /holds 3 values, its data 6/);
  refuses(() => energy(aes[0], { shape: [2, 3], data: new Float32Array(5) }), ShapeError, /holds 6 values, its data 5/);
  refuses(() => energy(aes[0], { shape: [1.5, 3], data: new Float32Array(3) }), ShapeError, /non-negative integer/);
  refuses(() => energy(aes[0], { shape: [-2, 3], data: new Float32Array(3) }), ShapeError, /non-negative integer/);
  refuses(() => energy(aes[0], null as never), ShapeError, /want a tensor/);
  refuses(() => energy(aes[0], { data: new Float32Array(3) } as never), ShapeError, /without a shape array/);
});

test("reconstruction errors of one row given as [D] are those of [1, D] (it returned nothing)", () => {
  const one = reconstructionErrors(m, { shape: [D], data: ok.data });
  assert.is(one.length, 2);
  assert.equal(one, reconstructionErrors(m, ok));
  assert.equal(noveltyScores(aes[0], { shape: [D], data: ok.data }, "reconstruction").length, 1);
  assert.equal(predict({ ...m, rule: "reconstruction" }, { shape: [D], data: ok.data }).length, 1);
});

test("a hand-built or altered classifier is refused by every scoring call, and by encodeCsae", () => {
  refuses(() => scores({ ...m, C: Float32Array.of(1) }, ok), ShapeError, /C must hold 2 \(a constant per class\) values, not 1/);
  refuses(() => predict({ ...m, C: Float32Array.of(1, NaN) }, ok), InputError, /C\[1\] is NaN/);
  refuses(() => predict({ ...m, classes: undefined as never }, ok), ShapeError, /no list of class labels for 2/);
  refuses(() => predict({ ...m, aes: [null as never, aes[1]] }, ok), InputError, /autoencoder 0 is an empty value/);
  refuses(() => predict({ ...m, classes: ["a"] }, ok), ShapeError, /1 class labels for 2 autoencoders/);
  refuses(() => predictProba({ ...m, rule: "bogus" as never }, ok), InputError, /unknown rule "bogus"/);
  refuses(() => predict({ ...m, rule: "energies-lr" }, ok), ShapeError, /V must hold 2 x 2 \(rule "energies-lr"\) values, not none/);
  refuses(() => predict({ ...m, rule: "energies-lr", V: new Float32Array(3) }, ok), ShapeError, /V must hold 2 x 2 .* not 3/);
  refuses(() => predict({ ...m, aes: [] }, ok), InputError, /at least one class/);
  refuses(() => noveltyScores({ ...m, aes: [] }, ok, "reconstruction"), InputError, /at least one class/);
  const relu = createAutoencoder(e, { D, H: 2, activation: "relu", output: "real" }, 3);
  const wide = createAutoencoder(e, { D, H: 4, activation: "sigmoid", output: "real" }, 3);
  // The file records one activation: a mixed model written anyway changed class b's energies.
  refuses(() => encodeCsae({ ...m, aes: [aes[0], relu] }), ShapeError, /autoencoder 1 is relu\/real/);
  refuses(() => encodeCsae({ ...m, aes: [aes[0], wide] }), ShapeError, /H = 4/);
  refuses(() => encodeCsae({ ...m, aes: [], classes: [] }), InputError, /at least one class/);
  refuses(() => classEnergies({ aes: [aes[0], relu] }, ok), ShapeError, /autoencoder 1/);
  refuses(() => initialConstants(aes, [ok]), ShapeError, /1 sets of rows for 2 classes/);
  refuses(() => rowsWithLabel({ shape: [D], data: ok.data }, ["a"], "a"), ShapeError, /want \(N, D\) rows and N labels, not shape \[3\]/);
  refuses(() => rowsWithLabel(ok, ["a", "b"], "a"), ShapeError, /and 2 labels/);
  assert.equal(Array.from(rowsWithLabel(ok, ["a"], "a").data), Array.from(ok.data));
  refuses(() => initialConstants(aes, [ok, { shape: [0, D], data: new Float32Array(0) }]), InputError, /class 1 has no rows/);
});

test("a factored model whose factors multiply beyond float32 is refused as diverged when read", () => {
  const f = createFactored(e, ["a", "b"], { D: 2, H: 1, activation: "sigmoid", output: "real" }, 1, rng(1));
  // Each factor well within its own bound; their product's entries 2.7e19, finite, its squared norm not.
  f.Wx.data.fill(3e6);
  f.Wf.data.fill(3e6);
  f.Wh.data.fill(3e6);
  refuses(() => decodeModel(e, encodeFactored(f), "big.safetensors"), FormatError, /^big\.safetensors: class "a"'s weight .* is beyond float32's range .*diverged/);
});

test("one-byte .npy dtypes have no byte order: '<u1' is uint8 like '|u1'", () => {
  const header = (descr: string) => {
    const text = `{'descr': '${descr}', 'fortran_order': False, 'shape': (2, 3), }`.padEnd(117, " ") + "\n";
    const out = new Uint8Array(10 + text.length + 6);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]);
    for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
    out.set([0, 1, 2, 3, 4, 255], 10 + text.length);
    return out;
  };
  for (const d of ["|u1", "<u1", "=u1", ">u1"]) {
    const t = decodeNpy(header(d));
    assert.is(t.dtype, "|u1", d);
    assert.equal(Array.from(t.data), [0, 1, 2, 3, 4, 255]);
  }
  assert.is(decodeNpy(header("<i1")).dtype, "|i1");
});

test("safetensors: plain and f64 arrays are written as their values; __proto__ is a name like any other", () => {
  const back = decodeSafetensors(encodeSafetensors({ a: { shape: [2], data: [1, 2] as unknown as Float32Array }, b: { shape: [1], data: Float64Array.of(0.5) as unknown as Float32Array } }));
  assert.equal(Array.from(back.tensors.a.data), [1, 2]);
  assert.equal(Array.from(back.tensors.b.data), [0.5]);
  refuses(() => encodeSafetensors({ a: { shape: [-1, -2], data: new Float32Array(2) } }), FormatError, /not a list of non-negative integers/);
  // (an object literal's __proto__ would set the prototype: the records are built key by key)
  const rec: Record<string, { shape: number[]; data: Float32Array }> = Object.create(null);
  rec["__proto__"] = { shape: [1], data: Float32Array.of(3) };
  rec.W = { shape: [1], data: Float32Array.of(4) };
  const meta: Record<string, string> = Object.create(null);
  meta["__proto__"] = "kept";
  const read = decodeSafetensors(encodeSafetensors(rec, meta));
  assert.equal(Object.keys(read.tensors).sort(), ["W", "__proto__"]);
  assert.equal(Array.from(read.tensors["__proto__"].data), [3]);
  assert.is(read.metadata["__proto__"], "kept");
  // A model file with an extra "__proto__" tensor is refused like any unexpected tensor.
  const model = decodeSafetensors(encodeCsae(m));
  const extra: Record<string, { shape: number[]; data: Float32Array }> = Object.create(null);
  for (const [k, v] of Object.entries(model.tensors)) extra[k] = v;
  extra["__proto__"] = { shape: [1], data: Float32Array.of(1) };
  refuses(() => decodeModel(e, encodeSafetensors(extra, model.metadata), "x.safetensors"), FormatError, /unexpected tensor "__proto__"/);
  // dtype "constructor" is not a dtype
  const json = JSON.stringify({ t: { dtype: "constructor", shape: [1], data_offsets: [0, 4] } });
  const bytes = new Uint8Array(8 + json.length + 4);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(new TextEncoder().encode(json), 8);
  refuses(() => decodeSafetensors(bytes), FormatError, /dtype "constructor" is not supported/);
});

test("writers refuse shapes their format cannot read back", () => {
  refuses(() => encodeNpy({ shape: [-1, -1], data: new Float32Array(1) }), FormatError, /^npy: shape/);
  refuses(() => encodeNpy({ shape: [1.5, 2], data: new Float32Array(3) }), FormatError, /^npy: shape/);
  refuses(() => encodeIdx({ shape: [], data: new Float32Array(1) }), FormatError, /1 to 255 dimensions/);
  refuses(() => encodeIdx({ shape: new Array(256).fill(1), data: new Float32Array(1) }), FormatError, /1 to 255 dimensions/);
  refuses(() => encodeIdx({ shape: [2 ** 32, 0], data: new Float32Array(0) }), FormatError, /below 2\^32/);
  refuses(() => encodeCsv({ shape: [2, 2], data: new Float32Array(3) }), FormatError, /^csv: shape \[2, 2\] holds 4 values, not 3/);
  assert.is(encodeCsv({ shape: [1, 2], data: [1, 2] as unknown as Float32Array }), "1,2\n");
});

test("CSV messages: no header hint after a header; one line split by another separator says so", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  refuses(() => decodeCsv(enc("a,b\n1,x\n")), FormatError, /line 2, column 2: "x" is not a number$/);
  refuses(() => decodeCsv(enc("1;2;3\n")), FormatError, /a header line but no data rows: "1;2;3" is one column, since fields are separated by commas/);
  refuses(() => decodeCsv(enc("1,x\n")), FormatError, /line 1, column 2: "x" is not a number \(a header line must name/);
});

test("dynamics: a trajectory that no array can hold is refused at once (it tried to allocate 12 GB)", () => {
  const t0 = performance.now();
  refuses(() => dynamics(aes[0], ok, { eps: 0.1, steps: 1e9 }), InputError, /run fewer steps at a time/);
  refuses(() => dynamics(aes[0], ok, { eps: 0.1, steps: 1e12 }), InputError, /run fewer steps/);
  assert.ok(performance.now() - t0 < 1000);
  assert.is(dynamics(aes[0], ok, { eps: 0.1, steps: 3 }).energy.data.length, 4);
  // A trajectory that runs off (a linear model that multiplies x by 100 every step) is the answer:
  // only its start is checked.
  const run = createAutoencoder(e, { D: 2, H: 2, activation: "linear", output: "real" }, 1);
  run.W.data.set([10, 0, 0, 10]);
  const { trajectory } = dynamics(run, { shape: [1, 2], data: Float32Array.of(1, 1) }, { eps: 1, steps: 25 });
  assert.is(trajectory.data[2], 100);
  assert.not.ok(Number.isFinite(trajectory.data[trajectory.data.length - 1])); // (NaN: 0 · Infinity in W's zeros)
});

test("training: hostile states, options and data are refused before any work (a third audit)", async () => {
  const r = rng(9);
  const X = { shape: [20, D], data: Float32Array.from({ length: 20 * D }, () => r.uniform()) };
  const L = Array.from({ length: 20 }, (_, i) => (i % 2 ? "b" : "a"));
  const O = { ...TRAIN_DEFAULTS, epochs: 2, batch: 10 };
  const [ae, other] = [1, 2].map((s) => createAutoencoder(e, { D, H: 2, activation: "sigmoid", output: "real" }, s));
  const rejects = async (p: () => Promise<unknown>, E: new (...a: never[]) => Error, re: RegExp) => {
    try {
      await p();
    } catch (err) {
      assert.instance(err, E, `${(err as Error).name}: ${(err as Error).message}`);
      assert.match((err as Error).message, re);
      return;
    }
    assert.unreachable(`no error (want ${re})`);
  };
  // (it trained the other model, silently)
  refuses(() => trainAutoencoder(ae, X, O, startState(other, O, rng(0))), InputError, /started for another autoencoder/);
  refuses(() => trainAutoencoder(ae, X, O, startState(ae, { ...O, batch: 5 }, rng(0))), InputError, /started with other options \(batch 5/);
  refuses(() => trainAutoencoder(ae, X, { ...O, contractive: 0.5 }, startState(ae, O, rng(0))), InputError, /contractive off/);
  refuses(() => startState(ae, { ...O, batch: 1.5 }, rng(0)), InputError, /batch must be a positive integer/);
  // (empty validation data kept epoch 1: its NaN loss was the "best")
  refuses(() => trainAutoencoder(ae, X, O, startState(ae, O, rng(0)), { valid: { shape: [0, D], data: new Float32Array(0) } }), InputError, /validation data has no rows/);
  const fo = { ...FIT_DEFAULTS, hidden: 2, seed: 1, workers: 0, pretrain: { ...FIT_DEFAULTS.pretrain, epochs: 1, batch: 10 }, finetune: { ...FIT_DEFAULTS.finetune, epochs: 1, batch: 10 } };
  await rejects(() => fitCsae(e, X, L, { ...fo, valid: { X, labels: L.map(() => "a") } }), InputError, /no rows of class "b"/);
  await rejects(() => fitCsae(e, X, L, { ...fo, valid: { X: { shape: [0, D], data: new Float32Array(0) }, labels: [] } }), InputError, /validation data has no rows/);
  await rejects(() => fitCsae(e, X, L.map((l) => (l === "a" ? 1 : 2)) as never, fo), InputError, /label 0 is 1, not a non-empty string/);
  await rejects(() => fitCsae(e, X, L, { ...fo, finetune: { ...fo.finetune, weightDecay: Infinity } }), InputError, /weight decay must be a finite number/);
  await rejects(() => fitCsae(e, X, L, { ...fo, checkpoint: { dir: "", resume: false } }), InputError, /checkpoint.dir must name a directory/);
  const m = await fitCsae(e, X, L, fo);
  // An initial model is checked whole (only its first autoencoder was), and its weights finite.
  await rejects(() => fitCsae(e, X, L, { ...fo, init: { ...m, aes: [m.aes[0]] } }), ShapeError, /initial model: 2 class labels for 1 autoencoders/);
  const broken = createAutoencoder(e, { D, H: 2, activation: "sigmoid", output: "real" }, 5);
  broken.W.data[1] = NaN;
  await rejects(() => fitCsae(e, X, L, { ...fo, variant: "reconstruction", init: { ...m, aes: [m.aes[0], broken] } }), InputError, /initial model's class "b" has W\[1\] = NaN/);
  // (0 other rows sent the new class's constant to +35: it predicted the new class everywhere)
  await rejects(() => addClass(e, m, "c", X, { pretrain: fo.pretrain, seed: 0, others: { X: { shape: [0, D], data: new Float32Array(0) }, labels: [] } }), InputError, /other classes' rows are empty/);
  await rejects(() => addClass(e, m, "c", X, { pretrain: fo.pretrain, seed: 0, others: { X, labels: L.slice(5) } }), ShapeError, /15 labels for the other classes' 20 rows/);
  await rejects(() => addClass(e, m, "", X, { pretrain: fo.pretrain, seed: 0 }), InputError, /non-empty string/);
  await rejects(() => addClass(e, m, "c", X, { pretrain: fo.pretrain, seed: NaN }), InputError, /seed must be an integer/);
  const t0 = performance.now();
  await rejects(() => selectCsae(e, { X, labels: L }, { X, labels: L }, { hidden: [], lr: [0.01], weightDecay: [0] }, fo), InputError, /grid.hidden must list at least one value/);
  await rejects(() => selectCsae(e, { X, labels: L }, { X, labels: L }, { hidden: [2], lr: [0.01, -1], weightDecay: [0] }, fo), InputError, /lr must be positive/);
  assert.ok(performance.now() - t0 < 500, "refused before the first fit");
  const groups = localGroups(e, { D, H: 2, activation: "sigmoid", output: "real" }, m.aes.map((a) => ({ W: a.W.data, bh: a.bh.data, br: a.br.data })), X, 10);
  await rejects(() => finetune(groups, 2, Int32Array.from({ length: 20 }, () => 2), Float32Array.of(0, 0), { ...FINETUNE_DEFAULTS, epochs: 1 }, { seed: 0 }), InputError, /row 0's class index is 2, not in \[0, 2\)/);
  await rejects(() => finetune(groups, 2, new Int32Array(20), Float32Array.of(0), { ...FINETUNE_DEFAULTS, epochs: 1 }, { seed: 0 }), ShapeError, /C holds 1 constants for 2 classes/);
});

test("a hand-made or out-of-range matrix is refused at the kernel boundary (it trapped inside WebAssembly)", () => {
  const A = alloc(e, "A", 2, 3);
  const bad = { ...A, name: "far", ptr: 1e9, engine: e, data: A.data } as Mat;
  refuses(() => gemm(alloc(e, "C", 2, 2), bad, A, { transB: true }), ShapeError, /^gemm: far \(2x3 at byte 1000000000\) is not a matrix inside its engine's allocated memory/);
  refuses(() => kernels.scale({ ...bad, ptr: 2 } as Mat, 2), ShapeError, /^scale: far \(2x3 at byte 2\)/);
  refuses(() => kernels.packB(bad), ShapeError, /^packB: far/);
  refuses(() => kernels.axpy(A, 1, 0.5 as never), ShapeError, /^axpy: an operand is not a matrix \(0.5\)/);
  refuses(() => activation("sigmoid", bad, { h: bad }), ShapeError, /^activation: far \(2x3 at byte 1000000000\)/);
  refuses(() => activation("sigmoid", A, { h: { ...A, ptr: A.ptr + 2 } as Mat }), ShapeError, /^activation: A \(2x3 at byte \d+\) is not a matrix inside/);
  refuses(() => view(e, "v", 0, 1e9, 1), ShapeError, /^view v: 1000000000x1 at byte 0 is not inside the engine's allocated memory/);
  refuses(() => view(e, "v", -4, 1, 1), ShapeError, /^view v:/);
  // The engine's own scratch below the arena is never a matrix, nor given out by a release there.
  refuses(() => view(e, "v", 0, 1, 1), ShapeError, /^view v: 1x1 at byte 0 is not inside the engine's allocated memory \(bytes \d+ to/);
  refuses(() => kernels.scale({ ...A, ptr: e.gemmWork } as Mat, 2), ShapeError, /^scale: A .* is not a matrix inside/);
  for (const at of [0, e.base - 4, e.top + 4, 0.5, NaN]) refuses(() => release(e, at), ShapeError, /^release: .* is not a mark of this engine's arena/);
  const C = alloc(e, "C2", 2, 2);
  gemm(C, A, A, { transB: true }); // (the good ones still run)
});

test("a model released below and allocated over is refused, not read as the new numbers", () => {
  const f = createEngineSync();
  const at = mark(f);
  const ae = createAutoencoder(f, { D, H: 2, activation: "sigmoid", output: "real" }, 5);
  const x = { shape: [1, D], data: new Float32Array(D).fill(0.5) };
  const before = energy(ae, x)[0];
  release(f, at);
  // Before anything is allocated over it, and after: the same refusal, named.
  refuses(() => energy(ae, x), ShapeError, /^.*W \(2x\d+\) was given back by release\(\) to a mark taken before it was made/);
  const over = fromArray(f, "over", 1, 4 * D, new Float32Array(4 * D).fill(7));
  refuses(() => energy(ae, x), ShapeError, /was given back by release\(\)/);
  refuses(() => kernels.scale(ae.W, 2), ShapeError, /^scale: W .* was given back by release\(\)/);
  // What was allocated after the release, and rows of it, are live; so is a model made again.
  kernels.scale(over, 1);
  kernels.scale(rowsOf(over, 0, 1), 1);
  const again = createAutoencoder(f, { D, H: 2, activation: "sigmoid", output: "real" }, 5);
  assert.is(energy(again, x)[0], before);
  // A release at or above a matrix's end leaves it alone, also after deeper releases of later marks.
  const keep = alloc(f, "keep", 2, 2);
  const top = mark(f);
  for (let i = 0; i < 3; i++) {
    alloc(f, "scratch", 8, 8);
    release(f, top);
  }
  kernels.scale(keep, 1);
  const inner = alloc(f, "inner", 2, 2);
  release(f, mark(f));
  release(f, top);
  refuses(() => kernels.scale(inner, 1), ShapeError, /^scale: inner .* not a matrix inside|given back/);
  kernels.scale(keep, 1);
  // A hand-made matrix carries no birth: only its bounds are checked.
  kernels.scale({ name: "hand", rows: 2, cols: 2, ptr: keep.ptr, engine: f, data: keep.data } as Mat, 1);
});

test("a misspelt option is refused, not ignored; a seed beyond 32 bits is refused, not wrapped to 0", async () => {
  const r = rng(9);
  const X = { shape: [20, D], data: Float32Array.from({ length: 20 * D }, () => r.uniform()) };
  const L = Array.from({ length: 20 }, (_, i) => (i % 2 ? "b" : "a"));
  const fo = { ...FIT_DEFAULTS, hidden: 2, seed: 1, workers: 0, pretrain: { ...FIT_DEFAULTS.pretrain, epochs: 1, batch: 10 }, finetune: { ...FIT_DEFAULTS.finetune, epochs: 1, batch: 10 } };
  const fails = async (o: unknown, re: RegExp) => {
    try {
      await fitCsae(e, X, L, o as never);
    } catch (err) {
      assert.instance(err, InputError, `${(err as Error).name}: ${(err as Error).message}`);
      assert.match((err as Error).message, re);
      return;
    }
    assert.unreachable(`no error (want ${re})`);
  };
  await fails({ ...fo, learningRate: 0.1 }, /^fit: unknown option "learningRate" \(known: hidden, /);
  await fails({ ...fo, pretrain: { ...fo.pretrain, learningRate: 0.1 } }, /^train: unknown option "learningRate"/);
  await fails({ ...fo, finetune: { ...fo.finetune, weight_decay: 0.1 } }, /^finetune: unknown option "weight_decay"/);
  await fails({ ...fo, checkpoint: { dir: "x", resum: true } }, /^fit: checkpoint: unknown option "resum"/);
  await fails({ ...fo, finetune: { ...fo.finetune, lr: 1e300, decay: 1e10 } }, /^finetune: lr · decay must be finite \(lr 1e\+300, decay 10000000000\)/);
  await fails({ ...fo, pretrain: { ...fo.pretrain, lr: 1e300, decay: 1e10 } }, /^train: lr · decay must be finite/);
  await fails({ ...fo, finetune: null }, /^finetune: options must be an object, not an empty value/);
  // A checkpoint directory in the way of a file fails before any work (it failed after one epoch).
  const tmp = mkdtempSync(join(tmpdir(), "aescore-api-"));
  writeFileSync(join(tmp, "file"), "x");
  const t0 = performance.now();
  await fails({ ...fo, pretrain: { ...fo.pretrain, epochs: 50 }, checkpoint: { dir: join(tmp, "file"), resume: false } }, /checkpoint directory \(a file is in the way\)|checkpoint directory is a file/);
  assert.ok(performance.now() - t0 < 2000, "refused before training");
  await fitCsae(e, X, L, { ...fo, checkpoint: { dir: join(tmp, "new", "dir"), resume: false } });
  assert.ok(existsSync(join(tmp, "new", "dir", "finetune.safetensors")), "a missing directory is made");
  rmSync(tmp, { recursive: true });
  try {
    await selectCsae(e, { X, labels: L }, { X, labels: L }, { hidden: [2], lr: [0.01], weight_decay: [0] } as never, fo);
    assert.unreachable("selectCsae took an unknown grid axis");
  } catch (err) {
    assert.match((err as Error).message, /^selectCsae: the grid: unknown axis "weight_decay"/);
  }
  const ae = createAutoencoder(e, { D, H: 2, activation: "sigmoid", output: "real" }, 1);
  refuses(() => startState(ae, { ...TRAIN_DEFAULTS, lr0: 1 } as never, rng(0)), InputError, /^train: unknown option "lr0"/);
  for (const seed of [2 ** 32, -1, 2 ** 53]) {
    refuses(() => rng(seed), InputError, /seed must be an integer in \[0, 2\^32\)/);
    refuses(() => createAutoencoder(e, { D, H: 2, activation: "sigmoid", output: "real" }, seed), InputError, /seed must be an integer in \[0, 2\^32\)/);
  }
  assert.equal(rng(2 ** 32 - 1).u32(), rng(2 ** 32 - 1).u32());
});

test("wrong argument types at the public calls are typed one-line errors (a fifth audit)", () => {
  const bytes = encodeCsae(m);
  refuses(() => decodeModel(e, bytes.buffer as never, "m.safetensors"), InputError, /^m\.safetensors: the file's bytes must be a Uint8Array, not an ArrayBuffer \(new Uint8Array\(buffer\) wraps it\)$/);
  refuses(() => decodeModel(e, null as never), InputError, /^model: the file's bytes must be a Uint8Array, not an empty value$/);
  refuses(() => decodeModel(e, [1, 2, 3] as never), InputError, /must be a Uint8Array, not \[1,2,3\]/);
  refuses(() => decodeNpy(encodeNpy(ok).buffer as never), InputError, /^npy: the file's bytes must be a Uint8Array, not an ArrayBuffer/);
  refuses(() => decodeSafetensors(new Float32Array(4) as never), InputError, /not Float32Array/);
  assert.is(decodeModel(e, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).kind, "csae");
  refuses(() => dynamics(m.aes[0], ok, undefined as never), InputError, /^dynamics: options must be an object, not nothing$/);
  refuses(() => createAutoencoder(e, { D: 4, H: 2, activation: "sigmoid", output: "real" }, "abc" as never), InputError, /^createAutoencoder: the seed must be an integer in \[0, 2\^32\) or a generator/);
  refuses(() => createAutoencoder(e, { D: 4, H: 2, activation: "sigmoid", output: "real" }, -1), InputError, /the seed must be/);
  refuses(() => energy(m as never, ok), InputError, /^the model given is a classifier \(its autoencoders are \.aes; score it with scores, predict or classEnergies\)$/);
  refuses(() => hidden({ kind: "csae", csae: m } as never, ok), InputError, /^the model given is a decoded model file of kind "csae"/);
  refuses(() => energy(new Float32Array(1e6) as never, ok), InputError, /^the model given is not an autoencoder \(.{0,100}\)$/);
});

test("duplicate or unknown keys in .npy headers and threshold records are refused, not resolved silently", () => {
  const npy = (dict: string) => {
    const head = new TextEncoder().encode(dict + "\n");
    const bytes = new Uint8Array(10 + head.length + 32);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, head.length & 255, head.length >> 8]);
    bytes.set(head, 10);
    return bytes;
  };
  assert.equal(decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }")).shape, [2, 4]);
  refuses(() => decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 8), 'shape': (2, 4), }")), FormatError, /^npy: header has the key 'shape' twice$/);
  refuses(() => decodeNpy(npy("{'descr': '<f4', 'shape': (2, 4), }")), FormatError, /^npy: header has no 'fortran_order'$/);
  refuses(() => decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), 'extra': 1, }")), FormatError, /header has the key 'extra', which \.npy does not define/);
  refuses(() => decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), '__proto__': 1, }")), FormatError, /the key '__proto__'/);
  const { tensors, metadata } = decodeSafetensors(encodeCsae(m));
  const record = '{"method":"energy","method":"reconstruction","threshold":-3.6,"fpr":0.1,"rows":10,"flagged":1}';
  refuses(() => decodeModel(e, encodeSafetensors(tensors, { ...metadata, novelty_threshold: record }), "t.safetensors"), FormatError, /^t\.safetensors: metadata novelty_threshold has the field method twice$/);
});

test("novelty, ONNX and model files on hostile values (a fourth audit)", () => {
  // Constants finite as doubles but not as float32 (they scored; the file could not be read back;
  // ONNX gave Infinity and NaN).
  const far = { ...m, C: [1e39, 0] as unknown as Float32Array };
  refuses(() => predictProba(far, ok), InputError, /C\[0\] is 1e\+39 \(beyond float32\)/);
  refuses(() => encodeCsae(far), InputError, /C\[0\] is 1e\+39 \(beyond float32\)/);
  refuses(() => exportOnnx(far), InputError, /C\[0\] is 1e\+39/);
  refuses(() => exportOnnx({ ...m, classes: ["a", "a"] }), InputError, /class label "a" appears twice/);
  refuses(() => predict({ ...m, classes: ["a", ""] }, ok), InputError, /class label 1 is an empty string/);
  refuses(() => scores(m, { shape: [2 ** 26 + 1, ok.shape[1]], data: new Float32Array(0) }), InputError, /67108865 rows x 2 classes is 134217730 scores, more than the 2\^27/);
  // The writers check what the reader checks: a file we write is one we read back.
  const nanAe = createAutoencoder(e, { D: 4, H: 2, activation: "sigmoid", output: "real" }, 1);
  nanAe.W.data[3] = NaN;
  refuses(() => encodeModel({ kind: "autoencoder", ae: nanAe }), InputError, /^encode autoencoder: tensor W holds NaN at index 3$/);
  const loud = { ...m, aes: [m.aes[0], { ...m.aes[1], W: { ...m.aes[1].W, data: m.aes[1].W.data.map(() => 3e19) } }] };
  refuses(() => encodeCsae(loud), InputError, /^encode csae: tensor W \(class 1\) is too large .*a diverged model$/);
  const f = createFactored(e, ["a", "b"], { D: 4, H: 3, activation: "tanh", output: "real" }, 2, rng(1));
  f.Wx.data[0] = Infinity;
  refuses(() => encodeModel({ kind: "factored-csae", factored: f } as never), InputError, /^encode factored csae: tensor Wx holds Infinity at index 0$/);
  f.Wx.data[0] = 0;
  refuses(() => encodeFactored({ ...f, classes: ["a", "a"] }), InputError, /class label "a" appears twice/);
  refuses(() => encodeFactored({ ...f, classes: ["a"] }), ShapeError, /^encode factored csae: 1 classes, .* the shapes must be/);
  assert.is(decodeModel(e, encodeFactored(f)).kind, "factored-csae");
  // A newline would split a prediction in two, an escape sequence reach the terminal, a bidi control
  // or a zero width make two labels look alike or reorder the line.
  for (const c of ["a\nb", "\u001b[31mred", "tab\t", "\u0085", "\u202eright", "a\u200bb", "\u2066x", "\ud800"]) {
    refuses(() => encodeCsae({ ...m, classes: ["a", c] }), InputError, /class label 1 is .*, which holds a control or invisible character/);
    const file = encodeSafetensors(decodeSafetensors(encodeCsae(m)).tensors, { ...decodeSafetensors(encodeCsae(m)).metadata, classes: JSON.stringify(["a", c]) });
    refuses(() => decodeModel(e, file, "c.safetensors"), FormatError, /^c\.safetensors: metadata classes: label 1 is .*control or invisible character/);
  }
  // A threshold object is checked as a stored one is (NaN flagged nothing, a string compared as text).
  const t = { method: "energy" as const, threshold: 0.5, fpr: 0.1, rows: 10, flagged: 1 };
  for (const threshold of [NaN, undefined, "1.5", -Infinity]) refuses(() => noveltyFlags([1, 2], { ...t, threshold } as never, "energy"), InputError, /the threshold must be a finite number/);
  refuses(() => noveltyFlags([1, 2], null as never, "energy"), InputError, /is not a threshold of a method/);
  refuses(() => noveltyFlags(5 as never, t, "energy"), InputError, /the score must be an array of numbers, not 5/);
  refuses(() => noveltyMetrics(null as never, [1]), InputError, /held-in score must be an array of numbers/);
  refuses(() => noveltyMetrics([undefined, 1] as never, [2]), InputError, /held-in score 0 is nothing, not a number/);
  refuses(() => noveltyScores(null as never, ok), InputError, /is not a model/);
  refuses(() => encodeModel(null as never), InputError, /is not a model kind/);
  refuses(() => encodeModel({ kind: "factored-csae", csae: m } as never), InputError, /a factored-csae model needs its factored/);
  refuses(() => autoencodersOf({ kind: "csae" } as never), InputError, /is not a decoded model/);
  // A factored model whose expansion no engine holds is refused before allocating (8.8 MB of factors asked for 4 GB).
  const classes = Array.from({ length: 600 }, (_, i) => `c${i}`);
  const big = createFactored(e, classes, { D: 1000, H: 1000, activation: "sigmoid", output: "real" }, 1, rng(1));
  refuses(() => factoredAsCsae(big), InputError, /600 classes' weights W_j \(1000 x 1000 each\) would take 2\.2 GiB expanded/);
  // (a classes list longer than Wf's rows read past the factors, reported as "beyond float32")
  refuses(() => factoredAsCsae({ ...big, classes: [...classes, "extra"] }), ShapeError, /^factored model: 601 classes, Wx 1000x1, Wf 600x1/);
  const nan = createFactored(e, ["a", "b"], { D: 3, H: 2, activation: "sigmoid", output: "real" }, 2, rng(1));
  nan.Wf.data[0] = NaN;
  refuses(() => factoredAsCsae(nan), InputError, /class "a"'s weight .* holds values that are not numbers/);
});

test("quote and printable escape every invisible character, and cut long text on a code point", () => {
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  for (const c of ["\u{E0041}", "\u202e", "\u2066", "\u200b", "\ufeff", "\u2028", "\u034f", "\u3164", "\ufe0f", "\ud800", "\u001b", "\u0085"]) {
    for (const shown of [printable(`a${c}b`, "text"), printable(`a${c}b`, "token"), quote(`a${c}b`), safeText(`a${c}b`)]) {
      assert.not.match(shown, new RegExp(`[${c}]`, "u"), JSON.stringify(c));
      assert.match(shown, /\\u[0-9a-f]{4}/, JSON.stringify(c));
    }
  }
  assert.is(printable("plain text, with spaces", "text"), "plain text, with spaces");
  assert.is(printable("a b", "token"), '"a b"');
  const long = quote("\u{1F600}".repeat(120));
  assert.not.match(long, lone);
  assert.match(long, /^"(\u{1F600}){97}\.\.\."$/u);
  assert.is(quote("x".repeat(100)), `"${"x".repeat(100)}"`);
});

test("a decoded model file handed to a classifier's function is named as such (its classifier is .csae)", () => {
  const e = createEngineSync();
  const r = rng(8);
  const aes = [0, 1].map(() => createAutoencoder(e, { D: 3, H: 2, activation: "sigmoid", output: "real" }, r));
  const file = decodeModel(e, encodeCsae({ classes: ["a", "b"], aes, C: Float32Array.of(0, 0), rule: "energy" }), "m.safetensors");
  const X = { shape: [1, 3], data: Float32Array.of(0.1, 0.2, 0.3) };
  refuses(() => predict(file as never, X), InputError, /a decoded model file of kind "csae", not a classifier \(its classifier is \.csae/);
  assert.is(predict((file as { csae: Csae }).csae, X).length, 1);
});


// A third audit's findings (each failed before its fix).
test("rows living in the engine's memory (a Mat's .data) are scored like any rows", () => {
  const ae = createAutoencoder(e, { D: 8, H: 4, activation: "sigmoid", output: "real" }, 1);
  const values = Float32Array.from({ length: 1500 * 8 }, (_, i) => (i % 13) / 13);
  const M = fromArray(e, "live", 1500, 8, values);
  // (1500 rows: two chunks, whose allocations may grow the memory and detach M.data)
  const live = energy(ae, { shape: [1500, 8], data: M.data });
  assert.equal(Array.from(live), Array.from(energy(ae, { shape: [1500, 8], data: values.slice() })));
  const S = fromArray(e, "few", 3, 8, values.subarray(0, 24));
  assert.equal(Array.from(reconstructionErrors({ aes: [ae] }, { shape: [3, 8], data: S.data })), Array.from(reconstructionErrors({ aes: [ae] }, { shape: [3, 8], data: values.slice(0, 24) })));
});

test("dynamics on no rows is bounded by its steps; metrics read their scores once", () => {
  const ae = createAutoencoder(e, { D: 4, H: 3, activation: "sigmoid", output: "real" }, 1);
  refuses(() => dynamics(ae, { shape: [0, 4], data: new Float32Array(0) }, { eps: 0.5, steps: 1e15 }), InputError, /dynamics: 1000000000000000 steps of 0 rows .*\(counting one row\)/);
  assert.equal(dynamics(ae, { shape: [0, 4], data: new Float32Array(0) }, { eps: 0.5, steps: 3 }).trajectory.shape, [4, 0, 4]);
  // A value that turns NaN after the check used to loop until the heap was gone.
  let reads = 0;
  const sly = new Proxy([1, 2], { get: (t, k) => (k === "0" ? (reads++ < 1 ? 1 : NaN) : Reflect.get(t, k)) });
  try {
    const m = noveltyMetrics(sly, [3]);
    assert.ok(m.auroc >= 0 && m.auroc <= 1);
  } catch (err) {
    assert.instance(err, InputError);
  }
});

test("a model's output, and its weights, are checked by every call", () => {
  const ae = createAutoencoder(e, { D: 4, H: 3, activation: "sigmoid", output: "real" }, 1);
  const x = { shape: [1, 4], data: Float32Array.of(0.5, 0.5, 0.5, 0.5) };
  refuses(() => energy({ ...ae, output: "Real" as never }, x), InputError, /the model's output must be "real" or "binary", not "Real"/);
  const W = fromArray(e, "Wnan", 3, 4, ae.W.data);
  W.data[0] = NaN;
  const broken = { ...ae, W };
  for (const f of [field, reconstruct, hidden, laplacian]) refuses(() => f(broken, x), InputError, /the model is broken: its W holds values that are not finite numbers/);
  refuses(() => hessian(broken, { shape: [4], data: x.data }), InputError, /the model is broken: its W/);
});

test("rowsWithLabel checks its rows; .npy descr names are not looked up on the prototype; the writer writes what NumPy reads", () => {
  refuses(() => rowsWithLabel({ shape: [2, 2 ** 31], data: new Float32Array(6) }, ["a", "a"], "a"), ShapeError, /rows with label: shape \[2, 2147483648\]/);
  refuses(() => rowsWithLabel({ shape: [2, 3], data: new Float32Array(2) }, ["a", "a"], "a"), ShapeError, /not 2 values/);
  for (const kind of ["toString", "constructor", "__proto__"]) {
    const header = `{'descr': '<${kind}', 'fortran_order': False, 'shape': (1,), }`.padEnd(117, " ") + "\n";
    const bytes = new Uint8Array(10 + header.length + 4);
    bytes.set([0x93, ..."NUMPY"].map((c) => (typeof c === "number" ? c : c.charCodeAt(0))));
    bytes.set([1, 0, header.length, 0], 6);
    for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
    refuses(() => decodeNpy(bytes), FormatError, new RegExp(`dtype '<${kind}' is not supported`));
  }
  refuses(() => encodeNpy({ shape: [1], data: Float32Array.of(1) }, "<f8" as never), FormatError, /the dtype written must be "<f4" or "<i4", not "<f8"/);
  refuses(() => encodeNpy({ shape: Array(65).fill(1), data: Float32Array.of(1) }), FormatError, /65 dimensions, more than the 64 NumPy reads/);
});

test("finetune checks its class indices and classes against the groups; localGroups checks its spec and rows", async () => {
  const spec = { D: 4, H: 3, activation: "sigmoid" as const, output: "real" as const };
  const p = [slotParams(createAutoencoder(e, spec, 1)), slotParams(createAutoencoder(e, spec, 2))];
  const FO = { ...FINETUNE_DEFAULTS, epochs: 1, batch: 2 };
  const data4 = { shape: [4, 4], data: new Float32Array(16).fill(0.3) };
  const rejects = async (f: () => Promise<unknown>, E: new (...a: never[]) => Error, re: RegExp) => {
    try {
      await f();
      assert.unreachable(String(re));
    } catch (err) {
      assert.instance(err, E, (err as Error).message);
      assert.match((err as Error).message, re);
    }
  };
  await rejects(() => finetune(localGroups(e, spec, p, data4, 2), 2, Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]), new Float32Array(2), FO, { seed: 1 }), ShapeError, /8 class indices for the 4 training rows/);
  await rejects(() => finetune(localGroups(e, spec, p, data4, 2), 3, Int32Array.from([0, 1, 2, 1]), new Float32Array(3), FO, { seed: 1 }), ShapeError, /3 classes, but the groups hold 2 autoencoders/);
  await rejects(async () => localGroups(e, spec, p, { shape: [8, 2], data: new Float32Array(16) }, 2), ShapeError, /does not fit a model with D = 4/);
  await rejects(async () => localGroups(e, spec, p, { shape: [4, 4], data: Float32Array.from([NaN, ...Array(15).fill(0.3)]) }, 2), InputError, /row 0, column 0 is NaN/);
  await rejects(async () => localGroups(e, { ...spec, output: "Real" as never }, p, data4, 2), InputError, /output must be "real" or "binary"/);
});

test("CSV keeps the sign of zero and writes no lines for no rows; a parsed model's tensors must hold their shape's values", () => {
  assert.is(encodeCsv({ shape: [1, 2], data: Float32Array.of(-0, 0) }), "-0,0\n");
  assert.ok(Object.is(decodeCsv(encodeCsv({ shape: [1, 2], data: Float32Array.of(-0, 0) }), "z").data[0], -0));
  assert.is(encodeCsv({ shape: [0, 3], data: new Float32Array(0) }), "");
  const meta = { format: "aescore", kind: "csae", activation: "sigmoid", output: "real", classes: '["a","b"]' };
  const T = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  const base = () => ({ W: T([2, 3, 4]), bh: T([2, 3]), br: T([2, 4]), C: T([2]) });
  assert.is(decodeModel(e, { tensors: base(), metadata: meta }).kind, "csae");
  refuses(() => decodeModel(e, { tensors: { ...base(), C: { shape: [2], data: new Float32Array(1) } }, metadata: meta }), FormatError, /tensor C must hold 2 float32 values for its shape \[2\], not 1/);
  refuses(() => decodeModel(e, { tensors: { ...base(), W: { shape: [2, 3, 4], data: new Float32Array(100) } }, metadata: meta }), FormatError, /tensor W must hold 24 float32 values/);
  refuses(() => decodeModel(e, { tensors: { ...base(), C: { shape: "2" as never, data: new Float32Array(2) } }, metadata: meta }), FormatError, /tensor C has shape "2", expected \[2\]/);
});

test("options of the engine, the kernels, CSV, ONNX and the training hooks: a misspelt key or a wrong type is refused", async () => {
  refuses(() => createEngineSync({ backned: "scalar" } as never), InputError, /^engine: unknown option "backned" \(known: backend, module\)$/);
  refuses(() => createEngineSync(null as never), InputError, /^engine: options must be an object/);
  const A = fromArray(e, "A", 2, 3, [1, 2, 3, 4, 5, 6]);
  const C = alloc(e, "C", 2, 2);
  refuses(() => gemm(C, A, A, { transb: true } as never), InputError, /^gemm: unknown option "transb" \(known: transA, transB, alpha, beta\)$/);
  refuses(() => gemm(C, A, A, { transB: "yes" } as never), InputError, /^gemm: transB must be true or false, not "yes"$/);
  refuses(() => gemm(C, A, A, { transB: true, alpha: "2" } as never), InputError, /^gemm: alpha must be a number, not "2"$/);
  refuses(() => kernels.scale(A, undefined as never), InputError, /^scale: a must be a number, not nothing$/);
  gemm(C, A, A, { transB: true, beta: undefined });
  assert.equal(Array.from(C.data), [14, 32, 32, 77]);
  // A hand-made packed operand with too few floats would be read past its end.
  const P = kernels.packB(A, { transB: true });
  const small = { K: 3, N: 200, data: P.data };
  refuses(() => kernels.gemmPacked(alloc(e, "C2", 2, 200), A, small), ShapeError, /^gemmPacked: a packed 3x200 operand holds \d+ floats, .* is fewer$/);
  refuses(() => kernels.repackB(small, alloc(e, "B2", 200, 3), { transB: true }), ShapeError, /^repackB: a packed 3x200 operand holds/);
  refuses(() => kernels.gemmPacked(C, A, { K: 3, N: 2 } as never), InputError, /^gemmPacked: not a packed operand/);
  refuses(() => kernels.gemmPacked(C, A, P, { transB: true } as never), InputError, /^gemmPacked: unknown option "transB" \(known: transA, alpha, beta\)$/);
  refuses(() => kernels.packB(A, { transB: 1 } as never), InputError, /^packB: transB must be true or false, not 1$/);
  refuses(() => decodeCsv("1,2\n", "x.csv", { headers: true } as never), InputError, /^decodeCsv: unknown option "headers" \(known: header\)$/);
  refuses(() => decodeCsv("1,2\n", "x.csv", { header: "no" } as never), InputError, /^decodeCsv: header must be true or false/);
  refuses(() => exportOnnx(m.aes[0], { doc: "x" } as never), InputError, /^onnx export: unknown option "doc"/);
  refuses(() => exportOnnx(m.aes[0], { docString: 7 } as never), InputError, /^onnx export: docString must be a string, not 7$/);
  const ae = createAutoencoder(e, { D, H: 2, activation: "sigmoid", output: "real" }, 1);
  const X = { shape: [10, D], data: new Float32Array(10 * D).fill(0.5) };
  const o = { ...TRAIN_DEFAULTS, epochs: 2, batch: 5 };
  const s = startState(ae, o, rng(1));
  refuses(() => trainAutoencoder(ae, X, o, s, { onepoch: () => {} } as never), InputError, /^train: unknown hook "onepoch" \(known: valid, onEpoch, checkpoint\)$/);
  refuses(() => trainAutoencoder(ae, X, o, s, { onEpoch: 1 } as never), InputError, /^train: hook onEpoch must be a function, not 1$/);
  // Two runs on one autoencoder at once would interleave their steps: the second is refused.
  const first = trainAutoencoder(ae, X, o, s);
  refuses(() => trainAutoencoder(ae, X, o, startState(ae, o, rng(2))), InputError, /^train: this autoencoder is already training/);
  await first;
  await trainAutoencoder(ae, X, { ...o, epochs: 3 }, s);
  assert.is(s.epoch, 3);
});

test("generator states and class seeds are integers as state() and seeds give them, not coerced", () => {
  const r = rng(4);
  r.u32();
  const st = r.state();
  assert.is(rngFrom(st).u32(), r.u32());
  refuses(() => rngFrom([1.5, 2, 3, 4]), InputError, /^rngFrom: a generator state is 4 integers in \[0, 2\^32\)/);
  refuses(() => rngFrom(["1", 2, 3, 4] as never), InputError, /^rngFrom: /);
  refuses(() => rngFrom([1, 2, 3]), InputError, /^rngFrom: /);
  refuses(() => classSeed(1.5, 0), InputError, /^classSeed: the seed must be an integer in \[0, 2\^32\)/);
  refuses(() => classSeed(1, 0.5), InputError, /^classSeed: the class index must be an integer in \[−2\^31, 2\^31 − 1\), not 0\.5$/);
  refuses(() => classSeed(1, 2 ** 31), InputError, /^classSeed: /);
  assert.ok(classSeed(1, -1) !== classSeed(1, -2) && classSeed(1, -1) !== classSeed(1, 0));
});

test("every public call given null, undefined, a number, a string or {} where an argument goes: a typed one-line error, never a TypeError (a sixth audit)", async () => {
  const lib = await import("../src/index.js");
  const X = rows([0.1, 0.2, 0.3], [0.3, 0.2, 0.1]);
  const A = fromArray(e, "A", 2, 2, [1, 2, 3, 4]);
  const ae = aes[0];
  const calls: Record<string, unknown[]> = {
    energy: [ae, X], field: [ae, X], laplacian: [ae, X], hidden: [ae, X], reconstruct: [ae, X], absorbing: [ae, X],
    hessian: [ae, rows([0.1, 0.2, 0.3])], dynamics: [ae, X, { steps: 2, rate: 0.1 }],
    scores: [m, X], predict: [m, X], predictProba: [m, X], classEnergies: [m, X], reconstructionErrors: [m, X], encodeCsae: [m],
    encodeAutoencoder: [ae], packForScoring: [ae], slotParams: [ae], exportOnnx: [ae, {}], encodeModel: [{ kind: "autoencoder", ae }],
    gemm: [alloc(e, "C", 2, 2), A, A], scale: [A, 2], axpy: [A, 1, A], rowsOf: [A, 0, 1], view: [e, "v", A.ptr, 1, 1], fromArray: [e, "x", 1, 1, [1]],
    mark: [e], alloc: [e, "y", 1, 1], activation: ["sigmoid", A, { h: alloc(e, "h", 2, 2) }],
    decodeCsv: ["1,2\n", "x.csv", {}], encodeCsv: [X], encodeNpy: [X], encodeIdx: [X], encodeSafetensors: [{ X }, {}], shortestF32: [0.5],
    decodeModel: [e, encodeCsae(m)], classesOf: [["a", "b"]], classIndices: [["a"], ["a", "b"], "labels"], initialConstants: [aes, [X, X]],
    createAutoencoder: [e, { D, H: 2, activation: "sigmoid", output: "real" }, 1], startState: [ae, TRAIN_DEFAULTS, rng(1)],
    permutation: [3, rng(1)], rng: [1], rngFrom: [[1, 2, 3, 4]], classSeed: [1, 0],
    noveltyMetrics: [[1, 2], [3, 4]], rocCurve: [[1, 2], [3, 4]],
  };
  const typed: string[] = [];
  for (const [name, args] of Object.entries(calls)) {
    const f = (lib as unknown as Record<string, unknown>)[name] ?? (lib.kernels as unknown as Record<string, unknown>)[name];
    assert.type(f, "function", name);
    for (let i = 0; i < args.length; i++) {
      for (const bad of [null, undefined, 7, "s", {}]) {
        const a = args.slice();
        a[i] = bad;
        try {
          const r = (f as (...x: unknown[]) => unknown)(...a);
          if (r instanceof Promise) await r;
        } catch (err) {
          if (!(err instanceof lib.AescoreError) || /\n/.test(err.message)) typed.push(`${name}, argument ${i} = ${quote(bad)}: ${(err as Error).name}: ${(err as Error).message}`);
        }
      }
    }
  }
  assert.equal(typed, []);
});

test("an input's data is read once: what was checked is what is computed on; a look-alike of a Float32Array is refused", () => {
  const e = createEngineSync();
  const ae = createAutoencoder(e, { D: 3, H: 4, activation: "sigmoid", output: "binary" }, rng(2));
  const snap = packForScoring(ae);
  const zeros = { shape: [1, 3], data: new Float32Array(3) };
  // A getter that passes the check with zeros, then would hand over values outside [0, 1].
  const sly = () => {
    let reads = 0;
    return { shape: [1, 3], get data() { return reads++ ? Float32Array.of(5, -3, 2, 7) : new Float32Array(3); } };
  };
  for (const [name, f] of [["energy", (X: any) => energy(ae, X)], ["energy (scoring snapshot)", (X: any) => energy(snap, X)], ["field", (X: any) => field(ae, X).data],
    ["hidden", (X: any) => hidden(ae, X).data], ["reconstruct", (X: any) => reconstruct(ae, X).data], ["laplacian", (X: any) => laplacian(ae, X)],
    ["hessian", (X: any) => hessian(ae, X).data], ["dynamics", (X: any) => dynamics(ae, X, { eps: 0.1, steps: 2 }).energy.data]] as const) {
    assert.equal(Array.from(f(sly())), Array.from(f(zeros)), name);
  }
  const fake = { [Symbol.toStringTag]: "Float32Array", length: 3, 0: 0, 1: 0, 2: 0 };
  assert.throws(() => energy(ae, { shape: [1, 3], data: fake as unknown as Float32Array }), (err: Error) => err instanceof ShapeError && /input: data must be a Float32Array/.test(err.message));
});

test("a model changed to hold Infinity after it was made is named by every call whose result it makes infinite (novelty too)", () => {
  const e = createEngineSync();
  const mk = (seed: number) => createAutoencoder(e, { D: 3, H: 4, activation: "sigmoid", output: "real" }, rng(seed));
  const X = { shape: [2, 3], data: Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6) };
  const m: Csae = { classes: ["a", "b"], aes: [mk(1), mk(2)], C: new Float32Array(2), rule: "energy" };
  const broken = (what: RegExp) => (err: Error) => err instanceof InputError && what.test(err.message);
  m.aes[0].bh.data[0] = Infinity;
  for (const how of ["logsumexp", "max-score", "max-prob"] as const) assert.throws(() => noveltyScores(m, X, how), broken(/^the model's autoencoder 0 is broken: its bh holds/), how);
  m.aes[0].bh.data[0] = 0;
  m.aes[1].br.data[0] = -Infinity;
  assert.throws(() => noveltyScores(m, X, "reconstruction"), broken(/^the model's autoencoder 1 is broken: its br holds/));
  assert.throws(() => noveltyScores(m.aes[1], X, "energy"), broken(/^the model is broken: its br holds/));
  const a = mk(3);
  a.W.data[0] = Infinity;
  for (const [name, f] of [["field", () => field(a, X)], ["reconstruct", () => reconstruct(a, X)]] as const) assert.throws(f, broken(/^the model is broken: its W holds/), name);
  // Hidden units beyond float32 (square units at u = 2e19) make the decoder's Infinity − Infinity a
  // NaN, though the true reconstruction (0) fits: the row is named, no NaN returned.
  for (const output of ["real", "binary"] as const) {
    const sq = createAutoencoder(e, { D: 1, H: 2, activation: "square", output }, rng(4));
    sq.W.data.set([1, -1]);
    sq.bh.data.set([2e19, 2e19]);
    const x = { shape: [1, 1], data: Float32Array.of(0.25) };
    for (const [name, f] of [["reconstruction", () => reconstruct(sq, x)], ["field", () => field(sq, x)]] as const) {
      assert.throws(f, (err: Error) => err instanceof RowError && new RegExp(`^input: row 0's ${name} is not a number: its hidden units overflow float32`).test(err.message), `${output} ${name}`);
    }
  }
});

test("permutation refuses sizes no array holds", () => {
  refuses(() => permutation(-1, rng(1)), InputError, /permutation: n must be an integer from 0 to 1073741824, not -1/);
  refuses(() => permutation(2 ** 31, rng(1)), InputError, /not 2147483648/);
  refuses(() => permutation(1.5, rng(1)), InputError, /not 1\.5/);
  assert.equal(Array.from(permutation(3, rng(1))).sort(), [0, 1, 2]);
});

test.run();
