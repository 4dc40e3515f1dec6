// Checkpoints: one file format for every trainer on the epoch driver. A .safetensors file of kind
// "checkpoint" holds the run's parameters by name, their velocities ("velocity/NAME") and the kept
// best parameters ("best/NAME"), with the driver's counters, the generator's state, the options and a
// fingerprint of the data in its metadata; `trainer` names the trainer. A run resumed from it goes on
// with the same bits as one never stopped (only the number of epochs may change).

import { decodeSafetensors, encodeSafetensors } from "../formats/safetensors.js";
import { tensorOf } from "../model/autoencoder.js";
import { FormatError, InputError, printable, quote } from "../errors.js";
import { rngFrom } from "../random.js";
import type { Tensor } from "../tensor.js";
import type { RunState } from "./driver.js";

/** Named arrays with their shapes (parameters, velocities, kept bests). */
export type Arrays = Record<string, Tensor>;

export interface Checkpoint {
  trainer: string;
  values: Arrays;
  /** The same names as values; a host parameter's float64 velocity is kept exactly (as JSON). */
  velocities: Record<string, Tensor | Float64Array>;
  best?: { epoch: number; valid: number; values: Arrays };
  epoch: number;
  rng: number[];
  history: Array<{ epoch: number; loss: number; valid?: number }>;
  stale: number;
  stopped: boolean;
  /** What must be the same to resume (JSON-able); its `epochs`, if any, may differ. */
  options: Record<string, unknown>;
  /** Fingerprint of the data (see fingerprint). */
  data: string;
  /** Further metadata of the trainer (e.g. an autoencoder's activation and output). */
  meta?: Record<string, string>;
}

const VELOCITY = "velocity/";
const BEST = "best/";

/** The counters of a checkpoint from the driver's state. */
/** The names a run's checkpoints take in its directory: a class's pretraining, the factored model's, finetuning. */
export const CHECKPOINT_FILE = /^(class-\d+|factored|finetune)\.safetensors$/;

export function countersOf(s: RunState<unknown>): Pick<Checkpoint, "epoch" | "rng" | "history" | "stale" | "stopped"> {
  return { epoch: s.epoch, rng: s.rng.state(), history: s.history, stale: s.stale, stopped: s.stopped };
}

/** The driver's state from a checkpoint's counters (and the trainer's kept best). */
export function runStateOf<S>(c: Checkpoint, best?: S): RunState<S> {
  return {
    epoch: c.epoch, rng: rngFrom(c.rng), history: c.history, stale: c.stale, stopped: c.stopped,
    best: c.best && best !== undefined ? { epoch: c.best.epoch, valid: c.best.valid, params: best } : undefined,
  };
}

/**
 * Refuses a checkpoint that does not hold exactly `want`'s tensors with their shapes, velocities of the
 * same kinds and sizes (a host parameter's float64 velocity where want has one), and, when it records
 * a best epoch, a best of every tensor. decodeCheckpoint has checked a file's own consistency; this
 * is also the check of a checkpoint handed to a trainer directly.
 */
export function checkLayout(c: Checkpoint, want: Pick<Checkpoint, "values" | "velocities">, source: string): void {
  const names = Object.keys(want.values).sort();
  const have = Object.keys(c.values).sort();
  if (names.length !== have.length || names.some((n, i) => n !== have[i])) {
    const list = (a: string[]) => (a.length > 12 ? [...a.slice(0, 12), `… (${a.length} in all)`] : a).map((n) => printable(n, "text")).join(", ");
    throw new InputError(`${source}: holds tensors ${list(have)}, not the model's ${list(names)}`);
  }
  const size = (t: Tensor | Float64Array | undefined) => (t === undefined ? -1 : t instanceof Float64Array ? t.length : t.data.length);
  for (const name of names) {
    const [a, b] = [c.values[name].shape, want.values[name].shape];
    if (a.join() !== b.join()) throw new InputError(`${source}: tensor ${name} is [${a.join(", ")}], the model's is [${b.join(", ")}]`);
    const v = c.velocities[name];
    if (v instanceof Float64Array !== want.velocities[name] instanceof Float64Array) {
      throw new InputError(`${source}: the velocity of ${name} is not of the model's kind`);
    }
    if (size(v) !== size(c.values[name])) throw new InputError(`${source}: the velocity of ${name} is missing or not of its size`);
    if (c.best && c.best.values[name]?.shape.join() !== a.join()) throw new InputError(`${source}: the kept best of ${name} is missing or not of its shape`);
  }
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors: Arrays = { ...c.values };
  const exact: Record<string, string> = {};
  for (const [name, t] of Object.entries(c.velocities)) {
    if (t instanceof Float64Array) exact[VELOCITY + name] = JSON.stringify(Array.from(t));
    else tensors[VELOCITY + name] = t;
  }
  for (const [name, t] of Object.entries(c.best?.values ?? {})) tensors[BEST + name] = t;
  const metadata: Record<string, string> = {
    ...c.meta,
    ...exact,
    format: "aescore",
    kind: "checkpoint",
    trainer: c.trainer,
    epoch: String(c.epoch),
    rng: JSON.stringify(c.rng),
    history: JSON.stringify(c.history),
    best: JSON.stringify(c.best ? { epoch: c.best.epoch, valid: c.best.valid } : null),
    stale: String(c.stale),
    stopped: String(c.stopped),
    options: JSON.stringify(c.options),
    data: c.data,
  };
  return encodeSafetensors(tensors, { ...metadata, checksum: checksum(tensors, metadata) });
}

// A fingerprint of everything a checkpoint holds (tensors by name, metadata by key): a bit flipped on
// disk would otherwise resume into other bits, or restart a later stage, without a word. (FNV-1a
// changes with any one byte changed: each step is a bijection of its state.)
function checksum(tensors: Arrays, metadata: Record<string, string>): string {
  const keys = (o: object) => Object.keys(o).filter((k) => k !== "checksum").sort();
  return fingerprint(keys(tensors), ...keys(tensors).map((k) => tensors[k]), keys(metadata).map((k) => `${k}=${metadata[k]}`));
}

/**
 * Reads a checkpoint of the given trainer, checking every field: finite tensors, a velocity of the
 * same shape for every value, a best for every value when a best epoch is recorded, sane counters.
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string, trainer: string): Checkpoint {
  const { tensors, metadata: m } = decodeSafetensors(bytes, source);
  if (m.format !== "aescore" || m.kind !== "checkpoint") throw new FormatError(`${source}: not an aescore checkpoint`);
  if (m.trainer === undefined) throw new FormatError(`${source}: a checkpoint of an earlier aescore (no trainer recorded): start again without resuming`);
  if (m.trainer !== trainer) throw new FormatError(`${source}: a checkpoint of ${quote(m.trainer)}, not of ${quote(trainer)}`);
  // (absent in checkpoints written before it existed: those are read unverified)
  if (m.checksum !== undefined && m.checksum !== checksum(tensors, m)) {
    throw new FormatError(`${source}: its contents do not match its checksum (changed or damaged since it was written): start again without resuming`);
  }
  const json = <T>(key: string): T => {
    try {
      return JSON.parse(m[key]) as T;
    } catch {
      throw new FormatError(`${source}: metadata ${key} is not valid JSON`);
    }
  };
  const count = (key: string): number => {
    const n = Number(m[key]);
    if (!Number.isSafeInteger(n) || n < 0) throw new FormatError(`${source}: metadata ${key} is not a count`);
    return n;
  };
  // Without prototypes: a tensor named "__proto__" is a name like any other (not the object's prototype).
  const values: Arrays = Object.create(null);
  const velocities: Checkpoint["velocities"] = Object.create(null);
  const bests: Arrays = Object.create(null);
  for (const name of Object.keys(tensors)) if (!name.startsWith(VELOCITY) && !name.startsWith(BEST)) values[name] = tensors[name];
  for (const name of Object.keys(tensors)) {
    const of = name.startsWith(VELOCITY) ? name.slice(VELOCITY.length) : name.startsWith(BEST) ? name.slice(BEST.length) : undefined;
    if (of !== undefined && !Object.hasOwn(values, of)) throw new FormatError(`${source}: tensor ${name} belongs to no parameter ${of}`);
  }
  if (Object.keys(values).length === 0) throw new FormatError(`${source}: the checkpoint holds no parameters`);
  const copy = (name: string, shape: number[]): Tensor => ({ shape, data: tensorOf(tensors, name, shape, source).slice() });
  const bestMeta = json<{ epoch: number; valid: number } | null>("best");
  for (const [name, t] of Object.entries(values)) {
    values[name] = copy(name, t.shape);
    if (m[VELOCITY + name] === undefined) {
      velocities[name] = copy(VELOCITY + name, t.shape);
    } else {
      const v = json<unknown>(VELOCITY + name);
      if (!Array.isArray(v) || v.length !== t.data.length || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
        throw new FormatError(`${source}: metadata ${VELOCITY + name} is not ${t.data.length} finite numbers`);
      }
      velocities[name] = Float64Array.from(v as number[]);
    }
    if (bestMeta) bests[name] = copy(BEST + name, t.shape);
  }
  const rng = json<number[]>("rng");
  if (!Array.isArray(rng) || rng.length !== 4 || !rng.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
    throw new FormatError(`${source}: metadata rng is not a generator state`);
  }
  const history = json<Checkpoint["history"]>("history");
  const epoch = count("epoch");
  // One entry per epoch done (the driver's record): the counters agree, or the file was edited.
  // (A loss that overflowed is written as JSON's null.)
  const entry = (h: Checkpoint["history"][number], i: number) =>
    h !== null && typeof h === "object" && h.epoch === i + 1 && (typeof h.loss === "number" || h.loss === null) && (h.valid === undefined || typeof h.valid === "number" || h.valid === null);
  if (!Array.isArray(history) || history.length !== epoch || !history.every(entry)) {
    throw new FormatError(`${source}: metadata history is not one record per epoch of the ${epoch} done`);
  }
  const options = json<Record<string, unknown>>("options");
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw new FormatError(`${source}: metadata options is not an object`);
  if (bestMeta && !(Number.isSafeInteger(bestMeta.epoch) && typeof bestMeta.valid === "number")) throw new FormatError(`${source}: metadata best is not an epoch and a metric`);
  const meta: Record<string, string> = {};
  const own = ["format", "kind", "trainer", "epoch", "rng", "history", "best", "stale", "stopped", "options", "data", "checksum"];
  for (const [k, v] of Object.entries(m)) if (!own.includes(k) && !k.startsWith(VELOCITY)) meta[k] = v;
  return {
    trainer, values, velocities, best: bestMeta ? { ...bestMeta, values: bests } : undefined,
    epoch, rng, history, stale: count("stale"), stopped: m.stopped === "true",
    options, data: String(m.data ?? ""), meta,
  };
}

/**
 * Whether checkpoint c goes on under `options` (the stage's, JSON-able) and the data fingerprint
 * `data`. Refused (an InputError naming what differs) when an option other than the epochs differs,
 * or the data, or fewer epochs are asked for than are done; false when only options named in
 * `afresh` differ: what the stage started from (the pretrained models, which a resumed earlier stage
 * with more epochs has changed), so the stage starts again, as an uninterrupted run would.
 */
export function checkResumable(c: Checkpoint, options: Record<string, unknown>, data: string, source: string, afresh: readonly string[] = []): boolean {
  const { epochs: _a, ...was } = c.options;
  const { epochs: _b, ...now } = options;
  const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])];
  const differ = keys.filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]));
  const refused = differ.filter((k) => !afresh.includes(k));
  if (refused.length > 0) {
    // Name what differs (the options are flat, or nested one level for a model's spec).
    const said = refused.map((k) => `${k} ${JSON.stringify(was[k]) ?? "absent"} then, ${JSON.stringify(now[k]) ?? "absent"} now`).join("; ");
    throw new InputError(`${source}: made with other options (${said}); only the number of epochs may change on resume`);
  }
  if (c.data !== data) throw new InputError(`${source}: made from other data (fingerprint ${c.data}, now ${data})`);
  if (differ.length > 0) return false;
  // Resuming goes on from the epochs done: fewer asked for than done would return a longer run.
  if (typeof options.epochs === "number" && c.epoch > options.epochs) {
    throw new InputError(`${source}: ${c.epoch} epochs are done, more than the ${options.epochs} asked for: ask for ${c.epoch} or more, or start again without resuming`);
  }
  return true;
}

/** FNV-1a over the shapes and bytes of tensors and over strings: ties a checkpoint to its data. */
export function fingerprint(...parts: Array<Tensor | string[] | undefined>): string {
  let h = 0x811c9dc5;
  const eat = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  };
  for (const p of parts) {
    if (p === undefined) {
      h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
    } else if (Array.isArray(p)) {
      eat(new TextEncoder().encode(JSON.stringify(p)));
    } else {
      for (const d of p.shape) h = Math.imul(h ^ d, 0x01000193) >>> 0;
      eat(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
    }
  }
  return h.toString(16).padStart(8, "0");
}
