// Novelty scores and their metrics, against direct float64 computations and hand-checked cases.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync } from "../src/engine/engine.js";
import { createAutoencoder } from "../src/model/autoencoder.js";
import { energy, reconstruct } from "../src/model/energy.js";
import { classEnergies, predictProba, type Csae } from "../src/model/csae.js";
import { noveltyScores, noveltyMetrics, noveltyMethods, thresholdOf, calibrateThreshold, calibrationRows, noveltyFlags, type NoveltyThreshold } from "../src/model/novelty.js";
import { encodeAutoencoder } from "../src/model/autoencoder.js";
import { encodeCsae } from "../src/model/csae.js";
import { createFactored, encodeFactored } from "../src/model/factored.js";
import { decodeModel, encodeModel, withThreshold, THRESHOLD_KEY } from "../src/model/files.js";
import { decodeSafetensors, encodeSafetensors } from "../src/formats/safetensors.js";
import { FormatError, InputError } from "../src/errors.js";
import { rng, sameBits } from "./util.js";

const e = createEngineSync();
const D = 7;
const r = rng(4);
const X = { shape: [11, D], data: Float32Array.from({ length: 11 * D }, () => r.uniform()) };
const aes = [0, 1, 2].map((i) => createAutoencoder(e, { D, H: 5, activation: "sigmoid", output: "real" }, i + 1));
const m: Csae = { classes: ["a", "b", "c"], aes, C: Float32Array.of(0.3, -0.2, 0.1) };
// The reconstruction errors are f32 sums (the library's), the rest float64 from f32 energies.
const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = what === "reconstruction" ? 1e-6 : 1e-9) => {
  assert.is(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test("every method is what its formula says", () => {
  close(noveltyScores(aes[0], X), Array.from(energy(aes[0], X), (v) => -v), "energy");
  const E = classEnergies(m, X).data;
  const P = predictProba(m, X);
  const want = { logsumexp: [] as number[], "max-score": [] as number[], "max-prob": [] as number[], reconstruction: [] as number[] };
  const R = aes.map((ae) => reconstruct(ae, X).data);
  for (let n = 0; n < 11; n++) {
    const z = [0, 1, 2].map((i) => E[n * 3 + i] + m.C[i]);
    want.logsumexp.push(-Math.log(z.reduce((s, v) => s + Math.exp(v), 0)));
    want["max-score"].push(-Math.max(...z));
    want["max-prob"].push(-Math.max(P[n * 3], P[n * 3 + 1], P[n * 3 + 2]));
    want.reconstruction.push(Math.min(...R.map((Ri) => Array.from({ length: D }, (_, j) => (Ri[n * D + j] - X.data[n * D + j]) ** 2).reduce((s, v) => s + v, 0))));
  }
  for (const method of noveltyMethods(m)) close(noveltyScores(m, X, method), want[method as keyof typeof want], method);
  assert.equal(noveltyScores(m, X), noveltyScores(m, X, "logsumexp"));
  assert.throws(() => noveltyScores(m, X, "energy"), (err: unknown) => err instanceof InputError && /not for a classifier/.test((err as Error).message));
  assert.throws(() => noveltyScores(aes[0], X, "max-prob"), (err: unknown) => err instanceof InputError && /not for an autoencoder/.test((err as Error).message));
});

test("metrics: separated, reversed, tied, and a hand-checked mix", () => {
  assert.equal(noveltyMetrics([0, 1, 2], [3, 4]), { auroc: 1, aupr: 1, fprAt95: 0 });
  const rev = noveltyMetrics([3, 4], [0, 1, 2]);
  assert.is(rev.auroc, 0);
  assert.is(rev.fprAt95, 1);
  assert.is(noveltyMetrics([1, 1], [1, 1]).auroc, 0.5);
  // in [1, 3], out [2, 4]: pairs (2>1, 4>1, 4>3; 2<3) → 3/4; PR: 4 (P=1, R=.5), 3, 2 (P=2/3, R=1) → .5 + .5·2/3
  const mix = noveltyMetrics([1, 3], [2, 4]);
  assert.is(mix.auroc, 0.75);
  assert.ok(Math.abs(mix.aupr - (0.5 + 0.5 * (2 / 3))) < 1e-12);
  assert.is(mix.fprAt95, 0.5);
  assert.throws(() => noveltyMetrics([], [1]), /need held-in and novel rows/);
  assert.throws(() => noveltyMetrics([NaN], [1]), /held-in score 0 is NaN \(not a number\)/);
});

// ---- thresholds ----

const throwsIn = (fn: () => unknown, re: RegExp, type: new (...a: never[]) => Error = InputError) =>
  assert.throws(fn, (err: unknown) => err instanceof type && re.test((err as Error).message));

test("thresholdOf: the (N − k)-th smallest score, k = the most rows with k/N ≤ fpr; ties at it are not flagged", () => {
  const twenty = Array.from({ length: 20 }, (_, i) => 20 - i); // 20, 19, …, 1: order does not matter
  assert.equal(thresholdOf(twenty, 0.05), { threshold: 19, flagged: 1 });
  assert.equal(thresholdOf(twenty, 0.0999), { threshold: 19, flagged: 1 });
  assert.equal(thresholdOf(twenty, 0.1), { threshold: 18, flagged: 2 });
  // 0.29·100 rounds to 28.999999999999996, but 29/100 ≤ 0.29: k is 29, not 28.
  const hundred = Array.from({ length: 100 }, (_, i) => i);
  assert.equal(thresholdOf(hundred, 0.29), { threshold: 70, flagged: 29 });
  assert.equal(thresholdOf(hundred, 0.3), { threshold: 69, flagged: 30 });
  // Ties: [1, 2, 3, 3, 3] at 0.4 would flag two rows, but the 3s tie with the threshold: none is flagged.
  assert.equal(thresholdOf([3, 1, 3, 2, 3], 0.4), { threshold: 3, flagged: 0 });
  assert.equal(thresholdOf([1, 2, 3, 3, 5], 0.4), { threshold: 3, flagged: 1 });
  // The flag rule on the calibration scores gives back `flagged`.
  const t: NoveltyThreshold = { method: "energy", ...thresholdOf([1, 2, 3, 3, 5], 0.4), fpr: 0.4, rows: 5 };
  assert.equal(Array.from(noveltyFlags([1, 2, 3, 3, 5, 3.0000001], t, "energy")), [0, 0, 0, 0, 1, 1]);
  // Too few rows for the rate, bad rates, bad scores.
  throwsIn(() => thresholdOf([1, 2, 3], 0.3), /3 calibration rows cannot calibrate a false positive rate of 0.3: it needs at least 4 rows/);
  assert.is(calibrationRows(0.3), 4);
  assert.is(calibrationRows(0.25), 4);
  assert.is(calibrationRows(0.05), 20);
  assert.is(calibrationRows(0.999), 2);
  for (const bad of [0, 1, -0.1, 1.5, NaN, Infinity, -Infinity]) throwsIn(() => thresholdOf(twenty, bad), /false positive rate must be a number in \(0, 1\)/);
  throwsIn(() => thresholdOf([1, NaN, 3], 0.5), /calibration score 1 is NaN \(not a number\): a threshold is calibrated on finite scores/);
});

test("thresholdOf: over many sizes and rates, the calibrated rate is ≤ fpr and within 1/N of it (no ties)", () => {
  const g = rng(21);
  for (let trial = 0; trial < 300; trial++) {
    const N = 1 + Math.floor(g.uniform() * 500);
    const fpr = Math.max(1e-3, g.uniform() * 0.999);
    const s = Array.from({ length: N }, () => g.uniform());
    if (N < calibrationRows(fpr)) {
      throwsIn(() => thresholdOf(s, fpr), /cannot calibrate/);
      continue;
    }
    const { threshold, flagged } = thresholdOf(s, fpr);
    assert.is(flagged, s.filter((v) => v > threshold).length);
    assert.ok(flagged / N <= fpr, `N ${N}, fpr ${fpr}: ${flagged} flagged`);
    assert.ok(flagged / N > fpr - 1 / N, `N ${N}, fpr ${fpr}: only ${flagged} flagged`);
  }
});

// 400 held-in rows from the same distribution as X (uniform pixels), and every model kind.
const V = { shape: [400, D], data: Float32Array.from({ length: 400 * D }, () => r.uniform()) };
const fac = createFactored(e, ["a", "b", "c"], { D, H: 5, activation: "sigmoid", output: "real" }, 4, rng(8));
const files = { autoencoder: encodeAutoencoder(aes[0]), csae: encodeCsae(m), "factored-csae": encodeFactored(fac) };

test("calibrateThreshold: on its calibration rows, the FPR is ≤ the one asked for and close to it, for every method", () => {
  for (const [model, methods] of [[aes[0], noveltyMethods(aes[0])], [m, noveltyMethods(m)]] as const) {
    for (const method of methods) {
      for (const fpr of [0.01, 0.05, 0.1, 0.5]) {
        const t = calibrateThreshold(model, V, fpr, method);
        assert.is(t.method, method);
        assert.is(t.rows, 400);
        assert.is(t.fpr, fpr);
        const flags = noveltyFlags(noveltyScores(model, V, method), t, method);
        const rate = flags.reduce((a, b) => a + b, 0) / 400;
        assert.is(rate, t.flagged / 400);
        assert.ok(rate <= fpr, `${method} at ${fpr}: ${rate}`);
        assert.ok(rate >= fpr - 1 / 400, `${method} at ${fpr}: only ${rate}`);
      }
    }
  }
  assert.is(calibrateThreshold(m, V, 0.05).method, "logsumexp");
  assert.is(calibrateThreshold(aes[0], V, 0.05).method, "energy");
  throwsIn(() => calibrateThreshold(m, V, 0.05, "energy"), /not for a classifier/);
  throwsIn(() => calibrateThreshold(m, X, 0.05), /11 calibration rows cannot calibrate a false positive rate of 0.05: it needs at least 20 rows/);
});

test("a stored threshold round-trips through the file, for every kind; tensors and other metadata are kept", () => {
  for (const [kind, bytes] of Object.entries(files)) {
    const before = decodeModel(e, bytes, kind);
    assert.is(before.novelty, undefined, `${kind}: a file without the field has no threshold`);
    const scored = before.kind === "autoencoder" ? before.ae : before.csae;
    const t = calibrateThreshold(scored, V, 0.05);
    const stamped = withThreshold(bytes, t, kind);
    const after = decodeModel(e, stamped, kind);
    assert.equal(after.novelty, t, kind);
    assert.is(after.novelty!.threshold, t.threshold); // the same double, not a rounded one
    const a = decodeSafetensors(bytes);
    const b = decodeSafetensors(stamped);
    assert.equal(b.metadata, { ...a.metadata, [THRESHOLD_KEY]: b.metadata[THRESHOLD_KEY] });
    for (const [name, x] of Object.entries(a.tensors)) assert.ok(sameBits(b.tensors[name].data, x.data), `${kind} ${name}`);
    // encodeModel keeps it; a second calibration replaces it.
    assert.equal(decodeModel(e, encodeModel(after), kind).novelty, t, kind);
    const t2 = calibrateThreshold(scored, V, 0.1, "reconstruction");
    assert.equal(decodeModel(e, withThreshold(stamped, t2, kind), kind).novelty, t2, kind);
    assert.equal(noveltyScores(scored, V), noveltyScores(after.kind === "autoencoder" ? after.ae : after.csae, V), `${kind}: same scores`);
  }
});

// A file as PyTorch writes a half-precision model: every tensor F16 (round to nearest; normal values).
function asF16(bytes: Uint8Array): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const bits = (x: number) => {
    const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
    const a = Math.abs(x);
    if (a < 2 ** -14) return sign;
    let exp = Math.floor(Math.log2(a));
    let frac = Math.round((a / 2 ** exp - 1) * 1024);
    if (frac === 1024) [exp, frac] = [exp + 1, 0];
    return sign | ((exp + 15) << 10) | frac;
  };
  const header: Record<string, unknown> = { __metadata__: metadata };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const part = new Uint8Array(2 * t.data.length);
    const view = new DataView(part.buffer);
    t.data.forEach((x, i) => view.setUint16(2 * i, bits(x), true));
    header[name] = { dtype: "F16", shape: t.shape, data_offsets: [offset, offset + part.length] };
    offset += part.length;
    parts.push(part);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const part of parts) (out.set(part, p), (p += part.length));
  return out;
}

test("a threshold stored in a half-precision file leaves its tensors F16, byte for byte", () => {
  const half = asF16(files.csae);
  const n = (b: Uint8Array) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const dtypes = (b: Uint8Array) => Object.entries(JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n(b))))).filter(([k]) => k !== "__metadata__").map(([, v]) => (v as { dtype: string }).dtype);
  assert.ok(dtypes(half).length > 0 && dtypes(half).every((d) => d === "F16"));
  const before = decodeModel(e, half, "half.safetensors");
  const t = calibrateThreshold(before.kind === "csae" ? before.csae : (undefined as never), V, 0.05);
  const stamped = withThreshold(half, t, "half.safetensors");
  assert.equal(dtypes(stamped), dtypes(half));
  assert.ok(Buffer.from(stamped.subarray(8 + n(stamped))).equals(Buffer.from(half.subarray(8 + n(half)))), "the tensors' bytes are unchanged");
  assert.is(stamped.length - n(stamped), half.length - n(half), "no larger than the F16 file but for the header");
  const after = decodeModel(e, stamped, "half.safetensors");
  assert.equal(after.novelty, t);
  assert.equal(noveltyScores(after.kind === "csae" ? after.csae : (undefined as never), V), noveltyScores(before.kind === "csae" ? before.csae : (undefined as never), V));
});

test("a threshold for one method: flags of another are refused; a method the kind lacks is refused in the file", () => {
  const t = calibrateThreshold(m, V, 0.05, "logsumexp");
  throwsIn(() => noveltyFlags(noveltyScores(m, V, "max-prob"), t, "max-prob"), /the threshold is for logsumexp scores, not max-prob/);
  throwsIn(() => withThreshold(files.autoencoder, t, "ae.safetensors"), /method "logsumexp" is not one of this model's \(energy, reconstruction\)/);
  throwsIn(() => withThreshold(encodeSafetensors({ x: { shape: [1], data: Float32Array.of(1) } }), t, "x"), /^x: not an aescore model \(the file has no __metadata__\)/, FormatError);
  // The model is read whole first: a csae file without its classes is not stamped (it was, and failed only when read).
  const a = decodeSafetensors(files.csae);
  const { classes: _, ...noClasses } = a.metadata;
  throwsIn(() => withThreshold(encodeSafetensors(a.tensors, noClasses), t, "c.safetensors"), /^c.safetensors: metadata classes is missing/, FormatError);
});

test("a broken novelty_threshold field is a FormatError naming the file and the field", () => {
  const good = { method: "logsumexp", threshold: 1.5, fpr: 0.05, rows: 100, flagged: 5 };
  const a = decodeSafetensors(files.csae);
  const open = (field: string) => () => decodeModel(e, encodeSafetensors(a.tensors, { ...a.metadata, [THRESHOLD_KEY]: field }), "m.safetensors");
  const cases: Array<[string, RegExp]> = [
    ["{", /is not JSON text/],
    ["[1]", /is not a JSON object/],
    [JSON.stringify({ ...good, extra: 1 }), /unknown field "extra"/],
    [JSON.stringify({ ...good, rows: undefined }), /has no field rows/],
    [JSON.stringify({ ...good, method: "energy" }), /method "energy" is not one of this model's/],
    [JSON.stringify({ ...good, threshold: "1.5" }), /the threshold must be a finite number, not "1.5"/],
    [JSON.stringify({ ...good, threshold: null }), /the threshold must be a finite number, not an empty value/],
    [JSON.stringify({ ...good, fpr: 1 }), /fpr 1 is not a number in \(0, 1\)/],
    [JSON.stringify({ ...good, rows: 0 }), /rows 0 is not a positive integer/],
    [JSON.stringify({ ...good, rows: 2.5 }), /rows 2.5 is not a positive integer/],
    [JSON.stringify({ ...good, rows: 1, fpr: 5e-324, flagged: 0 }), /1 rows cannot have calibrated a false positive rate of 5e-324/],
    [JSON.stringify({ ...good, rows: 19, flagged: 0 }), /19 rows cannot have calibrated a false positive rate of 0.05 \(it needs at least 20 rows/],
    [JSON.stringify({ ...good, flagged: 6 }), /flagged 6 is not an integer in \[0, fpr·rows\]/],
    [JSON.stringify({ ...good, flagged: -1 }), /flagged -1/],
  ];
  for (const [field, re] of cases) throwsIn(open(field), new RegExp(`^m\\.safetensors: metadata novelty_threshold.*${re.source}`), FormatError);
  assert.equal(open(JSON.stringify(good))().novelty, good);
});

test("a threshold is a float32 value: scores written as float32 flag no row their float64 values do not", () => {
  // Scores with more digits than float32 holds, many within an f32 step of one another.
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const scores = Float64Array.from({ length: 2000 }, () => -0.8 - next() * 1e-5);
  for (const fpr of [0.01, 0.1, 0.5]) {
    const { threshold, flagged } = thresholdOf(scores, fpr);
    assert.is(Math.fround(threshold), threshold, "an f32 value");
    const t: NoveltyThreshold = { method: "logsumexp", threshold, fpr, rows: scores.length, flagged };
    const f64 = noveltyFlags(scores, t, "logsumexp");
    const f32 = noveltyFlags(Float32Array.from(scores), t, "logsumexp");
    assert.is(f64.reduce((a, b) => a + b, 0), flagged);
    assert.ok(flagged <= fpr * scores.length, `at most the rate (${flagged})`);
    assert.ok(f32.every((f, i) => f <= f64[i]), "the f32 flags a subset of the f64 ones");
  }
});

test("the energy methods score E_i + C_i by every rule: a regression on the energies scores its energies alone, not its logits", () => {
  const e = createEngineSync();
  const aes = [1, 2, 3].map((seed) => createAutoencoder(e, { D: 4, H: 3, activation: "sigmoid", output: "real" }, seed));
  const X = { shape: [5, 4], data: Float32Array.from({ length: 20 }, (_, i) => ((i * 7) % 9) / 3 - 1) };
  const K = 3;
  const C = Float32Array.of(0.5, -1, 2);
  const V = Float32Array.from({ length: 9 }, (_, i) => (i % 4) - 1.5);
  const E = classEnergies({ aes }, X).data;
  const lse = (c: ArrayLike<number>) => Array.from({ length: 5 }, (_, n) => {
    const z = [0, 1, 2].map((i) => E[n * K + i] + c[i]);
    const mx = Math.max(...z);
    return -(mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0)));
  });
  const close = (a: ArrayLike<number>, b: number[], what: string) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${what} ${i}: ${a[i]} vs ${v}`));
  close(noveltyScores({ classes: ["a", "b", "c"], aes, C, rule: "energy" }, X, "logsumexp"), lse(C), "energy rule");
  close(noveltyScores({ classes: ["a", "b", "c"], aes, C, rule: "reconstruction" }, X, "logsumexp"), lse(C), "reconstruction rule");
  const lr: Csae = { classes: ["a", "b", "c"], aes, C, V, rule: "energies-lr" };
  close(noveltyScores(lr, X, "logsumexp"), lse([0, 0, 0]), "energies-lr");
  close(noveltyScores(lr, X, "max-score"), Array.from({ length: 5 }, (_, n) => -Math.max(E[n * K], E[n * K + 1], E[n * K + 2])), "energies-lr max-score");
  // max-prob stays the regression's own confidence.
  const p = predictProba(lr, X);
  close(noveltyScores(lr, X, "max-prob"), Array.from({ length: 5 }, (_, n) => -Math.max(p[n * K], p[n * K + 1], p[n * K + 2])), "energies-lr max-prob");
});

test.run();
