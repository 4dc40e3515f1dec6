// What the commands share: the Command type and --help, the options several of them take, and
// reading rows, labels and models, checking outputs, progress lines.

import { FormatError, InputError, RowError, safeText } from "../errors.js";
import { readBytes, readArray, checkWritable, checkNotInput, writeArray } from "../node.js";
import { type Engine } from "../engine/engine.js";
import { AE_ACTIVATIONS } from "../model/autoencoder.js";
import type { EpochReport } from "../train/driver.js";
import { FIT_DEFAULTS } from "../train/fit.js";
import { CHECKPOINT_FILE } from "../train/checkpoint.js";
import { decodeModel, type Model } from "../model/files.js";
import { type Csae } from "../model/csae.js";
import { int, choice, type Option, type Values } from "./args.js";
import type { Tensor } from "../tensor.js";
import { encodeCsv } from "../formats/idx-csv.js";
import { availableParallelism } from "node:os";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { existsSync, readdirSync, statSync } from "node:fs";

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, Option>;
  /** Whether the command takes positional arguments (an experiment's name, a model file). */
  positionals?: boolean;
  run(values: Values, positionals: string[], given: Set<string>): Promise<void> | void;
}

export const HELP: Option = { type: "boolean", short: "h", help: "show this help" };

export function helpText(name: string, c: Command): string {
  const lines = [`aescore ${name}: ${c.summary}`, "", `usage: aescore ${name} ${c.usage}`, "", "options:"];
  for (const [key, o] of Object.entries({ ...c.options, help: HELP })) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${key}`;
    const def = o.required ? " (required)" : o.default !== undefined ? ` (default ${o.default})` : "";
    lines.push(`  ${flag.padEnd(22)} ${o.help}${def}`);
  }
  return lines.join("\n");
}

// Options shared by the commands that read rows.
export const SCALE: Option = { type: "string", default: "auto", help: "auto|255|none  auto: u8 input (IDX pixels, |u1 .npy) is divided by 255; 255: any input is; none: used as is" };
export const HEADER: Option = { type: "boolean", help: "the first line of CSV inputs is a header (without it, only a line of names is one)" };
export const OUTPUT_TYPE: Option = { type: "string", default: FIT_DEFAULTS.output, help: "real|binary  the model's output (binary: inputs in [0, 1], cross-entropy)" };
/** The activations the commands train (kmeans is scored, not trained by gradient descent). */
export const TRAINED_ACTIVATIONS = AE_ACTIVATIONS.filter((a) => a !== "kmeans");
export const ACTIVATION: Option = { type: "string", default: FIT_DEFAULTS.activation, help: TRAINED_ACTIVATIONS.join("|") };
export const WORKERS: Option = { type: "string", help: "N  worker threads (default: one per core; 0: this thread)" };
export const QUIET: Option = { type: "boolean", short: "q", help: "no progress output" };
/** -q of the commands that print results, not progress: notes on stderr off. */
export const NOTES: Option = { type: "boolean", short: "q", help: "no notes on stderr" };

/** Any model file, read and decoded once. */
export function loadModel(e: Engine, path: string): Model {
  return decodeModel(e, readBytes(path), path);
}

/** --header forces a CSV header line; without it only a line of names is one. */
const csvOptions = (values: Values) => ({ header: values.header === true ? true : undefined });

/** fn's result; an error about a row of its input names the file `path` instead. */
export function scoring<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RowError) throw new InputError(`${path}: row ${err.row}${err.detail}`);
    throw err;
  }
}

/**
 * Reads an input array as (N, D) rows: trailing dimensions are flattened (28x28 images become 784);
 * u8 data (IDX pixels, |u1 .npy) is divided by 255 under scale "auto", any data under "255". A value
 * that is not finite is refused here, naming the file (rows and columns counted from 0, as NumPy
 * does). A 1-D array is one row only when it is scored by a model of its length (`modelD`).
 */
export function readRows(path: string, values: Values, command: string, modelD?: number): Tensor {
  const scale = choice(values, "scale", ["auto", "255", "none"] as const);
  const t = readArray(path, csvOptions(values));
  if (t.data.length === 0) throw new InputError(`${path}: holds no values (shape [${t.shape.join(", ")}])`);
  // A 1-D array is one row only where that is what is asked: scoring rows of the model's D. To train
  // on it, or where its length is not D, it is more likely a column of N values (say which it is).
  if (t.shape.length <= 1 && t.data.length !== modelD) {
    const n = t.data.length;
    throw new InputError(`${path}: a ${t.shape.length}-D array of ${n} value${n === 1 ? "" : "s"} (shape [${t.shape.join(", ")}])${modelD === undefined ? "" : `, but the model has D = ${modelD}`}: rows are (N, D); write it as [${n}, 1] for ${n} row${n === 1 ? "" : "s"} of one value${modelD === undefined ? `, or [1, ${n}] for one row` : ""}`);
  }
  const N = t.shape.length <= 1 ? 1 : t.shape[0];
  const D = t.shape.length <= 1 ? t.data.length : t.data.length / N;
  let pixels = true; // every value an integer in 0..255
  let max = -Infinity;
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (!Number.isFinite(v)) {
      const held = t.overflow?.index === i ? `${t.overflow.value}, beyond float32's range` : String(v);
      throw new InputError(`${path}: row ${Math.floor(i / D)}, column ${i % D} is ${held} (counted from 0)`);
    }
    if (pixels && !(Number.isInteger(v) && v >= 0 && v <= 255)) pixels = false;
    if (v > max) max = v;
  }
  const u8 = t.dtype === "u8" || t.dtype === "|u1";
  if (scale === "255" || (scale === "auto" && u8)) for (let i = 0; i < t.data.length; i++) t.data[i] /= 255;
  else if (scale === "auto" && pixels && max >= 128 && values.quiet !== true) {
    // Integers reaching into 128..255 in a CSV or an integer .npy are most likely pixels, which a model
    // expects in [0, 1]; dividing them unasked would be wrong for counts.
    console.error(`aescore ${command}: note: ${safeText(path)} holds integers 0..${max}, used as they are (pixels? --scale 255 divides them by 255; --scale none keeps them without this note)`);
  }
  return { shape: [N, D], data: t.data };
}

/**
 * Labels as strings, one per row: a 1-D array (or N x 1) of integers below 2^24 in magnitude from
 * .npy, IDX or CSV, read as "3" whatever their dtype, so 3.0 and 3 are one class.
 */
export function readLabels(path: string, N: number, values: Values): string[] {
  let t;
  try {
    t = readArray(path, csvOptions(values));
  } catch (err) {
    // A CSV of class names ("cat", "dog") fails on its second line: say what labels are.
    if (err instanceof FormatError && / is not a number/.test(err.message)) throw new FormatError(`${err.message}; labels are integer class indices (names are not read as labels)`);
    throw err;
  }
  const [n, ...rest] = t.shape;
  if (t.shape.length === 0 || t.shape.length > 2 || rest.some((d) => d !== 1)) {
    throw new InputError(`${path}: labels must be one column (shape [N] or [N, 1]), not [${t.shape.join(", ")}]`);
  }
  if (n !== N) throw new InputError(`${path}: ${n} labels for ${N} data rows`);
  // Every format is read as float32, which holds integers exactly only below 2^24: larger labels, or
  // fractions, could merge distinct classes. A value that float32 changed is named as the file held it.
  if (t.inexact) throw new InputError(`${path}: label ${t.inexact.index} (row ${t.inexact.index} of the data) is ${t.inexact.value}: labels must be integers of magnitude below 16777216 (2^24)`);
  const bad = t.data.findIndex((v) => !Number.isInteger(v) || Math.abs(v) >= 2 ** 24);
  if (bad >= 0) throw new InputError(`${path}: label ${bad} (row ${bad} of the data) must be an integer of magnitude below 16777216 (2^24), not ${t.data[bad]}`);
  return Array.from(t.data, (v) => String(v === 0 ? 0 : v));
}

export const WHAT = ["energy", "reconstruction", "field", "laplacian", "hidden"] as const;

// Per-row results (energy, laplacian) of K models stack as (N, K); per-row vectors as (K, N, ·).
export function stack(results: Tensor[]): Tensor {
  if (results.length === 1) return results[0];
  const K = results.length;
  const [N, ...rest] = results[0].shape;
  if (rest.length === 0) {
    const out = new Float32Array(N * K);
    results.forEach((r, i) => r.data.forEach((v, n) => (out[n * K + i] = v)));
    return { shape: [N, K], data: out };
  }
  const out = new Float32Array(K * results[0].data.length);
  results.forEach((r, i) => out.set(r.data, i * r.data.length));
  return { shape: [K, N, ...rest], data: out };
}

/**
 * An output file: of its format (an array's .npy or .csv, a file extension, or "any" for a file
 * written over itself), not one of the inputs, writable; all checked before any work.
 */
export function checkOutput(path: string, inputs: Record<string, string | undefined>, what = "output", format: "array" | "any" | `.${string}` = "array"): void {
  checkNotInput(path, inputs);
  checkWritable(path, what);
  if (format.startsWith(".")) {
    if (!path.toLowerCase().endsWith(format)) throw new InputError(`${path}: the ${what} is a ${format} file`);
  } else if (format === "array") {
    if (path.toLowerCase().endsWith(".gz")) throw new InputError(`${path}: writing gzip is not supported`);
    const lower = path.toLowerCase();
    if (!lower.endsWith(".npy") && !lower.endsWith(".csv")) throw new InputError(`${path}: results are written as .npy or .csv`);
  }
}

/**
 * Refuses the save or an input inside the checkpoint directory: the checkpoint's files would
 * overwrite them (an --init model named like a class's checkpoint is one), or they a checkpoint; and
 * a run without --resume in a directory holding checkpoints. Returns a note for --resume where there
 * is nothing to resume (a mistyped directory would otherwise start again silently).
 */
export function checkCheckpointDir(checkpoint: unknown, files: Record<string, string | undefined>, resume: boolean): string | undefined {
  if (typeof checkpoint !== "string") return undefined;
  const dir = resolve(checkpoint);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError(`${checkpoint}: cannot create the checkpoint directory (a file is in the way)`);
  for (const [flag, path] of Object.entries(files)) {
    if (typeof path !== "string") continue;
    const rel = relative(dir, resolve(path));
    if (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) {
      throw new InputError(`${path} (${flag}) is inside the checkpoint directory ${checkpoint}, whose files the checkpoint writes; ${flag === "--save" ? "save it" : "keep it"} elsewhere`);
    }
  }
  // A run's checkpoints are its work so far: a new run would overwrite them epoch by epoch.
  let held: string[] = [];
  try {
    held = readdirSync(dir).filter((f) => CHECKPOINT_FILE.test(f)).sort(); // (a model of the user's beside them is not one)
  } catch {
    // (no directory yet, or not one: made, or refused, when the run starts)
  }
  if (!resume && held.length > 0) {
    throw new InputError(`${checkpoint} holds the checkpoints of a run (${held.slice(0, 3).join(", ")}${held.length > 3 ? ", …" : ""}): go on from them with --resume, or give another directory`);
  }
  return resume && held.length === 0 ? `note: ${checkpoint} holds no checkpoint yet: the run starts from the beginning` : undefined;
}

/** Splits off the last ⌊f·N⌋ rows as validation data. */
export function splitValid(X: Tensor, f: number): { train: Tensor; valid?: Tensor } {
  const [N, D] = X.shape;
  const v = Math.floor(f * N);
  if (v === 0) return { train: X };
  return {
    train: { shape: [N - v, D], data: X.data.subarray(0, (N - v) * D) },
    valid: { shape: [v, D], data: X.data.subarray((N - v) * D) },
  };
}

export function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Progress of long runs on stderr: one line rewritten in place on a TTY, plain lines otherwise. */
export function progressPrinter(quiet: boolean): { epoch: (who: string, r: EpochReport) => void; line: (text: string) => void } {
  const tty = process.stderr.isTTY === true;
  let pending = false;
  const line = (text: string) => {
    if (quiet) return;
    if (pending) process.stderr.write("\n");
    pending = false;
    process.stderr.write(safeText(text) + "\n"); // (lines name files and classes: nothing in them drives the terminal)
  };
  return {
    line,
    epoch(who, r) {
      if (quiet) return;
      const text = `${safeText(who)}epoch ${r.epoch}/${r.epochs}  loss ${r.loss.toPrecision(5)}${r.valid === undefined ? "" : `  valid ${r.valid.toPrecision(5)}`}  ${Math.round(r.examplesPerSec)} ex/s  ETA ${clock(r.etaMs)}`;
      if (tty) {
        process.stderr.write(`\r${text}\x1b[K`);
        pending = true;
      } else {
        process.stderr.write(text + "\n");
      }
    },
  };
}

/** The seed option: an integer in [0, 2^32). */
export function seedOf(v: Values): number {
  return int(v, "seed", 0, 2 ** 32 - 1);
}

/** The workers option: 0 (this thread) to 256; beyond the cores they only add memory and switching. */
export const workersOf = (v: Values): number | undefined => {
  if (v.workers === undefined) return undefined;
  const n = int(v, "workers", 0);
  if (n > 256) throw new InputError(`--workers must be at most 256, not ${n} (this machine has ${availableParallelism()} cores)`);
  return n;
};

/** The engines a job runs on side by side: its worker threads (at most one per class), or this thread. */
export async function instances(workers: number | undefined, K: number): Promise<number> {
  const n = workers ?? (await import("node:os")).availableParallelism();
  return Math.max(1, Math.min(n, K));
}

/** A classifier model file (csae or factored-csae) as K autoencoders with C. */
export function loadClassifier(e: Engine, path: string): Csae & { factored?: boolean } {
  const m = loadModel(e, path);
  if (m.kind === "autoencoder") throw new InputError(`${path}: is an autoencoder model, not a classifier (csae or factored-csae)`);
  return { ...m.csae, factored: m.kind === "factored-csae" };
}

/** A result array to --output (.npy or .csv), or as CSV on stdout when there is none. */
export function emit(output: string | boolean | undefined, t: Tensor): void {
  if (typeof output === "string") writeArray(output, t);
  else process.stdout.write(encodeCsv(t));
}

/** --blocks splits the hidden units (the factored model: a minibatch's rows), so there are at most that many. */
export function checkBlocks(blocks: number, most: number, what: string): void {
  if (blocks > most) throw new InputError(`--blocks must be an integer from 1 to ${most} (the ${most} ${what}), not ${blocks}`);
}
