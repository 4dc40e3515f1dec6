// A module Web Worker: computes the digests and posts them to the page.
import * as lib from "./node_modules/aescore/dist/src/index.js";
import * as golden from "./golden.js";
import { compute } from "./compute.mjs";

compute(lib, golden).then(
  (result) => postMessage({ ...result, inWorker: typeof WorkerGlobalScope !== "undefined" }),
  (err) => postMessage({ error: String((err && err.stack) || err) }),
);
