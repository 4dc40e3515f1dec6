// The command line, run as users run it: a child process, files in a temporary directory.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEngineSync } from "../src/engine/engine.js";
import { createAutoencoder, encodeAutoencoder } from "../src/model/autoencoder.js";
import { energy, field } from "../src/model/energy.js";
import { encodeCsae, decodeCsae, classEnergies } from "../src/model/csae.js";
import { encodeFactored, decodeFactored, factoredAsCsae, type FactoredCsae } from "../src/model/factored.js";
import { encodeIdx } from "../src/formats/idx-csv.js";
import { decodeSafetensors, encodeSafetensors } from "../src/formats/safetensors.js";
import { exportOnnx } from "../src/model/onnx.js";
import { noveltyScores, noveltyMetrics, calibrateThreshold } from "../src/model/novelty.js";
import { decodeModel } from "../src/model/files.js";
import { readArray, writeArray, writeAtomic } from "../src/node.js";
import { fromArray } from "../src/engine/engine.js";
import { rng, sameBits } from "./util.js";

const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "aescore-cli-"));
const e = createEngineSync();

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const D = 6;
const H = 4;
const r = rng(3);
const X = Float32Array.from({ length: 5 * D }, () => r.uniform());
const ae = createAutoencoder(e, { D, H, activation: "tanh", output: "binary" }, 9);
const modelPath = join(dir, "ae.safetensors");
const inputPath = join(dir, "x.npy");
writeAtomic(modelPath, encodeAutoencoder(ae));
writeArray(inputPath, { shape: [5, D], data: X });

test("aescore --help lists the commands; unknown ones fail with usage", () => {
  const help = run("--help");
  assert.is(help.code, 0);
  assert.match(help.out, /commands:\n  info +describe a model file/);
  assert.match(help.out, /  energy +energies/);
  const bad = run("frobnicate");
  assert.is(bad.code, 2);
  assert.match(bad.err, /unknown command "frobnicate"/);
  for (const c of ["info", "energy"]) {
    const h = run(c, "--help");
    assert.is(h.code, 0, c);
    assert.match(h.out, new RegExp(`usage: aescore ${c}`));
  }
});

test("energy writes what the library computes (npy, csv, stdout)", () => {
  const out = join(dir, "e.npy");
  assert.is(run("energy", "--model", modelPath, "--input", inputPath, "--output", out).code, 0);
  const want = energy(ae, { shape: [5, D], data: X });
  assert.ok(sameBits(readArray(out).data, want));
  const stdout = run("energy", "--model", modelPath, "--input", inputPath).out.trim().split("\n").map((v) => Math.fround(Number(v)));
  assert.equal(stdout, Array.from(want));
  const f = join(dir, "f.csv");
  assert.is(run("energy", "--model", modelPath, "--input", inputPath, "--what", "field", "--output", f).code, 0);
  const got = readArray(f);
  assert.equal(got.shape, [5, D]);
  assert.ok(sameBits(got.data, field(ae, { shape: [5, D], data: X }).data));
});

test("energy reads u8 IDX images as pixels / 255", () => {
  const px = Float32Array.from(X, (v) => Math.round(v * 255));
  const idx = join(dir, "x-idx3-ubyte");
  writeFileSync(idx, encodeIdx({ shape: [5, 2, 3], data: px }, "u8"));
  const out = join(dir, "e2.npy");
  assert.is(run("energy", "--model", modelPath, "--input", idx, "--output", out).code, 0);
  const want = energy(ae, { shape: [5, D], data: px.map((v) => v / 255) });
  assert.ok(sameBits(readArray(out).data, want));
  const none = run("energy", "--model", modelPath, "--input", idx, "--scale", "none");
  assert.is(none.code, 2);
  assert.match(none.err, /x-idx3-ubyte: row 0, column \d is \d+, outside \[0, 1\]/);
  // The same pixels as CSV integers: --scale 255 divides them; without it they are used as they are,
  // with a note (a real-output model would take them silently otherwise).
  const csv = join(dir, "px.csv");
  writeFileSync(csv, Array.from({ length: 5 }, (_, n) => Array.from(px.subarray(n * D, (n + 1) * D)).join(",")).join("\n") + "\n");
  const scaled = join(dir, "e3.npy");
  const s255 = run("energy", "--model", modelPath, "--input", csv, "--scale", "255", "--output", scaled);
  assert.is(s255.code, 0, s255.err);
  assert.is(s255.err, "");
  assert.ok(sameBits(readArray(scaled).data, want));
  const asIs = run("energy", "--model", modelPath, "--input", csv);
  assert.match(asIs.err, new RegExp(`^aescore energy: note: .*px\\.csv holds integers 0\\.\\.${Math.max(...px)}, used as they are \\(pixels\\? --scale 255 divides them by 255`));
  assert.is(run("energy", "--model", modelPath, "--input", csv, "--scale", "none").err.includes("note:"), false);
  const quiet = run("energy", "--model", modelPath, "--input", csv, "-q");
  assert.is(quiet.code, asIs.code);
  assert.not.match(quiet.err, /note:/, "-q: no note");
  assert.is(quiet.err, asIs.err.split("\n").filter((l) => !l.includes("note:")).join("\n"), "the rest of stderr as without -q");
  assert.match(run("energy", "--model", modelPath, "--input", csv, "--scale", "256").err, /--scale/);
});

test("energy of K-class models is (N, K); factored models match their materialized weights", () => {
  const aes = [0, 1, 2].map((s) => createAutoencoder(e, { D, H, activation: "sigmoid", output: "real" }, 20 + s));
  const csae = { classes: ["a", "b", "c"], aes, C: Float32Array.of(0.5, -1, 2) };
  const path = join(dir, "c.safetensors");
  writeAtomic(path, encodeCsae(csae));
  const back = decodeCsae(e, encodeCsae(csae), "c");
  assert.equal(back.classes, ["a", "b", "c"]);
  assert.ok(sameBits(back.C, csae.C));
  const out = join(dir, "ek.npy");
  assert.is(run("energy", "--model", path, "--input", inputPath, "--output", out).code, 0);
  const got = readArray(out);
  assert.equal(got.shape, [5, 3]);
  assert.ok(sameBits(got.data, classEnergies(csae, { shape: [5, D], data: X }).data));
  // Vectors per class are (K, N, H) in .npy; CSV holds one class's, chosen with --class.
  const hk = join(dir, "hk.npy");
  assert.is(run("energy", "--model", path, "--input", inputPath, "--what", "hidden", "--output", hk).code, 0);
  assert.equal(readArray(hk).shape, [3, 5, H]);
  const toCsv = run("energy", "--model", path, "--input", inputPath, "--what", "hidden");
  assert.is(toCsv.code, 2);
  assert.match(toCsv.err, /--what hidden of a 3-class model is \(K, N, H\), which CSV cannot hold: write \.npy \(--output R\.npy\), or choose one class with --class/);
  const b = run("energy", "--model", path, "--input", inputPath, "--what", "hidden", "--class", "b");
  assert.is(b.code, 0, b.err);
  assert.equal(b.out.trim().split("\n").map((l) => l.split(",").map((c) => Math.fround(Number(c)))), Array.from({ length: 5 }, (_, n) => Array.from(readArray(hk).data.subarray((5 + n) * H, (6 + n) * H))));
  const eb = run("energy", "--model", path, "--input", inputPath, "--class", "c").out.trim().split("\n").map(Number);
  assert.equal(eb.map(Math.fround), Array.from({ length: 5 }, (_, n) => got.data[n * 3 + 2]));
  assert.match(run("energy", "--model", path, "--input", inputPath, "--class", "d").err, /--class: "d" is not a class of .*c\.safetensors \("a", "b", "c"\)/);
  assert.match(run("energy", "--model", modelPath, "--input", inputPath, "--class", "a").err, /--class: .* is one autoencoder, not a classifier/);

  const F = 3;
  const rr = rng(5);
  const m = (name: string, rows: number, cols: number) => fromArray(e, name, rows, cols, Float32Array.from({ length: rows * cols }, () => rr.uniform() - 0.5));
  const fac: FactoredCsae = { classes: ["x", "y"], activation: "tanh", output: "real", Wx: m("Wx", D, F), Wf: m("Wf", 2, F), Wh: m("Wh", F, H), Bh: m("Bh", 2, H), Br: m("Br", 2, D), C: Float32Array.of(1, 2) };
  const fpath = join(dir, "f.safetensors");
  writeAtomic(fpath, encodeFactored(fac));
  const plain = factoredAsCsae(decodeFactored(e, encodeFactored(fac), "f"));
  // W_j[k, d] = Σ_f Wh[f, k] Wf[j, f] Wx[d, f]
  for (let j = 0; j < 2; j++) {
    for (let k = 0; k < H; k++) {
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let f = 0; f < F; f++) s += fac.Wh.data[f * H + k] * fac.Wf.data[j * F + f] * fac.Wx.data[d * F + f];
        assert.ok(Math.abs(plain.aes[j].W.data[k * D + d] - s) < 1e-6, `W_${j}[${k},${d}]`);
      }
    }
  }
  const fo = join(dir, "ef.npy");
  assert.is(run("energy", "--model", fpath, "--input", inputPath, "--output", fo).code, 0);
  assert.ok(sameBits(readArray(fo).data, classEnergies(plain, { shape: [5, D], data: X }).data));
  const info = run("info", fpath);
  assert.match(info.out, /kind: factored-csae/);
  assert.match(info.out, /tensor Wx \[6, 3\]/);
});

test("info prints a file's names and values so that none can drive the terminal", () => {
  const path = join(dir, "names.safetensors");
  const hostile = { "\u202eevil": "right\u202dto\u2066left", note: "plain text, with spaces", esc: "\u001b[31mred\u0085", zw: "a\u200bb" };
  writeAtomic(path, encodeSafetensors({ "W\u001b[2J": { shape: [1], data: new Float32Array([1]) } }, hostile));
  const info = run("info", path);
  assert.is(info.code, 0, info.err);
  assert.not.match(info.out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b\u202a-\u202e\u2066-\u2069]/);
  assert.match(info.out, /  "\\u202eevil": "right\\u202dto\\u2066left"/);
  assert.match(info.out, /  note: plain text, with spaces/);
  assert.match(info.out, /  esc: "\\u001b\[31mred\\u0085"/);
  assert.match(info.out, /  zw: "a\\u200bb"/);
  assert.match(info.out, /  tensor "W\\u001b\[2J" \[1\]/);
  // A model the other commands would refuse is not described as fine: listed, then refused.
  const a = decodeSafetensors(readFileSync(modelPath));
  const broken = join(dir, "broken.safetensors");
  writeAtomic(broken, encodeSafetensors({ W: a.tensors.W, bh: a.tensors.bh }, a.metadata));
  const half = run("info", broken);
  assert.is(half.code, 2);
  assert.match(half.out, /tensor W \[4, 6\]/);
  assert.match(half.err, /^aescore info: .*broken\.safetensors: tensor br is missing\n$/);
  // And a name in an error message (a bad dtype: the reader names the tensor as the file has it).
  const header = new TextEncoder().encode(JSON.stringify({ "W\u001b]0;PWNED\u0007\u202e": { dtype: "X", shape: [1], data_offsets: [0, 4] } }));
  const evil = new Uint8Array(8 + header.length + 4);
  new DataView(evil.buffer).setBigUint64(0, BigInt(header.length), true);
  evil.set(header, 8);
  writeFileSync(join(dir, "evil.safetensors"), evil);
  const refused = run("info", join(dir, "evil.safetensors"));
  assert.is(refused.code, 2);
  assert.not.match(refused.err, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  assert.match(refused.err, /evil\.safetensors: tensor W\\u001b\]0;PWNED\\u0007\\u202e: dtype "X" is not supported/);
  // And an argument: the error names it quoted, escaped alike.
  const bad = run("energy", "--model", path, "--input", inputPath, "--what", "x\u202ey");
  assert.is(bad.code, 2);
  assert.match(bad.err, /not "x\\u202ey"/);
});

test("bad invocations: a one-line error and exit code 2, nothing written", () => {
  const cases: Array<[string[], RegExp]> = [
    [["energy", "--input", inputPath], /--model is required/],
    [["energy", "--model", modelPath, "--input", inputPath, "--what", "nope"], /--what must be one of energy, reconstruction, field, laplacian, hidden/],
    [["energy", "--model", inputPath, "--input", inputPath], /x\.npy: is a \.npy array, not a \.safetensors file/],
    [["energy", "--model", modelPath, "--input", join(dir, "missing.npy")], /missing\.npy: cannot read \(no such file\)/],
    [["energy", "--model", modelPath, "--input", inputPath, "--bogus"], /unknown option --bogus \(see --help\)/],
    [["info"], /info: give exactly one model file/],
  ];
  for (const [args, pattern] of cases) {
    const res = run(...args);
    assert.is(res.code, 2, args.join(" "));
    assert.match(res.err, pattern);
    assert.is(res.err.trim().split("\n").length, 1, `one line: ${res.err}`);
  }
  const wrongD = join(dir, "wide.npy");
  writeArray(wrongD, { shape: [2, D + 1], data: new Float32Array(2 * (D + 1)) });
  const res = run("energy", "--model", modelPath, "--input", wrongD);
  assert.match(res.err, /shape \[2, 7\] does not fit a model with D = 6/);
});

test("export writes the ONNX model the library exports; unsupported activations are refused in one line", () => {
  const out = join(dir, "m.onnx");
  const r = run("export", "--model", modelPath, "--onnx", out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /wrote .*m\.onnx \(\d+ bytes, ONNX IR 8, opset 17\)/);
  assert.equal(new Uint8Array(readFileSync(out)), exportOnnx(ae));
  const soft = join(dir, "soft.safetensors");
  writeAtomic(soft, encodeAutoencoder(createAutoencoder(e, { D, H, activation: "softplus", output: "real" }, 2)));
  const refused = run("export", "--model", soft, "--onnx", join(dir, "soft.onnx"));
  assert.is(refused.code, 2);
  assert.match(refused.err, /^aescore export: .*dilogarithm/);
  assert.is(refused.err.trim().split("\n").length, 1);
  assert.not.ok(existsSync(join(dir, "soft.onnx")));
  assert.is(run("export", "--model", modelPath, "--onnx", modelPath).code, 2);
});

test("score writes the library's novelty scores; a method the model lacks is refused", () => {
  const out = join(dir, "s.npy");
  assert.is(run("score", "--model", modelPath, "--input", inputPath, "--output", out).code, 0);
  assert.equal(readArray(out).data, Float32Array.from(noveltyScores(ae, { shape: [5, D], data: X })));
  const recon = run("score", "--model", modelPath, "--input", inputPath, "--method", "reconstruction");
  assert.is(recon.out.trim().split("\n").length, 5);
  const bad = run("score", "--model", modelPath, "--input", inputPath, "--method", "max-prob");
  assert.is(bad.code, 2);
  assert.match(bad.err, /^aescore score: --method max-prob is not for an autoencoder \(energy, reconstruction\)/);
});

test("score --fpr stores a calibrated threshold (in place or to --save); score then adds a flag column", () => {
  const N = 40;
  const g = rng(5);
  const V = { shape: [N, D], data: Float32Array.from({ length: N * D }, () => g.uniform()) };
  const valid = join(dir, "valid.npy");
  writeArray(valid, V);
  const copy = join(dir, "ae-calibrated.safetensors");
  const saved = run("score", "--model", modelPath, "--input", valid, "--fpr", "0.1", "--save", copy);
  assert.is(saved.code, 0, saved.err);
  const want = calibrateThreshold(ae, V, 0.1);
  assert.is(saved.out, `energy threshold ${want.threshold}: ${want.flagged} of ${N} rows of ${valid} (10.00%) score above it, for --fpr 0.1; stored in ${copy}\n`);
  assert.equal(decodeModel(e, readFileSync(copy)).novelty, want);
  assert.is(decodeModel(e, readFileSync(modelPath)).novelty, undefined, "--model untouched");
  // Scores and flags, on the calibration rows: the flagged fraction is the calibrated one.
  const out = join(dir, "sf.npy");
  assert.is(run("score", "--model", copy, "--input", valid, "--output", out).code, 0);
  const sf = readArray(out);
  assert.equal(sf.shape, [N, 2]);
  const s = noveltyScores(ae, V);
  for (let n = 0; n < N; n++) {
    assert.is(sf.data[2 * n], Math.fround(s[n]));
    assert.is(sf.data[2 * n + 1], s[n] > want.threshold ? 1 : 0);
  }
  assert.is(Array.from({ length: N }, (_, n) => sf.data[2 * n + 1]).reduce((a, b) => a + b, 0), want.flagged);
  assert.ok(want.flagged / N <= 0.1 && want.flagged / N > 0.1 - 1 / N);
  // Another method: its scores, no flags, and a note saying why.
  const other = run("score", "--model", copy, "--input", valid, "--method", "reconstruction");
  assert.is(other.code, 0);
  assert.is(other.out.trim().split("\n")[0].split(",").length, 1);
  assert.match(other.err, /stores a threshold for energy scores, not reconstruction: no flags/);
  // The old model (no field) scores as before: one column.
  assert.is(run("score", "--model", modelPath, "--input", valid).out.trim().split("\n")[0].split(",").length, 1);
  // In place: --model is rewritten atomically; --save over an input is refused; bad --fpr and too few rows too.
  const inplace = join(dir, "ae-inplace.safetensors");
  writeAtomic(inplace, encodeAutoencoder(ae));
  assert.is(run("score", "--model", inplace, "--input", valid, "--fpr", "0.25", "--method", "reconstruction").code, 0);
  assert.equal(decodeModel(e, readFileSync(inplace)).novelty, calibrateThreshold(ae, V, 0.25, "reconstruction"));
  // Re-calibrating without --method keeps the stored method.
  assert.is(run("score", "--model", inplace, "--input", valid, "--fpr", "0.2").code, 0);
  assert.equal(decodeModel(e, readFileSync(inplace)).novelty, calibrateThreshold(ae, V, 0.2, "reconstruction"));
  for (const [args, re] of [
    [["--fpr", "0.1", "--save", valid], /is the same file as --input/],
    [["--fpr", "0.1", "--save", valid.replace(/\.npy$/, "-model.npy")], /the model is a .safetensors file/],
    [["--fpr", "0.1", "--save", modelPath], /is the same file as --model/],
    [["--fpr", "1"], /^aescore score: --fpr must be a number in \(0, 1\), not 1$/],
    [["--fpr", "0"], /--fpr must be a number in \(0, 1\), not 0/],
    [["--fpr", "nan"], /--fpr must be a number in \(0, 1\), not nan/],
    [["--fpr", "0.01"], /40 rows cannot calibrate --fpr 0.01: it needs at least 100 rows/],
    [["--fpr", "0.1", "--method", "max-prob"], /--method max-prob is not for an autoencoder/],
    [["--fpr", "0.1", "--output", join(dir, "s2.npy")], /with --fpr the result is the model/],
    [["--save", copy], /--save writes a calibrated model: it needs --fpr/],
  ] as Array<[string[], RegExp]>) {
    const before = readFileSync(modelPath);
    const bad = run("score", "--model", modelPath, "--input", valid, ...args);
    assert.is(bad.code, 2, args.join(" "));
    assert.match(bad.err.trim(), re);
    assert.is(bad.err.trim().split("\n").length, 1);
    assert.ok(readFileSync(modelPath).equals(before), "the model is untouched");
  }
});

test("evaluate-novelty reports a stored threshold's false and true positive rates", () => {
  const copy = join(dir, "ae-calibrated.safetensors"); // from the test before
  const far = join(dir, "far2.npy");
  const Xf = { shape: [5, D], data: Float32Array.from({ length: 5 * D }, (_, i) => (i % 2 === 0 ? 0.02 : 0.98)) };
  writeArray(far, Xf);
  const r = run("evaluate-novelty", "--model", copy, "--in", inputPath, "--out", far);
  assert.is(r.code, 0, r.err);
  const t = decodeModel(e, readFileSync(copy)).novelty!;
  const rate = (Y: { shape: number[]; data: Float32Array }) => (noveltyScores(ae, Y).filter((v) => v > t.threshold).length / Y.shape[0]).toFixed(4);
  assert.match(r.out, `stored threshold (energy > ${t.threshold}, calibrated for FPR 0.1 on 40 rows): flags ${rate({ shape: [5, D], data: X })} of the held-in rows (FPR), ${rate(Xf)} of the novel rows (TPR)`);
});

test("evaluate-novelty prints the library's metrics per method and draws the ROC curves", () => {
  const far = join(dir, "far.npy");
  writeArray(far, { shape: [5, D], data: Float32Array.from({ length: 5 * D }, (_, i) => (i % 2 === 0 ? 0.02 : 0.98)) });
  const png = join(dir, "roc.png");
  const r = run("evaluate-novelty", "--model", modelPath, "--in", inputPath, "--out", far, "--plot", png);
  assert.is(r.code, 0, r.err);
  const Xf = readArray(far);
  const m = noveltyMetrics(noveltyScores(ae, { shape: [5, D], data: X }, "energy"), noveltyScores(ae, Xf, "energy"));
  assert.match(r.out, `| energy | ${m.auroc.toFixed(4)} | ${m.aupr.toFixed(4)} | ${m.fprAt95.toFixed(4)} |`);
  assert.match(r.out, /\| reconstruction \|/);
  assert.equal(Array.from(readFileSync(png).subarray(1, 4)), [0x50, 0x4e, 0x47]); // "PNG"
  const bad = run("evaluate-novelty", "--model", modelPath, "--in", inputPath, "--out", far, "--plot", join(dir, "roc.txt"));
  assert.is(bad.code, 2);
});

test("reproduce --quick writes under DIR/quick, beside the full results; the report names the command", () => {
  const results = join(dir, "results");
  const r = run("reproduce", "fig2", "--quick", "--quiet", "--results", results);
  assert.is(r.code, 0, r.err);
  assert.ok(existsSync(join(results, "quick", "fig2", "energy.png")));
  assert.not.ok(existsSync(join(results, "fig2.md")));
  assert.match(readFileSync(join(results, "quick", "fig2.md"), "utf8"), "Command: `aescore reproduce fig2 --quick`");
});

test("a library message naming the command's own trainer is not prefixed twice", () => {
  const dir = mkdtempSync(join(tmpdir(), "aescore-prefix-"));
  writeFileSync(join(dir, "x.csv"), Array.from({ length: 6 }, (_, i) => `${i / 6},${1 - i / 6}`).join("\n"));
  writeFileSync(join(dir, "y.csv"), Array.from({ length: 6 }, (_, i) => String(i % 2)).join("\n"));
  const r = run("train", "--data", join(dir, "x.csv"), "--labels", join(dir, "y.csv"), "--contractive", "0.5", "--denoising", "0.3", "--save", join(dir, "m.safetensors"));
  assert.is(r.code, 2);
  assert.match(r.err, /^aescore train: choose the contractive penalty or denoising, not both\n$/);
});

test("without a command the usage is the error (stderr, exit 2); asked for, the output (stdout, exit 0)", () => {
  const none = run();
  assert.equal([none.code, none.out], [2, ""]);
  assert.match(none.err, /^usage: aescore <command>/m);
  const help = run("--help");
  assert.equal([help.code, help.err], [0, ""]);
  assert.match(help.out, /^usage: aescore <command>/m);
});

test.run();
