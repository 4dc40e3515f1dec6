// `node bench/onnx-peak.mjs DIST`: the peak memory of exporting a 40-class CSAE of 784 x 1000 sigmoid autoencoders (120 MiB of weights) to ONNX; compare two builds.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
const dist = pathToFileURL(resolve(process.argv[2])).href;
const { createEngineSync } = await import(`${dist}/src/engine/engine.js`);
const { createAutoencoder } = await import(`${dist}/src/model/autoencoder.js`);
const { exportOnnx } = await import(`${dist}/src/model/onnx.js`);
const e = createEngineSync();
const aes = Array.from({ length: 40 }, (_, s) => createAutoencoder(e, { D: 784, H: 1000, activation: "sigmoid", output: "real" }, s));
const base = process.resourceUsage().maxRSS;
const b = exportOnnx({ classes: aes.map((_, i) => `c${i}`), aes, C: new Float32Array(40) });
console.log(dist, `weights ${(40 * 1000 * 785 * 4 / 2 ** 20).toFixed(0)} MiB, file ${(b.length / 2 ** 20).toFixed(0)} MiB, max RSS before export ${(base / 1024).toFixed(0)} MiB, after ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
