// The host array every module exchanges: f32 values, row-major, with their shape.

/** A tensor as aescore holds it: f32 values, row-major, with its shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** The most f32 values an array may hold: WebAssembly's 4 GiB memory, whole. */
export const MAX_VALUES = 2 ** 30;
