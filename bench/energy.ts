// The energy section: energies per second of a 784 x 500 sigmoid autoencoder (real output) on batches
// of 1, 100 and 10000 rows: E(x) = Σ_k softplus(w_kᵀx + bh_k) − ½‖x − br‖². aescore's energy() pays for
// its input check and the copy into wasm memory; tfjs-wasm runs matMul + softplus + sums on inputs
// already uploaded, and we read its result back (dataSync), as a user of either must.
// onnxruntime-web runs the model aescore's exportOnnx writes for the same autoencoder (Gemm with Wᵀ,
// Softplus, ReduceSum, ...), one InferenceSession on its wasm backend (single thread, fixed SIMD);
// a timed call is what a user's call is: a Tensor from the rows, `await session.run`, the output read.

import { createEngineSync, hasSimd } from "../src/index.js";
import { createAutoencoder, packForScoring } from "../src/model/autoencoder.js";
import { energy } from "../src/model/energy.js";
import { exportOnnx } from "../src/model/onnx.js";
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { maxRelDiff, measure, timeOnce, uniform, type Context, type Row } from "./harness.js";
import type { TfCore, TfTensor } from "./tfjs.js";

const D = 784;
const H = 500;
const TOLERANCE = 1e-4;

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

// E = Σ_k softplus(u_k) − ½‖x − br‖², u = X Wᵀ + bh, read back.
function tfEnergy(tf: TfCore, tx: TfTensor, tbh: TfTensor, tbr: TfTensor, product: () => TfTensor): Float32Array {
  return tf.tidy(() => {
    const u = tf.add(product(), tbh);
    const q = tf.sum(tf.square(tf.sub(tx, tbr)), 1);
    return tf.sub(tf.sum(tf.softplus(u), 1), tf.mul(q, 0.5)).dataSync();
  });
}

// ---- onnxruntime-web -------------------------------------------------------------------------------

// The part of onnxruntime-web's API used here (its types live in its own package).
interface OrtTensor {
  data: unknown;
  dispose?(): void;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  env: { logLevel?: string; wasm: { numThreads?: number; simd?: boolean | "fixed" | "relaxed"; proxy?: boolean } };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options?: { executionProviders?: string[] }): Promise<OrtSession> };
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// bench/peers (npm run bench:peers) first, else the copy the ONNX tests install.
const ORT_DIRS = [join(root, "bench", "peers"), join(root, "test", "onnx-runtime")];

/** onnxruntime-web on its wasm backend, single-threaded with fixed-width SIMD, or why not. */
function loadOrt(): { ort: Ort; describe: string } | string {
  const dir = ORT_DIRS.find((d) => existsSync(join(d, "node_modules", "onnxruntime-web", "package.json")));
  if (!dir) return "onnxruntime-web not installed (npm run bench:peers): not timed";
  try {
    const ort = createRequire(join(dir, "package.json"))("onnxruntime-web") as Ort;
    ort.env.wasm.numThreads = 1; // no worker threads: one core, as aescore and tfjs here
    ort.env.wasm.simd = "fixed"; // fixed-width SIMD, as aescore (no relaxed SIMD)
    ort.env.wasm.proxy = false; // run on this thread, not through a proxy worker
    ort.env.logLevel = "error";
    const { version } = JSON.parse(readFileSync(join(dir, "node_modules", "onnxruntime-web", "package.json"), "utf8")) as { version: string };
    return { ort, describe: `onnxruntime-web ${version} from ${dir.slice(root.length + 1)} (ort-wasm-simd-threaded.wasm, wasm EP, 1 thread, fixed SIMD)` };
  } catch (e) {
    return `onnxruntime-web failed to load: ${(e as Error)?.message ?? String(e)}`;
  }
}

export async function energySection(ctx: Context): Promise<void> {
  const e = createEngineSync({ backend: hasSimd() ? "simd" : "scalar" });
  const ae = createAutoencoder(e, { D, H, activation: "sigmoid", output: "real" }, 1);
  ae.bh.data.set(uniform(H, 2).map((v) => 0.1 * v));
  ae.br.data.set(uniform(D, 3).map((v) => 0.5 + 0.5 * v));
  // The same model with Wᵀ packed once (packForScoring): what one-row scoring at the edge uses.
  const packed = packForScoring(ae);
  // The same model exported to ONNX, in one onnxruntime-web session for every batch size.
  const peer = loadOrt();
  console.log(typeof peer === "string" ? `note: ${peer}` : `onnxruntime-web: ${peer.describe}`);
  const ort = typeof peer === "string" ? undefined : peer.ort;
  const session = ort ? await ort.InferenceSession.create(exportOnnx(ae), { executionProviders: ["wasm"] }) : undefined;
  for (const N of [1, 100, 10000]) {
    const X = { shape: [N, D], data: uniform(N * D, 4 + N).map((v) => 0.5 + 0.5 * v) };
    const rows: Row[] = [];
    const time = async (lib: string, backend: string, fn: () => void) => {
      fn();
      const t = await measure(`energy ${N} ${lib}`, fn, timeOnce(fn), ctx.quick);
      const row: Row = { bench: "energy", shape: [N, D, H], op: "sigmoid E(x)", lib, backend, ms: t.ms, samples: t.samples, gflops: (2 * N * D * H) / (t.ms * 1e6), perSec: N / (t.ms / 1000) };
      rows.push(row);
      return row;
    };
    const ours = await time("aescore", e.backend, () => energy(ae, X));
    const oursPacked = await time("aescore-packed", e.backend, () => energy(packed, X));
    if (session) {
      // What a user writes: the rows as a Tensor, await run, the energies read out as a Float32Array.
      const run = async () => {
        const out = await session.run({ x: new ort!.Tensor("float32", X.data, [N, D]) });
        return out.energy.data as Float32Array;
      };
      const diff = maxRelDiff(await run(), energy(ae, X));
      if (!(diff <= TOLERANCE)) {
        ctx.fail(`energy ${N}: aescore and onnxruntime-web differ by ${diff.toExponential(1)}: not timed`);
      } else {
        const t0 = performance.now();
        await run();
        const once = performance.now() - t0;
        const t = await measure(`energy ${N} onnxruntime-web`, run, once, ctx.quick);
        rows.push({ bench: "energy", shape: [N, D, H], op: "sigmoid E(x)", lib: "onnxruntime-web", backend: "wasm-simd", ms: t.ms, samples: t.samples, gflops: (2 * N * D * H) / (t.ms * 1e6), perSec: N / (t.ms / 1000) });
        ours.vs = { ...ours.vs, "onnxruntime-web": t.ms / ours.ms };
        oursPacked.vs = { ...oursPacked.vs, "onnxruntime-web": t.ms / oursPacked.ms };
      }
    }
    if (ctx.tfjs) {
      const { tf } = ctx.tfjs;
      const tx = tf.tensor2d(X.data, [N, D], "float32");
      const tw = tf.tensor2d(ae.W.data, [H, D], "float32");
      const twT = tf.tensor2d(transpose(ae.W.data, H, D), [D, H], "float32");
      const tbh = tf.tensor1d(ae.bh.data, "float32");
      const tbr = tf.tensor1d(ae.br.data, "float32");
      // As a tfjs user writes it with W stored (H, D) as in the model file (X Wᵀ), and with W stored
      // transposed (D, H), which keeps tfjs's matMul on its fast untransposed path.
      const variants: Array<[string, () => Float32Array]> = [
        ["tfjs-wasm", () => tfEnergy(tf, tx, tbh, tbr, () => tf.matMul(tx, tw, false, true))],
        ["tfjs-wasm-WT", () => tfEnergy(tf, tx, tbh, tbr, () => tf.matMul(tx, twT, false, false))],
      ];
      try {
        ours.vs ??= {};
        oursPacked.vs ??= {};
        for (const [lib, run] of variants) {
          const diff = maxRelDiff(energy(ae, X), run());
          if (!(diff <= TOLERANCE)) {
            ctx.fail(`energy ${N}: aescore and ${lib} differ by ${diff.toExponential(1)}: not timed`);
            continue;
          }
          const t = await time(lib, "wasm-simd", () => run());
          ours.vs[lib] = t.ms / ours.ms;
          oursPacked.vs[lib] = t.ms / oursPacked.ms;
        }
      } finally {
        [tx, tw, twT, tbh, tbr].forEach((t) => t.dispose());
      }
    }
    rows.forEach(ctx.report);
  }
  await session?.release();
}
