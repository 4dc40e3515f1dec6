// Data set formats, bytes in and out (files and gzip live in src/node.ts):
// - IDX (LeCun's MNIST format): two zero bytes, a type code, the number of dimensions, each dimension
//   as a big-endian u32, then the big-endian values;
// - CSV: one example a line, numbers separated by commas, an optional header line.

import { FormatError } from "./errors.js";
import type { Tensor } from "./safetensors.js";

type Reader = (view: DataView, offset: number) => number;
const IDX_TYPES: Record<number, [string, number, Reader]> = {
  0x08: ["u8", 1, (v, o) => v.getUint8(o)],
  0x09: ["i8", 1, (v, o) => v.getInt8(o)],
  0x0b: ["i16", 2, (v, o) => v.getInt16(o, false)],
  0x0c: ["i32", 4, (v, o) => v.getInt32(o, false)],
  0x0d: ["f32", 4, (v, o) => v.getFloat32(o, false)],
  0x0e: ["f64", 8, (v, o) => v.getFloat64(o, false)],
};

/** Decodes an (uncompressed) IDX file into f32 values as stored (u8 pixels stay 0..255). */
export function decodeIdx(bytes: Uint8Array, source = "idx"): Tensor & { dtype: string } {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) fail("is gzip-compressed: decompress it first (readArray does)");
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) fail("not an IDX file (bad magic)");
  const type = IDX_TYPES[bytes[2]];
  if (!type) fail(`unknown IDX type code 0x${bytes[2].toString(16)}`);
  const [dtype, size, read] = type;
  const ndim = bytes[3];
  if (ndim === 0) fail("IDX file with zero dimensions");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = 4 + 4 * ndim;
  if (bytes.length < start) fail(`truncated in the dimensions (${ndim} expected)`);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const n = shape.reduce((a, b) => a * b, 1);
  const have = Math.floor((bytes.length - start) / size);
  if (have < n) fail(`data holds ${have} of ${n} values of shape [${shape}]: truncated?`);
  if (bytes.length - start !== n * size) fail(`${bytes.length - start - n * size} trailing bytes after the data`);
  const data = new Float32Array(n);
  if (size === 1 && dtype === "u8") data.set(bytes.subarray(start, start + n));
  else for (let i = 0; i < n; i++) data[i] = read(view, start + i * size);
  return { shape, data, dtype };
}

/** Encodes an IDX file: "u8" (values must be integers 0..255) or "f32". */
export function encodeIdx({ shape, data }: Tensor, dtype: "u8" | "f32" = "f32"): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new FormatError(`idx: shape [${shape}] holds ${n} values, not ${data.length}`);
  const size = dtype === "u8" ? 1 : 4;
  const start = 4 + 4 * shape.length;
  const out = new Uint8Array(start + n * size);
  const view = new DataView(out.buffer);
  out[2] = dtype === "u8" ? 0x08 : 0x0d;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < n; i++) {
    if (dtype === "f32") {
      view.setFloat32(start + 4 * i, data[i], false);
    } else {
      const v = data[i];
      if (!(Number.isInteger(v) && v >= 0 && v <= 255)) throw new FormatError(`idx: value ${v} at ${i} does not fit u8`);
      out[start + i] = v;
    }
  }
  return out;
}

/**
 * Decodes CSV text: every line an example of the same number of comma-separated numbers; a first
 * line that is not numeric is taken as a header. Blank lines are skipped.
 */
export function decodeCsv(text: string, source = "csv"): Tensor & { header?: string[] } {
  const lines = text.split(/\r?\n/);
  const values: number[] = [];
  let cols = -1;
  let rows = 0;
  let header: string[] | undefined;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li].trim();
    if (line === "") continue;
    const cells = line.split(",").map((c) => c.trim());
    if (rows === 0 && header === undefined && cells.some((c) => c !== "" && Number.isNaN(Number(c)))) {
      header = cells;
      cols = cells.length;
      continue;
    }
    if (cols < 0) cols = cells.length;
    if (cells.length !== cols) {
      throw new FormatError(`${source}: line ${li + 1} has ${cells.length} fields, expected ${cols}`);
    }
    for (let c = 0; c < cells.length; c++) {
      const v = cells[c] === "" ? NaN : Number(cells[c]);
      if (Number.isNaN(v) && !/^nan$/i.test(cells[c])) {
        throw new FormatError(`${source}: line ${li + 1}, column ${c + 1}: ${JSON.stringify(cells[c])} is not a number`);
      }
      values.push(v);
    }
    rows++;
  }
  if (rows === 0) throw new FormatError(`${source}: no data rows`);
  return { shape: [rows, cols], data: Float32Array.from(values), header };
}

/** Encodes an array as CSV, one line per row of its last dimension (shortest round-trip f32 text). */
export function encodeCsv({ shape, data }: Tensor): string {
  const cols = shape.length >= 2 ? shape[shape.length - 1] : 1;
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += cols) {
    lines.push(Array.from(data.subarray(i, i + cols), shortestF32).join(","));
  }
  return lines.join("\n") + "\n";
}

/** The shortest decimal that reads back as the same f32. */
export function shortestF32(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}
