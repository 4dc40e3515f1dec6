// The training section: examples per second of contractive epochs in the configuration the peers were
// measured with: 6000 rows of 784 uniform [0, 1) values, 500 sigmoid hiddens, binary output, λ = 0.5,
// minibatch 100, momentum 0.9, learning rate 0.01. aescore with one worker (one autoencoder), and with
// two workers training two autoencoders at once (two classes); TensorFlow.js on its wasm backend
// running the same loop with autodiff and its momentum optimizer.

import { createEngineSync, rng } from "../src/index.js";
import { createAutoencoder } from "../src/model/autoencoder.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS, type TrainOptions } from "../src/train/autoencoder.js";
import { trainClasses } from "../src/train/parallel.js";
import type { Context, Row } from "./harness.js";
import type { TfCore } from "./tfjs.js";

const N = 6000;
const D = 784;
const H = 500;
const spec = { D, H, activation: "sigmoid" as const, output: "binary" as const };

function data(seed: number): { shape: number[]; data: Float32Array } {
  const r = rng(seed);
  return { shape: [N, D], data: Float32Array.from({ length: N * D }, () => r.uniform()) };
}

/** Median seconds of `runs` calls (each call is long: whole epochs). */
async function seconds(fn: () => unknown, runs: number): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

// One epoch (or `steps` minibatches) of the contractive binary-output autoencoder in tfjs.
function tfjsEpoch(tf: TfCore, X: Float32Array, steps: number): () => void {
  const r = rng(9);
  const scaleW = Math.sqrt(6 / (D + H));
  const W = tf.variable(tf.tensor2d(Float32Array.from({ length: H * D }, () => (2 * r.uniform() - 1) * scaleW), [H, D], "float32"));
  const bh = tf.variable(tf.tensor1d(new Float32Array(H), "float32"));
  const br = tf.variable(tf.tensor1d(new Float32Array(D), "float32"));
  const opt = tf.train.momentum(0.01, 0.9);
  const B = 100;
  const batches = Array.from({ length: N / B }, (_, i) => tf.tensor2d(X.subarray(i * B * D, (i + 1) * B * D), [B, D], "float32"));
  return () => {
    for (let s = 0; s < steps; s++) {
      const x = batches[s % batches.length];
      const cost = opt.minimize(() => {
        const h = tf.sigmoid(tf.add(tf.matMul(x, W, false, true), bh));
        const a = tf.add(tf.matMul(h, W, false, false), br);
        const rec = tf.sum(tf.sub(tf.softplus(a), tf.mul(x, a)));
        const hp = tf.mul(h, tf.sub(tf.scalar(1), h));
        const c = tf.reshape(tf.sum(tf.square(W), 1), [H, 1]);
        const pen = tf.mul(tf.sum(tf.matMul(tf.square(hp), c, false, false)), 0.5);
        return tf.mul(tf.add(rec, pen), 1 / B);
      }, true);
      cost?.dataSync();
      cost?.dispose();
    }
  };
}

export async function trainingSection(ctx: Context): Promise<void> {
  const o: TrainOptions = { ...TRAIN_DEFAULTS, epochs: 1, contractive: 0.5, batch: 100, momentum: 0.9, lr: 0.01 };
  const d0 = data(1);
  const d1 = data(2);
  const runs = ctx.quick ? 1 : 3;
  const shape = [N, D, H];
  const op = "contractive epoch";
  const rows: Row[] = [];

  const e = createEngineSync();
  const one = await seconds(async () => {
    const r = rng(3);
    const ae = createAutoencoder(e, spec, r);
    await trainAutoencoder(ae, d0, o, startState(ae, o, r));
  }, runs);
  rows.push({ bench: "training", shape, op, lib: "aescore", backend: `${e.backend}, 1 worker`, ms: one * 1000, samples: runs, perSec: N / one });

  const jobs = [d0, d1].map((data, index) => ({ index, label: String(index), data }));
  const two = await seconds(() => trainClasses(spec, o, jobs, { seed: 3, workers: 2 }), runs);
  rows.push({ bench: "training", shape, op, lib: "aescore", backend: `${e.backend}, 2 workers x 1 AE`, ms: two * 1000, samples: runs, perSec: (2 * N) / two });

  if (ctx.tfjs) {
    const steps = ctx.quick ? 5 : N / 100;
    const epoch = tfjsEpoch(ctx.tfjs.tf, d0.data, steps);
    epoch(); // warm-up (kernels, first allocations)
    const t = await seconds(epoch, ctx.quick ? 1 : 2);
    const perSec = (steps * 100) / t;
    rows.push({ bench: "training", shape, op, lib: "tfjs-wasm", backend: "wasm-simd, autodiff + momentum", ms: (N / perSec) * 1000, samples: ctx.quick ? 1 : 2, perSec });
    for (const row of rows.slice(0, 2)) row.vs = { "tfjs-wasm": row.perSec! / perSec };
  }
  rows.forEach(ctx.report);
}
