// The gemm section: aescore's gemm (SIMD and scalar builds) against tfjs-wasm's matMul, PyTorch's
// torch.mm (a child process, see torch.ts; one thread, like aescore) and a naive TypeScript loop,
// on the autoencoder's three products and two square-ish references.
// Dimensions: op(A) is M x K, op(B) is K x N, C is M x N; A and B are passed as stored, never copied.

import { alloc, createEngineSync, fromArray, gemm, hasSimd, mark, release, type Engine } from "../src/index.js";
import { maxRelDiff, measure, timeOnce, uniform, type Context, type Row } from "./harness.js";
import type { TfTensor } from "./tfjs.js";
import { runTorch, scratch, torchBackend, torchPeer } from "./torch.js";

interface Problem {
  M: number;
  K: number;
  N: number;
  transA: boolean;
  transB: boolean;
}

// The autoencoder (784 inputs, 500 hidden, batch 100) makes the first three at every step; A*B^T and
// A^T*B read the weight and the batch as stored, which is why they are measured with the transposes.
const PROBLEMS: Problem[] = [
  { M: 100, K: 784, N: 500, transA: false, transB: false }, // X(100x784) * W(784x500)
  { M: 100, K: 500, N: 784, transA: false, transB: true }, // H(100x500) * W^T, W stored 784x500
  { M: 784, K: 100, N: 500, transA: true, transB: false }, // X^T * dH, X stored 100x784
  { M: 1000, K: 784, N: 500, transA: false, transB: false },
  { M: 1024, K: 1024, N: 1024, transA: false, transB: false },
];

/** Past this (normwise, see maxRelDiff) a contender is wrong, not rounded differently. */
const TOLERANCE = 1e-4;

function opName(p: Problem): string {
  return `${p.transA ? "A^T" : "A"}*${p.transB ? "B^T" : "B"}`;
}

/** C(M,N) = op(A) op(B) as one would write it: i-k-j, so the inner loop walks a row of C. */
function naiveGemm(C: Float32Array, A: Float32Array, B: Float32Array, p: Problem): void {
  const { M, K, N } = p;
  const ai = p.transA ? 1 : K, ak = p.transA ? M : 1;
  const bk = p.transB ? 1 : N, bj = p.transB ? K : 1;
  C.fill(0);
  for (let i = 0; i < M; i++) {
    const ci = i * N;
    for (let k = 0; k < K; k++) {
      const a = A[i * ai + k * ak];
      const b0 = k * bk;
      for (let j = 0; j < N; j++) C[ci + j] += a * B[b0 + j * bj];
    }
  }
}

interface Contender {
  lib: string;
  backend: string;
  /** One product, result left where the library keeps it (no read-back). */
  run(): void;
  /** The result of the last run, copied out. */
  result(): Float32Array;
  done(): void;
}

function aescore(e: Engine, p: Problem, a: Float32Array, b: Float32Array): Contender {
  const top = mark(e);
  const A = p.transA ? fromArray(e, "A", p.K, p.M, a) : fromArray(e, "A", p.M, p.K, a);
  const B = p.transB ? fromArray(e, "B", p.N, p.K, b) : fromArray(e, "B", p.K, p.N, b);
  const C = alloc(e, "C", p.M, p.N);
  const options = { transA: p.transA, transB: p.transB };
  return {
    lib: "aescore",
    backend: e.backend,
    run: () => gemm(C, A, B, options),
    result: () => C.data.slice(),
    done: () => release(e, top),
  };
}

function naive(p: Problem, a: Float32Array, b: Float32Array): Contender {
  const c = new Float32Array(p.M * p.N);
  return { lib: "naive", backend: "ts", run: () => naiveGemm(c, a, b, p), result: () => c.slice(), done: () => {} };
}

// The wasm backend runs the kernel synchronously inside matMul, so the product is complete when it
// returns: we time matMul + dispose and read back (dataSync) only for the check, as aescore's
// result also stays in its wasm memory. Inputs are uploaded once, outside the timing. Note that for
// A*B tfjs hands XNNPACK an operator cached per B tensor, so B is packed once and never again, while
// aescore packs B on every call: the A*B ratio is, if anything, conservative for aescore.
function tfjsWasm(ctx: Context, p: Problem, a: Float32Array, b: Float32Array): Contender | null {
  if (!ctx.tfjs) return null;
  const { tf } = ctx.tfjs;
  const ta = tf.tensor2d(a, p.transA ? [p.K, p.M] : [p.M, p.K], "float32");
  const tb = tf.tensor2d(b, p.transB ? [p.N, p.K] : [p.K, p.N], "float32");
  return {
    lib: "tfjs-wasm",
    backend: ctx.tfjs.describe.includes("simd") ? "wasm-simd" : "wasm",
    run: () => tf.matMul(ta, tb, p.transA, p.transB).dispose(),
    result: () => {
      const c: TfTensor = tf.matMul(ta, tb, p.transA, p.transB);
      const data = c.dataSync().slice();
      c.dispose();
      return data;
    },
    done: () => {
      ta.dispose();
      tb.dispose();
    },
  };
}

interface TorchResult {
  backend: string;
  ms: number;
  samples: number;
  c: Float32Array; // its product, for the check
}

// torch.mm in a child process, timed there with the harness's budgets, just before the in-process
// contenders of the same product (on a shared machine, close in time is what makes ratios fair).
async function torchGemm(ctx: Context, p: Problem, a: Float32Array, b: Float32Array): Promise<TorchResult | null> {
  if (typeof (await torchPeer()) === "string") return null;
  const s = scratch();
  try {
    const job = { task: "gemm", quick: ctx.quick, problems: [{ ...p, a: s.write("a", a), b: s.write("b", b), c: "c" }] };
    const r = await runTorch<Array<{ ms: number; samples: number }>>(s.dir, job, 1);
    if (typeof r === "string") {
      ctx.fail(`gemm: ${r}`);
      return null;
    }
    return { backend: torchBackend(r), ...r.result[0], c: s.read("c") };
  } finally {
    s.done();
  }
}

export async function gemmSection(ctx: Context): Promise<void> {
  const engines: Engine[] = [];
  if (hasSimd()) engines.push(createEngineSync({ backend: "simd" }));
  else console.log("note: this runtime has no WebAssembly SIMD: aescore runs its scalar build only");
  engines.push(createEngineSync({ backend: "scalar" }));

  let seed = 1;
  for (const p of PROBLEMS) {
    const a = uniform(p.M * p.K, seed++);
    const b = uniform(p.K * p.N, seed++);
    await problem(ctx, engines, p, a, b, await torchGemm(ctx, p, a, b));
  }
}

/** One product: check every contender, then time the in-process ones (torch was timed in its child). */
async function problem(ctx: Context, engines: Engine[], p: Problem, a: Float32Array, b: Float32Array, torch: TorchResult | null): Promise<void> {
  const shape = [p.M, p.K, p.N];
  const label = `gemm (${shape.join(",")}) ${opName(p)}`;
  const contenders: Contender[] = engines.map((e) => aescore(e, p, a, b));
  const tf = tfjsWasm(ctx, p, a, b);
  if (tf) contenders.push(tf);
  contenders.push(naive(p, a, b));

  try {
    // Check once, before any timing: every contender against tfjs (an independent implementation)
    // when present, else against the naive loop. A second, warmer run sizes the timing budget (the
    // first one also pays for V8's baseline-to-optimised wasm tier-up).
    const once = contenders.map((c) => (c.run(), timeOnce(c.run)));
    const results = contenders.map((c) => c.result());
    const ref = contenders.indexOf(tf ?? contenders[contenders.length - 1]);
    const diffs = contenders.map((c, i) => `${c.lib} ${c.backend} ${maxRelDiff(results[i], results[ref]).toExponential(1)}`);
    const torchDiff = torch ? maxRelDiff(torch.c, results[ref]) : NaN;
    if (torch) diffs.push(`torch ${torchDiff.toExponential(1)}`);
    console.log(`check ${label}, max rel diff vs ${contenders[ref].lib}: ${diffs.filter((_, i) => i !== ref).join(", ")}`);
    const wrong = contenders.filter((_, i) => !(maxRelDiff(results[i], results[ref]) <= TOLERANCE)).map((c) => `${c.lib} ${c.backend}`);
    if (torch && !(torchDiff <= TOLERANCE)) wrong.push("torch");
    if (wrong.length > 0) {
      ctx.fail(`${label}: ${wrong.join(", ")} disagree with ${contenders[ref].lib} beyond ${TOLERANCE}: not timed`);
      return;
    }

    const flops = 2 * p.M * p.N * p.K;
    const gflops = new Map<string, number>();
    const rows: Row[] = [];
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[i];
      const t = await measure(`${label} ${c.lib} ${c.backend}`, c.run, once[i], ctx.quick);
      const row: Row = { bench: "gemm", shape, op: opName(p), lib: c.lib, backend: c.backend, ms: t.ms, gflops: flops / (t.ms * 1e6), samples: t.samples };
      gflops.set(c.lib, row.gflops!);
      rows.push(row);
    }
    if (torch) {
      const row: Row = { bench: "gemm", shape, op: opName(p), lib: "torch", backend: torch.backend, ms: torch.ms, gflops: flops / (torch.ms * 1e6), samples: torch.samples };
      gflops.set("torch", row.gflops!);
      rows.splice(rows.length - 1, 0, row); // before the naive loop
    }
    for (const row of rows) {
      if (row.lib !== "aescore") continue;
      row.vs = {};
      for (const other of ["tfjs-wasm", "torch", "naive"]) {
        const g = gflops.get(other);
        if (g !== undefined) row.vs[other] = row.gflops! / g;
      }
    }
    rows.forEach(ctx.report);
  } finally {
    contenders.forEach((c) => c.done());
  }
}
