// The factored CSAE's gradients (pretraining and finetuning) by finite differences in float64.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync, mark, release } from "../src/engine/engine.js";
import type { Output } from "../src/model/autoencoder.js";
import type { Activation } from "../src/engine/activations.js";
import { createFactored, decodeFactored, encodeFactored, type FactoredCsae } from "../src/model/factored.js";
import { factoredStep, factoredLossAndGradient, factoredGroups } from "../src/train/factored.js";
import { decodeSafetensors, encodeSafetensors } from "../src/formats/safetensors.js";
import { FormatError } from "../src/errors.js";
import { reference } from "./reference.js";
import { checkGradient } from "./ref/autoencoder.js";
import { rng } from "./util.js";

const e = createEngineSync();
const [K, D, F, H, B] = [3, 5, 4, 3, 4];
const NAMES = ["Wx", "Wf", "Wh", "Bh", "Br"] as const;
const softplus = (a: number) => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));

function unpack(p: Float64Array) {
  const sizes = [D * F, K * F, F * H, K * H, K * D];
  const out: Record<string, Float64Array> = {};
  let at = 0;
  NAMES.forEach((n, i) => {
    out[n] = p.subarray(at, at + sizes[i]);
    at += sizes[i];
  });
  return out;
}

// Class j's pieces for input x (docs/math.md §8.2), in float64.
function forward(P: Record<string, Float64Array>, act: Activation, x: ArrayLike<number>, j: number) {
  const p = Array.from({ length: F }, (_, f) => Array.from({ length: D }, (_, d) => P.Wx[d * F + f] * x[d]).reduce((a, b) => a + b, 0));
  const q = p.map((v, f) => v * P.Wf[j * F + f]);
  const u = Array.from({ length: H }, (_, k) => P.Bh[j * H + k] + q.reduce((s, qf, f) => s + P.Wh[f * H + k] * qf, 0));
  const a = u.map((v) => reference(act, v).h);
  const v = Array.from({ length: F }, (_, f) => a.reduce((s, ak, k) => s + P.Wh[f * H + k] * ak, 0));
  const r = Array.from({ length: D }, (_, d) => P.Br[j * D + d] + v.reduce((s, vf, f) => s + P.Wx[d * F + f] * P.Wf[j * F + f] * vf, 0));
  return { u, r };
}

function model(act: Activation, output: Output, seed: number): FactoredCsae {
  const r = rng(seed);
  const m = createFactored(e, ["a", "b", "c"], { D, H, activation: act, output }, F, r);
  for (const n of NAMES) for (let i = 0; i < m[n].data.length; i++) m[n].data[i] = r.uniform() - 0.5;
  return m;
}

const flat = (m: FactoredCsae) => Float64Array.from(NAMES.flatMap((n) => [...m[n].data]));

for (const [act, output] of [["sigmoid", "real"], ["tanh", "real"], ["relu", "binary"], ["modulus", "real"], ["square", "binary"]] as Array<[Activation, Output]>) {
  test(`factored pretraining gradient by finite differences: ${act}/${output}`, () => {
    const top = mark(e);
    const m = model(act, output, 3);
    const s = factoredStep(m, B, true);
    const r = rng(4);
    for (let i = 0; i < B * D; i++) {
      s.X.data[i] = output === "binary" ? r.uniform() : 2 * r.uniform() - 1;
      s.Xt.data[i] = r.uniform() < 0.3 ? 0 : s.X.data[i];
    }
    s.y.set([0, 2, 2, 1]);
    const loss = factoredLossAndGradient(m, s, B);
    const X = Float64Array.from(s.X.data);
    const Xt = Float64Array.from(s.Xt.data);
    const lossRef = (p: Float64Array) => {
      const P = unpack(p);
      let total = 0;
      for (let b = 0; b < B; b++) {
        const { r: out } = forward(P, act, Xt.subarray(b * D, (b + 1) * D), s.y[b]);
        for (let d = 0; d < D; d++) total += output === "real" ? 0.5 * (out[d] - X[b * D + d]) ** 2 : softplus(out[d]) - X[b * D + d] * out[d];
      }
      return total / B;
    };
    const p = flat(m);
    assert.ok(Math.abs(loss - lossRef(p)) < 1e-5 * (1 + Math.abs(loss)), `loss ${loss} vs ${lossRef(p)}`);
    checkGradient(`${act}/${output}`, NAMES.flatMap((n) => [...s.grad[n].data]), lossRef, p, { abs: 2e-5, rel: 1e-3 });
    release(e, top);
  });
}

for (const [act, output] of [["sigmoid", "real"], ["softplus", "binary"]] as Array<[Activation, Output]>) {
  test(`factored finetuning gradient by finite differences: ${act}/${output}`, async () => {
    const top = mark(e);
    const m = model(act, output, 5);
    const r = rng(6);
    const X = Float32Array.from({ length: B * D }, () => (output === "binary" ? 0.05 + 0.9 * r.uniform() : 2 * r.uniform() - 1));
    const y = [1, 0, 2, 2];
    const C = [0.3, -0.2, 0.1];
    const groups = factoredGroups(m, { shape: [B, D], data: X }, B);
    const E = await groups.energies(Int32Array.from([0, 1, 2, 3]));
    const energyRef = (P: Record<string, Float64Array>, x: Float64Array, j: number) => {
      const { u } = forward(P, act, x, j);
      let s = u.reduce((a, v) => a + reference(act, v).H, 0);
      for (let d = 0; d < D; d++) {
        const br = P.Br[j * D + d];
        s += output === "real" ? -0.5 * (x[d] - br) ** 2 : br * x[d] - (x[d] * Math.log(x[d]) + (1 - x[d]) * Math.log(1 - x[d]));
      }
      return s;
    };
    const lossRef = (p: Float64Array) => {
      const P = unpack(p);
      let total = 0;
      for (let b = 0; b < B; b++) {
        const x = Float64Array.from(X.subarray(b * D, (b + 1) * D));
        const z = [0, 1, 2].map((j) => energyRef(P, x, j) + C[j]);
        const mx = Math.max(...z);
        total += mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0)) - z[y[b]];
      }
      return total / B;
    };
    const p = flat(m);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < K; j++) {
        const want = energyRef(unpack(p), Float64Array.from(X.subarray(b * D, (b + 1) * D)), j);
        assert.ok(Math.abs(E[b * K + j] - want) < 1e-5 * (1 + Math.abs(want)), `E[${b},${j}]`);
      }
    }
    const g = new Float32Array(B * K);
    for (let b = 0; b < B; b++) {
      const z = [0, 1, 2].map((j) => E[b * K + j] + C[j]);
      const mx = Math.max(...z);
      const ex = z.map((v) => Math.exp(v - mx));
      const sum = ex.reduce((a, v) => a + v, 0);
      for (let j = 0; j < K; j++) g[b * K + j] = (ex[j] / sum - (j === y[b] ? 1 : 0)) / B;
    }
    groups.gradients(g);
    checkGradient(`${act}/${output}`, NAMES.flatMap((n) => [...groups.grad[n].data]), lossRef, p, { abs: 1e-5, rel: 1e-3 });
    release(e, top);
  });
}

test("a factored model file: Wh's rows must be Wx's factors, and its rule the energies'", () => {
  const m = model("tanh", "real", 5);
  const { tensors, metadata } = decodeSafetensors(encodeFactored(m), "m");
  const bad = (t: typeof tensors, md: Record<string, string>, pattern: RegExp) => {
    try {
      decodeFactored(e, encodeSafetensors(t, md), "m.safetensors");
      assert.unreachable(String(pattern));
    } catch (err) {
      assert.instance(err, FormatError);
      assert.match((err as Error).message, pattern);
    }
  };
  const Wh = tensors.Wh;
  bad({ ...tensors, Wh: { shape: [F - 1, H], data: Wh.data.subarray(0, (F - 1) * H) } }, metadata, new RegExp(`tensor Wh has shape \\[${F - 1}, ${H}\\], expected \\[${F}, H\\]: its rows are the ${F} factors of Wx`));
  bad(tensors, { ...metadata, rule: "bogus" }, /metadata rule "bogus": a factored model scores by its energies/);
  decodeFactored(e, encodeSafetensors(tensors, { ...metadata, rule: "energy" }), "m.safetensors");
});

test.run();
