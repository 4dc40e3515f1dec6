// The training section: examples per second of contractive epochs in the configuration the peers were
// measured with: 6000 rows of 784 uniform [0, 1) values, 500 sigmoid hiddens, binary output, λ = 0.5,
// minibatch 100, momentum 0.9, learning rate 0.01. aescore with one worker (one autoencoder), and with
// two workers training two autoencoders at once (two classes); TensorFlow.js on its wasm backend
// running the same loop with autodiff and its momentum optimizer; PyTorch (a child process, see
// torch.ts) with autograd and torch.optim.SGD on one and on two threads, after a check that its first
// two steps from aescore's initial weights give aescore's losses and update. Also: the step's GEMM
// bound (its five gemm calls alone, timed in this run) and each configuration's peak memory.

import { alloc, createEngineSync, fromArray, gemm, rng, type Engine } from "../src/index.js";
import { createAutoencoder } from "../src/model/autoencoder.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS, type TrainOptions } from "../src/train/autoencoder.js";
import type { EpochReport } from "../src/train/driver.js";
import { trainClasses } from "../src/train/parallel.js";
import type { Tensor } from "../src/tensor.js";
import { maxRelDiff, mib, peakRss, uniform, type Context, type Peak, type Row } from "./harness.js";
import { loadTfjs, type TfCore } from "./tfjs.js";
import { runTorch, scratch, torchBackend, torchPeer } from "./torch.js";

const N = 6000;
const D = 784;
const H = 500;
const B = 100;
const spec = { D, H, activation: "sigmoid" as const, output: "binary" as const };
const OPTIONS: TrainOptions = { ...TRAIN_DEFAULTS, epochs: 1, contractive: 0.5, batch: B, momentum: 0.9, lr: 0.01 };

/** Past these (relative) torch and aescore do not compute the same training step. */
const LOSS_TOLERANCE = 1e-4;
const UPDATE_TOLERANCE = 1e-3;

function data(seed: number): Tensor {
  const r = rng(seed);
  return { shape: [N, D], data: Float32Array.from({ length: N * D }, () => r.uniform()) };
}

function median(t: number[]): number {
  const s = [...t].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median seconds of `runs` calls (each call is long: whole epochs). */
async function seconds(fn: () => unknown, runs: number): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  return median(t);
}

/** One epoch of a fresh autoencoder (initialized from rng(3)) on d, in engine e. */
async function oneWorker(e: Engine, d: Tensor): Promise<void> {
  const r = rng(3);
  const ae = createAutoencoder(e, spec, r);
  await trainAutoencoder(ae, d, OPTIONS, startState(ae, OPTIONS, r));
}

/** One epoch of two autoencoders, one per worker. */
async function twoWorkers(d0: Tensor, d1: Tensor): Promise<void> {
  const jobs = [d0, d1].map((data, index) => ({ index, label: String(index), data }));
  await trainClasses(spec, OPTIONS, jobs, { seed: 3, workers: 2 });
}

/** One epoch of one autoencoder with its hidden units in two blocks, on `workers` workers (see src/train/replicas.ts): the same bits on 0 or 2. */
async function blocked(d: Tensor, workers: number, epochs = 1, onEpoch?: (r: EpochReport) => void): Promise<void> {
  await trainClasses(spec, { ...OPTIONS, epochs, blocks: 2 }, [{ index: 0, label: "0", data: d }], { seed: 3, workers, onEpoch: onEpoch && ((_j, r) => onEpoch(r)) });
}

// One epoch (or `steps` minibatches) of the contractive binary-output autoencoder in tfjs.
function tfjsEpoch(tf: TfCore, X: Float32Array, steps: number): () => void {
  const r = rng(9);
  const scaleW = Math.sqrt(6 / (D + H));
  const W = tf.variable(tf.tensor2d(Float32Array.from({ length: H * D }, () => (2 * r.uniform() - 1) * scaleW), [H, D], "float32"));
  const bh = tf.variable(tf.tensor1d(new Float32Array(H), "float32"));
  const br = tf.variable(tf.tensor1d(new Float32Array(D), "float32"));
  const opt = tf.train.momentum(0.01, 0.9);
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

/**
 * The contractive step's five products, as lossAndGradient (src/train/autoencoder.ts) calls them, in
 * its order, with its transposes, on buffers of its shapes (W (H, D) shared by three of them).
 */
function stepGemms(e: Engine): () => void {
  const X = fromArray(e, "X", B, D, uniform(B * D, 21)); // (B, D) the minibatch (X̃ = X)
  const W = fromArray(e, "W", H, D, uniform(H * D, 22)); // (H, D)
  const Hd = fromArray(e, "Hd", B, H, uniform(B * H, 23)); // (B, H)
  const Delta = fromArray(e, "Delta", B, D, uniform(B * D, 24)); // (B, D)
  const U = alloc(e, "U", B, H); // (B, H) net input, then E
  const A = alloc(e, "A", B, D); // (B, D)
  const dW = alloc(e, "dW", H, D); // (H, D)
  return () => {
    gemm(U, X, W, { transB: true }); // encode: U = X̃ Wᵀ
    gemm(A, Hd, W); // decode: A = Hd W
    gemm(dW, Hd, Delta, { transA: true }); // dW = Hdᵀ Delta
    gemm(U, Delta, W, { transB: true }); // E = Delta Wᵀ
    gemm(dW, U, X, { transA: true, beta: 1 }); // dW += Eᵀ X̃
  };
}

/**
 * The training step against its five products, interleaved finely enough that the machine's drift
 * (seconds) hits both alike: `rounds` times, 6 steps of training (a 600-row epoch of a run that goes
 * on, so the model keeps training) then the 6 steps' products; the first 5 rounds warm up.
 */
async function interleaved(d: Tensor, rounds: number): Promise<{ step: number; products: number }> {
  const e = createEngineSync();
  const products = stepGemms(createEngineSync({ backend: e.backend }));
  const ae = createAutoencoder(e, spec, rng(3));
  const state = startState(ae, OPTIONS, rng(3));
  const rows = { shape: [6 * B, D], data: d.data.subarray(0, 6 * B * D) };
  let train = 0;
  let gemms = 0;
  for (let i = 0; i < rounds + 5; i++) {
    const t0 = performance.now();
    await trainAutoencoder(ae, rows, { ...OPTIONS, epochs: state.epoch + 1 }, state);
    const t1 = performance.now();
    for (let s = 0; s < 6; s++) products();
    const t2 = performance.now();
    if (i >= 5) {
      train += t1 - t0;
      gemms += t2 - t1;
    }
  }
  return { step: train / (6 * rounds), products: gemms / (6 * rounds) };
}

/** aescore's first two steps on rows 0..B−1 from rng(3)'s weights: the losses before each, and W's change. */
async function firstSteps(d: Tensor): Promise<{ W0: Float32Array; losses: number[]; dW: Float32Array }> {
  const e = createEngineSync();
  const ae = createAutoencoder(e, spec, rng(3));
  const W0 = ae.W.data.slice();
  const o = { ...OPTIONS, epochs: 2 };
  const state = await trainAutoencoder(ae, { shape: [B, D], data: d.data.subarray(0, B * D) }, o, startState(ae, o, rng(4)));
  return { W0, losses: state.history.map((h) => h.loss), dW: ae.W.data.map((w, i) => w - W0[i]) };
}

interface TorchTraining {
  losses: number[];
  seconds: number;
  runs: number;
}

/**
 * The torch rows, on 1 and 2 threads, each after its check; returns examples/s by thread count and
 * adds the children's peak memory to `peaks`.
 */
async function torchRows(ctx: Context, d: Tensor, rows: Row[], peaks: Peak[]): Promise<Map<number, number>> {
  const perSec = new Map<number, number>();
  if (typeof (await torchPeer()) === "string") {
    console.log("note: torch peer not available (see above): no torch rows");
    return perSec;
  }
  const check = await firstSteps(d);
  const s = scratch();
  try {
    const job = {
      task: "training", N, D, H, batch: B, contractive: OPTIONS.contractive, lr: OPTIONS.lr, momentum: OPTIONS.momentum,
      X: s.write("X", d.data), W: s.write("W", check.W0), dWout: "dW", steps: N / B, runs: ctx.quick ? 1 : 3,
    };
    for (const threads of [1, 2]) {
      const r = await runTorch<TorchTraining>(s.dir, job, threads);
      if (typeof r === "string") {
        ctx.fail(`training: ${r}`);
        continue;
      }
      const lossDiff = Math.max(...check.losses.map((l, i) => Math.abs(r.result.losses[i] - l) / Math.abs(l)));
      const updateDiff = maxRelDiff(s.read("dW"), check.dW);
      const what = `torch ${torchBackend(r)}`;
      console.log(
        `check training, ${what} against aescore, two steps on rows 0..${B - 1} from the same weights: losses ` +
          `${r.result.losses.map((l) => l.toFixed(5)).join(", ")} vs ${check.losses.map((l) => l.toFixed(5)).join(", ")} ` +
          `(max rel diff ${lossDiff.toExponential(1)}), change of W max rel diff ${updateDiff.toExponential(1)}`,
      );
      if (!(lossDiff <= LOSS_TOLERANCE && updateDiff <= UPDATE_TOLERANCE)) {
        ctx.fail(`training: ${what} disagrees with aescore beyond ${LOSS_TOLERANCE} (losses) or ${UPDATE_TOLERANCE} (update): not reported`);
        continue;
      }
      const t = r.result.seconds;
      rows.push({ bench: "training", shape: [N, D, H], op: "contractive epoch", lib: "torch", backend: torchBackend(r, "autograd + SGD momentum"), ms: t * 1000, samples: r.result.runs, perSec: N / t });
      perSec.set(threads, N / t);
      peaks.push({ name: `torch, ${threads} thread${threads === 1 ? "" : "s"}`, kb: r.peakRssKb, note: `${mib(r.rssBeforeKb)} with torch imported, before the data` });
    }
  } finally {
    s.done();
  }
  return perSec;
}

/** What bench/rss.ts runs, one per child process, for the peak memory of each configuration. */
export const TRAINING_CONFIGS: Record<string, (quick: boolean) => Promise<void>> = {
  "aescore, 1 worker": () => oneWorker(createEngineSync(), data(1)),
  "aescore, 2 workers x 1 AE": () => twoWorkers(data(1), data(2)),
  "aescore, 1 AE in 2 blocks on 2 workers": () => blocked(data(1), 2),
  "tfjs-wasm": async (quick) => {
    const peer = await loadTfjs();
    if (typeof peer === "string") throw new Error(peer);
    tfjsEpoch(peer.tf, data(1).data, quick ? 5 : N / B)();
  },
};

export async function trainingSection(ctx: Context): Promise<void> {
  const d0 = data(1);
  const d1 = data(2);
  const shape = [N, D, H];
  const op = "contractive epoch";
  const rows: Row[] = [];

  // Every configuration once per round, the rounds repeated: on a shared machine whose speed drifts
  // (by up to ±40% between minutes here), ratios taken within a round compare like with like; the
  // medians over rounds are reported. The GEMM bound is the epoch's N/B steps of the five products
  // alone, on one thread. One model on two workers is timed twice: the whole call (starting the
  // workers included) and its epochs alone (from the run's own epoch reports, in steady state: the
  // second of two epochs).
  const e = createEngineSync();
  const products = stepGemms(createEngineSync({ backend: e.backend }));
  const epochOfProducts = () => {
    for (let s = 0; s < N / B; s++) products();
  };
  epochOfProducts(); // warm-up
  await oneWorker(e, d0);
  const t = { one: [] as number[], bound: [] as number[], two: [] as number[], blocks1: [] as number[], blocks2: [] as number[], epoch1: [] as number[], epoch2: [] as number[] };
  const ratio = { blocks: [] as number[], epoch: [] as number[], twoModels: [] as number[] };
  const rounds = ctx.quick ? 1 : 3;
  for (let i = 0; i < rounds; i++) {
    t.one.push(await seconds(() => oneWorker(e, d0), 1));
    t.bound.push(await seconds(epochOfProducts, 1));
    t.two.push(await seconds(() => twoWorkers(d0, d1), 1));
    t.blocks1.push(await seconds(() => blocked(d0, 0), 1));
    t.blocks2.push(await seconds(() => blocked(d0, 2), 1));
    const steady = async (workers: number) => {
      const ms: number[] = [];
      await blocked(d0, workers, 2, (r) => ms.push(r.elapsedMs));
      return (ms[1] - ms[0]) / 1000;
    };
    t.epoch1.push(await steady(0));
    t.epoch2.push(await steady(2));
    ratio.blocks.push(t.one[i] / t.blocks2[i]);
    ratio.epoch.push(t.epoch1[i] / t.epoch2[i]);
    ratio.twoModels.push((2 * t.one[i]) / t.two[i]);
  }
  const one = median(t.one);
  const bound = median(t.bound);
  const two = median(t.two);
  rows.push({ bench: "training", shape, op, lib: "aescore", backend: `${e.backend}, 1 worker`, ms: one * 1000, samples: rounds, perSec: N / one });
  rows.push({ bench: "training", shape, op, lib: "aescore", backend: `${e.backend}, 2 workers x 1 AE`, ms: two * 1000, samples: rounds, perSec: (2 * N) / two });
  const blocks1 = median(t.blocks1), blocks2 = median(t.blocks2);
  rows.push({ bench: "training", shape, op, lib: "aescore", backend: `${e.backend}, 1 AE in 2 blocks, this thread`, ms: blocks1 * 1000, samples: rounds, perSec: N / blocks1 });
  rows.push({ bench: "training", shape, op, lib: "aescore", backend: `${e.backend}, 1 AE in 2 blocks, 2 workers`, ms: blocks2 * 1000, samples: rounds, perSec: N / blocks2 });
  const epoch1 = median(t.epoch1), epoch2 = median(t.epoch2);
  rows.push({ bench: "training", shape, op: "contractive epoch, steady", lib: "aescore", backend: `${e.backend}, 1 AE in 2 blocks, this thread`, ms: epoch1 * 1000, samples: rounds, perSec: N / epoch1 });
  rows.push({ bench: "training", shape, op: "contractive epoch, steady", lib: "aescore", backend: `${e.backend}, 1 AE in 2 blocks, 2 workers`, ms: epoch2 * 1000, samples: rounds, perSec: N / epoch2 });
  const fmt = (r: number[]) => `${median(r).toFixed(2)}x (rounds: ${r.map((x) => x.toFixed(2)).join(", ")})`;
  console.log(
    `one model on 2 workers (2 blocks of hidden units, the same bits): a one-epoch call ${fmt(ratio.blocks)} one worker without blocks; ` +
      `an epoch in steady state ${fmt(ratio.epoch)} the same model in this thread; two models on 2 workers ${fmt(ratio.twoModels)} one worker`,
  );
  const fine = await interleaved(d0, ctx.quick ? 5 : 60);
  console.log(
    `the contractive step against its 5 gemm calls, interleaved 6 steps at a time: ${fine.step.toFixed(2)} ms against ${fine.products.toFixed(2)} ms a step, ` +
      `${((100 * fine.products) / fine.step).toFixed(0)}% of the bound`,
  );
  rows.push({ bench: "training", shape: [6 * B, D, H], op: "contractive step, interleaved", lib: "aescore", backend: `${e.backend}, 6 steps of training`, ms: fine.step * 6, samples: ctx.quick ? 5 : 60, perSec: B / (fine.step / 1000) });
  rows.push({ bench: "training", shape: [6 * B, D, H], op: "contractive step, interleaved", lib: "aescore", backend: `${e.backend}, their 5 gemm calls only`, ms: fine.products * 6, samples: ctx.quick ? 5 : 60, perSec: B / (fine.products / 1000) });
  rows.push({
    bench: "training", shape, op: "gemm bound of the epoch", lib: "aescore", backend: `${e.backend}, the step's 5 gemm calls only`,
    ms: bound * 1000, samples: rounds, gflops: (5 * 2 * B * D * H * (N / B)) / bound / 1e9, perSec: N / bound,
  });
  console.log(
    `gemm bound: the contractive step's 5 gemm calls (X·Wᵀ, Hd·W, Hdᵀ·Delta, Delta·Wᵀ, Eᵀ·X at 100x784x500) take ` +
      `${((bound * 1000) / (N / B)).toFixed(2)} ms, ${(bound * 1000).toFixed(0)} ms per ${N}-row epoch; 1 worker at ` +
      `${((100 * bound) / one).toFixed(0)}% of it (rounds: ${t.one.map((x, i) => `${((100 * t.bound[i]) / x).toFixed(0)}%`).join(", ")})`,
  );

  if (ctx.tfjs) {
    const steps = ctx.quick ? 5 : N / B;
    const epoch = tfjsEpoch(ctx.tfjs.tf, d0.data, steps);
    epoch(); // warm-up (kernels, first allocations)
    const t = await seconds(epoch, ctx.quick ? 1 : 2);
    const perSec = (steps * B) / t;
    rows.push({ bench: "training", shape, op, lib: "tfjs-wasm", backend: "wasm-simd, autodiff + momentum", ms: (N / perSec) * 1000, samples: ctx.quick ? 1 : 2, perSec });
  }

  const peaks: Peak[] = [];
  const torch = await torchRows(ctx, d0, rows, peaks);
  const tfjs = rows.find((r) => r.lib === "tfjs-wasm")?.perSec;
  for (const row of rows.filter((r) => r.lib === "aescore" && r.op === op)) {
    row.vs = {};
    if (tfjs !== undefined) row.vs["tfjs-wasm"] = row.perSec! / tfjs;
    for (const [threads, perSec] of torch) row.vs[`torch ${threads} thread${threads === 1 ? "" : "s"}`] = row.perSec! / perSec;
  }
  rows.forEach(ctx.report);
  await peakRss("training", `one epoch${ctx.quick ? " (tfjs: 5 steps with --quick)" : ""}`, Object.keys(TRAINING_CONFIGS).filter((c) => c !== "tfjs-wasm" || ctx.tfjs), peaks, ctx.quick);
}
