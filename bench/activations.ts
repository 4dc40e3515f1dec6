// The activations section: throughput of each fused activation kernel on a minibatch's hidden layer
// (100 x 500 values in [-4, 4)), computing h alone and all four of h, H, h', h'' in one pass, against
// tfjs-wasm's elementwise op for h where tfjs has one. Memory-bound, so GB/s counts the bytes that
// must move: the input once plus every output.

import { alloc, createEngineSync, fromArray, hasSimd, activation, ACTIVATIONS, type Activation, type Mat } from "../src/index.js";
import { maxRelDiff, measure, timeOnce, uniform, type Context, type Row } from "./harness.js";
import type { TfCore, TfTensor } from "./tfjs.js";

const N = 100 * 500;
const TOLERANCE = 1e-5;

// tfjs's op for h, where it has one.
const TF_OP: Partial<Record<Activation, (tf: TfCore, x: TfTensor) => TfTensor>> = {
  sigmoid: (tf, x) => tf.sigmoid(x),
  tanh: (tf, x) => tf.tanh(x),
  relu: (tf, x) => tf.relu(x),
  softplus: (tf, x) => tf.softplus(x),
  modulus: (tf, x) => tf.abs(x),
  square: (tf, x) => tf.square(x),
};

export async function activationsSection(ctx: Context): Promise<void> {
  const e = createEngineSync({ backend: hasSimd() ? "simd" : "scalar" });
  const x = uniform(N, 7).map((v) => 4 * v);
  const U = fromArray(e, "U", 1, N, x);
  const out: Mat[] = ["h", "H", "d1", "d2"].map((name) => alloc(e, name, 1, N));
  const shape = [N];
  for (const name of ACTIVATIONS) {
    const hOnly = () => activation(name, U, { h: out[0] });
    const all = () => activation(name, U, { h: out[0], H: out[1], d1: out[2], d2: out[3] });
    const rows: Row[] = [];
    const time = async (op: string, lib: string, backend: string, fn: () => void, outputs: number) => {
      fn();
      const t = await measure(`${name} ${op} ${lib}`, fn, timeOnce(fn), ctx.quick);
      const row: Row = { bench: "activations", shape, op, lib, backend, ms: t.ms, samples: t.samples, gbps: (4 * N * (1 + outputs)) / (t.ms * 1e6) };
      rows.push(row);
      return row;
    };
    const h = await time(`${name} h`, "aescore", e.backend, hOnly, 1);
    await time(`${name} h,H,h',h''`, "aescore", e.backend, all, 4);
    const op = TF_OP[name];
    if (ctx.tfjs && op) {
      const { tf } = ctx.tfjs;
      const tx = tf.tensor1d(x, "float32");
      try {
        hOnly();
        const r = op(tf, tx);
        const diff = maxRelDiff(out[0].data, r.dataSync());
        r.dispose();
        if (!(diff <= TOLERANCE)) {
          ctx.fail(`activations ${name}: aescore and tfjs differ by ${diff.toExponential(1)}: not timed`);
        } else {
          const t = await time(`${name} h`, "tfjs-wasm", "wasm-simd", () => op(tf, tx).dispose(), 1);
          h.vs = { "tfjs-wasm": t.ms / h.ms };
        }
      } finally {
        tx.dispose();
      }
    }
    rows.forEach(ctx.report);
  }
}
