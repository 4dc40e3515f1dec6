// `node bench/ab-calls.mjs DIST [DIST …] [--rounds N]`: the per-call cost of small kernel calls and of
// energies, for A/B runs of builds in one sitting (DIST: a build's dist folder, e.g. the dist of a
// worktree at the old commit). Each build is measured in a process of its own, the builds alternating,
// `--rounds` times (default 4): two builds in one process share call sites, and whichever ran second
// measured up to 2× slower on the smallest calls. A process's JIT also lands in one of two speeds on
// those calls, so read the range over rounds, not one figure. Best of 5 loops after a warm-up.
import { pathToFileURL, fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { execFileSync } from "node:child_process";

const args = process.argv.slice(2);
if (args[0] === "--one") {
  console.log(JSON.stringify(await measure(args[1])));
} else {
  const at = args.indexOf("--rounds");
  const rounds = at >= 0 ? Number(args.splice(at, 2)[1]) : 4;
  if (!(Number.isInteger(rounds) && rounds > 0) || args.length === 0) {
    console.error("usage: node bench/ab-calls.mjs DIST [DIST …] [--rounds N]");
    process.exit(2);
  }
  const runs = new Map(args.map((d) => [d, []]));
  for (let r = 0; r < rounds; r++) {
    for (const dist of args) {
      runs.get(dist).push(JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--one", dist], { encoding: "utf8" })));
    }
  }
  for (const [dist, rs] of runs) {
    const range = Object.keys(rs[0]).map((key) => {
      const v = rs.map((x) => x[key]).sort((a, b) => a - b);
      return `${key} ${v[0]}–${v[v.length - 1]}`;
    });
    console.log(`${dist}: ${range.join(", ")}`);
  }
}

async function measure(arg) {
  const dist = pathToFileURL(resolve(arg)).href;
  const { createEngineSync, alloc } = await import(`${dist}/src/engine/engine.js`);
  const k = await import(`${dist}/src/engine/kernels.js`);
  const { createAutoencoder } = await import(`${dist}/src/model/autoencoder.js`);
  const { energy } = await import(`${dist}/src/model/energy.js`);
  const e = createEngineSync();
  const best = (reps, f) => {
    for (let i = 0; i < reps; i++) f();
    let min = Infinity;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (let i = 0; i < reps; i++) f();
      min = Math.min(min, (performance.now() - t) / reps);
    }
    return min;
  };
  const x16 = alloc(e, "x", 1, 16), y = alloc(e, "y", 1, 784), x = alloc(e, "x", 1, 784);
  const A = alloc(e, "A", 100, 100), B = alloc(e, "B", 100, 100), C = alloc(e, "C", 100, 100);
  const out = {
    "scale 16 (ns)": +(best(2e6, () => k.scale(x16, 0.999)) * 1e6).toFixed(1),
    "axpy 784 (ns)": +(best(1e6, () => k.axpy(y, 0.001, x)) * 1e6).toFixed(1),
    "gemm 100^3 (us)": +(best(2000, () => k.gemm(C, A, B)) * 1e3).toFixed(1),
  };
  const ae = createAutoencoder(e, { D: 784, H: 500, activation: "sigmoid", output: "real" }, 1);
  for (const N of [1, 100, 2000]) {
    const X = { shape: [N, 784], data: Float32Array.from({ length: N * 784 }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32) };
    out[`energy ${N} rows (ms)`] = +best(Math.max(3, Math.round(20000 / N)), () => energy(ae, X)).toFixed(3);
  }
  return out;
}
