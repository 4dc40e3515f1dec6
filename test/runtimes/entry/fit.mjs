// Shared by the Chromium fit page and test/runtimes.test.ts (in Node): a small CSAE fitted with the
// package's fit() on 0 and 2 worker threads (Web Workers in a browser), as SHA-256 digests of the
// model files. Imports nothing: the library and its fit module are passed in.

/** Two classes of 20 rows, 6 columns, from a 32-bit LCG (the same numbers in every runtime). */
function tiny() {
  let s = 2024;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const D = 6;
  const data = new Float32Array(40 * D);
  const labels = [];
  for (let n = 0; n < 40; n++) {
    for (let j = 0; j < D; j++) data[n * D + j] = (n % 2 ? 0.7 : 0.2) * (j % 2 ? 1 : 0.5) + 0.2 * u();
    labels.push(n % 2 ? "odd" : "even");
  }
  return { X: { shape: [40, D], data }, labels };
}

async function sha256(bytes) {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function fitDigests(lib, fitModule) {
  const { X, labels } = tiny();
  const { FIT_DEFAULTS, fit } = fitModule;
  const out = {};
  for (const workers of [0, 2]) {
    const o = {
      ...FIT_DEFAULTS, hidden: 4, seed: 5, workers,
      pretrain: { ...FIT_DEFAULTS.pretrain, epochs: 3, batch: 8 },
      finetune: { ...FIT_DEFAULTS.finetune, epochs: 3, batch: 8 },
    };
    const m = await fit(await lib.createEngine(), X, labels, o);
    out[`workers${workers}`] = await sha256(lib.encodeModel(m));
  }
  return out;
}
