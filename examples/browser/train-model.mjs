// Trains the browser demo's two models with the library and writes them beside this file:
//   mnist-csae.safetensors  a sigmoid CSAE on real MNIST (npm start's preset with fewer hiddens), its
//                           W stored as float16 (the biases and C stay float32), tested as stored;
//   toy.safetensors         the 2-D contractive autoencoder of the paper's Fig. 2 (energySurface, the
//                           same function and seed as `aescore reproduce fig2`).
// Run after `npm run build`: node examples/browser/train-model.mjs [--hidden 50] [--seed 0]
// The same options give the same bytes (the fit is deterministic for any number of workers).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createEngineSync, encodeCsae, decodeSafetensors, decodeModel, encodeAutoencoder } from "../../dist/src/index.js";
import { fitCsae, FIT_DEFAULTS } from "../../dist/src/train/fit.js";
import { TRAIN_DEFAULTS } from "../../dist/src/train/autoencoder.js";
import { FINETUNE_DEFAULTS } from "../../dist/src/train/finetune.js";
import { mnistSplits, testError } from "../../dist/src/reproduce/common.js";
import { energySurface } from "../../dist/src/figures/energy-surface.js";
import { writeAtomic } from "../../dist/src/node.js";

const HERE = dirname(fileURLToPath(import.meta.url));

// The shipped model's configuration, written out (not taken from the library's defaults, which may
// change), so that this script keeps making the same bytes.
const DEMO = {
  activation: "sigmoid", output: "real", variant: "csae",
  pretrain: { ...TRAIN_DEFAULTS, epochs: 10, lr: 0.03, contractive: 0.5 },
  finetune: { ...FINETUNE_DEFAULTS, epochs: 13, lr: 0.01, decay: 0 },
};

// ---- float16 ---------------------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE binary16 bits of x, rounded to nearest, ties to even (the library reads F16, writes F32). */
export function toF16(x) {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf, NaN
  const e = exp - 112; // the binary16 exponent field (bias 15 instead of 127)
  if (e <= 0) {
    // A subnormal binary16 (or zero): h·2^-24, h = m·2^(exp−126) with the implicit bit made explicit.
    if (e < -10) return sign; // below 2^-25: rounds to zero
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h; // h = 0x400 is the smallest normal: the carry is right
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is right, up to Inf
  if (e >= 31 || (h & 0x7c00) === 0x7c00) throw new RangeError(`float16: ${x} is beyond the largest binary16 (65504)`);
  return sign | h;
}

/**
 * The .safetensors bytes of `file` (decoded tensors and metadata) with the tensors named in `half`
 * stored as F16 and the others as F32, in the header's order.
 */
export function encodeMixed({ tensors, metadata }, half) {
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const size = half.includes(name) ? 2 : 4;
    header[name] = { dtype: size === 2 ? "F16" : "F32", shape: t.shape, data_offsets: [offset, offset + size * t.data.length] };
    offset += size * t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // the data starts 8-byte aligned
  const out = new Uint8Array(8 + padded + offset);
  out.fill(0x20, 8 + json.length, 8 + padded);
  out.set(json, 8);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  let p = 8 + padded;
  for (const [name, t] of Object.entries(tensors)) {
    const half16 = half.includes(name);
    for (const v of t.data) {
      if (half16) view.setUint16(p, toF16(v), true);
      else view.setFloat32(p, v, true);
      p += half16 ? 2 : 4;
    }
  }
  return out;
}

// ---- the models ------------------------------------------------------------------------------------

function option(argv, name, fallback) {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer, not ${argv[i + 1]}`);
  return v;
}

async function main(argv) {
  const hidden = option(argv, "--hidden", 50);
  const seed = option(argv, "--seed", 0);
  const t0 = performance.now();
  const minutes = () => ((performance.now() - t0) / 60000).toFixed(1);

  // Fig. 2's model, exactly as the repository's figure makes it (its pictures go to a temporary folder).
  const figures = mkdtempSync(join(tmpdir(), "aescore-demo-fig2-"));
  try {
    const { ae } = await energySurface(figures);
    writeAtomic(join(HERE, "toy.safetensors"), encodeAutoencoder(ae));
  } finally {
    rmSync(figures, { recursive: true, force: true });
  }
  console.log(`toy: Fig. 2's autoencoder (D = 2, H = 100, sigmoid) in ${minutes()} min: toy.safetensors`);

  const { train, valid, test } = mnistSplits(10000);
  const e = createEngineSync();
  const m = await fitCsae(e, train.X, train.labels, {
    ...FIT_DEFAULTS, ...DEMO, hidden, seed, valid,
    onFinetune: (r) => console.log(`finetuning epoch ${r.epoch}/${r.epochs}: validation error ${(100 * r.valid).toFixed(2)}%`),
  });
  const bytes = encodeMixed(decodeSafetensors(encodeCsae(m)), ["W"]);
  const stored = decodeModel(createEngineSync(), bytes, "mnist-csae.safetensors").csae; // as the page reads it
  writeAtomic(join(HERE, "mnist-csae.safetensors"), bytes);
  console.log(`mnist: CSAE, H = ${hidden}, seed ${seed}: test error ${testError(m, test).toFixed(2)}% in float32, ${testError(stored, test).toFixed(2)}% as stored (W in float16), ${(bytes.length / 1e6).toFixed(2)} MB: mnist-csae.safetensors`);
  console.log(`done in ${minutes()} min`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`train-model: ${err.message}`);
    process.exit(1);
  });
}
