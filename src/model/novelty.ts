// Novelty scores: one number per row, higher = more unusual for the model (issue 15 §1). The paper's
// reading of the energy — how much a model "likes" an input — turned around into a score to act on.
//
//   energy          an autoencoder's −E(x)
//   logsumexp       a classifier's −log Σ_i exp(E_i(x) + C_i)   (the marginal "liking" of all classes)
//   max-score       −max_i (E_i(x) + C_i)
//   max-prob        −max_i P(y = i | x)                          (the softmax baseline)
//   reconstruction  min_i ‖r_i(x) − x‖²                          (the common baseline)

import { InputError, quote } from "../errors.js";
import { log, exp } from "../math.js";
import { energy } from "./energy.js";
import { reconstructionErrors, scores, softmaxRows, type Csae } from "./csae.js";
import type { Autoencoder } from "./autoencoder.js";
import type { Tensor } from "../tensor.js";

export const NOVELTY_METHODS = ["energy", "logsumexp", "max-score", "max-prob", "reconstruction"] as const;
export type NoveltyMethod = (typeof NOVELTY_METHODS)[number];

const isCsae = (m: Autoencoder | Csae): m is Csae => "aes" in m;

/** The methods a model supports: "energy" and "reconstruction" for an autoencoder, the rest for a classifier. */
export function noveltyMethods(m: Autoencoder | Csae): NoveltyMethod[] {
  return isCsae(m) ? ["logsumexp", "max-score", "max-prob", "reconstruction"] : ["energy", "reconstruction"];
}

/** One score per row of X (higher = more unusual), by `method` (default: energy, or logsumexp for a classifier). */
export function noveltyScores(m: Autoencoder | Csae, X: Tensor, method?: NoveltyMethod): Float64Array {
  const how = method ?? (isCsae(m) ? "logsumexp" : "energy");
  if (!noveltyMethods(m).includes(how)) {
    throw new InputError(`novelty: method ${quote(how)} is not for ${isCsae(m) ? "a classifier" : "an autoencoder"} (${noveltyMethods(m).join(", ")})`);
  }
  if (!isCsae(m)) {
    if (how === "energy") return Float64Array.from(energy(m, X), (e) => -e);
    return Float64Array.from(reconstructionErrors({ aes: [m] }, X));
  }
  const K = m.aes.length;
  if (how === "reconstruction") {
    const R = reconstructionErrors(m, X);
    const out = new Float64Array(R.length / K);
    for (let n = 0; n < out.length; n++) {
      let best = Infinity;
      for (let i = 0; i < K; i++) best = Math.min(best, R[n * K + i]);
      out[n] = best;
    }
    return out;
  }
  const z = scores(m, X);
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
    return out;
  }
  for (let n = 0; n < N; n++) {
    let mx = -Infinity;
    for (let i = 0; i < K; i++) mx = Math.max(mx, z[n * K + i]);
    if (how === "max-score") {
      out[n] = -mx;
      continue;
    }
    let s = 0;
    for (let i = 0; i < K; i++) s += exp(z[n * K + i] - mx);
    out[n] = -(mx + log(s));
  }
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
  const nIn = inside.length;
  const nOut = outside.length;
  if (nIn === 0 || nOut === 0) throw new InputError(`novelty: metrics need held-in and novel rows (got ${nIn} and ${nOut})`);
  for (const [what, a] of [["held-in", inside], ["novel", outside]] as const) {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new InputError(`novelty: ${what} score ${i} is ${quote(a[i])}`);
  }
  let tp = 0;
  let fp = 0;
  let auroc = 0;
  let aupr = 0;
  let fprAt95 = 1;
  let reached = false;
  for (const [dtp, dfp] of thresholds(inside, outside)) {
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
  for (const [dtp, dfp] of thresholds(inside, outside)) {
    tp += dtp;
    fp += dfp;
    out.push([fp / inside.length, tp / outside.length]);
  }
  return out;
}

/** The rows by descending score, a group of equal scores at a time: [novel rows, held-in rows] per group. */
function thresholds(inside: ArrayLike<number>, outside: ArrayLike<number>): Array<[number, number]> {
  const rows = [...Array.from(inside, (s) => ({ s, novel: false })), ...Array.from(outside, (s) => ({ s, novel: true }))];
  rows.sort((a, b) => b.s - a.s);
  const groups: Array<[number, number]> = [];
  for (let i = 0; i < rows.length; ) {
    let j = i;
    let novel = 0;
    for (; j < rows.length && rows[j].s === rows[i].s; j++) if (rows[j].novel) novel++;
    groups.push([novel, j - i - novel]);
    i = j;
  }
  return groups;
}
