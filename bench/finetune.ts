// The finetune section: examples per second of CSAE finetuning (softmax log-loss through the energies of
// all classes) for K = 10 autoencoders of 784 -> 500 sigmoid units, minibatch 100, on one thread and on
// two worker threads (each worker owns 5 classes; only 100 x 10 energies and gradients cross per step).

import { createEngineSync, rng } from "../src/index.js";
import { createAutoencoder } from "../src/model/autoencoder.js";
import { finetune, localGroups, slotParams, FINETUNE_DEFAULTS, type ClassGroups } from "../src/train/finetune.js";
import { workerGroups } from "../src/train/parallel.js";
import type { Context, Row } from "./harness.js";

const [K, D, H, N] = [10, 784, 500, 2000];

export async function finetuneSection(ctx: Context): Promise<void> {
  const r = rng(1);
  const data = { shape: [N, D], data: Float32Array.from({ length: N * D }, () => r.uniform()) };
  const y = Int32Array.from({ length: N }, () => r.int(K));
  const spec = { D, H, activation: "sigmoid" as const, output: "real" as const };
  const scratch = createEngineSync();
  const params = Array.from({ length: K }, (_, i) => slotParams(createAutoencoder(scratch, spec, i)));
  const o = { ...FINETUNE_DEFAULTS, epochs: ctx.quick ? 1 : 2 };
  const rows: Row[] = [];
  for (const workers of [0, 2]) {
    const groups: ClassGroups = workers === 0 ? localGroups(createEngineSync(), spec, params, data, o.batch) : await workerGroups(spec, params, data, o.batch, workers);
    try {
      const C = new Float32Array(K);
      await finetune(groups, K, y, C, { ...o, epochs: 1 }, { seed: 1 }); // warm-up
      const t0 = performance.now();
      await finetune(groups, K, y, C, o, { seed: 2 });
      const s = (performance.now() - t0) / 1000;
      const perSec = (o.epochs * N) / s;
      rows.push({
        bench: "finetune", shape: [K, D, H], op: "csae finetuning epoch", lib: "aescore",
        backend: workers === 0 ? "simd, this thread" : `simd, ${workers} workers`, ms: (N / perSec) * 1000, samples: o.epochs,
        gflops: (4 * K * D * H * perSec) / 1e9, perSec,
      });
    } finally {
      await groups.close();
    }
  }
  rows[1].vs = { "1 thread": rows[1].perSec! / rows[0].perSec! };
  rows.forEach(ctx.report);
}
