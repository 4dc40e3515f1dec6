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
 * message never reads "undefined" or "null" where nothing was given; a NaN is "NaN (not a number)",
 * which also reads right after "not" ("must be positive, not NaN (not a number)").
 */
export function quote(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value";
  if (typeof v === "number") return Number.isNaN(v) ? "NaN (not a number)" : String(v);
  if (typeof v === "string") return v === "" ? "an empty string" : json(cut(v));
  try {
    return safeText(short(JSON.stringify(v) ?? String(v)));
  } catch {
    return safeText(short(String(v)));
  }
}

// Control characters, formatting characters (bidi controls, zero widths, tags), lone surrogates,
// line separators and the other invisible ones: JSON.stringify leaves most of them as they are, so a
// name could still rearrange or hide part of a terminal's line.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;
const escapeUnit = (c: string) => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");
const json = (s: string) => JSON.stringify(s).replace(UNSAFE, escapeUnit);

/** Whether s holds a character that could drive or deceive a terminal (see UNSAFE). */
export function hasUnsafe(s: string): boolean {
  return new RegExp(UNSAFE.source, "u").test(s);
}

/** A message with every unsafe character escaped (\uXXXX): what the command line prints of any error. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, escapeUnit);
}

/**
 * A string from outside (an argument, a name or value from a file) as a message or a listing shows
 * it, so that it never drives the terminal: bare if it is a `token` of visible ASCII (an option's
 * name or value) or `text` without control or invisible characters (a file's metadata), else quoted
 * with those escaped.
 */
export function printable(s: string, kind: "token" | "text"): string {
  const bare = kind === "token" ? /^[\x21-\x7e]+$/.test(s) : s !== "" && !hasUnsafe(s);
  return bare ? s : json(s);
}

/** Names from outside (classes, tensors) listed in a message: each quoted, at most `max` of them. */
export function listed(names: readonly unknown[], max = 20): string {
  const shown = names.slice(0, max).map((n) => quote(n)).join(", ");
  return names.length > max ? `${shown}, … (${names.length} in all)` : shown;
}

// An error is one line that names the value, not a dump of it (a typed array of a million values).
const short = (text: string) => (text.length > 100 ? `${text.slice(0, 97)}...` : text);
// A string cut the same way before it is quoted, on a code point (never inside a pair or an escape).
const cut = (text: string) => {
  const points = Array.from(text.slice(0, 202));
  return points.length > 100 ? `${points.slice(0, 97).join("")}...` : text;
};

/**
 * Refuses an options object with a key outside `known` (a misspelt option would otherwise be ignored
 * and its default used silently), or one that is not an object at all.
 */
export function onlyKeys(o: unknown, known: readonly string[], where: string, noun = "option"): void {
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new InputError(`${where}: ${noun}s must be an object, not ${quote(o)}`);
  const bad = Object.keys(o).find((k) => !known.includes(k));
  if (bad !== undefined) throw new InputError(`${where}: unknown ${noun} ${quote(bad)} (known: ${known.join(", ")})`);
}

/** A decoder's `source` (the name its errors give): a string; options put in its place are not silently ignored. */
export function checkSource(source: unknown): asserts source is string {
  if (typeof source !== "string") throw new InputError(`the source argument names the input in errors and must be a string, not ${Object.prototype.toString.call(source) === "[object Object]" ? "an object (options, where a decoder takes them, come after it)" : quote(source)}`);
}

/** Refuses a file's bytes given as anything but a Uint8Array (an ArrayBuffer from fetch is the usual slip). */
export function checkBytes(input: unknown, source: string): asserts input is Uint8Array {
  checkSource(source);
  if (input instanceof Uint8Array || Object.prototype.toString.call(input) === "[object Uint8Array]") return;
  const buffer = input instanceof ArrayBuffer || Object.prototype.toString.call(input) === "[object ArrayBuffer]";
  throw new InputError(`${source}: the file's bytes must be a Uint8Array, not ${buffer ? "an ArrayBuffer (new Uint8Array(buffer) wraps it)" : ArrayBuffer.isView(input) ? Object.prototype.toString.call(input).slice(8, -1) : quote(input)}`);
}
