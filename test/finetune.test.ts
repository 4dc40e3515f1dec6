import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngineSync, mark, release, type Mat } from "../src/engine/engine.js";
import type { Output } from "../src/model/autoencoder.js";
import type { Activation } from "../src/engine/activations.js";
import { makeSlots, slotEnergies, slotGradients, finetune, FINETUNE_DEFAULTS, type ClassGroups, type Params } from "../src/train/finetune.js";
import { reference } from "./reference.js";
import { checkGradient, energyRef, type AeRef } from "./ref/autoencoder.js";
import { rng } from "./util.js";

const e = createEngineSync();
const [K, D, H, B] = [3, 5, 4, 4];

// The finetuning loss in float64: mean over rows of −log softmax(E(x) + C)_y, parameters flattened as
// [W_0, bh_0, br_0, W_1, ..., C].
function lossRef(act: Activation, output: Output, p: Float64Array, X: Float64Array, y: number[]): number {
  const size = H * D + H + D;
  const C = p.subarray(K * size);
  let total = 0;
  for (let r = 0; r < y.length; r++) {
    const x = X.subarray(r * D, (r + 1) * D);
    const z = Array.from({ length: K }, (_, i) => {
      const q = p.subarray(i * size, (i + 1) * size);
      const m: AeRef = {
        D, H, output, W: q.subarray(0, H * D), bh: q.subarray(H * D, H * D + H), br: q.subarray(H * D + H),
        act: { h: (u) => reference(act, u).h, H: (u) => reference(act, u).H, d1: (u) => reference(act, u).d1 },
      };
      return energyRef(m, x) + C[i];
    });
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
    total += lse - z[y[r]];
  }
  return total / y.length;
}

for (const [act, output] of [["sigmoid", "real"], ["sigmoid", "binary"], ["tanh", "real"], ["softplus", "binary"], ["relu", "real"], ["linear", "real"]] as Array<[Activation, Output]>) {
  test(`finetuning gradient by finite differences: ${act}/${output}`, () => {
    const top = mark(e);
    const r = rng(7);
    const params: Params[] = Array.from({ length: K }, () => ({
      W: Float32Array.from({ length: H * D }, () => r.uniform() - 0.5),
      bh: Float32Array.from({ length: H }, () => r.uniform() - 0.5),
      br: Float32Array.from({ length: D }, () => r.uniform() - 0.5),
    }));
    const C = Float32Array.from({ length: K }, () => r.uniform() - 0.5);
    const X = Float32Array.from({ length: B * D }, () => (output === "binary" ? 0.05 + 0.9 * r.uniform() : 2 * r.uniform() - 1));
    const y = [0, 2, 1, 2];
    const p = Float64Array.from([...params.flatMap((q) => [...q.W, ...q.bh, ...q.br]), ...C]);

    const s = makeSlots(e, { D, H, activation: act, output }, params, { shape: [B, D], data: X }, B);
    const E = slotEnergies(s, Int32Array.from([0, 1, 2, 3]));
    // g = (softmax(E + C) − t)/B
    const g = new Float32Array(B * K);
    const dC = new Float64Array(K);
    for (let b = 0; b < B; b++) {
      const z = Array.from({ length: K }, (_, i) => E[b * K + i] + C[i]);
      const m = Math.max(...z);
      const ex = z.map((v) => Math.exp(v - m));
      const sum = ex.reduce((a, v) => a + v, 0);
      for (let i = 0; i < K; i++) {
        g[b * K + i] = (ex[i] / sum - (i === y[b] ? 1 : 0)) / B;
        dC[i] += g[b * K + i];
      }
    }
    slotGradients(s, g);
    const got = [...s.slots.flatMap((sl) => [...(sl.params.W.grad as Mat).data, ...(sl.params.bh.grad as Mat).data, ...(sl.params.br.grad as Mat).data]), ...dC];
    const size = H * D + H + D;
    checkGradient(`${act}/${output}`, got, (q) => lossRef(act, output, q, Float64Array.from(X), y), p, { abs: 1e-5, rel: 1e-3 }, (i) => (i >= K * size ? `dC[${i - K * size}]` : `class ${Math.floor(i / size)} param ${i % size}`));
    release(e, top);
  });
}

test("learning-rate decay: epoch t steps with lr·τ/(τ+t), every parameter and C alike", async () => {
  // A stand-in for the classes' autoencoders that records the learning rate of each step: the
  // schedule belongs to the driver, whatever holds the autoencoders.
  const K = 2;
  const seen: number[] = [];
  const groups: ClassGroups = {
    rows: 4,
    classes: K,
    energies: async (rows) => new Float32Array(rows.length * K),
    step: async (_g, o) => void seen.push(o.lr),
    classify: async (X) => new Float32Array(X.shape[0] * K),
    keep: async () => {},
    restore: async () => {},
    params: async () => [],
    diverged: async () => undefined,
    save: async () => ({ values: {}, velocities: {} }),
    load: async () => {},
    close: async () => {},
  };
  const y = new Int32Array([0, 1, 0, 1]);
  const run = (decay: number, epochs = 3) => {
    seen.length = 0;
    const C = new Float32Array(K);
    return finetune(groups, K, y, C, { ...FINETUNE_DEFAULTS, epochs, batch: 2, lr: 0.3, momentum: 0, decay }, { seed: 1 }).then(() => ({ lrs: seen.slice(), C: Array.from(C) }));
  };
  const constant = await run(0);
  assert.equal(constant.lrs, [0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
  const decayed = await run(2);
  assert.equal(decayed.lrs, [0, 0, 1, 1, 2, 2].map((t) => (0.3 * 2) / (2 + t)));
  // C follows the same schedule: the same as constant for one epoch, not after three.
  assert.equal((await run(2, 1)).C, (await run(0, 1)).C);
  assert.not.equal(decayed.C, constant.C);
  try {
    await finetune(groups, K, y, new Float32Array(K), { ...FINETUNE_DEFAULTS, decay: -1 }, { seed: 1 });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /decay must be a finite number >= 0, not -1/);
  }
});

test("reports carry the epoch the driver keeps: the first with the lowest validation error", async () => {
  const K = 2;
  // Validation scores by epoch, large enough that C's small moves cannot flip them: errors 50%, 0, 0, 50%.
  const byEpoch = [[9, -9], [9, -9, -9, 9], [9, -9, -9, 9], [-9, 9]];
  let calls = 0;
  const groups: ClassGroups = {
    rows: 2,
    classes: K,
    energies: async (rows) => new Float32Array(rows.length * K),
    step: async () => {},
    classify: async (X) => {
      const pattern = byEpoch[calls++];
      return Float32Array.from({ length: X.shape[0] * K }, (_, i) => pattern[i % pattern.length]);
    },
    keep: async () => {},
    restore: async () => {},
    params: async () => [],
    diverged: async () => undefined,
    save: async () => ({ values: {}, velocities: {} }),
    load: async () => {},
    close: async () => {},
  };
  const valid = { X: { shape: [4, 1], data: new Float32Array(4) }, y: new Int32Array([0, 1, 0, 1]) };
  const reports: Array<[number | undefined, number | undefined]> = [];
  const { bestEpoch } = await finetune(groups, K, new Int32Array([0, 1]), new Float32Array(K), { ...FINETUNE_DEFAULTS, epochs: 4, batch: 2 }, {
    seed: 1, valid, onEpoch: (r) => reports.push([r.valid, r.bestEpoch]),
  });
  assert.equal(reports, [[0.5, 1], [0, 2], [0, 2], [0.5, 2]]);
  assert.is(bestEpoch, 2);
});

test.run();
