// The hostile-input corpus of the command line: each case is an argument list run in a fresh
// directory (its cwd) holding the standard fixtures plus the case's own files. Every case is
// expected to fail with exit code 2 and a one-line "aescore <command>: …" message before any work,
// unless it is one of the positive controls at the end (expectCode 0).

import { chmodSync, linkSync, mkdirSync, symlinkSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import {
  D, H, N, X, Y, aeBytes, csaeBytes, facBytes, xNpy, yNpy, xCsv, yCsv, xRows, csv, npy, rawNpy, npyHeader, f4, f8, rawIdx, xIdxU8,
  rawSt, aeWith, csaeWith, restamp, tensor, checkpointWith, gzipBomb, gzip, utf8, concat,
} from "./fixtures.js";

export interface Case {
  name: string;
  /** Arguments after `aescore`; relative paths are inside the case directory (the cwd). */
  args: string[];
  /** Files written into the case directory, besides the standard ones. */
  files?: Record<string, Uint8Array | string>;
  /** More setup in the case directory (links, FIFOs, directories, permissions). */
  setup?: (dir: string) => void;
  /** The case is about NaN values in data: the message may say NaN. */
  allowNaN?: boolean;
  /** Default 2. */
  expectCode?: number;
  /** Key messages the one-line error must match. */
  expectStderr?: RegExp[];
  /** Default 10 s; "before any work" cases whose work would be long get less. */
  timeoutMs?: number;
  /** Positive controls: paths that may appear or change. */
  outputs?: string[];
  /** A reason to skip (e.g. permissions when running as root). */
  skip?: string;
  /** May use gigabytes today (bombs, endless devices): run one such case at a time. */
  heavy?: boolean;
}

/** What every case directory holds before the case's own files. */
export const STANDARD: Record<string, Uint8Array | string> = {
  "ae.safetensors": aeBytes,
  "csae.safetensors": csaeBytes,
  "fac.safetensors": facBytes,
  "x.npy": xNpy,
  "y.npy": yNpy,
  "x.csv": xCsv,
  "y.csv": yCsv,
  "file.txt": "a regular file, not a directory\n",
};
export const STANDARD_DIRS = ["adir"];

const FAST = 6000; // refused before work that would take minutes: the message must come fast (2 s was missed with both cores busy)

const root = typeof process.getuid === "function" && process.getuid() === 0;
const ROOT_SKIP = root ? "running as root: permission bits do not stop root (covered by paths under a regular file)" : undefined;

// ---- base invocations (small and quick, should a bad value slip through) ----

const ENERGY = ["energy", "--model", "ae.safetensors", "--input", "x.npy"];
const TRAIN_AE = ["train-ae", "--data", "x.npy", "--hidden", "4", "--epochs", "2", "--workers", "0", "--quiet", "--save", "m.safetensors"];
const TRAIN = ["train", "--data", "x.npy", "--labels", "y.npy", "--hidden", "4", "--pretrain-epochs", "1", "--epochs", "1", "--workers", "0", "--quiet", "--save", "m.safetensors"];
const FACTORED = [...TRAIN, "--factored", "--factors", "3"];
const DATASETS = ["datasets", "generate", "convex", "--output", "out", "--scale", "0.001", "--quiet"];
const REPRODUCE = ["reproduce", "fig2", "--quick", "--quiet", "--results", "res"];
const FIGURE = ["figure", "energy-surface", "--output", "out", "--epochs", "5", "--quiet"];
// Training that takes minutes, so a check after it shows as a timeout.
const SLOW_AE = ["train-ae", "--data", "x.npy", "--hidden", "64", "--epochs", "1000000", "--batch", "1", "--workers", "0", "--quiet"];
const SLOW_TRAIN = ["train", "--data", "x.npy", "--labels", "y.npy", "--hidden", "64", "--pretrain-epochs", "1000000", "--epochs", "1", "--batch", "1", "--workers", "0", "--quiet"];

/** base with option --name replaced (removed when value is undefined), then `extra` appended. */
function set(base: string[], name: string, value: string | undefined, ...extra: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < base.length; i++) {
    if (base[i] === `--${name}`) {
      const boolean = i + 1 >= base.length || base[i + 1].startsWith("--");
      if (!boolean) i++;
      continue;
    }
    out.push(base[i]);
  }
  if (value !== undefined) out.push(`--${name}`, value);
  return [...out, ...extra];
}
const without = (base: string[], ...names: string[]) => names.reduce((a, n) => set(a, n, undefined), base);

const cases: Case[] = [];
const add = (c: Case) => cases.push(c);

// ---- commands, options, typos ----

add({ name: "unknown command trian (suggests train)", args: ["trian", "--data", "x.npy"], expectStderr: [/unknown command/, /did you mean .?train\b/] });
add({ name: "unknown command energi (suggests energy)", args: ["energi"], expectStderr: [/did you mean .?energy\b/] });
add({ name: "unknown command frobnicate", args: ["frobnicate"], expectStderr: [/unknown command/] });
add({ name: "command given as an option --energy", args: ["--energy"] });
add({ name: "typo --hiden (suggests --hidden)", args: set(TRAIN_AE, "hidden", undefined, "--hiden", "4"), expectStderr: [/did you mean --hidden\?/] });
add({ name: "typo --modle (suggests --model)", args: ["energy", "--modle", "ae.safetensors", "--input", "x.npy"], expectStderr: [/did you mean --model\?/] });
add({ name: "typo --epoch (suggests --epochs)", args: [...TRAIN, "--epoch", "3"], expectStderr: [/did you mean --epochs\?/] });
add({ name: "unknown option --bogus", args: [...ENERGY, "--bogus"], expectStderr: [/--bogus/] });
add({ name: "unknown short option -x", args: [...ENERGY, "-x"] });
add({ name: "train-ae --output (renamed --output-type) is unknown", args: [...TRAIN_AE, "--output", "real"], expectStderr: [/--output\b/] });
add({ name: "train --output (renamed --output-type) is unknown", args: [...TRAIN, "--output", "binary"], expectStderr: [/--output\b/] });
add({ name: "train-ae --output-type ternary", args: [...TRAIN_AE, "--output-type", "ternary"], expectStderr: [/ternary/] });
add({ name: "train --output-type ternary", args: [...TRAIN, "--output-type", "ternary"], expectStderr: [/ternary/] });
add({ name: "energy --model without its value", args: ["energy", "--input", "x.npy", "--model"] });
add({ name: "energy without --input", args: ["energy", "--model", "ae.safetensors"], expectStderr: [/--input/] });
add({ name: "train-ae without --save", args: without(TRAIN_AE, "save"), expectStderr: [/--save/] });
add({ name: "train without --labels", args: without(TRAIN, "labels"), expectStderr: [/--labels/] });
add({ name: "predict without --model", args: ["predict", "--input", "x.npy"], expectStderr: [/--model/] });
add({ name: "evaluate without --labels", args: ["evaluate", "--model", "csae.safetensors", "--data", "x.npy"], expectStderr: [/--labels/] });
add({ name: "info without a file", args: ["info"] });
add({ name: "info with two files", args: ["info", "ae.safetensors", "csae.safetensors"] });
add({ name: "energy with a stray positional argument", args: [...ENERGY, "extra.npy"] });
add({ name: "train-ae with a stray positional argument", args: [...TRAIN_AE, "x.csv"] });
add({ name: "boolean option given a value --quiet=yes", args: [...set(TRAIN_AE, "quiet", undefined), "--quiet=yes"] });
add({ name: "energy --what nope", args: [...ENERGY, "--what", "nope"], expectStderr: [/--what/] });
add({ name: "energy --what empty", args: [...ENERGY, "--what", ""] });
for (const [cmd, base] of [["energy", ENERGY], ["predict", ["predict", "--model", "csae.safetensors", "--input", "x.npy"]], ["evaluate", ["evaluate", "--model", "csae.safetensors", "--data", "x.npy", "--labels", "y.npy"]], ["train-ae", TRAIN_AE], ["train", TRAIN]] as const) {
  add({ name: `${cmd} --scale maybe`, args: [...base, "--scale", "maybe"], expectStderr: [/--scale/] });
}
add({ name: "train-ae --activation foo", args: set(TRAIN_AE, "activation", "foo"), expectStderr: [/foo/] });
add({ name: "train --activation foo", args: set(TRAIN, "activation", "foo"), expectStderr: [/foo/] });
add({ name: "train-ae --activation kmeans (not trainable)", args: set(TRAIN_AE, "activation", "kmeans") });
add({ name: "train --variant foo", args: set(TRAIN, "variant", "foo"), expectStderr: [/foo/] });
add({ name: "train-ae --contractive and --denoising together", args: [...TRAIN_AE, "--contractive", "0.1", "--denoising", "0.2"] });
add({ name: "train-ae --resume without --checkpoint", args: [...TRAIN_AE, "--resume"] });
add({ name: "train-ae --class without --labels", args: [...TRAIN_AE, "--class", "1"] });
add({ name: "train-ae --class that does not occur", args: [...TRAIN_AE, "--labels", "y.npy", "--class", "7"], expectStderr: [/7/] });
add({ name: "train --valid without --valid-labels", args: [...TRAIN, "--valid", "x.npy"] });
add({ name: "train --valid-labels without --valid", args: [...TRAIN, "--valid-labels", "y.npy"] });
add({ name: "train with only one class", args: set(TRAIN, "labels", "one.npy"), files: { "one.npy": npy([N], new Float32Array(N)) } });
add({ name: "datasets without a subcommand", args: ["datasets", "--output", "out"] });
add({ name: "datasets generate an unknown set", args: ["datasets", "generate", "nope", "--output", "out"], expectStderr: [/nope/] });
add({ name: "datasets generate without a name", args: ["datasets", "generate", "--output", "out"] });
add({ name: "reproduce an unknown experiment", args: ["reproduce", "nope", "--results", "res"], expectStderr: [/nope|experiment/] });
add({ name: "reproduce two experiments", args: ["reproduce", "fig2", "fig3", "--results", "res"] });
add({ name: "reproduce start --quick (has no quick configuration)", args: ["reproduce", "start", "--quick", "--quiet", "--results", "res"], timeoutMs: FAST, expectStderr: [/--quick/] });
add({ name: "figure an unknown figure", args: ["figure", "nope", "--output", "out"] });
add({ name: "figure with no figure named", args: ["figure", "--output", "out"] });

// ---- numeric options: every one of every command ----

interface Numeric {
  cmd: string;
  base: string[];
  name: string;
  integer: boolean;
  /** 0 is not a valid value. */
  zero?: boolean;
  /** A too-large value (e.g. 1 for a probability). */
  upper?: string;
  /** Only a sample of the bad values (the option is covered in full by another command). */
  sample?: boolean;
  timeoutMs?: number;
}
const spec = (cmd: string, base: string[], list: Array<[string, boolean, boolean?, string?]>, sample = false, timeoutMs?: number): Numeric[] =>
  list.map(([name, integer, zero, upper]) => ({ cmd, base, name, integer, zero, upper, sample, timeoutMs }));
const numerics: Numeric[] = [
  ...spec("train-ae", TRAIN_AE, [
    ["hidden", true, true], ["epochs", true, true], ["batch", true, true], ["patience", true], ["seed", true], ["workers", true],
    ["lr", false, true], ["momentum", false, false, "1"], ["weight-decay", false], ["renormalize", false], ["valid-fraction", false, false, "1"],
    ["contractive", false], ["denoising", false, false, "1"],
  ]),
  // Options train shares with train-ae: a sample of the values; its own options: all of them.
  ...spec("train", TRAIN, [
    ["hidden", true, true], ["epochs", true, true], ["batch", true, true], ["patience", true], ["seed", true], ["workers", true],
    ["lr", false, true], ["weight-decay", false], ["momentum", false, false, "1"], ["valid-fraction", false, false, "1"], ["contractive", false], ["denoising", false, false, "1"],
  ], true),
  ...spec("train", TRAIN, [["pretrain-epochs", true], ["pretrain-lr", false, true], ["lr-decay", false]]),
  ...spec("train --factored", FACTORED, [["factors", true, true]]),
  ...spec("datasets", DATASETS, [["seed", true], ["scale", false, true, "2"]]),
  ...spec("reproduce", REPRODUCE, [["seed", true], ["workers", true]], false, FAST),
  ...spec("figure", FIGURE, [["seed", true], ["epochs", true, true]]),
];
for (const n of numerics) {
  const values: Array<[string, string[]]> = [
    ["=-1", [`--${n.name}=-1`]],
    ["abc", [`--${n.name}`, "abc"]],
    ["0x10", [`--${n.name}`, "0x10"]],
  ];
  if (!n.sample) values.push(["1e999", [`--${n.name}`, "1e999"]], ['""', [`--${n.name}`, ""]]);
  // "--seed -1": the value looks like an option (parseArgs calls it ambiguous, in three lines).
  if (n.name === "seed" || n.name === "workers") values.push(["-1", [`--${n.name}`, "-1"]]);
  if (n.integer) values.push(["1.5", [`--${n.name}`, "1.5"]]);
  if (n.zero) values.push(["0", [`--${n.name}`, "0"]]);
  if (n.upper) values.push([n.upper, [`--${n.name}`, n.upper]]);
  for (const [label, frag] of values) {
    add({ name: `${n.cmd} --${n.name} ${label}`, args: [...set(n.base, n.name, undefined), ...frag], timeoutMs: n.timeoutMs, expectStderr: [new RegExp(`\\b${n.name.replace(/-/g, "[- ]")}\\b`, "i")] });
  }
}
add({ name: "train --factored --batch 0 (hangs today)", args: [...set(FACTORED, "batch", "0")], expectStderr: [/--batch/] });
add({ name: "train --hidden list with a bad entry 4,abc", args: [...set(TRAIN, "hidden", "4,abc"), "--valid-fraction", "0.25"], expectStderr: [/--hidden/] });
add({ name: "train --hidden list with an empty entry 4,,8", args: [...set(TRAIN, "hidden", "4,,8"), "--valid-fraction", "0.25"], expectStderr: [/--hidden/] });
add({ name: "train --lr list with a negative entry", args: [...set(TRAIN, "lr", "0.1,-1"), "--valid-fraction", "0.25"], expectStderr: [/\blr\b/] });
add({ name: "train-ae --hidden 1000000000 (memory)", args: set(TRAIN_AE, "hidden", "1000000000"), expectStderr: [/--hidden|hidden/] });
add({ name: "train --factored --factors 1000000000 (memory)", args: set(FACTORED, "factors", "1000000000"), expectStderr: [/--factors|factors/] });
add({ name: "train-ae --workers 1e3 (scientific notation for an integer)", args: set(TRAIN_AE, "workers", "1e3") });
add({ name: "train-ae --seed 2^53 (beyond the generator's seeds)", args: set(TRAIN_AE, "seed", "9007199254740993") });

// ---- .npy reader (through energy --input) ----

const npyCases: Array<[string, Uint8Array, boolean?]> = [
  ["bad magic", utf8("NUMPY\x01\x00garbage that is not npy at all")],
  ["empty file", new Uint8Array(0)],
  ["only the magic", new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])],
  ["version 9", rawNpy(npyHeader("<f4", `(${N}, ${D})`), f4(X), 9)],
  ["header length past the end", rawNpy(npyHeader("<f4", `(${N}, ${D})`), new Uint8Array(0), 1, 60000)],
  ["version 2 header length 4 GiB", rawNpy(npyHeader("<f4", `(${N}, ${D})`), f4(X), 2, 0xffffffff)],
  ["truncated data", xNpy.subarray(0, xNpy.length - 7)],
  ["truncated in the header", xNpy.subarray(0, 40)],
  ["huge declared shape (10^12, 6)", rawNpy(npyHeader("<f4", `(1000000000000, ${D})`), f4(X))],
  ["shape product beyond 2^53", rawNpy(npyHeader("<f4", "(4294967296, 4294967296, 6)"), f4(X))],
  ["header lies: shape (12, 6) but data for (13, 6)", rawNpy(npyHeader("<f4", `(${N}, ${D})`), f4(new Float32Array((N + 1) * D)))],
  ["header lies: descr <f8 but f4 data", rawNpy(npyHeader("<f8", `(${N}, ${D})`), f4(X))],
  ["fortran order", rawNpy(npyHeader("<f4", `(${N}, ${D})`, "True"), f4(X))],
  ["unsupported dtype complex <c8", rawNpy(npyHeader("<c8", `(${N}, ${D})`), f8(X))],
  ["unsupported dtype timedelta <m8", rawNpy(npyHeader("<m8", `(${N}, ${D})`), new Uint8Array(8 * N * D))],
  ["object dtype |O", rawNpy(npyHeader("|O", `(${N}, ${D})`), new Uint8Array(8 * N * D))],
  ["string dtype <U3", rawNpy(npyHeader("<U3", `(${N}, ${D})`), new Uint8Array(12 * N * D))],
  ["structured dtype", rawNpy(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (${N}, ${D}), }`, f4(X))],
  ["negative dimension", rawNpy(npyHeader("<f4", `(-1, ${D})`), f4(X))],
  ["header not a dict", rawNpy("[1, 2, 3]", f4(X))],
  ["header without shape", rawNpy("{'descr': '<f4', 'fortran_order': False, }", f4(X))],
  ["header without descr", rawNpy(`{'fortran_order': False, 'shape': (${N}, ${D}), }`, f4(X))],
  ["unterminated header string", rawNpy("{'descr': '<f4, 'fortran_order': False", f4(X))],
  ["CSV text named .npy", utf8(xCsv)],
  ["corrupt gzip", concat(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), utf8("not deflate data at all"))],
  ["truncated gzip", gzip(xNpy).subarray(0, 60)],
  ["gzip bomb (1 GiB of zeros behind a valid header)", gzipBomb(xNpy, 1024)],
  // 1.1 MB that declares 1.2e9 values, more than an f32 array holds: it reached 2.4 GB before the refusal
  ["gzip bomb (a small file whose header declares 1.2e9 u1 values)", gzipBomb(rawNpy(npyHeader("|u1", "(1200000000,)")), 1200)],
  ["wrong D: shape (12, 7)", npy([N, D + 1], new Float32Array(N * (D + 1)))],
  ["Infinity in the data", npy([N, D], X.map((v, i) => (i === 9 ? Infinity : v)))],
  ["NaN in the data", npy([N, D], X.map((v, i) => (i === 9 ? NaN : v))), true],
];
for (const [what, bytes, nan] of npyCases) {
  add({ name: `npy: ${what}`, args: set(ENERGY, "input", "bad.npy"), files: { "bad.npy": bytes }, allowNaN: nan });
}

// ---- IDX reader ----

const u8 = (n: number) => new Uint8Array(n).fill(7);
const idxCases: Array<[string, Uint8Array, boolean?]> = [
  ["header claims 447 million rows", rawIdx(0x08, [447_000_000, 2, 3], u8(N * D))],
  ["truncated data", xIdxU8.subarray(0, xIdxU8.length - 5)],
  ["truncated in the dimensions", xIdxU8.subarray(0, 9)],
  ["trailing bytes", concat(xIdxU8, u8(3))],
  ["bad type code 0x07", rawIdx(0x07, [N, D], u8(N * D))],
  ["bad type code 0xff", rawIdx(0xff, [N, D], u8(N * D))],
  ["zero dimensions", rawIdx(0x08, [], u8(N * D))],
  ["bad magic", concat(new Uint8Array([1, 2]), xIdxU8.subarray(2))],
  ["ndim 255 with 2 dimensions present", rawIdx(0x08, [N, D], u8(N * D), 255)],
  ["dimension product beyond 2^53", rawIdx(0x08, [0xffffffff, 0xffffffff, 0xffffffff, 6], u8(N * D))],
  ["gzip bomb (1 GiB behind a small header)", gzipBomb(rawIdx(0x08, [N, D], new Uint8Array(0)), 1024)],
  ["f64 data with NaN", rawIdx(0x0e, [N, D], (() => { const b = new Uint8Array(8 * N * D); const v = new DataView(b.buffer); for (let i = 0; i < N * D; i++) v.setFloat64(8 * i, i === 3 ? NaN : 0.5, false); return b; })()), true],
];
for (const [what, bytes, nan] of idxCases) {
  add({ name: `idx: ${what}`, args: set(ENERGY, "input", "bad-idx3-ubyte"), files: { "bad-idx3-ubyte": bytes }, allowNaN: nan });
}

// ---- CSV reader ----

const rest = csv(xRows.slice(1));
const line0 = (cells: string[]) => cells.join(",") + "\n" + rest;
const first = Array.from(xRows[0], String);
const withCell = (cell: string, col = 2) => first.map((c, i) => (i === col ? cell : c));
const rowCell = /(row|line) \d+.*column \d+/i;
const csvCases: Array<[string, string | Uint8Array, RegExp[]?, boolean?]> = [
  ["first line with a typo cell O.5", line0(withCell("O.5")), [rowCell, /O\.5/]],
  ["first line with NaN", line0(withCell("NaN")), [rowCell], true],
  ["first line with -inf", line0(withCell("-inf")), [rowCell]],
  ["first line with hex 0x1A", line0(withCell("0x1A")), [rowCell, /0x1A/]],
  ["first line with binary 0b1", line0(withCell("0b1")), [rowCell, /0b1/]],
  ["first line with an invalid UTF-8 byte", concat(utf8(first.slice(0, 2).join(",") + ","), new Uint8Array([0xff]), utf8("," + first.slice(3).join(",") + "\n" + rest)), [rowCell]],
  ["a header with one numeric name a,1,c,d,e,f", "a,1,c,d,e,f\n" + xCsv, [rowCell]],
  ["hex 0x1A in a later row", xCsv.replace(/\n[^,\n]*/, "\n0x1A"), [rowCell]],
  ["binary 0b1 in a later row", xCsv.replace(/\n[^,\n]*/, "\n0b1"), [rowCell]],
  ["octal 0o7 in a later row", xCsv.replace(/\n[^,\n]*/, "\n0o7"), [rowCell]],
  ["typo O.5 in a later row", xCsv.replace(/\n[^,\n]*/, "\nO.5"), [rowCell]],
  ["Infinity in a later row", xCsv.replace(/\n[^,\n]*/, "\nInfinity"), [rowCell]],
  ["1e999 in a later row", xCsv.replace(/\n[^,\n]*/, "\n1e999"), [rowCell]],
  ["nan in a later row", xCsv.replace(/\n[^,\n]*/, "\nnan"), [rowCell], true],
  ["an empty cell", xCsv.replace(/\n[^,\n]*/, "\n"), [rowCell]],
  ["a trailing comma", xCsv.replace("\n", ",\n")],
  ["ragged rows", xCsv + "0.1,0.2\n"],
  ["empty file", ""],
  ["only blank lines", "\n\n  \n\r\n"],
  ["only a header", "a,b,c,d,e,f\n"],
  ["semicolon-separated", xCsv.replaceAll(",", ";")],
  ["NUL bytes", xCsv.replace(",", ",\0")],
  ["gzip bomb (1 GiB of 0,0,0,0,0,0 rows)", gzipBomb(utf8("a,b,c,d,e,f\n"), 1024, utf8("0,0,0,0,0,0\n"))],
];
for (const [what, text, expect, nan] of csvCases) {
  add({ name: `csv: ${what}`, args: set(ENERGY, "input", "bad.csv"), files: { "bad.csv": text }, expectStderr: expect, allowNaN: nan });
}
add({ name: "csv: training data with a typo first line O.5", args: set(TRAIN_AE, "data", "bad.csv"), files: { "bad.csv": line0(withCell("O.5")) }, expectStderr: [rowCell] });

// ---- .safetensors reader (through energy --model, info, predict) ----

const aeJson = JSON.stringify({ __metadata__: { format: "aescore", kind: "autoencoder", activation: "tanh", output: "real" }, W: { dtype: "F32", shape: [H, D], data_offsets: [0, 4 * H * D] }, bh: { dtype: "F32", shape: [H], data_offsets: [4 * H * D, 4 * H * D + 4 * H] }, br: { dtype: "F32", shape: [D], data_offsets: [4 * H * D + 4 * H, 4 * (H * D + H + D)] } });
const aeData = f4(new Float32Array(H * D + H + D).fill(0.1));
const stCases: Array<[string, Uint8Array, boolean?]> = [
  ["truncated (half the file)", aeBytes.subarray(0, aeBytes.length >> 1)],
  ["4 bytes", aeBytes.subarray(0, 4)],
  ["empty", new Uint8Array(0)],
  ["header length 2^63", rawSt(aeJson, aeData, 1n << 63n)],
  ["header length 99 MiB, file small", rawSt(aeJson, aeData, 99n * 1024n * 1024n)],
  ["bad JSON", rawSt(aeJson.slice(0, -5) + "]]", aeData)],
  ["header is a JSON array", rawSt("[1,2,3]", aeData)],
  ["header is JSON null", rawSt("null", aeData)],
  ["header not UTF-8", (() => { const b = rawSt(aeJson, aeData); b[8 + aeJson.indexOf("tanh")] = 0xff; return b; })()],
  ["dtype I32", rawSt(aeJson.replace('"F32"', '"I32"'), aeData)],
  ["dtype BOOL", rawSt(aeJson.replace('"F32"', '"BOOL"'), aeData)],
  ["dtype as a number", rawSt(aeJson.replace('"F32"', "32"), aeData)],
  ["shape disagrees with data_offsets", rawSt(aeJson.replace(`"shape":[${H},${D}]`, `"shape":[${H},${D + 1}]`), aeData)],
  ["data_offsets negative", rawSt(aeJson.replace(`"data_offsets":[0,`, `"data_offsets":[-4,`), aeData)],
  ["overlapping tensors", rawSt(aeJson.replace(`"data_offsets":[${4 * H * D},`, `"data_offsets":[${4 * H * D - 4},`).replace(`"shape":[${H}]`, `"shape":[${H + 1}]`), aeData)],
  ["trailing bytes after the tensors", concat(aeBytes, new Uint8Array(16))],
  ["duplicate tensor name W in the JSON", rawSt(aeJson.replace('{"__metadata__"', `{"W":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__"`), aeData)],
  ["shape [2^40, 2^40]", rawSt(aeJson.replace(`"shape":[${H},${D}]`, `"shape":[1099511627776,1099511627776]`), aeData)],
  ["tensor shapes disagree with each other (bh has H+1)", aeWith({ bh: tensor([H + 1], new Float32Array(H + 1)) })],
  ["W is 3-D in an autoencoder", aeWith({ W: tensor([1, H, D], new Float32Array(H * D)) })],
  ["tensor bh missing", aeWith({}, {}, ["bh"])],
  ["NaN weights", aeWith({ W: tensor([H, D], new Float32Array(H * D).fill(NaN)) }), true],
  ["Infinity weights", aeWith({ br: tensor([D], new Float32Array(D).fill(Infinity)) })],
  ["metadata kind gan", aeWith({}, { kind: "gan" })],
  ["metadata format missing", aeWith({}, {}, ["format"])],
  ["metadata activation foo", aeWith({}, { activation: "foo" })],
  ["metadata output ternary", aeWith({}, { output: "ternary" })],
  ["metadata value not a string", rawSt(aeJson.replace('"output":"real"', '"output":1'), aeData)],
  ["__metadata__ is a list", rawSt(aeJson.replace(/"__metadata__":\{[^}]*\}/, '"__metadata__":["a"]'), aeData)],
  ["csae duplicate classes [0,0,1]", csaeWith({}, { classes: '["0","0","1"]' })],
  ["csae nested lists as classes [[0],[1],[2]]", csaeWith({}, { classes: "[[0],[1],[2]]" })],
  ["csae objects as classes", csaeWith({}, { classes: '[{"a":1},{"b":2},{"c":3}]' })],
  ["csae null classes [null,1,2]", csaeWith({}, { classes: "[null,1,2]" }), true],
  ["csae empty class name", csaeWith({}, { classes: '["","1","2"]' })],
  ["csae classes not JSON", csaeWith({}, { classes: "0,1,2" })],
  ["csae classes count 2 for K = 3", csaeWith({}, { classes: '["0","1"]' })],
  ["csae C of the wrong shape", csaeWith({ C: tensor([2], new Float32Array(2)) })],
  ["csae rule foo", csaeWith({}, { rule: "foo" })],
  ["csae energies-lr without V", csaeWith({}, { rule: "energies-lr" })],
  ["csae NaN in C", csaeWith({ C: tensor([3], Float32Array.of(0, NaN, 0)) }), true],
  ["checkpoint given as a model", checkpointWith({})],
  ["gzip bomb (1 GiB behind the model)", gzipBomb(aeBytes, 1024)],
  ["an .npy file named .safetensors", xNpy],
];
for (const [what, bytes, nan] of stCases) {
  add({ name: `safetensors: ${what}`, args: set(ENERGY, "model", "bad.safetensors"), files: { "bad.safetensors": bytes }, allowNaN: nan });
}
for (const [what, bytes] of [["truncated", aeBytes.subarray(0, 30)], ["bad JSON", rawSt("{{{", aeData)], ["header length 2^63", rawSt(aeJson, aeData, 1n << 63n)]] as const) {
  add({ name: `info: ${what}`, args: ["info", "bad.safetensors"], files: { "bad.safetensors": bytes } });
}
add({ name: "predict: csae duplicate classes [0,0,1]", args: ["predict", "--model", "bad.safetensors", "--input", "x.npy"], files: { "bad.safetensors": csaeWith({}, { classes: '["0","0","1"]' }) } });
add({ name: "predict: an autoencoder is not a classifier", args: ["predict", "--model", "ae.safetensors", "--input", "x.npy"] });
add({ name: "evaluate: factored model whose classes metadata lists 2 of 3", args: ["evaluate", "--model", "bad.safetensors", "--data", "x.npy", "--labels", "y.npy"], files: { "bad.safetensors": restamp(facBytes, { classes: '["0","1"]' }) } });
add({ name: "energy: factored model with activation kmeans", args: set(ENERGY, "model", "bad.safetensors"), files: { "bad.safetensors": restamp(facBytes, { activation: "kmeans" }) } });
add({ name: "predict: factored model with duplicate classes", args: ["predict", "--model", "bad.safetensors", "--input", "x.npy"], files: { "bad.safetensors": restamp(facBytes, { classes: '["1","1","2"]' }) } });

// ---- devices, directories, FIFOs, links as files ----

const fifo = (name: string) => (dir: string) => execFileSync("mkfifo", [join(dir, name)]);
const link = (name: string, target: string) => (dir: string) => symlinkSync(target, join(dir, name));
add({ name: "energy --model /dev/zero", args: set(ENERGY, "model", "/dev/zero") });
add({ name: "energy --input zero.npy -> /dev/zero", args: set(ENERGY, "input", "zero.npy"), setup: link("zero.npy", "/dev/zero") });
add({ name: "train-ae --data zero.csv -> /dev/zero", args: set(TRAIN_AE, "data", "zero.csv"), setup: link("zero.csv", "/dev/zero") });
add({ name: "energy --input /dev/null named devnull.npy", args: set(ENERGY, "input", "devnull.npy"), setup: link("devnull.npy", "/dev/null") });
add({ name: "energy --model a directory", args: set(ENERGY, "model", "adir") });
add({ name: "energy --input a directory d.npy", args: set(ENERGY, "input", "d.npy"), setup: (dir) => mkdirSync(join(dir, "d.npy")) });
add({ name: "train-ae --data a directory d.csv", args: set(TRAIN_AE, "data", "d.csv"), setup: (dir) => mkdirSync(join(dir, "d.csv")) });
add({ name: "train --labels a directory", args: set(TRAIN, "labels", "d.npy"), setup: (dir) => mkdirSync(join(dir, "d.npy")) });
add({ name: "energy --input a FIFO nobody writes (hangs)", args: set(ENERGY, "input", "fifo.npy"), setup: fifo("fifo.npy") });
add({ name: "energy --model a FIFO nobody writes (hangs)", args: set(ENERGY, "model", "fifo.safetensors"), setup: fifo("fifo.safetensors") });
add({ name: "energy --model a symlink loop", args: set(ENERGY, "model", "loop.safetensors"), setup: (dir) => { symlinkSync("loop2.safetensors", join(dir, "loop.safetensors")); symlinkSync("loop.safetensors", join(dir, "loop2.safetensors")); } });
add({ name: "energy --input missing.npy", args: set(ENERGY, "input", "missing.npy"), expectStderr: [/missing\.npy/] });
add({ name: "energy --input empty name", args: set(ENERGY, "input", "") });
add({ name: "energy --input with an unknown extension", args: set(ENERGY, "input", "x.txt"), files: { "x.txt": xCsv } });

// ---- labels ----

const X20 = npy([20, D], new Float32Array(20 * D).fill(0.5));
add({ name: "labels: NaN labels", args: set(TRAIN, "labels", "bad.npy"), files: { "bad.npy": npy([N], Array.from(X, (_, i) => (i === 4 ? NaN : i % 3)).slice(0, N)) }, allowNaN: true });
add({ name: "labels: a (10, 2) array for 20 rows", args: set(set(TRAIN, "data", "x20.npy"), "labels", "bad.npy"), files: { "x20.npy": X20, "bad.npy": npy([10, 2], Array.from({ length: 20 }, (_, i) => i % 2)) } });
add({ name: "labels: a (6, 2) array for 12 rows (evaluate)", args: ["evaluate", "--model", "csae.safetensors", "--data", "x.npy", "--labels", "bad.npy"], files: { "bad.npy": npy([6, 2], Array.from(Y)) } });
add({ name: "labels: wrong count (11 for 12 rows)", args: set(TRAIN, "labels", "bad.npy"), files: { "bad.npy": npy([N - 1], Y.subarray(1)) }, expectStderr: [/11/, /12/] });
add({ name: "labels: Infinity label", args: set(TRAIN, "labels", "bad.npy"), files: { "bad.npy": npy([N], Array.from(Y, (v, i) => (i === 0 ? Infinity : v))) } });
add({ name: "labels: train-ae --labels with NaN", args: [...TRAIN_AE, "--labels", "bad.npy"], files: { "bad.npy": npy([N], Array.from(Y, (v, i) => (i === 0 ? NaN : v))) }, allowNaN: true });
add({ name: "labels: evaluate with a label the model lacks", args: ["evaluate", "--model", "csae.safetensors", "--data", "x.npy", "--labels", "bad.npy"], files: { "bad.npy": npy([N], Array.from(Y, (v, i) => (i === 0 ? 9 : v))) }, expectStderr: [/9/] });
add({ name: "labels: CSV with a typo label O", args: set(TRAIN, "labels", "bad.csv"), files: { "bad.csv": yCsv.replace("1\n", "O\n") } });
add({ name: "labels: empty labels file", args: set(TRAIN, "labels", "bad.csv"), files: { "bad.csv": "" } });
add({ name: "data and labels: training data with zero rows", args: set(set(TRAIN_AE, "data", "empty.npy"), "labels", undefined), files: { "empty.npy": npy([0, D], []) } });

// ---- outputs: the same file as an input, unwritable paths ----

const hard = (name: string, target: string) => (dir: string) => linkSync(join(dir, target), join(dir, name));
add({ name: "energy --output the --input file", args: [...ENERGY, "--output", "x.npy"] });
add({ name: "energy --output a symlink to the --input", args: [...ENERGY, "--output", "link.npy"], setup: link("link.npy", "x.npy") });
add({ name: "energy --output a hard link of the --input", args: [...ENERGY, "--output", "hard.npy"], setup: hard("hard.npy", "x.npy") });
add({ name: "energy --output the --input through ./", args: [...ENERGY, "--output", "./adir/../x.npy"] });
add({ name: "predict --output the --input file", args: ["predict", "--model", "csae.safetensors", "--input", "x.npy", "--output", "x.npy"] });
add({ name: "predict --proba --output the --input CSV", args: ["predict", "--model", "csae.safetensors", "--input", "x.csv", "--proba", "--output", "x.csv"] });
add({ name: "train-ae --save the --data file", args: set(TRAIN_AE, "save", "x.npy") });
add({ name: "train-ae --save a symlink to the --data", args: set(TRAIN_AE, "save", "link.npy"), setup: link("link.npy", "x.npy") });
add({ name: "train-ae --save a hard link of the --data", args: set(TRAIN_AE, "save", "hard.npy"), setup: hard("hard.npy", "x.npy") });
add({ name: "train --save the --labels file", args: set(TRAIN, "save", "y.npy") });
add({ name: "train --save a hard link of the --data", args: set(TRAIN, "save", "hard.npy"), setup: hard("hard.npy", "x.npy") });
add({ name: "energy --output under a regular file", args: [...ENERGY, "--output", "file.txt/sub/e.npy"] });
add({ name: "energy --output in a missing directory", args: [...ENERGY, "--output", "nodir/e.npy"] });
add({ name: "energy --output a directory", args: [...ENERGY, "--output", "adir.npy"], setup: (dir) => mkdirSync(join(dir, "adir.npy")) });
add({ name: "energy --output empty name", args: [...ENERGY, "--output", ""] });
add({ name: "energy --output .gz", args: [...ENERGY, "--output", "e.npy.gz"] });
// A finite row whose energy is beyond float32: refused naming the file and the row (it was scored NaN).
const far = { "far.npy": npy([2, D], [...X.subarray(0, D), 1e20, 0, 0, 0, 0, 0]) };
add({ name: "energy of a row whose energy overflows float32", args: set(ENERGY, "input", "far.npy"), files: far, expectStderr: [/far\.npy: row 1's energy is -Infinity/] });
add({ name: "predict a row whose energy overflows float32", args: ["predict", "--model", "csae.safetensors", "--input", "far.npy"], files: far, expectStderr: [/far\.npy: row 1's energy/] });
add({ name: "energy --output an unknown extension", args: [...ENERGY, "--output", "e.txt"] });
add({ name: "energy --output an existing file in a read-only directory", args: [...ENERGY, "--output", "ro/e.npy"], files: { "ro/e.npy": "old\n" }, setup: (dir) => chmodSync(join(dir, "ro"), 0o555), skip: ROOT_SKIP });
for (const [cmd, slow] of [["train-ae", SLOW_AE], ["train", SLOW_TRAIN]] as const) {
  add({ name: `${cmd} --save under a regular file (before training)`, args: [...slow, "--save", "file.txt/sub/m.safetensors"], timeoutMs: FAST });
  add({ name: `${cmd} --save in a missing directory (before training)`, args: [...slow, "--save", "nodir/m.safetensors"], timeoutMs: FAST });
  add({ name: `${cmd} --save a directory (before training)`, args: [...slow, "--save", "adir"], timeoutMs: FAST });
  add({ name: `${cmd} --save empty name (before training)`, args: [...slow, "--save", ""], timeoutMs: FAST });
  add({ name: `${cmd} --save in a read-only directory (before training)`, args: [...slow, "--save", "ro/m.safetensors"], setup: (dir) => { mkdirSync(join(dir, "ro")); chmodSync(join(dir, "ro"), 0o555); }, timeoutMs: FAST, skip: ROOT_SKIP });
}
for (const [cmd, slow] of [["train-ae", SLOW_AE], ["train", SLOW_TRAIN]] as const) {
  // Blocks of hidden units: a positive integer no larger than the hidden units (64 here) and 64,
  // checked before training; the factored model's row blocks no larger than the batch (1 here).
  for (const blocks of ["0", "-2", "1.5", "abc", "65", "1e3"]) {
    add({ name: `${cmd} --blocks ${blocks} (before training)`, args: [...slow, "--save", "m.safetensors", "--blocks", blocks], timeoutMs: FAST, expectStderr: [/blocks/] });
  }
}
add({ name: "train-ae --epochs beyond the most a run may ask for", args: [...SLOW_AE.map((a) => (a === "1000000" ? "1000001" : a)), "--save", "m.safetensors"], timeoutMs: FAST, expectStderr: [/--epochs must be an integer from 1 to 1000000, not 1000001/] });
add({ name: "train --workers 257", args: [...SLOW_TRAIN.map((a, i) => (SLOW_TRAIN[i - 1] === "--workers" ? "257" : a)), "--save", "m.safetensors"], timeoutMs: FAST, expectStderr: [/--workers must be at most 256/] });
add({ name: "train --factors without --factored (before training)", args: [...SLOW_TRAIN, "--factors", "8", "--save", "m.safetensors"], timeoutMs: FAST, expectStderr: [/--factors is for the factored model/] });
add({ name: "train --factored --blocks 2 with batch 1 (before training)", args: [...SLOW_TRAIN, "--factored", "--factors", "8", "--denoising", "0.25", "--save", "m.safetensors", "--blocks", "2"], timeoutMs: FAST, expectStderr: [/--blocks must be an integer from 1 to 1 \(the 1 rows of a minibatch, --batch\), not 2/] });
add({ name: "train-ae --checkpoint a regular file (before training)", args: [...SLOW_AE, "--save", "m.safetensors", "--checkpoint", "file.txt"], timeoutMs: FAST });
add({ name: "train-ae --checkpoint under a regular file (before training)", args: [...SLOW_AE, "--save", "m.safetensors", "--checkpoint", "file.txt/ck"], timeoutMs: FAST });
add({ name: "train-ae --checkpoint under a read-only parent (before training)", args: [...SLOW_AE, "--save", "m.safetensors", "--checkpoint", "ro/ck"], setup: (dir) => { mkdirSync(join(dir, "ro")); chmodSync(join(dir, "ro"), 0o555); }, timeoutMs: FAST, skip: ROOT_SKIP });
add({ name: "train-ae --resume from a garbage checkpoint", args: [...TRAIN_AE, "--checkpoint", "ck", "--resume"], files: { "ck/class-0.safetensors": "garbage" } });
add({ name: "train-ae --resume from a checkpoint recording batch 10^9 (memory)", args: [...TRAIN_AE, "--checkpoint", "ck", "--resume"], files: { "ck/class-0.safetensors": checkpointWith({ batch: 1e9 }) } });
add({ name: "datasets generate --output a regular file (before generating)", args: set(set(DATASETS, "output", "file.txt"), "scale", "0.2"), timeoutMs: FAST });
add({ name: "figure --output under a regular file (before training)", args: set(set(FIGURE, "output", "file.txt/fig"), "epochs", "1000000"), timeoutMs: FAST });
add({ name: "reproduce --results under a regular file (before work)", args: set(REPRODUCE, "results", "file.txt/res"), timeoutMs: FAST });

// ---- --init / --finetune-only contradicting the model file ----

const FINETUNE = [...TRAIN, "--init", "csae.safetensors", "--finetune-only"];
add({ name: "train --finetune-only --hidden 7 against a model with H = 4", args: set(FINETUNE, "hidden", "7"), expectStderr: [/hidden/i, /(?<!\d)7(?!\d)/, /(?<!\d)4(?!\d)/] });
add({ name: "train --finetune-only --activation linear against a tanh model", args: [...FINETUNE, "--activation", "linear"], expectStderr: [/linear/, /tanh/] });
add({ name: "train --finetune-only --output-type binary against a real model", args: [...FINETUNE, "--output-type", "binary"], expectStderr: [/binary/, /real/] });
add({ name: "train --finetune-only --factored with a plain csae model", args: [...FINETUNE, "--factored"] });
add({ name: "train --finetune-only with data of 7 columns for a D = 6 model", args: set(FINETUNE, "data", "x7.npy"), files: { "x7.npy": npy([N, 7], new Float32Array(N * 7)) } });
add({ name: "train --finetune-only with classes the model lacks", args: set(FINETUNE, "labels", "abc.csv"), files: { "abc.csv": Array.from({ length: N }, (_, i) => 5 + (i % 3)).join("\n") + "\n" } });
add({ name: "train --finetune-only with an autoencoder --init", args: set(FINETUNE, "init", "ae.safetensors") });
add({ name: "train --init without --finetune-only", args: [...TRAIN, "--init", "csae.safetensors"] });
add({ name: "train --finetune-only without --init", args: [...TRAIN, "--finetune-only"] });
add({ name: "train-ae --init csae with --hidden 7 (model H = 4)", args: [...set(TRAIN_AE, "hidden", "7"), "--labels", "y.npy", "--init", "csae.safetensors"], expectStderr: [/hidden/i, /(?<!\d)7(?!\d)/, /(?<!\d)4(?!\d)/] });
add({ name: "train-ae --init with --activation linear (model tanh)", args: [...TRAIN_AE, "--init", "ae.safetensors", "--activation", "linear"], expectStderr: [/linear/, /tanh/] });

// ---- positive controls: valid input must succeed ----

const header = "a,b,c,d,e,f\n" + xCsv;
add({ name: "OK: energy of a CSV with a true header a,b,c,d,e,f", args: [...set(ENERGY, "input", "h.csv"), "--output", "e.npy"], files: { "h.csv": header }, expectCode: 0, outputs: ["e.npy"] });
add({ name: "OK: energy of a CSV without a header", args: [...set(ENERGY, "input", "x.csv"), "--output", "e.npy"], expectCode: 0, outputs: ["e.npy"] });
add({ name: "OK: energy of a gzipped .npy", args: [...set(ENERGY, "input", "x.npy.gz"), "--output", "e.csv"], files: { "x.npy.gz": gzip(xNpy) }, expectCode: 0, outputs: ["e.csv"] });
add({ name: "OK: energy of a gzipped CSV with header", args: set(ENERGY, "input", "h.csv.gz"), files: { "h.csv.gz": gzip(header) }, expectCode: 0 });
add({ name: "OK: energy of u8 IDX images", args: set(ENERGY, "input", "x-idx3-ubyte"), files: { "x-idx3-ubyte": xIdxU8 }, expectCode: 0 });
add({ name: "OK: energy of a big-endian f8 .npy", args: set(ENERGY, "input", "be.npy"), files: { "be.npy": rawNpy(npyHeader(">f8", `(${N}, ${D})`), (() => { const b = new Uint8Array(8 * N * D); const v = new DataView(b.buffer); X.forEach((x, i) => v.setFloat64(8 * i, x, false)); return b; })()) }, expectCode: 0 });
add({ name: "OK: energy --output over an existing output file", args: [...ENERGY, "--output", "old.npy"], files: { "old.npy": npy([1], [0]) }, expectCode: 0, outputs: ["old.npy"] });
add({ name: "OK: info of each model", args: ["info", "ae.safetensors"], expectCode: 0 });
add({ name: "OK: predict with a csae", args: ["predict", "--model", "csae.safetensors", "--input", "x.npy"], expectCode: 0 });
add({ name: "OK: evaluate a factored model", args: ["evaluate", "--model", "fac.safetensors", "--data", "x.npy", "--labels", "y.csv"], expectCode: 0 });
add({ name: "OK: train-ae a tiny autoencoder", args: TRAIN_AE, expectCode: 0, outputs: ["m.safetensors"] });
add({ name: "OK: train a tiny classifier", args: TRAIN, expectCode: 0, outputs: ["m.safetensors"] });
add({ name: "OK: train --seed 0 --workers 0 --epochs 1 (edge values that are valid)", args: [...set(TRAIN, "seed", "0")], expectCode: 0, outputs: ["m.safetensors"] });

// ---- score and export: the same rules as every command ----

const SCORE = ["score", "--model", "csae.safetensors", "--input", "x.npy"];
const EXPORT = ["export", "--model", "ae.safetensors", "--onnx", "m.onnx"];
add({ name: "score --method unknown (suggests)", args: [...SCORE, "--method", "logsumexpp"], expectStderr: [/did you mean logsumexp\?/] });
add({ name: "score --method energy for a classifier", args: [...SCORE, "--method", "energy"], expectStderr: [/not for a classifier/] });
add({ name: "score --output the --input", args: [...SCORE, "--output", "x.npy"], expectStderr: [/same file/] });
add({ name: "score --output a hard link of the --input", args: [...SCORE, "--output", "hard.npy"], setup: (dir) => linkSync(join(dir, "x.npy"), join(dir, "hard.npy")) });
add({ name: "score --input /dev/zero", args: set(SCORE, "input", "zero.npy"), setup: link("zero.npy", "/dev/zero") });
add({ name: "score --model a data file", args: set(SCORE, "model", "x.npy") });
add({ name: "score with a stray argument", args: [...SCORE, "extra"] });
add({ name: "export --onnx the --model", args: set(EXPORT, "onnx", "ae.safetensors"), expectStderr: [/same file/] });
add({ name: "export --onnx under a regular file", args: set(EXPORT, "onnx", "file.txt/m.onnx") });
add({ name: "export --onnx a directory", args: set(EXPORT, "onnx", "adir") });
add({ name: "export --model missing", args: set(EXPORT, "model", "nope.safetensors") });
add({ name: "export without --onnx", args: ["export", "--model", "ae.safetensors"], expectStderr: [/--onnx/] });
add({ name: "export --onnx with another extension", args: set(EXPORT, "onnx", "m.npy"), expectStderr: [/the ONNX model is a \.onnx file/] });

// score --fpr: the rate, the rows it needs, where the model goes, and stored thresholds.
const CALIBRATE = [...SCORE, "--fpr", "0.25"];
const stored = (t: Record<string, unknown>) => restamp(csaeBytes, { novelty_threshold: JSON.stringify({ method: "logsumexp", threshold: -0.8, fpr: 0.25, rows: 12, flagged: 3, ...t }) });
for (const [value, nan] of [["0", false], ["1", false], ["-0.1", false], ["1.5", false], ["nan", false], ["NaN", true], ["Infinity", false], ["1e999", false], ["1e-400", false], ["0x1", false], ["", false], ["5%", false], ["0.1,0.2", false]] as const) {
  add({ name: `score --fpr ${JSON.stringify(value)}`, args: set(CALIBRATE, "fpr", value), allowNaN: nan, expectStderr: value === "" ? [/--fpr is empty/] : [/--fpr must be a number in \(0, 1\)/] });
}
add({ name: "score --fpr without its value", args: [...SCORE, "--fpr"], expectStderr: [/--fpr needs a value/] });
add({ name: "score --fpr given twice", args: [...CALIBRATE, "--fpr", "0.5"], expectStderr: [/twice/] });
add({ name: "score --fpr 0.05 with 12 rows (needs 20)", args: set(CALIBRATE, "fpr", "0.05"), expectStderr: [/12 rows cannot calibrate --fpr 0.05: it needs at least 20 rows/] });
add({ name: "score --fpr 5e-324 (no array is that long)", args: set(CALIBRATE, "fpr", "5e-324"), expectStderr: [/no array holds enough rows/] });
add({ name: "score --fpr with --method unknown", args: [...CALIBRATE, "--method", "max-probability"], expectStderr: [/--method must be one of/] });
add({ name: "score --fpr with --method energy for a classifier", args: [...CALIBRATE, "--method", "energy"], expectStderr: [/not for a classifier/] });
add({ name: "score --fpr with --output (scores are not written when calibrating)", args: [...CALIBRATE, "--output", "s.npy"], expectStderr: [/with --fpr the result is the model/] });
add({ name: "score --save without --fpr", args: [...SCORE, "--save", "m2.safetensors"], expectStderr: [/needs --fpr/] });
add({ name: "score --fpr --save the --model", args: [...CALIBRATE, "--save", "csae.safetensors"], expectStderr: [/same file as --model/] });
add({ name: "score --fpr --save a hard link of the --model", args: [...CALIBRATE, "--save", "hard.safetensors"], setup: (dir) => linkSync(join(dir, "csae.safetensors"), join(dir, "hard.safetensors")), expectStderr: [/same file as --model/] });
add({ name: "score --fpr --save a symlink to the --model", args: [...CALIBRATE, "--save", "link.safetensors"], setup: link("link.safetensors", "csae.safetensors"), expectStderr: [/same file as --model/] });
add({ name: "score --fpr --save the --input", args: [...CALIBRATE, "--save", "x.npy"], expectStderr: [/is the same file as --input/] });
add({ name: "score --fpr --save named .npy", args: [...CALIBRATE, "--save", "m.npy"], expectStderr: [/the model is a \.safetensors file/] });
add({ name: "score --fpr --save under a regular file", args: [...CALIBRATE, "--save", "file.txt/m.safetensors"] });
add({ name: "score --fpr --save a directory", args: [...CALIBRATE, "--save", "adir.safetensors"], setup: (dir) => mkdirSync(join(dir, "adir.safetensors")) });
add({ name: "score --fpr --save in a missing directory", args: [...CALIBRATE, "--save", "nodir/m.safetensors"] });
add({ name: "score --fpr --save empty name", args: [...CALIBRATE, "--save", ""], expectStderr: [/--save is empty/] });
add({ name: "score --fpr in place, --input a hard link of the --model", args: set(CALIBRATE, "input", "hard.safetensors"), setup: (dir) => linkSync(join(dir, "csae.safetensors"), join(dir, "hard.safetensors")), expectStderr: [/same file as --input/] });
add({ name: "score --fpr in place with a broken --input", args: set(CALIBRATE, "input", "bad.npy"), files: { "bad.npy": xNpy.subarray(0, 40) } });
for (const [what, t, re] of [
  ["not JSON", undefined, /novelty_threshold is not JSON text/],
  ["method energy in a classifier", { method: "energy" }, /method "energy" is not one of this model's/],
  ["threshold a string", { threshold: "-0.8" }, /the threshold must be a finite number, not "-0.8"/],
  ["fpr 2", { fpr: 2 }, /fpr 2 is not a number in \(0, 1\)/],
  ["more rows flagged than the rate allows", { flagged: 4 }, /flagged 4/],
  ["an unknown field", { note: "x" }, /unknown field "note"/],
] as const) {
  const bytes = t === undefined ? restamp(csaeBytes, { novelty_threshold: "{method: logsumexp}" }) : stored(t);
  add({ name: `score: a stored threshold with ${what}`, args: set(SCORE, "model", "bad.safetensors"), files: { "bad.safetensors": bytes }, expectStderr: [re] });
  add({ name: `score --fpr over a stored threshold with ${what} (the file is not rewritten)`, args: set(CALIBRATE, "model", "bad.safetensors"), files: { "bad.safetensors": bytes }, expectStderr: [re] });
}
add({ name: "evaluate-novelty: a stored threshold with method energy in a classifier", args: ["evaluate-novelty", "--model", "bad.safetensors", "--in", "x.npy", "--out", "x.csv"], files: { "bad.safetensors": stored({ method: "energy" }) }, expectStderr: [/method "energy"/] });
add({ name: "OK: score --fpr 0.25 rewrites the model in place", args: CALIBRATE, expectCode: 0, outputs: ["csae.safetensors"] });
add({ name: "OK: score --fpr 0.25 --method max-prob --save a new file", args: [...CALIBRATE, "--method", "max-prob", "--save", "m2.safetensors"], expectCode: 0, outputs: ["m2.safetensors"] });
add({ name: "OK: score --fpr over a model whose threshold is for another method (replaced)", args: [...set(CALIBRATE, "model", "t.safetensors"), "--method", "reconstruction"], files: { "t.safetensors": stored({}) }, expectCode: 0, outputs: ["t.safetensors"] });
add({ name: "OK: score a model with a stored threshold (scores and flags)", args: set(SCORE, "model", "t.safetensors"), files: { "t.safetensors": stored({}) }, expectCode: 0 });
add({ name: "OK: score a model with a stored threshold, another --method (no flags)", args: [...set(SCORE, "model", "t.safetensors"), "--method", "max-score"], files: { "t.safetensors": stored({}) }, expectCode: 0 });
add({ name: "OK: evaluate-novelty of a model with a stored threshold", args: ["evaluate-novelty", "--model", "t.safetensors", "--in", "x.npy", "--out", "x.csv"], files: { "t.safetensors": stored({}) }, expectCode: 0 });
add({ name: "OK: export an autoencoder", args: EXPORT, expectCode: 0, outputs: ["m.onnx"] });
add({ name: "OK: score a classifier", args: SCORE, expectCode: 0 });

// Cases that may take gigabytes today run one at a time, beside the others.
// Heavy cases get room: a bomb is inflated up to its cap (512 MiB of CSV) before it is refused.
for (const c of cases) if (/gzip bomb|\/dev\/zero|memory/.test(c.name)) {
  c.heavy = true;
  c.timeoutMs ??= 20000;
}

export const CASES: readonly Case[] = cases;
