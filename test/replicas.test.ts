// One model on several workers (src/train/replicas.ts): with an autoencoder's hidden units (the
// factored model's minibatch rows) in fixed blocks, the model is the same bits on one worker, two or
// three, for every output, penalty and corruption; the blocks' gradient equals the whole minibatch's
// (to rounding); a failure in any worker ends the run with that error instead of a hang.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync } from "../src/engine/engine.js";
import { createAutoencoder, type AutoencoderSpec } from "../src/model/autoencoder.js";
import { trainClasses } from "../src/train/parallel.js";
import { TRAIN_DEFAULTS, stepBuffers, lossAndGradient, type TrainOptions } from "../src/train/autoencoder.js";
import { DivergenceError } from "../src/train/driver.js";
import { rng } from "../src/random.js";
import { sameBits } from "./util.js";
import { fit, FIT_DEFAULTS } from "../src/train/fit.js";
import { encodeModel } from "../src/model/files.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const D = 13;
const H = 7;
function data(n: number, seed: number) {
  const r = rng(seed);
  return { shape: [n, D], data: Float32Array.from({ length: n * D }, () => 0.05 + 0.9 * r.uniform()) };
}
const X = data(57, 1); // 57 rows, batch 10: a last minibatch of 7 rows
const V = data(11, 2);

async function trained(spec: AutoencoderSpec, o: Partial<TrainOptions>, workers: number, valid = false) {
  const opts = { ...TRAIN_DEFAULTS, epochs: 3, batch: 10, lr: 0.05, ...o };
  const [r] = await trainClasses(spec, opts, [{ index: 0, label: "x", data: X, valid: valid ? V : undefined }], { seed: 4, workers });
  return r;
}

const same = (a: { W: Float32Array; bh: Float32Array; br: Float32Array }, b: typeof a) => sameBits(a.W, b.W) && sameBits(a.bh, b.bh) && sameBits(a.br, b.br);

for (const [name, spec, o] of [
  ["sigmoid, binary, contractive", { D, H, activation: "sigmoid", output: "binary" }, { contractive: 0.5 }],
  ["tanh, real, denoising, validation", { D, H, activation: "tanh", output: "real" }, { denoising: 0.3, patience: 1 }],
  ["relu, real, weight decay + lr decay", { D, H, activation: "relu", output: "real" }, { weightDecay: 0.01, decay: 2 }],
] as const) {
  test(`${name}: blocks 2 and 3 give the same bits on 1, 2 and 3 workers`, async () => {
    const valid = name.includes("validation");
    for (const blocks of [2, 3]) {
      const one = await trained(spec, { ...o, blocks }, 0, valid);
      for (const workers of blocks === 2 ? [2] : [2, 3]) {
        const many = await trained(spec, { ...o, blocks }, workers, valid);
        assert.ok(same(one, many), `blocks ${blocks}: ${workers} workers differ from one`);
        assert.equal(many.history, one.history);
      }
    }
    // More blocks than rows in a minibatch are refused; the blocks change the rounding, not the model.
    const whole = await trained(spec, o, 0, valid);
    const split = await trained(spec, { ...o, blocks: 2 }, 0, valid);
    for (let i = 0; i < whole.W.length; i++) assert.ok(Math.abs(whole.W[i] - split.W[i]) < 1e-4, `W[${i}] ${whole.W[i]} vs ${split.W[i]}`);
  });
}

test("the gradient in blocks of hidden units is the whole minibatch's", () => {
  const e = createEngineSync();
  const ae = createAutoencoder(e, { D, H, activation: "sigmoid", output: "real" }, rng(5));
  const o = { ...TRAIN_DEFAULTS, contractive: 0.3 };
  for (const blocks of [2, 3, 7]) {
    const a = stepBuffers(ae, 10, o);
    const b = stepBuffers(ae, 10, { ...o, blocks });
    a.X.data.set(X.data.subarray(0, 10 * D));
    b.X.data.set(X.data.subarray(0, 10 * D));
    const la = lossAndGradient(ae, a, 10, o);
    const lb = lossAndGradient(ae, b, 10, o);
    assert.ok(Math.abs(la - lb) < 1e-5 * Math.abs(la), `loss ${la} vs ${lb}`);
    for (const k of ["W", "bh", "br"] as const) {
      const ga = (a.params[k].grad as { data: Float32Array }).data;
      const gb = (b.params[k].grad as { data: Float32Array }).data;
      for (let i = 0; i < ga.length; i++) assert.ok(Math.abs(ga[i] - gb[i]) < 1e-5, `blocks ${blocks}: d${k}[${i}] ${ga[i]} vs ${gb[i]}`);
    }
  }
});

test("a failure ends every worker: divergence, a throwing progress callback, bad blocks", async () => {
  const spec = { D, H, activation: "sigmoid", output: "real" } as const;
  try {
    await trained(spec, { blocks: 2, lr: 1e30 }, 2);
    assert.unreachable("divergence");
  } catch (err) {
    assert.instance(err, DivergenceError);
  }
  try {
    const opts = { ...TRAIN_DEFAULTS, epochs: 3, batch: 10, blocks: 2 };
    await trainClasses(spec, opts, [{ index: 0, label: "x", data: X }], { seed: 4, workers: 2, onEpoch: () => { throw new Error("stop here"); } });
    assert.unreachable("callback");
  } catch (err) {
    assert.match((err as Error).message, /stop here/);
  }
  for (const blocks of [0, 1.5, 8, 65]) {
    try {
      await trained(spec, { blocks }, 2);
      assert.unreachable(String(blocks));
    } catch (err) {
      assert.match((err as Error).message, /blocks must be an integer from 1 to \d+ \(the \d+ hidden units, and at most 64\)/);
    }
  }
});

test("the factored CSAE (one model): pretraining with blocks gives the same bits on 1 and 2 workers, stopped and resumed too", async () => {
  const labels = Array.from({ length: X.shape[0] }, (_, i) => ["p", "q", "r"][i % 3]);
  const o = {
    ...FIT_DEFAULTS, hidden: H, seed: 2, factors: 5,
    pretrain: { ...FIT_DEFAULTS.pretrain, contractive: 0, denoising: 0.25, epochs: 3, batch: 10, lr: 0.05, blocks: 3 },
    finetune: { ...FIT_DEFAULTS.finetune, epochs: 2, batch: 10 },
  };
  const bytes = async (workers: number, extra: Partial<typeof o> = {}) => encodeModel(await fit(createEngineSync(), X, labels, { ...o, workers, ...extra }));
  const one = await bytes(0);
  assert.ok(Buffer.from(await bytes(2)).equals(Buffer.from(one)), "2 workers differ from 1");
  assert.ok(Buffer.from(await bytes(3)).equals(Buffer.from(one)), "3 workers differ from 1");
  const dir = mkdtempSync(join(tmpdir(), "aescore-replicas-"));
  try {
    await bytes(2, { checkpoint: { dir, resume: false }, onPretrain: (_l, r) => { if (r.epoch === 2) throw new Error("stop"); } });
    assert.unreachable("stopped");
  } catch (err) {
    assert.match((err as Error).message, /^stop$/);
  }
  assert.ok(Buffer.from(await bytes(2, { checkpoint: { dir, resume: true } })).equals(Buffer.from(one)), "stopped at epoch 2 and resumed on 2 workers");
});

test("one autoencoder in blocks on 2 workers, checkpointed, stopped and resumed on 2 workers or on 1: the same bits", async () => {
  const spec = { D, H, activation: "sigmoid", output: "binary" } as const;
  const opts = { ...TRAIN_DEFAULTS, epochs: 4, batch: 10, lr: 0.05, contractive: 0.3, blocks: 2 };
  const job = [{ index: 0, label: "x", data: X, valid: V }];
  const [whole] = await trainClasses(spec, opts, job, { seed: 4, workers: 2 });
  for (const resumeOn of [2, 0]) {
    const dir = mkdtempSync(join(tmpdir(), "aescore-blocks-"));
    try {
      await trainClasses(spec, opts, job, { seed: 4, workers: 2, checkpointDir: dir, onEpoch: (_j, r) => { if (r.epoch === 2) throw new Error("stop"); } });
      assert.unreachable("stopped");
    } catch (err) {
      assert.match((err as Error).message, /^stop$/);
    }
    const [resumed] = await trainClasses(spec, opts, job, { seed: 4, workers: resumeOn, checkpointDir: dir, resume: true });
    assert.ok(same(whole, resumed), `resumed on ${resumeOn} workers differs`);
    assert.equal(resumed.bestEpoch, whole.bestEpoch);
  }
});

test.run();
