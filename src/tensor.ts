// The host array every module exchanges: f32 values, row-major, with their shape.

/** A tensor as aescore holds it: f32 values, row-major, with its shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A Float32Array, from this realm or another (a worker's, an iframe's): by tag, not instanceof, and a
 * real view of a buffer (an object that only claims the tag is not one).
 */
export const isFloat32Array = (x: unknown): x is Float32Array => ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === "[object Float32Array]";

/** Why `shape` cannot describe n values (undefined: it can): the writers' one check of a shape. */
export function badShape(shape: unknown, n: number): string | undefined {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `shape ${JSON.stringify(shape)} is not a list of non-negative integers`;
  const m = shape.reduce((a: number, b: number) => a * b, 1);
  return m === n ? undefined : `shape [${shape.join(", ")}] holds ${m} values, not ${n}`;
}

/** What is wrong with a tensor to write (not an object, or a shape that is not its data's), or undefined. */
export function badTensor(t: unknown): string | undefined {
  if (typeof t !== "object" || t === null) return `want a tensor { shape, data }, not ${t === null ? "an empty value" : typeof t}`;
  const { shape, data } = t as Partial<Tensor>;
  return badShape(shape, (data as { length?: number } | undefined)?.length ?? NaN);
}

/**
 * What a decoder records of its conversion to f32: the first value that f32 does not hold exactly
 * (f8 values, integers beyond 2^24, decimals), where it is and what it was. Data is converted as a
 * matter of course; labels are refused by it (2.0000001 would become class 2). `overflow`: the first
 * finite value that became infinite, named as the file held it.
 */
export interface Inexact {
  index: number;
  value: number;
}

/** What a decoder noted of its conversion to f32 (see Inexact). */
export interface Conversion {
  inexact?: Inexact;
  overflow?: Inexact;
}

/** Notes value v, stored at index i as the f32 f, where f is not v (a NaN stays a NaN: not noted). */
export function noteF32(c: Conversion, i: number, v: number, f: number): void {
  if (Object.is(f, v) || Number.isNaN(v)) return;
  c.inexact ??= { index: i, value: v };
  if (c.overflow === undefined && !Number.isFinite(f)) c.overflow = { index: i, value: v };
}

/** The most f32 values an array may hold: WebAssembly's 4 GiB memory, whole. */
export const MAX_VALUES = 2 ** 30;

/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The squared norm of x[start, end), in float64. Beyond FLOAT32_MAX (or not a number) it marks a
 * diverged model, whose Laplacian (Σ h′‖w_k‖²) would overflow: training and model files share the test.
 */
export function squaredNorm(x: ArrayLike<number>, start = 0, end = x.length): number {
  let ss = 0;
  for (let i = start; i < end; i++) ss += x[i] * x[i];
  return ss;
}

/** Index of the largest of each row of K values (the first, on a tie). */
export function argmaxRows(z: ArrayLike<number>, K: number): Int32Array {
  const out = new Int32Array(z.length / K);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let i = 1; i < K; i++) if (z[r * K + i] > z[r * K + best]) best = i;
    out[r] = best;
  }
  return out;
}

/** Whether this machine stores numbers little-endian, as every file format here does. */
export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** An IEEE half (its 16 bits) as a number: exact (every half is a float32). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
