// NumPy .npy arrays: magic "\x93NUMPY", version, header length, a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), } padded to 64 bytes, then the C-order data.
// We read floats (half, single, double), integers and booleans of either byte order into f32; we write
// '<f4', or '<i4' for integers (class labels).

import { FormatError, checkBytes, quote } from "../errors.js";
import { badTensor, halfToFloat, MAX_VALUES, noteF32, type Conversion, type Tensor } from "../tensor.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Encodes a C-order array of at most 64 dimensions (NumPy's limit) as .npy version 1.0: '<f4', or '<i4' (every value an integer that fits). */
export function encodeNpy(t: { shape: number[]; data: Float32Array | Float64Array }, descr: "<f4" | "<i4" = "<f4"): Uint8Array {
  const bad = badTensor(t);
  if (bad) throw new FormatError(`npy: ${bad}`);
  const { shape, data } = t;
  const n = data.length;
  // (64 dimensions keep the header far below version 1.0's 65535 bytes)
  if (shape.length > 64) throw new FormatError(`npy: ${shape.length} dimensions, more than the 64 NumPy reads`);
  if (descr !== "<f4" && descr !== "<i4") throw new FormatError(`npy: the dtype written must be "<f4" or "<i4", not ${quote(descr)}`);
  if (descr === "<i4") {
    const at = data.findIndex((v) => !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31);
    if (at >= 0) throw new FormatError(`npy: value ${data[at]} at ${at} is not an int32`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total + 4 * n);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  if (descr === "<i4") for (let i = 0; i < n; i++) view.setInt32(total + 4 * i, data[i], true);
  else for (let i = 0; i < n; i++) view.setFloat32(total + 4 * i, data[i], true);
  return out;
}

// The header dict is a Python literal of strings, booleans, ints and tuples: parse just that.
function parseHeader(text: string, fail: (what: string) => never): Record<string, unknown> {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  // A shape is one tuple: nesting is bounded, so a hostile header cannot exhaust the stack.
  const value = (depth = 0): unknown => {
    if (depth > 4) fail(`header nests tuples deeper than a shape does, at header position ${i}`);
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail("unterminated string in the header");
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === "(") {
      i++;
      const items: unknown[] = [];
      for (;;) {
        ws();
        if (text[i] === ")") { i++; return items; }
        items.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] !== ")") fail(`expected ',' or ')' at header position ${i}`);
      }
    }
    const m = /^(True|False|\d+L?)/.exec(text.slice(i));
    if (!m) fail(`unexpected ${JSON.stringify(text.slice(i, i + 10))} at header position ${i}`);
    i += m![0].length;
    return m![0] === "True" ? true : m![0] === "False" ? false : Number.parseInt(m![0], 10);
  };
  ws();
  if (text[i] !== "{") fail("header is not a dict");
  i++;
  const out: Record<string, unknown> = Object.create(null); // (a key "__proto__" is a key)
  for (;;) {
    ws();
    if (text[i] === "}") break;
    const key = value();
    ws();
    if (text[i] !== ":") fail(`expected ':' at header position ${i}`);
    i++;
    // (Python's literal would keep the last of two; NumPy never writes two, so one is a damaged header)
    if (Object.hasOwn(out, String(key))) fail(`header has the key '${String(key)}' twice`);
    out[String(key)] = value();
    ws();
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail(`expected ',' or '}' at header position ${i}`);
  }
  return out;
}

type Reader = (view: DataView, offset: number, little: boolean) => number;
const READERS: Record<string, [number, Reader]> = {
  f2: [2, (v, o, le) => halfToFloat(v.getUint16(o, le))],
  f4: [4, (v, o, le) => v.getFloat32(o, le)],
  f8: [8, (v, o, le) => v.getFloat64(o, le)],
  u1: [1, (v, o) => v.getUint8(o)],
  i1: [1, (v, o) => v.getInt8(o)],
  b1: [1, (v, o) => (v.getUint8(o) ? 1 : 0)],
  u2: [2, (v, o, le) => v.getUint16(o, le)],
  i2: [2, (v, o, le) => v.getInt16(o, le)],
  u4: [4, (v, o, le) => v.getUint32(o, le)],
  i4: [4, (v, o, le) => v.getInt32(o, le)],
  i8: [8, (v, o, le) => Number(v.getBigInt64(o, le))],
  u8: [8, (v, o, le) => Number(v.getBigUint64(o, le))],
};

// NumPy itself refuses headers over 10000 bytes unless told otherwise; a megabyte is plenty.
const MAX_HEADER = 2 ** 20;

interface NpyHeader {
  dtype: string;
  size: number;
  read: Reader;
  little: boolean;
  shape: number[];
  start: number;
  values: number;
  bytes: number;
}

// The header alone, so that a reader can bound what follows before allocating (undefined: cut short).
function npyHeader(bytes: Uint8Array, source: string): NpyHeader | undefined {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (MAGIC.some((b, i) => i < bytes.length && bytes[i] !== b)) fail("not a .npy file (bad magic)");
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy version ${major}.${bytes[7]}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) return undefined;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER) fail(`header length ${headerLength} is over the ${MAX_HEADER}-byte limit (corrupt or not a .npy file)`);
  const start = 8 + lenBytes + headerLength;
  if (start > bytes.length) return undefined;
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(8 + lenBytes, start));
  const header = parseHeader(text, fail);
  const { descr, fortran_order: fortran, shape } = header;
  const extra = Object.keys(header).find((k) => !["descr", "fortran_order", "shape"].includes(k));
  if (extra !== undefined) fail(`header has the key '${extra}', which .npy does not define (descr, fortran_order, shape)`);
  if (typeof descr !== "string") fail("header has no 'descr' string");
  if (fortran === undefined) fail("header has no 'fortran_order'");
  if (typeof fortran !== "boolean") fail(`header's 'fortran_order' is ${quote(fortran)}, not True or False`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail("header has no valid 'shape' tuple");
  // Fortran order differs from C order only with two or more dimensions of more than one element.
  if (fortran && (shape as number[]).filter((n) => n > 1).length > 1) fail("Fortran-order arrays are not supported: save a C-order array (np.ascontiguousarray)");
  const d = descr as string;
  const order = d[0];
  const kind = d.slice(1);
  if (!"<>|=".includes(order) || !Object.hasOwn(READERS, kind)) {
    fail(`dtype '${d}' is not supported (floats f2 f4 f8, integers, booleans)`);
  }
  const [size, read] = READERS[kind];
  const values = (shape as number[]).reduce((a, b) => a * b, 1);
  // A one-byte dtype has no byte order: '<u1', '=u1' and '>u1' are NumPy's uint8 as '|u1' is.
  return { dtype: size === 1 ? `|${kind}` : d, size, read, little: order !== ">", shape: (shape as number[]).slice(), start, values, bytes: start + values * size };
}

/** What a .npy header declares: the values and the file's total length in bytes (undefined: cut short). */
export function npyLength(prefix: Uint8Array, source = "npy"): { values: number; bytes: number } | undefined {
  return npyHeader(prefix, source);
}

/** Decodes a .npy array (any supported dtype) into f32; `source` names it in errors. */
export function decodeNpy(bytes: Uint8Array, source = "npy"): Tensor & { dtype: string } & Conversion {
  checkBytes(bytes, source);
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (bytes.length < 10) fail("not a .npy file (bad magic)");
  const h = npyHeader(bytes, source);
  if (!h) fail(bytes.length < 12 ? "truncated before the header length" : "header runs past the end of the file: truncated?");
  const { dtype, size, read, little, shape, start, values: n } = h!;
  if (start + n * size > bytes.length) {
    fail(`data holds ${Math.floor((bytes.length - start) / size)} of ${n} values of shape (${shape}): truncated?`);
  }
  if (start + n * size < bytes.length) fail(`${bytes.length - start - n * size} trailing bytes after the data`);
  if (n > MAX_VALUES) fail(`holds ${n} values, more than WebAssembly's 4 GiB memory can hold as f32`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(n);
  const conv: Conversion = {};
  for (let i = 0; i < n; i++) {
    const v = read(view, start + i * size, little);
    data[i] = v;
    if (data[i] !== v) noteF32(conv, i, v, data[i]);
  }
  return { shape, data, dtype, ...conv };
}
