// Run from the repository root after npm run build: node results/novelty/near.mjs
import { loadMnist, writeArray } from "../../dist/src/node.js";
const pick = (s, keep) => {
  const { images, labels } = loadMnist(s);
  const idx = [];
  labels.forEach((l, i) => { if (keep(l)) idx.push(i); });
  const X = new Float32Array(idx.length * 784);
  idx.forEach((n, i) => X.set(images.data.subarray(n * 784, (n + 1) * 784), i * 784));
  return { X: { shape: [idx.length, 784], data: X }, y: { shape: [idx.length], data: Float32Array.from(idx, (n) => labels[n]) } };
};
const tr = pick("train", (l) => l !== 9);
writeArray("near-train.npy", tr.X); writeArray("near-train-labels.npy", tr.y);
writeArray("near-in.npy", pick("test", (l) => l !== 9).X);
writeArray("near-out.npy", pick("test", (l) => l === 9).X);
