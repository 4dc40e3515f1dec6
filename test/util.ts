// Test helpers: seeded inputs, NaN-prefilled outputs, named tolerance policies.

import { alloc, type Engine, type Mat } from "../src/engine/engine.js";
import { rng, type Rng } from "../src/random.js";

/** The sizes every kernel is run over: each tail path of 4- and 8-wide loops, and beyond. */
export const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100];

/** A matrix of seeded uniform values in [lo, hi). */
export function randMat(e: Engine, r: Rng, name: string, rows: number, cols: number, lo = -1, hi = 1): Mat {
  const m = alloc(e, name, rows, cols);
  const d = m.data;
  for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * r.uniform();
  return m;
}

/** An output matrix filled with NaN, so an unwritten element shows. */
export function nanMat(e: Engine, name: string, rows: number, cols: number): Mat {
  const m = alloc(e, name, rows, cols);
  m.data.fill(NaN);
  return m;
}

export { rng };

/** Bit patterns, for bit-identity checks. */
export function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = bits(a);
  const y = bits(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** f32 unit roundoff. */
export const U32 = 2 ** -24;

/**
 * Checks got[i] against want[i] within bound[i]; returns a message naming the first failure, or ""
 * (so a test can say which case failed).
 */
export function within(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): string {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!(Math.abs(g - w) <= bound(i)) && g !== w) return `element ${i}: got ${g}, want ${w} (bound ${bound(i)})`;
  }
  return "";
}
