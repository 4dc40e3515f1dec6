// Run from the directory that gets the arrays, after npm run build: node PATH/results/novelty/noise.mjs
// 2000 rows of uniform pixel noise in [0, 1) from aescore's generator, seed 9.
import { rng } from "../../dist/src/random.js";
import { writeArray } from "../../dist/src/node.js";
const r = rng(9);
const X = new Float32Array(2000 * 784);
for (let i = 0; i < X.length; i++) X[i] = r.uniform();
writeArray("noise.npy", { shape: [2000, 784], data: X });
