// The energy section: energies per second of a 784 x 500 sigmoid autoencoder (real output) on batches
// of 1, 100 and 10000 rows: E(x) = Σ_k softplus(w_kᵀx + bh_k) − ½‖x − br‖². aescore's energy() pays for
// its input check and the copy into wasm memory; tfjs-wasm runs matMul + softplus + sums on inputs
// already uploaded, and we read its result back (dataSync), as a user of either must.

import { createEngineSync, hasSimd } from "../src/index.js";
import { createAutoencoder, packForScoring } from "../src/model/autoencoder.js";
import { energy } from "../src/model/energy.js";
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

export async function energySection(ctx: Context): Promise<void> {
  const e = createEngineSync({ backend: hasSimd() ? "simd" : "scalar" });
  const ae = createAutoencoder(e, { D, H, activation: "sigmoid", output: "real" }, 1);
  ae.bh.data.set(uniform(H, 2).map((v) => 0.1 * v));
  ae.br.data.set(uniform(D, 3).map((v) => 0.5 + 0.5 * v));
  // The same model with Wᵀ packed once (packForScoring): what one-row scoring at the edge uses.
  const packed = packForScoring(ae);
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
        ours.vs = {};
        oursPacked.vs = {};
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
}
