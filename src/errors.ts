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

/**
 * An InputError about one row of an input ("input: row 3's energy is …"); a caller that knows the
 * input's name (the CLI: its file) says that in place of `where`.
 */
export class RowError extends InputError {
  override name = "RowError";
  constructor(readonly where: string, readonly row: number, readonly detail: string) {
    super(`${where}: row ${row}${detail}`);
  }
}

/** A corrupt, truncated or foreign file; the message names the file and the field. */
export class FormatError extends AescoreError {
  override name = "FormatError";
}

/**
 * A value as an error message shows it: strings quoted, and a missing value said in words, so that a
 * message never reads "undefined", "null" or "NaN" where nothing was given.
 */
export function quote(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value";
  if (typeof v === "number") return Number.isNaN(v) ? "not a number" : String(v);
  if (typeof v === "string") return v === "" ? "an empty string" : short(json(v));
  try {
    return short(JSON.stringify(v) ?? String(v));
  } catch {
    return short(String(v));
  }
}

// Control characters, and the invisible ones that reorder or hide text (bidi controls, zero widths):
// JSON.stringify leaves the latter as they are, so a name could still rearrange a terminal's line.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const json = (s: string) => JSON.stringify(s).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * A string from outside (an argument, a name or value from a file) as a message or a listing shows
 * it, so that it never drives the terminal: bare if it is a `token` of visible ASCII (an option's
 * name or value) or `text` without control or invisible characters (a file's metadata), else quoted
 * with those escaped.
 */
export function printable(s: string, kind: "token" | "text"): string {
  const bare = kind === "token" ? /^[\x21-\x7e]+$/.test(s) : s !== "" && !new RegExp(UNSAFE.source).test(s);
  return bare ? s : json(s);
}

// An error is one line that names the value, not a dump of it (a typed array of a million values).
const short = (text: string) => (text.length > 100 ? `${text.slice(0, 97)}...` : text);

/**
 * Refuses an options object with a key outside `known` (a misspelt option would otherwise be ignored
 * and its default used silently), or one that is not an object at all.
 */
export function onlyKeys(o: unknown, known: readonly string[], where: string, noun = "option"): void {
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new InputError(`${where}: ${noun}s must be an object, not ${quote(o)}`);
  const bad = Object.keys(o).find((k) => !known.includes(k));
  if (bad !== undefined) throw new InputError(`${where}: unknown ${noun} ${quote(bad)} (known: ${known.join(", ")})`);
}

/** Refuses a file's bytes given as anything but a Uint8Array (an ArrayBuffer from fetch is the usual slip). */
export function checkBytes(input: unknown, source: string): asserts input is Uint8Array {
  if (input instanceof Uint8Array || Object.prototype.toString.call(input) === "[object Uint8Array]") return;
  const buffer = input instanceof ArrayBuffer || Object.prototype.toString.call(input) === "[object ArrayBuffer]";
  throw new InputError(`${source}: the file's bytes must be a Uint8Array, not ${buffer ? "an ArrayBuffer (new Uint8Array(buffer) wraps it)" : ArrayBuffer.isView(input) ? Object.prototype.toString.call(input).slice(8, -1) : quote(input)}`);
}
