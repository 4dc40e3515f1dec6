// Run from the directory measure.sh works in, after npm run build: node PATH/results/novelty/thresholds.mjs SEED
// Calibrates a threshold per method at FPR 0.05 on held-in validation rows that training did not fit
// (the last 10% of the training rows, which --valid-fraction 0.1 held out), stores it in the model file
// and reads it back (the library's path: calibrateThreshold, withThreshold, decodeModel), and prints the
// rates it gives on the test rows: FPR on the held-in test digits, TPR on each novel set. Markdown rows.
import { readFileSync } from "node:fs";
import { createEngineSync, calibrateThreshold, decodeModel, withThreshold, noveltyScores, noveltyFlags, noveltyMethods } from "../../dist/src/index.js";
import { loadMnist, readArray } from "../../dist/src/node.js";
const seed = process.argv[2];
const FPR = 0.05;
const e = createEngineSync();
const lastTenth = (X) => {
  const [N, D] = X.shape;
  const v = Math.floor(0.1 * N);
  return { shape: [v, D], data: X.data.subarray((N - v) * D) };
};
const rows = (path) => {
  const t = readArray(path);
  const N = t.shape[0];
  if (t.dtype === "u8") for (let i = 0; i < t.data.length; i++) t.data[i] /= 255;
  return { shape: [N, t.data.length / N], data: t.data };
};
const rate = (X, m, method) => {
  const f = noveltyFlags(noveltyScores(m.csae, X, method), m.novelty, method);
  return (f.reduce((a, b) => a + b, 0) / f.length).toFixed(4);
};
function table(file, valid, heldIn, novel) {
  const bytes = readFileSync(file);
  const scored = decodeModel(e, bytes, file).csae;
  for (const method of noveltyMethods(scored)) {
    const t = calibrateThreshold(scored, valid, FPR, method);
    const m = decodeModel(e, withThreshold(bytes, t, file), file); // stored, then read back
    const cells = [seed, method, m.novelty.threshold.toPrecision(6), (t.flagged / t.rows).toFixed(4), rate(heldIn, m, method), ...novel.map((X) => rate(X, m, method))];
    console.log(`| ${cells.join(" | ")} |`);
  }
}
const mnist = loadMnist("train").images;
const test = loadMnist("test").images;
console.log(`mnist-${seed}.safetensors (6000 calibration rows)\n| seed | method | threshold | FPR calibration | FPR test digits | TPR rectangles | TPR convex | TPR noise |\n|---|---|---|---|---|---|---|---|`);
table(`mnist-${seed}.safetensors`, lastTenth(mnist), test, [rows("sets/rectangles-test-images.idx"), rows("sets/convex-test-images.idx"), rows("noise.npy")]);
console.log(`\nnear-${seed}.safetensors (5405 calibration rows)\n| seed | method | threshold | FPR calibration | FPR test digits 0–8 | TPR test 9s |\n|---|---|---|---|---|---|`);
table(`near-${seed}.safetensors`, lastTenth(rows("near-train.npy")), rows("near-in.npy"), [rows("near-out.npy")]);
