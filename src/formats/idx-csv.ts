// Data set formats, bytes in and out (files and gzip live in src/node.ts):
// - IDX (LeCun's MNIST format): two zero bytes, a type code, the number of dimensions, each dimension
//   as a big-endian u32, then the big-endian values;
// - CSV: one example a line, numbers separated by commas, an optional header line of names.

import { FormatError, InputError, checkBytes, checkSource, onlyKeys, quote } from "../errors.js";
import { badTensor, isFloat32Array, MAX_VALUES, noteF32, type Conversion, type Tensor } from "../tensor.js";

type Reader = (view: DataView, offset: number) => number;
const IDX_TYPES: Record<number, [string, number, Reader]> = {
  0x08: ["u8", 1, (v, o) => v.getUint8(o)],
  0x09: ["i8", 1, (v, o) => v.getInt8(o)],
  0x0b: ["i16", 2, (v, o) => v.getInt16(o, false)],
  0x0c: ["i32", 4, (v, o) => v.getInt32(o, false)],
  0x0d: ["f32", 4, (v, o) => v.getFloat32(o, false)],
  0x0e: ["f64", 8, (v, o) => v.getFloat64(o, false)],
};


interface IdxHeader {
  dtype: string;
  size: number;
  read: Reader;
  shape: number[];
  /** Byte offset of the first value. */
  start: number;
  values: number;
  bytes: number;
}

// The header alone, so that a reader can bound what follows before allocating (undefined: cut short).
function idxHeader(bytes: Uint8Array, source: string): IdxHeader | undefined {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) fail("is gzip-compressed: decompress it first (readArray does)");
  if (bytes.length < 4) return undefined;
  if (bytes[0] !== 0 || bytes[1] !== 0) fail("not an IDX file (bad magic)");
  const type = IDX_TYPES[bytes[2]];
  if (!type) fail(`unknown IDX type code 0x${bytes[2].toString(16)}`);
  const [dtype, size, read] = type;
  const ndim = bytes[3];
  if (ndim === 0) fail("IDX file with zero dimensions");
  const start = 4 + 4 * ndim;
  if (bytes.length < start) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const values = shape.reduce((a, b) => a * b, 1);
  return { dtype, size, read, shape, start, values, bytes: start + values * size };
}

/** What an IDX header declares: the values and the file's total length in bytes (undefined: cut short). */
export function idxLength(prefix: Uint8Array, source = "idx"): { values: number; bytes: number } | undefined {
  return idxHeader(prefix, source);
}

/** Decodes an (uncompressed) IDX file into f32 values as stored (u8 pixels stay 0..255). */
export function decodeIdx(bytes: Uint8Array, source = "idx"): Tensor & { dtype: string } & Conversion {
  checkBytes(bytes, source);
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  const h = idxHeader(bytes, source);
  if (!h) fail(bytes.length < 4 ? "not an IDX file (shorter than its 4-byte magic)" : `truncated in the dimensions (${bytes[3]} expected)`);
  const { dtype, size, read, shape, start, values: n } = h!;
  const have = Math.floor((bytes.length - start) / size);
  if (have < n) fail(`data holds ${have} of ${n} values of shape [${shape}]: truncated?`);
  if (bytes.length - start !== n * size) fail(`${bytes.length - start - n * size} trailing bytes after the data`);
  if (n > MAX_VALUES) fail(`holds ${n} values, more than WebAssembly's 4 GiB memory can hold as f32`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(n);
  const conv: Conversion = {};
  if (size === 1 && dtype === "u8") data.set(bytes.subarray(start, start + n));
  else {
    for (let i = 0; i < n; i++) {
      const v = read(view, start + i * size);
      data[i] = v;
      if (data[i] !== v) noteF32(conv, i, v, data[i]);
    }
  }
  return { shape, data, dtype, ...conv };
}

/** Encodes an IDX file: "u8" (values must be integers 0..255) or "f32". */
export function encodeIdx(t: Tensor, dtype: "u8" | "f32" = "f32"): Uint8Array {
  if (dtype !== "u8" && dtype !== "f32") throw new InputError(`idx: dtype must be u8 or f32 (what aescore writes), not ${quote(dtype)}`);
  const bad = badTensor(t);
  if (bad) throw new FormatError(`idx: ${bad}`);
  const { shape, data } = t;
  // (the header stores the rank in a byte and each dimension in 32 bits)
  if (shape.length < 1 || shape.length > 255 || shape.some((d) => d > 0xffffffff)) throw new FormatError(`idx: shape [${shape.join(", ")}]: IDX holds 1 to 255 dimensions, each below 2^32`);
  const n = data.length;
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

export interface CsvOptions {
  /**
   * Whether the first line names the columns: true drops it whatever it holds, false reads it as
   * data; by default it is a header only when every cell is a name (no cell a number).
   */
  header?: boolean;
}

/**
 * A decimal number as people and CSV writers write it, with an optional exponent: JavaScript's
 * Number() would also take "0x10", "0b1", "  " and "Infinity".
 */
export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

// CSV writers also print nan and inf (NumPy: nan, inf; others: NaN, Infinity).
const SPECIAL = /^([+-]?)(?:nan|inf|infinity)$/i;

function cellValue(cell: string): number | undefined {
  if (DECIMAL.test(cell)) return Number(cell);
  const m = SPECIAL.exec(cell);
  if (!m) return undefined;
  return /nan/i.test(cell) ? NaN : m[1] === "-" ? -Infinity : Infinity;
}

/** A line's cells with RFC 4180 quoting ("a,b" one cell, "" a quote inside), unquoted; undefined if a quote is left open. */
function splitQuoted(text: string): string[] | undefined {
  const cells: string[] = [];
  let cell = "";
  let inside = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inside) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') inside = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === "") (inside = true), (cell = "");
    else if (c === ",") cells.push(cell.trim()), (cell = "");
    else cell += c;
  }
  if (inside) return undefined;
  cells.push(cell.trim());
  return cells;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes CSV (bytes or text): every line an example of the same number of comma-separated numbers,
 * an optional header line (see CsvOptions). Blank lines are skipped; a bad cell is an error naming
 * its line and column.
 */
export function decodeCsv(input: Uint8Array | string, source = "csv", options: CsvOptions = {}): Tensor & { header?: string[] } & Conversion {
  if (typeof input !== "string") checkBytes(input, source);
  else checkSource(source);
  onlyKeys(options, ["header"], "decodeCsv");
  if (options.header !== undefined && typeof options.header !== "boolean") throw new InputError(`decodeCsv: header must be true or false, not ${quote(options.header)}`);
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  // (a whole file of lone CRs would read as one line, and fail as a header or a strange number)
  if (bytes.includes(13) && !bytes.includes(10)) fail("lines end in a lone CR, as on old Macs: CSV lines end in LF or CRLF");
  let values = new Float32Array(1024);
  const conv: Conversion = {};
  let count = 0;
  let cols = -1;
  let rows = 0;
  let header: string[] | undefined;
  let first = true;
  for (let at = 0, line = 1; at < bytes.length; line++) {
    let end = bytes.indexOf(0x0a, at);
    if (end < 0) end = bytes.length;
    const raw = bytes.subarray(at, end > at && bytes[end - 1] === 0x0d ? end - 1 : end);
    at = end + 1;
    let text: string;
    if (raw.every((b) => b < 0x80)) text = latin1.decode(raw);
    else {
      try {
        text = utf8.decode(raw);
      } catch {
        let column = 1;
        for (let c = 0, start = 0; c <= raw.length; c++) {
          if (c < raw.length && raw[c] !== 0x2c) continue;
          try {
            utf8.decode(raw.subarray(start, c));
          } catch {
            break;
          }
          column++;
          start = c + 1;
        }
        fail(`line ${line}, column ${column}: not valid UTF-8 text`);
      }
    }
    text = text!.trim();
    if (text === "") continue;
    let cells = text.split(",").map((c) => c.trim());
    if (first) {
      first = false;
      // A header's names may be quoted, with commas inside ("a,b" is one column, as pandas writes it).
      const quoted = text.includes('"') ? splitQuoted(text) : undefined;
      if (quoted) cells = quoted.map((c) => c.trim());
      const names = quoted ?? cells;
      const isHeader = options.header ?? names.every((c) => c !== "" && cellValue(c) === undefined);
      if (isHeader) {
        header = names;
        cols = cells.length;
        continue;
      }
    }
    if (cols < 0) cols = cells.length;
    if (cells.length !== cols) fail(`line ${line} has ${cells.length} field${cells.length === 1 ? "" : "s"}, expected ${cols}`);
    if (count + cols > values.length) {
      if (count + cols > MAX_VALUES) fail(`holds more than ${MAX_VALUES} values, more than WebAssembly's 4 GiB memory can hold as f32`);
      const grown = new Float32Array(Math.min(MAX_VALUES, Math.max(2 * values.length, count + cols)));
      grown.set(values.subarray(0, count));
      values = grown;
    }
    for (let c = 0; c < cols; c++) {
      const v = cellValue(cells[c]);
      if (v === undefined) {
        const hint = cells[c].includes("\r") ? " (lines end in a lone CR, as on old Macs: CSV lines end in LF or CRLF)"
          : rows === 0 && !header ? " (a header line must name every column: give the header option to force one)" : "";
        fail(`line ${line}, column ${c + 1}: ${cells[c] === "" ? "the cell is empty" : `${JSON.stringify(cells[c])} is not a number`}${hint}`);
      }
      values[count] = v!;
      if (values[count] !== v) noteF32(conv, count, v!, values[count]);
      count++;
    }
    rows++;
  }
  // (one line of numbers split otherwise, "1;2;3", reads as one name: say what the separator is)
  const other = header?.length === 1 && /^[-+.\d\s;|\t]+$/.test(header[0]) ? `: ${JSON.stringify(header[0])} is one column, since fields are separated by commas` : "";
  if (rows === 0) fail(header ? `a header line but no data rows${other}` : "no data rows");
  return { shape: [rows, cols], data: values.slice(0, count), header, ...conv };
}

/** Encodes an array as CSV, one line per row of its last dimension (shortest round-trip f32 text). */
export function encodeCsv(t: Tensor): string {
  const bad = badTensor(t);
  if (bad) throw new FormatError(`csv: ${bad}`);
  const { shape } = t;
  let { data } = t;
  if (!isFloat32Array(data)) data = Float32Array.from(data);
  const cols = shape.length >= 2 ? shape[shape.length - 1] : 1;
  if (cols === 0 || data.length === 0) return ""; // (no rows: no lines, not one empty line)
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += cols) {
    lines.push(Array.from(data.subarray(i, i + cols), shortestF32).join(","));
  }
  return lines.join("\n") + "\n";
}

/** The shortest decimal that reads back as the same f32. */
export function shortestF32(v: number): string {
  if (typeof v !== "number") throw new InputError(`shortestF32: want a number, not ${quote(v)}`);
  if (Object.is(v, -0)) return "-0"; // (toPrecision drops the sign of a zero)
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}
