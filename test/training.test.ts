import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync, mark, release, type Mat } from "../src/engine/engine.js";
import { createAutoencoder, type Output } from "../src/model/autoencoder.js";
import { ACTIVATIONS, type Activation } from "../src/engine/activations.js";
import { stepBuffers, lossAndGradient, corrupt, checkTrainOptions, TRAIN_DEFAULTS } from "../src/train/autoencoder.js";
import { InputError } from "../src/errors.js";
import { reference } from "./reference.js";
import { lossRef } from "./ref/training.js";
import { checkGradient } from "./ref/autoencoder.js";
import { rng } from "./util.js";

const e = createEngineSync();
const D = 5;
const H = 4;
const B = 3;

type Reg = "none" | "contractive" | "denoising";

function gradientCheck(act: Activation, output: Output, reg: Reg, seed: number): void {
  const top = mark(e);
  const r = rng(seed);
  const ae = createAutoencoder(e, { D, H, activation: act, output }, r);
  for (const v of [ae.W.data, ae.bh.data, ae.br.data]) for (let i = 0; i < v.length; i++) v[i] = (r.uniform() - 0.5) * (act === "square" ? 0.8 : 1.4);
  const o = { contractive: reg === "contractive" ? 0.7 : 0, denoising: reg === "denoising" ? 0.3 : 0 };
  const buf = stepBuffers(ae, B, o);
  for (let i = 0; i < B * D; i++) buf.X.data[i] = output === "binary" ? 0.05 + 0.9 * r.uniform() : 2 * r.uniform() - 1;
  if (reg === "denoising") corrupt(buf.Xt, buf.X, B, o.denoising, r);
  const loss = lossAndGradient(ae, buf, B, o);

  const ref = { D, H, output, lambda: o.contractive, act: { h: (u: number) => reference(act, u).h, H: (u: number) => reference(act, u).H, d1: (u: number) => reference(act, u).d1 } };
  const X = Float64Array.from(buf.X.data);
  const Xt = Float64Array.from(buf.Xt.data);
  const p = Float64Array.from([...ae.W.data, ...ae.bh.data, ...ae.br.data]);
  const tag = `${act}/${output}/${reg}`;
  const want = lossRef(ref, p, X, Xt, B);
  assert.ok(Math.abs(loss - want) <= 1e-5 * (1 + Math.abs(want)), `${tag}: loss ${loss} vs ${want}`);
  const got = [...(buf.params.W.grad as Mat).data, ...(buf.params.bh.grad as Mat).data, ...(buf.params.br.grad as Mat).data];
  checkGradient(tag, got, (q) => lossRef(ref, q, X, Xt, B), p, { abs: 2e-5, rel: 2e-4 }, (i) => (i < H * D ? `dW[${Math.floor(i / D)},${i % D}]` : i < H * D + H ? `dbh[${i - H * D}]` : `dbr[${i - H * D - H}]`));
  release(e, top);
}

for (const act of ACTIVATIONS) {
  for (const output of ["real", "binary"] as Output[]) {
    test(`gradient of the full loss by finite differences: ${act}/${output}`, () => {
      let seed = 1;
      const regs: Reg[] = act === "relu" || act === "modulus" ? ["none", "denoising"] : ["none", "contractive", "denoising"];
      for (const reg of regs) gradientCheck(act, output, reg, seed++);
    });
  }
}

test("bad training options are InputErrors before any work", () => {
  const sig = { activation: "sigmoid" as const, H: 5 };
  const bad: Array<[object, RegExp, { activation: Activation | "kmeans"; H: number }?]> = [
    [{ lr: 0 }, /lr must be positive, not 0/],
    [{ batch: 0 }, /batch must be a positive integer, not 0/],
    [{ epochs: 1.5 }, /epochs must be an integer in \[0, 1000000\]/],
    [{ epochs: 1_000_001 }, /epochs must be an integer in \[0, 1000000\], not 1000001/],
    [{ momentum: 1 }, /momentum must be in \[0, 1\)/],
    [{ denoising: 1 }, /denoising ν must be in \[0, 1\)/],
    [{ contractive: 0.1, denoising: 0.2 }, /the contractive penalty or denoising, not both/],
    [{ contractive: 0.1 }, /relu has none at 0: use denoising/, { activation: "relu", H: 5 }],
    [{}, /kmeans is not trained/, { activation: "kmeans", H: 5 }],
  ];
  for (const [o, pattern, model] of bad) {
    assert.throws(() => checkTrainOptions(model ?? sig, { ...TRAIN_DEFAULTS, ...o }), (err: unknown) => err instanceof InputError && pattern.test(err.message));
  }
});

test.run();
