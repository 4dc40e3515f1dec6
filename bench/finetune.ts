// The finetune section: examples per second of CSAE finetuning (softmax log-loss through the energies of
// all classes) for K = 10 autoencoders of 784 -> 500 sigmoid units, minibatch 100, on one thread and on
// two worker threads (each worker owns 5 classes; only 100 x 10 energies and gradients cross per step);
// PyTorch (a child process, see torch.ts) with autograd over one einsum for all classes, on one and on
// two threads, after a check that its first two steps from the same weights give aescore's losses and
// updates. Also: the step's GEMM bound (its gemm calls alone, timed in this run) and peak memory.

import { alloc, createEngineSync, fromArray, gemm, rng, type Engine } from "../src/index.js";
import { createAutoencoder } from "../src/model/autoencoder.js";
import { finetune, localGroups, slotParams, FINETUNE_DEFAULTS, type ClassGroups, type Params } from "../src/train/finetune.js";
import { workerGroups } from "../src/train/parallel.js";
import type { Tensor } from "../src/tensor.js";
import { maxRelDiff, mib, peakRss, uniform, type Context, type Peak, type Row } from "./harness.js";
import { runTorch, scratch, torchBackend, torchPeer } from "./torch.js";

const [K, D, H, N] = [10, 784, 500, 2000];
const spec = { D, H, activation: "sigmoid" as const, output: "real" as const };

/** Past these (relative) torch and aescore do not compute the same finetuning step. */
const LOSS_TOLERANCE = 1e-4;
const UPDATE_TOLERANCE = 1e-3;

function problem(): { data: Tensor; y: Int32Array; params: Params[] } {
  const r = rng(1);
  const data = { shape: [N, D], data: Float32Array.from({ length: N * D }, () => r.uniform()) };
  const y = Int32Array.from({ length: N }, () => r.int(K));
  const scratchEngine = createEngineSync();
  const params = Array.from({ length: K }, (_, i) => slotParams(createAutoencoder(scratchEngine, spec, i)));
  return { data, y, params };
}

function groupsOf(workers: number, p: ReturnType<typeof problem>, B: number): Promise<ClassGroups> {
  return workers === 0 ? Promise.resolve(localGroups(createEngineSync(), spec, p.params, p.data, B)) : workerGroups(spec, p.params, p.data, B, workers);
}

/**
 * A step's products as the slots make them (src/train/finetune.ts): per class, the energies' U = X W_iᵀ
 * (slotEnergies), then dW_i = (g ⊙ Hd_i)ᵀ X and dbr_i = gᵀ X (slotStep); each class has its own W, Hd, dW.
 */
function stepGemms(e: Engine, B: number): () => void {
  const X = fromArray(e, "X", B, D, uniform(B * D, 31)); // (B, D)
  const T = alloc(e, "T", B, H); // (B, H)
  const g = fromArray(e, "gᵀ", 1, B, uniform(B, 32)); // (1, B)
  const classes = Array.from({ length: K }, (_, i) => ({
    W: fromArray(e, `W${i}`, H, D, uniform(H * D, 40 + i)), // (H, D)
    Hd: fromArray(e, `Hd${i}`, B, H, uniform(B * H, 60 + i)), // (B, H)
    dW: alloc(e, `dW${i}`, H, D), // (H, D)
    dbr: alloc(e, `dbr${i}`, 1, D), // (1, D)
  }));
  return () => {
    for (const c of classes) gemm(T, X, c.W, { transB: true });
    for (const c of classes) {
      gemm(c.dW, c.Hd, X, { transA: true });
      gemm(c.dbr, g, X);
    }
  };
}

/** aescore's first two steps on rows 0..B−1: the losses before each, the change of every W_i, and C after. */
async function firstSteps(p: ReturnType<typeof problem>, o: typeof FINETUNE_DEFAULTS): Promise<{ losses: number[]; dW: Float32Array; C: Float32Array }> {
  const B = o.batch;
  const rows = { shape: [B, D], data: p.data.data.subarray(0, B * D) };
  const groups = localGroups(createEngineSync(), spec, p.params, rows, B);
  const C = new Float32Array(K);
  const { history } = await finetune(groups, K, p.y.subarray(0, B), C, { ...o, epochs: 2 }, { seed: 1 });
  const after = await groups.params();
  const dW = new Float32Array(K * H * D);
  after.forEach((a, i) => a.W.forEach((w, j) => (dW[i * H * D + j] = w - p.params[i].W[j])));
  return { losses: history.map((h) => h.loss), dW, C };
}

interface TorchFinetune {
  losses: number[];
  seconds: number;
  epochs: number;
}

/**
 * The torch rows, on 1 and 2 threads, each after its check; returns examples/s by thread count and
 * adds the children's peak memory to `peaks`.
 */
async function torchRows(ctx: Context, p: ReturnType<typeof problem>, o: typeof FINETUNE_DEFAULTS, rows: Row[], peaks: Peak[]): Promise<Map<number, number>> {
  const perSec = new Map<number, number>();
  if (typeof (await torchPeer()) === "string") {
    console.log("note: torch peer not available (see above): no torch rows");
    return perSec;
  }
  const check = await firstSteps(p, o);
  const s = scratch();
  const cat = (f: (q: Params) => Float32Array) => {
    const parts = p.params.map(f);
    const out = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
    parts.reduce((at, a) => (out.set(a, at), at + a.length), 0);
    return out;
  };
  try {
    const job = {
      task: "finetune", N, K, D, H, batch: o.batch, lr: o.lr, momentum: o.momentum, epochs: o.epochs,
      X: s.write("X", p.data.data), y: s.write("y", p.y),
      W: s.write("W", cat((q) => q.W)), bh: s.write("bh", cat((q) => q.bh)), br: s.write("br", cat((q) => q.br)),
      dWout: "dW", Cout: "C",
    };
    for (const threads of [1, 2]) {
      const r = await runTorch<TorchFinetune>(s.dir, job, threads);
      if (typeof r === "string") {
        ctx.fail(`finetune: ${r}`);
        continue;
      }
      const lossDiff = Math.max(...check.losses.map((l, i) => Math.abs(r.result.losses[i] - l) / Math.abs(l)));
      const updateDiff = maxRelDiff(s.read("dW"), check.dW);
      const cDiff = maxRelDiff(s.read("C"), check.C);
      const what = `torch ${torchBackend(r)}`;
      console.log(
        `check finetune, ${what} against aescore, two steps on rows 0..${o.batch - 1} from the same weights: losses ` +
          `${r.result.losses.map((l) => l.toFixed(5)).join(", ")} vs ${check.losses.map((l) => l.toFixed(5)).join(", ")} ` +
          `(max rel diff ${lossDiff.toExponential(1)}), change of the W_i max rel diff ${updateDiff.toExponential(1)}, C ${cDiff.toExponential(1)}`,
      );
      if (!(lossDiff <= LOSS_TOLERANCE && updateDiff <= UPDATE_TOLERANCE && cDiff <= UPDATE_TOLERANCE)) {
        ctx.fail(`finetune: ${what} disagrees with aescore beyond ${LOSS_TOLERANCE} (losses) or ${UPDATE_TOLERANCE} (updates): not reported`);
        continue;
      }
      const rate = (r.result.epochs * N) / r.result.seconds;
      rows.push({
        bench: "finetune", shape: [K, D, H], op: "csae finetuning epoch", lib: "torch", backend: torchBackend(r, "autograd, einsum over classes"),
        ms: (N / rate) * 1000, samples: r.result.epochs, gflops: (4 * K * D * H * rate) / 1e9, perSec: rate,
      });
      perSec.set(threads, rate);
      peaks.push({ name: `torch, ${threads} thread${threads === 1 ? "" : "s"}`, kb: r.peakRssKb, note: `${mib(r.rssBeforeKb)} with torch imported, before the data` });
    }
  } finally {
    s.done();
  }
  return perSec;
}

/**
 * One warm-up epoch and `epochs` timed ones: examples per second; then, when given, the same number of
 * steps of `products` alone (the GEMM bound, timed right after, under the same load): seconds.
 */
async function examplesPerSec(groups: ClassGroups, p: ReturnType<typeof problem>, o: typeof FINETUNE_DEFAULTS, products?: () => void): Promise<{ perSec: number; bound?: number }> {
  const C = new Float32Array(K);
  await finetune(groups, K, p.y, C, { ...o, epochs: 1 }, { seed: 1 }); // warm-up
  const t0 = performance.now();
  await finetune(groups, K, p.y, C, o, { seed: 2 });
  const perSec = (o.epochs * N) / ((performance.now() - t0) / 1000);
  if (!products) return { perSec };
  products(); // warm-up
  const t1 = performance.now();
  for (let s = 0; s < (o.epochs * N) / o.batch; s++) products();
  return { perSec, bound: (performance.now() - t1) / 1000 / o.epochs };
}

/** What bench/rss.ts runs, one per child process, for the peak memory of each configuration (one epoch). */
export const FINETUNE_CONFIGS: Record<string, (quick: boolean) => Promise<void>> = Object.fromEntries(
  [["aescore, this thread", 0], ["aescore, 2 workers", 2]].map(([name, workers]) => [name, async () => {
    const p = problem();
    const groups = await groupsOf(workers as number, p, FINETUNE_DEFAULTS.batch);
    try {
      await finetune(groups, K, p.y, new Float32Array(K), { ...FINETUNE_DEFAULTS, epochs: 1 }, { seed: 1 });
    } finally {
      await groups.close();
    }
  }]),
);

export async function finetuneSection(ctx: Context): Promise<void> {
  const p = problem();
  const o = { ...FINETUNE_DEFAULTS, epochs: ctx.quick ? 1 : 2 };
  const rows: Row[] = [];
  const e = createEngineSync();
  const products = stepGemms(e, o.batch);
  let bound = NaN; // seconds per epoch
  for (const workers of [0, 2]) {
    const groups = await groupsOf(workers, p, o.batch);
    try {
      const r = await examplesPerSec(groups, p, o, workers === 0 ? products : undefined);
      bound = r.bound ?? bound;
      rows.push({
        bench: "finetune", shape: [K, D, H], op: "csae finetuning epoch", lib: "aescore",
        backend: workers === 0 ? `${e.backend}, this thread` : `${e.backend}, ${workers} workers`, ms: (N / r.perSec) * 1000, samples: o.epochs,
        gflops: (4 * K * D * H * r.perSec) / 1e9, perSec: r.perSec,
      });
    } finally {
      await groups.close();
    }
  }
  const [one, two] = rows;
  two.vs = { "1 thread": two.perSec! / one.perSec! };

  // The GEMM bound: the epoch's N/B steps of the step's products alone, on one thread.
  rows.push({
    bench: "finetune", shape: [K, D, H], op: "gemm bound of the epoch", lib: "aescore", backend: `${e.backend}, the step's gemm calls only, 1 thread`,
    ms: bound * 1000, samples: o.epochs, gflops: (4 * K * D * H * N) / bound / 1e9, perSec: N / bound,
  });
  const measured = (r: Row) => r.ms / 1000;
  console.log(
    `gemm bound: the finetuning step's ${2 * K} gemm calls at 100x784x500 (per class X·W_iᵀ and (g⊙Hd_i)ᵀ·X) and ${K} at 1x100x784 (gᵀ·X) ` +
      `take ${((bound * 1000 * o.batch) / N).toFixed(2)} ms, ${(bound * 1000).toFixed(0)} ms per ${N}-row epoch; measured/bound: this thread ` +
      `${(measured(one) / bound).toFixed(2)}, 2 workers ${(measured(two) / (bound / 2)).toFixed(2)} (against half the one-thread bound)`,
  );

  const peaks: Peak[] = [];
  const torch = await torchRows(ctx, p, o, rows, peaks);
  for (const row of [one, two]) for (const [threads, perSec] of torch) (row.vs ??= {})[`torch ${threads} thread${threads === 1 ? "" : "s"}`] = row.perSec! / perSec;
  rows.forEach(ctx.report);
  await peakRss("finetune", "one epoch", Object.keys(FINETUNE_CONFIGS), peaks, ctx.quick);
}
