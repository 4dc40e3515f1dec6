// Novelty scores and their metrics, against direct float64 computations and hand-checked cases.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync } from "../src/engine/engine.js";
import { createAutoencoder } from "../src/model/autoencoder.js";
import { energy, reconstruct } from "../src/model/energy.js";
import { classEnergies, predictProba, type Csae } from "../src/model/csae.js";
import { noveltyScores, noveltyMetrics, noveltyMethods } from "../src/model/novelty.js";
import { InputError } from "../src/errors.js";
import { rng } from "./util.js";

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
  assert.throws(() => noveltyMetrics([NaN], [1]), /held-in score 0 is not a number/);
});

test.run();
