// .safetensors: 8-byte little-endian header length N, N bytes of JSON header, then the raw
// little-endian tensor bytes, each tensor at its [begin, end) data_offsets. Bytes in, bytes out (no
// file system), so it runs on every runtime; src/node.ts adds atomic files.

import { FormatError, checkBytes, quote } from "../errors.js";

import { LITTLE_ENDIAN, badShape, halfToFloat, isFloat32Array, noteF32, type Conversion, type Tensor } from "../tensor.js";

export type { Tensor };

export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

// Element sizes of the dtypes we read (converted to f32); we always write F32.
const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };
const MAX_HEADER = 100 * 1024 * 1024;


function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Encodes tensors (written as F32, in the given order) and string metadata. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  for (const [what, o] of [["tensors", tensors], ["metadata", metadata]] as const) {
    if (typeof o !== "object" || o === null || Array.isArray(o)) throw new FormatError(`safetensors: ${what} must be an object of names, not ${quote(o)}`);
  }
  const header: Record<string, unknown> = Object.create(null); // ("__proto__" is a name like any other)
  if (Object.keys(metadata).length > 0) header.__metadata__ = Object.assign(Object.create(null), metadata);
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== "string") throw new FormatError(`safetensors: metadata ${k} is not a string`);
  // Values are written as f32: other arrays are converted (as encodeNpy does), the shapes checked.
  const values: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === "__metadata__") throw new FormatError(`safetensors: "__metadata__" cannot name a tensor`);
    if (typeof t?.data?.length !== "number") throw new FormatError(`safetensors: tensor ${name} has no array of values`);
    const data = isFloat32Array(t.data) ? t.data : Float32Array.from(t.data);
    const bad = badShape(t.shape, data.length);
    if (bad) throw new FormatError(`safetensors: tensor ${name}: ${bad}`);
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * data.length] };
    offset += 4 * data.length;
    values.push(data);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  out.fill(0x20, 8 + json.length, 8 + padded);
  out.set(json, 8);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  let p = 8 + padded;
  for (const data of values) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), p);
    else for (let i = 0; i < data.length; i++) view.setFloat32(p + 4 * i, data[i], true);
    p += data.byteLength;
  }
  return out;
}

/**
 * The same file with its metadata replaced: a new header, the tensors' bytes as they were, whatever
 * their dtype (an F16 file stays F16, bit for bit). `bytes`: a file decodeSafetensors has accepted
 * (its caller has parsed it already, so it is not parsed again).
 */
export function withMetadata(bytes: Uint8Array, metadata: Record<string, string>): Uint8Array {
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== "string") throw new FormatError(`safetensors: metadata ${k} is not a string`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  const old = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const header: Record<string, unknown> = Object.create(null); // ("__proto__" is a name like any other)
  if (Object.keys(metadata).length > 0) header.__metadata__ = Object.assign(Object.create(null), metadata);
  for (const [name, entry] of Object.entries(old)) if (name !== "__metadata__") header[name] = entry;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const data = bytes.subarray(8 + n);
  const out = new Uint8Array(8 + padded + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  out.set(data, 8 + padded);
  return out;
}


/**
 * The first key that any object of a JSON text (already known to parse) repeats, or undefined:
 * JSON.parse would silently keep the last one.
 */
export function duplicateKey(json: string): string | undefined {
  const stack: Array<Set<string> | undefined> = []; // an object's keys so far, or undefined for an array
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === "{" || c === "[") {
      stack.push(c === "{" ? new Set() : undefined);
      expectKey = c === "{";
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
  return undefined;
}

/**
 * A file already parsed (its tensors and metadata), as the model readers also take one so that a
 * file is parsed once; anything else is parsed as the file's bytes (and refused if it is not bytes).
 */
export function parsedFile(file: Uint8Array | Safetensors, source: string): Safetensors {
  const o = file as Safetensors;
  if (typeof o === "object" && o !== null && !ArrayBuffer.isView(o) && typeof o.tensors === "object" && o.tensors !== null && typeof o.metadata === "object" && o.metadata !== null) return o;
  return decodeSafetensors(file as Uint8Array, source);
}

/** Decodes and validates a .safetensors file; `source` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors"): Safetensors {
  checkBytes(bytes, source);
  const fail = (what: string): never => {
    throw new FormatError(`${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  // A header length no file can have: other formats given as a model are named (their first bytes,
  // read as a length, say nothing). Only then: a real header length can begin with these bytes too.
  if (n64 > BigInt(MAX_HEADER) || 8 + Number(n64) > bytes.length) {
    const magic = String.fromCharCode(...bytes.subarray(0, 6));
    if (magic === "\x93NUMPY") fail("is a .npy array, not a .safetensors file");
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) fail("is gzip-compressed; a .safetensors file is read as it is (gunzip it first)");
    if (magic.startsWith("PK\x03\x04")) fail("is a zip archive (a PyTorch .pt or NumPy .npz?), not a .safetensors file");
  }
  // (a length beyond the file itself is the likelier story: another kind of file, or a truncated one)
  if (n64 > BigInt(MAX_HEADER) && n64 + 8n > BigInt(bytes.length)) fail(`not a safetensors file, or a truncated one: its first 8 bytes read as a header length of ${n64}, beyond the file's ${bytes.length} bytes`);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is larger than the 100 MiB limit (corrupt or not a safetensors file)`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`header length ${n} runs past the end of the file (${bytes.length} bytes): truncated?`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("header is not a JSON object");
  const twice = duplicateKey(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  if (twice !== undefined) fail(`header names ${JSON.stringify(twice)} twice`);
  const entries = Object.entries(header as Record<string, unknown>);
  // Entries are defined, not assigned: a tensor or key named "__proto__" is an entry like any other.
  const put = <T>(o: Record<string, T>, k: string, value: T) => Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
  const metadata: Record<string, string> = {};
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const spans: Array<[number, number, string]> = [];
  const tensors: Record<string, Tensor> = {};
  for (const [name, entry] of entries) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(entry as object)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
        put(metadata, k, v as string);
      }
      continue;
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail(`tensor ${name}: entry is not an object { dtype, shape, data_offsets }`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      fail(dtype === undefined ? `tensor ${name}: entry has no dtype` : `tensor ${name}: dtype ${JSON.stringify(dtype)} is not supported (F32, F64, F16, BF16)`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor ${name}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    const size = DTYPE_BYTES[dtype as string];
    const values = count(shape as number[]);
    if (begin > end || end > dataLength) {
      fail(`tensor ${name}: data_offsets [${begin}, ${end}] lie outside the ${dataLength} data bytes: truncated?`);
    }
    if (end - begin !== values * size) {
      fail(`tensor ${name}: ${end - begin} bytes for shape [${shape}] of ${dtype} (want ${values * size})`);
    }
    spans.push([begin, end, name]);
    const data = new Float32Array(values);
    const conversion: Conversion = {};
    const p = dataStart + begin;
    if (dtype === "F32" && LITTLE_ENDIAN) {
      data.set(new Float32Array(new Uint8Array(bytes.subarray(p, p + 4 * values)).buffer)); // copy: aligns, and Buffer.slice would not copy
    } else {
      for (let i = 0; i < values; i++) {
        if (dtype === "F32") data[i] = view.getFloat32(p + 4 * i, true);
        else if (dtype === "F64") {
          const v = view.getFloat64(p + 8 * i, true);
          data[i] = v;
          noteF32(conversion, i, v, data[i]);
        }
        else if (dtype === "F16") data[i] = halfToFloat(view.getUint16(p + 2 * i, true));
        else data[i] = new Float32Array(new Uint32Array([view.getUint16(p + 2 * i, true) << 16]).buffer)[0];
      }
    }
    put(tensors, name, { shape: (shape as number[]).slice(), data, ...conversion });
  }
  // The format requires the data to be indexed entirely, without holes or overlaps.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at) fail(`tensor ${name} starts at byte ${begin} of the data, expected ${at} (hole or overlap)`);
    at = end;
  }
  if (at !== dataLength) fail(`the tensors cover ${at} of ${dataLength} data bytes (trailing bytes)`);
  return { tensors, metadata };
}
