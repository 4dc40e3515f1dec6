// Typed errors: every message says what is wrong and where, so bad input never reaches WASM.

/** Base class of every error aescore throws on purpose. */
export class AescoreError extends Error {
  override name = "AescoreError";
}

/** Operands whose shapes do not fit together; the message names both shapes. */
export class ShapeError extends AescoreError {
  override name = "ShapeError";
}

/** Values the math cannot take: NaN or Inf, out-of-range data, bad options. */
export class InputError extends AescoreError {
  override name = "InputError";
}

/** A corrupt, truncated or foreign file; the message names the file and the field. */
export class FormatError extends AescoreError {
  override name = "FormatError";
}
