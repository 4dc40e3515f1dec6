// MNIST digits for the digit sets: seeded source permutations, and rotation.

import { FormatError } from "../errors.js";
import { loadMnist } from "../node.js";
import { type Rng } from "../random.js";
import { cos, sin } from "../math.js";
import { DATASET_SIZES, DIGIT_TAG, PIXELS, POOL_TAG, SIDE, SplitName, stream } from "./sets.js";

// ---------------------------------------------------------------------------------------------
// MNIST digits

let mnistBytes: { pixels: Uint8Array; labels: Uint8Array } | undefined;

// Kept as bytes (55 MB rather than 220 MB of f32), since the five MNIST sets reuse them.
export function mnist(): { pixels: Uint8Array; labels: Uint8Array } {
  if (!mnistBytes) {
    const pixels = new Uint8Array(70000 * PIXELS);
    const labels = new Uint8Array(70000);
    let at = 0;
    for (const split of ["train", "test"] as const) {
      const m = loadMnist(split);
      const d = m.images.data;
      for (let i = 0; i < d.length; i++) pixels[at * PIXELS + i] = Math.round(d[i] * 255);
      labels.set(m.labels, at);
      at += m.labels.length;
    }
    if (at !== 70000) throw new FormatError(`MNIST: ${at} images, expected 60000 + 10000`);
    mnistBytes = { pixels, labels };
  }
  return mnistBytes;
}

// f32(k / 255): the value loadMnist gives for byte k.
export const BYTE = Float32Array.from({ length: 256 }, (_, k) => k / 255);

export function shuffle(r: Rng, a: Int32Array): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Source indices of the digits of each split (see CHOICES.digits), for the given split sizes. */
export function digitSources(seed: number, n: Record<SplitName, number>): Record<SplitName, Int32Array> {
  const full = DATASET_SIZES["mnist-basic"];
  const perm = shuffle(stream(seed, DIGIT_TAG), Int32Array.from({ length: 60000 }, (_, i) => i));
  const pool = new Int32Array(58000);
  pool.set(perm.subarray(full.train + full.valid));
  for (let i = 0; i < 10000; i++) pool[48000 + i] = 60000 + i;
  shuffle(stream(seed, POOL_TAG), pool);
  return {
    train: perm.slice(0, n.train),
    valid: perm.slice(full.train, full.train + n.valid),
    test: pool.slice(0, n.test),
  };
}

// ---------------------------------------------------------------------------------------------
// Transforms and shapes (exported for the tests)

/** Rotates a 28 x 28 image about its centre (bilinear; outside is 0; clipped to [0, 1]). */
export function rotate(src: ArrayLike<number>, angle: number, out: Float32Array = new Float32Array(PIXELS)): Float32Array {
  const c = cos(angle);
  const s = sin(angle);
  const m = (SIDE - 1) / 2;
  const at = (x: number, y: number): number => (x >= 0 && y >= 0 && x < SIDE && y < SIDE ? src[y * SIDE + x] : 0);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const dx = x - m;
      const dy = y - m;
      const sx = m + c * dx + s * dy;
      const sy = m - s * dx + c * dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v = (1 - fx) * (1 - fy) * at(x0, y0) + fx * (1 - fy) * at(x0 + 1, y0) + (1 - fx) * fy * at(x0, y0 + 1) + fx * fy * at(x0 + 1, y0 + 1);
      out[y * SIDE + x] = Math.min(1, Math.max(0, v));
    }
  }
  return out;
}

// Pixel indices as (row, column) coordinates: row-major order is then lexicographic.
