// Novelty scores: one number per row, higher = more unusual for the model (issue 15 §1). The paper's
// reading of the energy — how much a model "likes" an input — turned around into a score to act on.
//
//   energy          an autoencoder's −E(x)
//   logsumexp       a classifier's −log Σ_i exp(E_i(x) + C_i)   (the marginal "liking" of all classes;
//   max-score       −max_i (E_i(x) + C_i)                        C_i = 0 for a regression on the energies)
//   max-prob        −max_i P(y = i | x)                          (the softmax baseline)
//   reconstruction  min_i ‖r_i(x) − x‖²                          (the common baseline)
//
// A threshold turns a score into a decision: calibrated on held-in rows for a false positive rate,
// stored with the model (metadata novelty_threshold, see files.ts), it flags the rows above it.

import { FormatError, InputError, RowError, quote } from "../errors.js";
import { log, exp } from "../math.js";
import { energies, finiteRows } from "./energy.js";
import { reconstructionErrors, scores, softmaxRows, type Csae } from "./csae.js";
import type { Autoencoder } from "./autoencoder.js";
import type { Tensor } from "../tensor.js";
import { duplicateKey } from "../formats/safetensors.js";

export const NOVELTY_METHODS = ["energy", "logsumexp", "max-score", "max-prob", "reconstruction"] as const;
export type NoveltyMethod = (typeof NOVELTY_METHODS)[number];

const isCsae = (m: Autoencoder | Csae): m is Csae => {
  if (typeof m !== "object" || m === null) throw new InputError(`novelty: ${quote(m)} is not a model (an autoencoder or a classifier)`);
  return "aes" in m;
};

/**
 * Scores given by the caller: an array or typed array of numbers (a NaN is refused where it cannot
 * rank). Returned as they are.
 */
function scoreList(a: ArrayLike<number>, what: string): ArrayLike<number> {
  if (!(Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView)))) throw new InputError(`novelty: the ${what} must be an array of numbers, not ${quote(a)}`);
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== "number") throw new InputError(`novelty: ${what} ${i} is ${quote(a[i])}, not a number`);
  return a;
}

/** The methods a model supports: "energy" and "reconstruction" for an autoencoder, the rest for a classifier. */
export function noveltyMethods(m: Autoencoder | Csae): NoveltyMethod[] {
  return methodsOf(isCsae(m) ? "csae" : "autoencoder");
}

/** The methods of a kind of model file (autoencoder, csae, factored-csae), known from its metadata. */
export function methodsOf(kind: string): NoveltyMethod[] {
  return kind === "autoencoder" ? ["energy", "reconstruction"] : ["logsumexp", "max-score", "max-prob", "reconstruction"];
}

/** One score per row of X (higher = more unusual), by `method` (default: energy, or logsumexp for a classifier). */
export function noveltyScores(m: Autoencoder | Csae, X: Tensor, method?: NoveltyMethod): Float64Array {
  const how = method ?? (isCsae(m) ? "logsumexp" : "energy");
  if (!noveltyMethods(m).includes(how)) {
    throw new InputError(`novelty: method ${quote(how)} is not for ${isCsae(m) ? "a classifier" : "an autoencoder"} (${noveltyMethods(m).join(", ")})`);
  }
  // Rows so far from the model that an energy overflows float32 score ±Infinity (−Infinity energy:
  // as novel as can be, and flagged); only a NaN, which ranks nowhere, is refused.
  if (!isCsae(m)) {
    if (how === "energy") return Float64Array.from(finiteRows(energies([m], X), 1, "energy", true, [m]), (e) => -e);
    return Float64Array.from(reconstructionErrors({ aes: [m] }, X, true));
  }
  const K = m.aes.length;
  if (how === "reconstruction") {
    const R = reconstructionErrors(m, X, true);
    const out = new Float64Array(R.length / K);
    for (let n = 0; n < out.length; n++) {
      let best = Infinity;
      for (let i = 0; i < K; i++) best = Math.min(best, R[n * K + i]);
      out[n] = best;
    }
    return out;
  }
  // max-prob is the classifier's own confidence, by whatever rule it classifies; the energy methods
  // score E_i + C_i as documented, also for a classifier by reconstruction error (its C are the same
  // constants) or by a regression on the energies (whose C and V are the regression's, not constants
  // of the densities: its energies are scored alone). Scoring the regression's logits instead ranked
  // far rows as the least novel (AUROC 0).
  const z = how === "max-prob" ? scores(m, X, true) : scores({ ...m, rule: "energy", C: m.rule === "energies-lr" ? new Float32Array(K) : m.C }, X, true);
  const N = z.length / K;
  const out = new Float64Array(N);
  if (how === "max-prob") {
    const p = new Float64Array(z.length);
    softmaxRows(z, K, p);
    for (let n = 0; n < N; n++) {
      let best = 0;
      for (let i = 0; i < K; i++) best = Math.max(best, p[n * K + i]);
      out[n] = -best;
    }
    return scored(out, how);
  }
  for (let n = 0; n < N; n++) {
    let mx = -Infinity;
    for (let i = 0; i < K; i++) mx = Math.max(mx, z[n * K + i]);
    if (how === "max-score") {
      out[n] = -mx;
      continue;
    }
    if (!Number.isFinite(mx)) {
      out[n] = -mx; // every class's score −Infinity (or one +Infinity): so is their log-sum-exp
      continue;
    }
    let s = 0;
    for (let i = 0; i < K; i++) s += exp(z[n * K + i] - mx);
    out[n] = -(mx + log(s));
  }
  return scored(out, how);
}

/** out, unless a row's scores were infinite in a way that leaves its `how` score undefined (NaN). */
function scored(out: Float64Array, how: NoveltyMethod): Float64Array {
  const n = out.findIndex(Number.isNaN);
  if (n >= 0) throw new RowError("novelty", n, `'s class scores are infinite (its energies overflow float32), which leaves its ${how} score undefined${how === "max-prob" ? ": logsumexp scores it" : ""}`);
  return out;
}

export interface NoveltyMetrics {
  /** Area under the ROC curve: the probability that a novel row scores above a held-in one (ties count half). */
  auroc: number;
  /** Area under the precision-recall curve with the novel rows as positives (average precision). */
  aupr: number;
  /** The fraction of held-in rows flagged at the threshold that flags 95% of the novel rows. */
  fprAt95: number;
}

/** How well scores tell novel rows (`outside`) from held-in ones (`inside`); higher scores = more novel. */
export function noveltyMetrics(inside: ArrayLike<number>, outside: ArrayLike<number>): NoveltyMetrics {
  const { groups, nIn, nOut } = thresholds(inside, outside);
  let tp = 0;
  let fp = 0;
  let auroc = 0;
  let aupr = 0;
  let fprAt95 = 1;
  let reached = false;
  for (const [dtp, dfp] of groups) {
    // ROC: the trapezoid over this group of ties; PR: precision at the group's end, weighted by its recall step.
    auroc += (dfp / nIn) * ((tp + dtp / 2) / nOut);
    tp += dtp;
    fp += dfp;
    if (dtp > 0) aupr += (dtp / nOut) * (tp / (tp + fp));
    if (!reached && tp >= 0.95 * nOut) {
      fprAt95 = fp / nIn;
      reached = true;
    }
  }
  return { auroc, aupr, fprAt95 };
}

/** The ROC curve: (false positive rate, true positive rate) at every distinct threshold, from (0, 0) to (1, 1). */
export function rocCurve(inside: ArrayLike<number>, outside: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [[0, 0]];
  let tp = 0;
  let fp = 0;
  const { groups, nIn, nOut } = thresholds(inside, outside);
  for (const [dtp, dfp] of groups) {
    tp += dtp;
    fp += dfp;
    out.push([fp / nIn, tp / nOut]);
  }
  return out;
}

/** The rows by descending score, a group of equal scores at a time: [novel rows, held-in rows] per group. */
function thresholds(inside: ArrayLike<number>, outside: ArrayLike<number>): { groups: Array<[number, number]>; nIn: number; nOut: number } {
  // Checked here for both metrics and the curve: a NaN never equals itself, so its group would never
  // end (±Infinity ranks like any score). The scores are read once, into copies that are checked and
  // used: a value that changed between two reads (an accessor, shared memory) must not reach the loop.
  scoreList(inside, "held-in score");
  scoreList(outside, "novel score");
  const a = Float64Array.from(inside);
  const b = Float64Array.from(outside);
  if (a.length === 0 || b.length === 0) throw new InputError(`novelty: metrics need held-in and novel rows (got ${a.length} and ${b.length})`);
  for (const [what, c] of [["held-in", a], ["novel", b]] as const) {
    for (let i = 0; i < c.length; i++) if (Number.isNaN(c[i])) throw new InputError(`novelty: ${what} score ${i} is ${quote(c[i])}`);
  }
  const rows = [...Array.from(a, (s) => ({ s, novel: false })), ...Array.from(b, (s) => ({ s, novel: true }))];
  rows.sort((a, b) => b.s - a.s);
  const groups: Array<[number, number]> = [];
  for (let i = 0; i < rows.length; ) {
    let j = i;
    let novel = 0;
    for (; j < rows.length && rows[j].s === rows[i].s; j++) if (rows[j].novel) novel++;
    groups.push([novel, j - i - novel]);
    i = j;
  }
  return { groups, nIn: a.length, nOut: b.length };
}

// ---- thresholds ---------------------------------------------------------------------------------

/**
 * A decision rule for one method: a row is flagged when its score is strictly greater than
 * `threshold` (a score equal to it is not flagged). Calibrated on `rows` held-in rows, of which
 * `flagged` score above it: flagged / rows ≤ fpr.
 */
export interface NoveltyThreshold {
  method: NoveltyMethod;
  threshold: number;
  /** The false positive rate asked for, in (0, 1). */
  fpr: number;
  rows: number;
  flagged: number;
}

/** Checks a requested false positive rate: finite, strictly between 0 and 1. */
function checkFpr(fpr: number): void {
  if (!(typeof fpr === "number" && Number.isFinite(fpr) && fpr > 0 && fpr < 1)) throw new InputError(`novelty: the false positive rate must be a number in (0, 1), not ${quote(fpr)}`);
}

/**
 * The threshold that flags at most a fraction `fpr` of the given held-in scores, as many as that
 * allows: with k the largest integer such that k / N ≤ fpr, the (N − k)-th smallest score, so the k
 * rows above it are flagged (fewer when rows tie with it: ties are never flagged). Refused when k is
 * 0 (fewer than 1 / fpr rows: no threshold flags a fraction that small of them).
 */
export function thresholdOf(scores: ArrayLike<number>, fpr: number): { threshold: number; flagged: number } {
  checkFpr(fpr);
  const N = scoreList(scores, "calibration score").length;
  for (let i = 0; i < N; i++) if (!Number.isFinite(scores[i])) throw new InputError(`novelty: calibration score ${i} is ${quote(scores[i])}: a threshold is calibrated on finite scores`);
  // k / N ≤ fpr as the division rounds, which is how the rate is checked afterwards.
  let k = Math.floor(fpr * N);
  while (k + 1 <= N && (k + 1) / N <= fpr) k++;
  while (k > 0 && k / N > fpr) k--;
  if (k === 0) throw new InputError(`novelty: ${N} calibration row${N === 1 ? "" : "s"} cannot calibrate a false positive rate of ${fpr}: ${needRows(fpr)}`);
  const sorted = Float64Array.from(scores).sort();
  // Raised to the nearest float32 at or above it: scores written as float32 (the .npy and CSV
  // columns) then flag no row that their float64 values would not, so the rate errs low either way.
  const threshold = f32AtOrAbove(sorted[N - k - 1]);
  let flagged = 0;
  for (let i = N - k; i < N; i++) if (sorted[i] > threshold) flagged++;
  return { threshold, flagged };
}

// The smallest float32 value ≥ v (v finite; one beyond float32's range stays v, which no finite f32 score exceeds).
function f32AtOrAbove(v: number): number {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) return v;
  if (f >= v) return f;
  if (f === 0) return 2 ** -149; // (v > 0 rounded down to 0: the smallest positive subnormal)
  // One step up from f: its bit pattern moves away from zero when positive, towards it when negative.
  const bits = new Float32Array([f]);
  new Int32Array(bits.buffer)[0] += f > 0 ? 1 : -1;
  return bits[0];
}

/** The fewest calibration rows of which a fraction fpr is at least one row: N with 1 / N ≤ fpr. */
export function calibrationRows(fpr: number): number {
  checkFpr(fpr);
  const n = Math.ceil(1 / fpr);
  return n > 1 && 1 / (n - 1) <= fpr ? n - 1 : n;
}

/** What calibrating fpr needs, in words. */
export function needRows(fpr: number): string {
  const n = calibrationRows(fpr);
  return Number.isSafeInteger(n) ? `it needs at least ${n} rows (a threshold flags whole rows)` : "no array holds enough rows for a rate that small";
}

/** Calibrates a threshold for `method` (the model's default when absent) on held-in rows X. */
export function calibrateThreshold(m: Autoencoder | Csae, X: Tensor, fpr: number, method?: NoveltyMethod): NoveltyThreshold {
  checkFpr(fpr);
  const how = method ?? (isCsae(m) ? "logsumexp" : "energy");
  const scores = noveltyScores(m, X, how);
  const i = scores.findIndex((x) => !Number.isFinite(x));
  if (i >= 0) throw new RowError("novelty", i, `'s score is ${scores[i]} (its energies overflow float32): a threshold is calibrated on rows the model scores finitely`);
  return { method: how, ...thresholdOf(scores, fpr), fpr, rows: scores.length };
}

/**
 * The flags of scores of `method` under threshold t: 1 where score > t.threshold, else 0. Scores of
 * another method are refused (a threshold is on the scale of the method it was calibrated for).
 */
export function noveltyFlags(scores: ArrayLike<number>, t: NoveltyThreshold, method: NoveltyMethod): Uint8Array {
  // (the same checks as a stored threshold's: a NaN or missing one would flag nothing, a string compare oddly)
  if (typeof t !== "object" || t === null || !NOVELTY_METHODS.includes(t.method)) throw new InputError(`novelty: ${quote(t)} is not a threshold of a method (${NOVELTY_METHODS.join(", ")})`);
  if (typeof t.threshold !== "number" || !Number.isFinite(t.threshold)) throw new InputError(`novelty: the threshold must be a finite number, not ${quote(t.threshold)}`);
  if (method !== t.method) throw new InputError(`novelty: the threshold is for ${t.method} scores, not ${NOVELTY_METHODS.includes(method) ? method : quote(method)}`);
  scoreList(scores, "score");
  // (a NaN is above no threshold: it would pass as held-in)
  return Uint8Array.from(scores, (s, i) => {
    if (Number.isNaN(s)) throw new InputError(`novelty: score ${i} is not a number`);
    return s > t.threshold ? 1 : 0;
  });
}

const THRESHOLD_KEYS = ["method", "threshold", "fpr", "rows", "flagged"];

/** The metadata text of a threshold: JSON, whose numbers read back as the same doubles. */
export function encodeThreshold(t: NoveltyThreshold): string {
  return JSON.stringify({ method: t.method, threshold: t.threshold, fpr: t.fpr, rows: t.rows, flagged: t.flagged });
}

/** Parses and checks a threshold's metadata text for a model with the given methods; `source` names the file. */
export function decodeThreshold(text: string, methods: readonly NoveltyMethod[], source: string): NoveltyThreshold {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: metadata novelty_threshold${what}`);
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail(" is not JSON text");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(" is not a JSON object");
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!THRESHOLD_KEYS.includes(k)) fail(` has an unknown field ${quote(k)} (${THRESHOLD_KEYS.join(", ")})`);
  for (const k of THRESHOLD_KEYS) if (!Object.hasOwn(o, k)) fail(` has no field ${k}`);
  // JSON.parse keeps the last of two same keys: a record with two methods would score one and be read as the other.
  const twice = duplicateKey(text);
  if (twice !== undefined) fail(` has the field ${twice} twice`);
  const { method, threshold, fpr, rows, flagged } = o;
  if (typeof method !== "string" || !(methods as readonly string[]).includes(method)) fail(`: method ${quote(method)} is not one of this model's (${methods.join(", ")})`);
  if (typeof threshold !== "number" || !Number.isFinite(threshold)) fail(`: the threshold must be a finite number, not ${quote(threshold)}`);
  if (typeof fpr !== "number" || !(fpr > 0 && fpr < 1)) fail(`: fpr ${quote(fpr)} is not a number in (0, 1)`);
  if (typeof rows !== "number" || !Number.isSafeInteger(rows) || rows < 1) fail(`: rows ${quote(rows)} is not a positive integer`);
  // (calibration refuses fewer than 1 / fpr rows: such a record was not made by it)
  if (1 / (rows as number) > (fpr as number)) fail(`: ${rows} rows cannot have calibrated a false positive rate of ${fpr} (${needRows(fpr as number)})`);
  if (typeof flagged !== "number" || !Number.isSafeInteger(flagged) || flagged < 0 || flagged / (rows as number) > (fpr as number)) {
    fail(`: flagged ${quote(flagged)} is not an integer in [0, fpr·rows]`);
  }
  return { method: method as NoveltyMethod, threshold: threshold as number, fpr: fpr as number, rows: rows as number, flagged: flagged as number };
}
