// The one seeded generator of the library: xoshiro128** (Blackman & Vigna, 2018), its 128-bit state
// filled from the seed by SplitMix32. Plain 32-bit integer arithmetic, so every runtime produces the
// same stream for the same seed.

import { InputError, quote } from "./errors.js";

export interface Rng {
  /** Next 32-bit unsigned integer. */
  u32(): number;
  /** Uniform in [0, 1) with 24 random bits: exactly representable in f32. */
  uniform(): number;
  /** Uniform integer in [0, n), unbiased (rejection). */
  int(n: number): number;
  /** The state, to checkpoint and restore with `rngFrom`. */
  state(): [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Refuses a seed that is not a 32-bit unsigned integer: reduced mod 2^32, seed 2^32 would silently be seed 0. */
export function checkSeed(seed: unknown, where: string, or = ""): asserts seed is number {
  if (!(typeof seed === "number" && Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new InputError(`${where}: the seed must be an integer in [0, 2^32)${or}, not ${quote(seed)}`);
}

/** A generator seeded by a 32-bit integer. */
export function rng(seed: number): Rng {
  checkSeed(seed, "rng");
  const next = splitmix32(seed);
  return rngFrom([next(), next(), next(), next()]);
}

/** A generator resumed from `state()`. */
export function rngFrom(state: readonly number[]): Rng {
  // (coerced, 1.5 or "7" would resume some other stream)
  if (!(Array.isArray(state) && state.length === 4 && state.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32))) {
    throw new InputError(`rngFrom: a generator state is 4 integers in [0, 2^32) (from state()), not ${quote(state)}`);
  }
  let [a, b, c, d] = state.map((v) => v >>> 0);
  if ((a | b | c | d) === 0) d = 1; // the all-zero state is a fixed point
  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    return result;
  };
  return {
    u32,
    uniform: () => (u32() >>> 8) / 16777216,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new InputError(`rng.int: n must be an integer in 1..2^32, not ${quote(n)}`);
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const x = u32();
        if (x < limit) return x % n;
      }
    },
    state: () => [a, b, c, d],
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator seed of class `index` for run seed `seed` (SplitMix-style mixing of the pair). */
export function classSeed(seed: number, index: number): number {
  checkSeed(seed, "classSeed");
  // (negative indices are the run's other streams: −1 finetuning, −2 the energies' regression)
  if (!(Number.isInteger(index) && index >= -(2 ** 31) && index < 2 ** 31 - 1)) throw new InputError(`classSeed: the class index must be an integer in [−2^31, 2^31 − 1), not ${quote(index)}`);
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
