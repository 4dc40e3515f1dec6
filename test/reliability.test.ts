// Bad input never gives a wrong answer, destroys a file or exhausts memory: the cases of issue 10,
// each made at test time (no large committed files), run as users run them.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync, ftruncateSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEngineSync, alloc } from "../src/engine/engine.js";
import { decodeModel } from "../src/model/files.js";
import { createAutoencoder, encodeAutoencoder } from "../src/model/autoencoder.js";
import { encodeCsae, decodeCsae } from "../src/model/csae.js";
import { decodeSafetensors as decodeSafetensorsFile, encodeSafetensors } from "../src/formats/safetensors.js";
import { decodeCsv } from "../src/formats/idx-csv.js";
import { encodeNpy } from "../src/formats/npy.js";
import { energy } from "../src/model/energy.js";
import { checkWritable, readArray, writeAllAtomic, writeArray, writeAtomic } from "../src/node.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS } from "../src/train/autoencoder.js";
import { estimateMemory, checkMemory } from "../src/train/memory.js";
import { fitCsae, FIT_DEFAULTS, type FitOptions } from "../src/train/fit.js";
import { FormatError, InputError } from "../src/errors.js";
import { rng } from "./util.js";

const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "aescore-rel-"));
const e = createEngineSync();
const at = (name: string) => join(dir, name);

function run(...args: string[]): { code: number; out: string; err: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 60000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: performance.now() - t0 };
}

/** Exit 2 and one line on stderr matching `pattern`. */
function refused(r: ReturnType<typeof run>, pattern: RegExp, what: string, nanIsData = false): void {
  assert.is(r.code, 2, `${what}: exit ${r.code}: ${r.err}`);
  assert.is(r.err.trim().split("\n").length, 1, `${what}: one line: ${r.err}`);
  assert.match(r.err, pattern, what);
  // (a NaN the user gave, or that a run produced, is named "NaN (not a number)"; a bare NaN is a leak)
  assert.not.match(r.err, nanIsData ? /undefined|null|    at / : /undefined|null|\bNaN\b(?! \(not a number\))|    at /, what);
}

const D = 6;
const r = rng(11);
const X = Float32Array.from({ length: 30 * D }, () => r.uniform());
const xPath = at("x.npy");
writeArray(xPath, { shape: [30, D], data: X });
const lPath = at("l.npy");
writeArray(lPath, { shape: [30], data: Float32Array.from({ length: 30 }, (_, i) => i % 3) });
writeArray(at("l20.npy"), { shape: [20], data: Float32Array.from({ length: 20 }, (_, i) => i % 3) });
const aePath = at("ae.safetensors");
const ae = createAutoencoder(e, { D, H: 4, activation: "tanh", output: "real" }, 3);
writeAtomic(aePath, encodeAutoencoder(ae));

// ---- 1. silent wrong results ---------------------------------------------------------------------

test("output through a pipe arrives whole; a write to stdout that fails is an error, not exit 0", () => {
  // 100000 rows of energies (about 1 MB of CSV): the process used to exit with most of it still in
  // the pipe's buffer (a reader got 13631 lines and exit 0).
  const big = at("big-rows.npy");
  writeArray(big, { shape: [100000, D], data: Float32Array.from({ length: 100000 * D }, (_, i) => (i % 7) / 7) });
  const piped = spawnSync("sh", ["-c", `"${process.execPath}" "${cli}" energy --model "${aePath}" --input "${big}" | wc -l`], { encoding: "utf8", timeout: 60000 });
  assert.is(piped.stdout.trim(), "100000", piped.stderr);
  if (existsSync("/dev/full")) {
    const full = openSync("/dev/full", "w");
    const r = spawnSync(process.execPath, [cli, "energy", "--model", aePath, "--input", xPath], { stdio: ["ignore", full, "pipe"], encoding: "utf8", timeout: 60000 });
    closeSync(full);
    assert.is(r.status, 1);
    assert.match(r.stderr, /^aescore energy: cannot write the output to stdout: ENOSPC/);
    assert.is(r.stderr.trim().split("\n").length, 1);
  }
  // A reader that stops early (| head) ends the output quietly, with the command's own exit code.
  const head = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${cli}" energy --model "${aePath}" --input "${big}" | head -1`], { encoding: "utf8", timeout: 60000 });
  assert.is(head.stdout.trim().split("\n").length, 1);
  assert.is(head.stderr, "");
  assert.is(head.status, 0);
});

/** A version 1.0 .npy of the given descr and shape text (written as they are, for hostile headers) and data bytes. */
function npyFile(descr: string, shape: string, data: Buffer): Buffer {
  const header = `{'descr': ${descr}, 'fortran_order': False, 'shape': ${shape}, }`;
  const text = header + " ".repeat(64 - ((10 + header.length + 1) % 64)) + "\n";
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, "latin1"), data]);
}

test("a CLI audit: inherited names are no options, nothing passes after --, deep .npy headers and /proc directories are refused", () => {
  for (const name of ["constructor", "__proto__", "hasOwnProperty", "toString"]) {
    refused(run("energy", `--${name}`, "1", "--model", aePath, "--input", xPath), new RegExp(`unknown option --${name} \\(see --help\\)`), name);
  }
  refused(run("energy", "--model", aePath, "--input", xPath, "--", "extra"), /unexpected argument extra after --: this command takes options only/, "after --");
  // A 10 KB header of 10000 nested tuples overflowed the parser's stack (an internal error).
  writeFileSync(at("deep.npy"), npyFile(`'<f4'`, "(".repeat(10000), Buffer.alloc(4)));
  refused(run("energy", "--model", aePath, "--input", at("deep.npy")), /deep\.npy: header nests tuples deeper than a shape does/, "deep header");
  // A 1-D array was read as one row: a column of 12 values trained one 12-input autoencoder.
  writeArray(at("col.npy"), { shape: [12], data: Float32Array.from({ length: 12 }, (_, i) => i / 12) });
  refused(run("train-ae", "--data", at("col.npy"), "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("no.safetensors")), /col\.npy: a 1-D array of 12 values \(shape \[12\]\): rows are \(N, D\); write it as \[12, 1\] for 12 rows of one value, or \[1, 12\] for one row/, "1-D data");
  refused(run("energy", "--model", aePath, "--input", at("col.npy")), /col\.npy: a 1-D array of 12 values \(shape \[12\]\), but the model has D = 6/, "1-D input");
  writeArray(at("row.npy"), { shape: [D], data: X.subarray(0, D) });
  assert.is(run("energy", "--model", aePath, "--input", at("row.npy")).out.trim().split("\n").length, 1, "one row of D values is one row");
  // A fractional label in float64 became an integer in float32 and merged into its class.
  writeFileSync(at("l-f8.npy"), npyFile(`'<f8'`, "(30,)", Buffer.from(Float64Array.from({ length: 30 }, (_, i) => (i === 29 ? 2.0000001 : i % 3)).buffer)));
  refused(run("train-ae", "--data", xPath, "--labels", at("l-f8.npy"), "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("no.safetensors")), /l-f8\.npy: label 29 \(row 29 of the data\) is 2\.0000001: labels must be integers/, "f8 label");
  writeFileSync(at("l-frac.csv"), Array.from({ length: 30 }, (_, i) => (i === 3 ? "1.00000001" : String(i % 3))).join("\n") + "\n");
  refused(run("train-ae", "--data", xPath, "--labels", at("l-frac.csv"), "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("no.safetensors")), /l-frac\.csv: label 3 \(row 3 of the data\) is 1\.00000001/, "CSV label");
  // A model of the user's in the checkpoint directory is not a run's checkpoint.
  mkdirSync(at("ck-user"));
  writeFileSync(at("ck-user/mymodel.safetensors"), readFileSync(aePath));
  assert.is(run("train-ae", "--data", xPath, "--hidden", "2", "--epochs", "1", "--workers", "0", "-q", "--checkpoint", at("ck-user"), "--save", at("ck-user.safetensors")).code, 0);
  refused(run("train-ae", "--data", xPath, "--hidden", "2", "--epochs", "1", "--workers", "0", "--checkpoint", at("ck-user"), "--save", at("ck-user.safetensors")), /ck-user holds the checkpoints of a run \(class-0\.safetensors\)/, "a run's checkpoint");
  // Names are escaped on every line, success lines too; a newline in a path stays visible.
  const esc = at("m\x1b[2J.safetensors");
  const saved = run("train-ae", "--data", xPath, "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", esc);
  assert.is(saved.code, 0, saved.err);
  assert.not.match(saved.err + run("info", esc).out, /\x1b/);
  refused(run("energy", "--model", aePath, "--input", at("no\nsuch.npy")), /no\\u000asuch\.npy: cannot read \(no such file\)/, "newline in a path");
  // A validation fraction that leaves no rows trained without validation (and patience), unsaid.
  refused(run("train-ae", "--data", xPath, "--labels", lPath, "--valid-fraction", "0.05", "--patience", "1", "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("no.safetensors")), /--valid-fraction 0\.05 leaves every class no validation rows \(the largest: 10 rows\): give a larger fraction, or none/, "empty validation");
  // One class too small for a validation row trains without it, said in a note (imbalanced classes).
  writeArray(at("l-imb.npy"), { shape: [30], data: Float32Array.from({ length: 30 }, (_, i) => (i < 26 ? 0 : 1)) });
  const imb = run("train-ae", "--data", xPath, "--labels", at("l-imb.npy"), "--valid-fraction", "0.2", "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("imb.safetensors"));
  assert.is(imb.code, 0, imb.err);
  assert.match(imb.err, /^aescore train-ae: note: --valid-fraction 0\.2 leaves class "1" \(4 rows\) no validation rows: it trains without validation\n/);
  refused(run("train", "--data", xPath, "--labels", lPath, "--valid-fraction", "0.01", "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("no.safetensors")), /--valid-fraction 0\.01 leaves no validation rows \(30 rows\)/, "empty validation (train)");
  writeArray(at("l-last.npy"), { shape: [30], data: Float32Array.from({ length: 30 }, (_, i) => (i < 29 ? 0 : 1)) });
  refused(run("train", "--data", xPath, "--labels", at("l-last.npy"), "--valid-fraction", "0.1", "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("no.safetensors")), /--valid-fraction 0\.1 holds out the last 3 rows, which take every row of class "1": shuffle the rows/, "a class only in validation");
  // Options a variant does not read are said to have no effect; a contradiction is refused.
  const recon = run("train", "--data", xPath, "--labels", lPath, "--variant", "reconstruction", "--hidden", "2", "--pretrain-epochs", "1", "--epochs", "9", "--lr", "0.5", "--workers", "0", "--save", at("recon.safetensors"));
  assert.match(recon.err, /note: --epochs, --lr have no effect with --variant reconstruction \(no finetuning runs\)/);
  refused(run("train", "--data", xPath, "--labels", lPath, "--variant", "reconstruction", "--init", at("recon.safetensors"), "--finetune-only", "--workers", "0", "--save", at("no.safetensors")), /--variant reconstruction trains nothing after pretraining: with --finetune-only there is nothing to do/, "reconstruction + finetune-only");
  // An array given as a model, a value beyond float32, a file name that is not UTF-8: said as such.
  refused(run("info", xPath), /x\.npy: is a \.npy array, not a \.safetensors file/, ".npy as a model");
  // (after a value float32 only rounds: the first value changed is not the first that overflowed)
  writeFileSync(at("f8big.npy"), npyFile(`'<f8'`, `(1, ${D})`, Buffer.from(Float64Array.from({ length: D }, (_, i) => (i === 0 ? 0.1 : i === 2 ? 1e300 : 0)).buffer)));
  refused(run("energy", "--model", aePath, "--input", at("f8big.npy")), /f8big\.npy: row 0, column 2 is 1e\+300, beyond float32's range/, "beyond float32");
  writeFileSync(at("big.csv"), `0.1,0,1e39,0,0,0\n`);
  refused(run("energy", "--model", aePath, "--input", at("big.csv")), /big\.csv: row 0, column 2 is 1e\+39, beyond float32's range/, "beyond float32 (CSV)");
  refused(run("energy", "--model", aePath, "--input", "bad\uFFFD.npy"), /^aescore: argument 5 .* is not valid UTF-8/, "not UTF-8");
  // Out of memory while scoring: said with what is scored at a time.
  const bigH = at("big-h.safetensors");
  writeAtomic(bigH, encodeAutoencoder(createAutoencoder(e, { D: 1, H: 2_000_000, activation: "sigmoid", output: "real" }, 1)));
  writeArray(at("col1024.npy"), { shape: [1024, 1], data: new Float32Array(1024).fill(0.5) });
  refused(run("energy", "--model", bigH, "--input", at("col1024.npy")), /engine: out of memory: \d+ bytes needed, WebAssembly memory is limited to 4 GiB \(scoring takes up to 1024 rows at a time, and the model's hidden units for them must fit\)/, "scoring out of memory");
  // A list of classes in a message is cut at 20.
  writeArray(at("l-many.npy"), { shape: [30], data: Float32Array.from({ length: 30 }, (_, i) => i) });
  const many = run("train-ae", "--data", xPath, "--labels", at("l-many.npy"), "--class", "99", "--hidden", "2", "--epochs", "1", "--workers", "0", "--save", at("no.safetensors"));
  refused(many, /class "99" does not occur in .*l-many\.npy \(classes: "0", "1", .*"19", … \(30 in all\)\)$/m, "long class list");
  // Node's recursive mkdir spun for ever where procfs says ENOENT under a parent that exists.
  if (existsSync("/proc/self")) {
    const res = run("train-ae", "--data", xPath, "--hidden", "2", "--epochs", "1", "--workers", "0", "--checkpoint", "/proc/aescore-ck/a", "--save", at("no.safetensors"));
    refused(res, /\/proc\/aescore-ck\/a: cannot create the checkpoint directory/, "/proc");
    assert.ok(res.ms < 20000, `${res.ms} ms`);
  }
});

test("a model file whose weights overflow float32 in its Laplacian is refused as diverged", () => {
  const huge = createAutoencoder(e, { D, H: 4, activation: "tanh", output: "real" }, 3);
  huge.W.data.fill(3e37);
  const path = at("huge.safetensors");
  // (our writer refuses it; a file from elsewhere can still hold it)
  assert.throws(() => encodeAutoencoder(huge), /encode autoencoder: tensor W is too large/);
  const { tensors, metadata } = decodeSafetensorsFile(encodeAutoencoder(ae));
  writeAtomic(path, encodeSafetensors({ ...tensors, W: { shape: [4, D], data: huge.W.data } }, metadata));
  refused(run("energy", "--model", path, "--input", xPath, "--what", "laplacian"), /huge\.safetensors: tensor W is too large \(its squared norm .* is beyond float32's range\): a diverged model/, "huge W");
});

test("train-ae --init takes the file's architecture unless the options say otherwise", () => {
  const first = at("init-3.safetensors");
  assert.is(run("train-ae", "--data", xPath, "--hidden", "3", "--activation", "tanh", "--epochs", "1", "--save", first, "--quiet").code, 0);
  const next = at("init-next.safetensors");
  const r = run("train-ae", "--data", xPath, "--init", first, "--epochs", "1", "--save", next, "--quiet");
  assert.is(r.code, 0, r.err);
  const m = decodeModel(createEngineSync(), readFileSync(next), next);
  assert.ok(m.kind === "autoencoder" && m.ae.H === 3 && m.ae.activation === "tanh", JSON.stringify(m.kind === "autoencoder" && [m.ae.H, m.ae.activation]));
  refused(run("train-ae", "--data", xPath, "--init", first, "--hidden", "5", "--epochs", "1", "--save", at("no.safetensors")), /init-3\.safetensors: its autoencoders are 3x\d+, not 5x\d+/, "--hidden that contradicts --init");
});

test("a checkpoint directory holding a run is not overwritten without --resume; --resume where there is none says so", () => {
  const ck = at("ck-held");
  const args = ["train-ae", "--data", xPath, "--hidden", "3", "--epochs", "1", "--checkpoint", ck, "--quiet"];
  assert.is(run(...args, "--save", at("held-1.safetensors")).code, 0);
  const before = readFileSync(join(ck, "class-0.safetensors"));
  refused(run(...args, "--save", at("held-2.safetensors")), /ck-held holds the checkpoints of a run \(class-0\.safetensors\): go on from them with --resume, or give another directory/, "a second run");
  assert.ok(readFileSync(join(ck, "class-0.safetensors")).equals(before), "the checkpoint is untouched");
  assert.not.ok(existsSync(at("held-2.safetensors")));
  const fresh = run("train-ae", "--data", xPath, "--hidden", "3", "--epochs", "1", "--checkpoint", at("ck-typo"), "--resume", "--save", at("held-3.safetensors"));
  assert.is(fresh.code, 0, fresh.err);
  assert.match(fresh.err, /^aescore train-ae: note: .*ck-typo holds no checkpoint yet: the run starts from the beginning\n/);
});

test("a model file with tensors its kind does not have is refused, naming them", () => {
  const { tensors, metadata } = decodeSafetensorsFile(readFileSync(aePath));
  const path = at("extra.safetensors");
  writeFileSync(path, encodeSafetensors({ ...tensors, V: { shape: [2], data: new Float32Array(2) } }, metadata));
  refused(run("energy", "--model", path, "--input", xPath), /extra\.safetensors: unexpected tensor "V" \(this kind of model has W, bh, br\)/, "extra tensor");
});

test("a model broken by the last steps of its last epoch is refused, not saved", () => {
  // An epoch's loss is summed before its steps: only the check of the final parameters sees this.
  writeArray(at("x400.npy"), { shape: [400, D], data: Float32Array.from({ length: 400 * D }, (_, i) => ((i * 7) % 11) / 11) });
  writeArray(at("l400.npy"), { shape: [400], data: Float32Array.from({ length: 400 }, (_, i) => i % 3) });
  for (const [args, pattern] of [
    [["train-ae", "--data", xPath, "--hidden", "3", "--epochs", "1", "--lr", "1e30"], /aescore train-ae: the parameter W diverged .* in epoch 1: lower the learning rate/],
    [["train", "--data", xPath, "--labels", lPath, "--hidden", "3", "--epochs", "1", "--pretrain-epochs", "1", "--workers", "0", "--lr", "1e30"], /finetune: the parameter C diverged .* lower the learning rate --lr \(now 1e\+30\)/],
    [["train", "--data", xPath, "--labels", lPath, "--hidden", "3", "--epochs", "1", "--pretrain-epochs", "1", "--workers", "0", "--pretrain-lr", "1e30"], /pretraining: the parameter W diverged .* lower the learning rate --pretrain-lr \(now 1e\+30\)/],
    [["train", "--data", xPath, "--labels", lPath, "--hidden", "3", "--epochs", "1", "--pretrain-epochs", "1", "--workers", "0", "--factored", "--pretrain-lr", "1e30"], /factored pretraining: the parameter \w+ diverged/],
    // Diverging part-way through an epoch of several minibatches (the steps pass NaN scalars to the
    // kernels, which must reach the driver's check, not be refused as bad arguments).
    [["train", "--data", at("x400.npy"), "--labels", at("l400.npy"), "--hidden", "3", "--epochs", "2", "--pretrain-epochs", "1", "--workers", "0", "--lr", "1e5"], /finetune: the loss became NaN \(not a number\) in epoch \d: lower the learning rate --lr/],
    [["train", "--data", at("x400.npy"), "--labels", at("l400.npy"), "--hidden", "3", "--epochs", "2", "--pretrain-epochs", "1", "--workers", "0", "--factored", "--factors", "3", "--lr", "1e5"], /finetune: the (loss became NaN \(not a number\)|parameter \w+ diverged) in epoch \d/],
    // On workers: the error crosses the thread with the parameter's name.
    [["train", "--data", xPath, "--labels", lPath, "--hidden", "3", "--epochs", "1", "--pretrain-epochs", "1", "--workers", "2", "--pretrain-lr", "1e30"], /pretraining: the parameter W diverged .* --pretrain-lr/],
  ] as Array<[string[], RegExp]>) {
    const out = at(`diverged-${args[0]}.safetensors`);
    refused(run(...args, "--save", out, "--quiet"), pattern, args.join(" "));
    assert.not.ok(existsSync(out), `${args.join(" ")}: nothing saved`);
  }
  // Its checkpoint holds the broken last epoch: resuming it (nothing left to train) is refused too.
  const ck = at("ck-diverged");
  const args = ["train-ae", "--data", xPath, "--hidden", "3", "--epochs", "1", "--lr", "1e30", "--checkpoint", ck, "--save", at("d.safetensors"), "--quiet"];
  refused(run(...args), /the parameter W diverged/, "first run");
  refused(run(...args, "--resume"), /the parameter W diverged|tensor W is too large .*: a diverged model/, "resumed");
  assert.not.ok(existsSync(at("d.safetensors")));
});

test("absurd epochs and workers, and a save inside the checkpoint directory, are refused before any work", () => {
  refused(run("train-ae", "--data", xPath, "--hidden", "3", "--epochs", "1000001", "--save", at("no.safetensors")), /--epochs must be an integer from 1 to 1000000, not 1000001/, "epochs");
  refused(run("train", "--data", xPath, "--labels", lPath, "--hidden", "3", "--epochs", "1000001", "--save", at("no.safetensors")), /--epochs must be an integer from 1 to 1000000, not 1000001/, "finetuning epochs");
  refused(run("train", "--data", xPath, "--labels", lPath, "--hidden", "3", "--pretrain-epochs", "1000001", "--save", at("no.safetensors")), /--pretrain-epochs must be an integer from 1 to 1000000, not 1000001/, "pretraining epochs");
  refused(run("train-ae", "--data", xPath, "--hidden", "3", "--workers", "257", "--save", at("no.safetensors")), /--workers must be at most 256, not 257/, "workers");
  // A model saved over a data file by a slip of the extension: the data file stays.
  writeArray(at("other.npy"), { shape: [1], data: Float32Array.of(7) });
  for (const cmd of [["train-ae", "--data", xPath], ["train", "--data", xPath, "--labels", lPath]]) {
    refused(run(...cmd, "--hidden", "3", "--epochs", "1", "--save", at("other.npy")), /other\.npy: the model is a \.safetensors file/, `${cmd[0]} --save .npy`);
  }
  assert.equal(Array.from(readArray(at("other.npy")).data), [7]);
  for (const cmd of [["train-ae", "--data", xPath], ["train", "--data", xPath, "--labels", lPath]]) {
    const ck = at(`ck-${cmd[0]}`);
    refused(run(...cmd, "--hidden", "3", "--epochs", "1", "--checkpoint", ck, "--save", join(ck, "..", `ck-${cmd[0]}`, "finetune.safetensors")), /\(--save\) is inside the checkpoint directory/, `${cmd[0]} save in checkpoint`);
    // An --init model named like one of the checkpoint's files would be overwritten by it.
    const inside = join(ck, cmd[0] === "train" ? "finetune.safetensors" : "class-all.safetensors");
    mkdirSync(ck, { recursive: true });
    writeAtomic(inside, encodeAutoencoder(createAutoencoder(e, { D, H: 3, activation: "sigmoid", output: "real" }, 1)));
    const before = readFileSync(inside);
    refused(run(...cmd, "--hidden", "3", "--epochs", "1", "--checkpoint", ck, "--init", inside, ...(cmd[0] === "train" ? ["--finetune-only"] : []), "--save", at(`ck-out-${cmd[0]}.safetensors`)), /\(--init\) is inside the checkpoint directory/, `${cmd[0]} init in checkpoint`);
    assert.ok(readFileSync(inside).equals(before), "the --init model is untouched");
  }
  assert.ok(estimateMemory({ D: 6, H: 3, K: 100, N: 100, B: 100, instances: 100, finetune: false }).total > 100 * 16 * 2 ** 20, "a worker's own memory counts");
});

test("--finetune-only takes the architecture from the model file and refuses contradicting options", () => {
  const aes = [0, 1, 2].map((i) => createAutoencoder(e, { D, H: 5, activation: "modulus", output: "binary" }, i));
  const m0 = at("m0.safetensors");
  writeAtomic(m0, encodeCsae({ classes: ["0", "1", "2"], aes, C: new Float32Array(3) }));
  const out = at("m1.safetensors");
  const base = ["train", "--data", xPath, "--labels", lPath, "--init", m0, "--finetune-only", "--epochs", "2", "--workers", "0", "-q", "--save", out];
  // modulus is refused for the (default) contractive pretraining, which does not run here
  const ok = run(...base);
  assert.is(ok.code, 0, ok.err);
  const m1 = decodeCsae(e, readFileSync(out), out);
  assert.is(m1.aes[0].H, 5);
  assert.is(m1.aes[0].activation, "modulus");
  assert.is(m1.aes[0].output, "binary");
  assert.ok(m1.aes.some((a, i) => a.W.data.some((w, k) => w !== aes[i].W.data[k])), "finetuned");
  const again = at("m2.safetensors");
  for (const [args, pattern] of [
    [["--hidden", "7"], /--hidden 7 contradicts .*m0\.safetensors, which is a 5-hidden modulus\/binary model/],
    [["--activation", "sigmoid"], /--activation sigmoid contradicts .*5-hidden modulus\/binary/],
    [["--output-type", "real"], /--output-type real contradicts/],
    [["--factored"], /--factored contradicts/],
  ] as Array<[string[], RegExp]>) {
    refused(run(...base.slice(0, -1), again, ...args), pattern, args.join(" "));
  }
  // the same flags that agree with the file are fine; pretraining options are not read, and said to be unused
  assert.is(run(...base.slice(0, -1), again, "--hidden", "5", "--activation", "modulus", "--output-type", "binary").code, 0);
  const unused = run(...base.filter((a) => a !== "-q").slice(0, -1), again, "--contractive", "abc", "--pretrain-epochs", "0");
  assert.is(unused.code, 0, unused.err);
  assert.match(unused.err, /note: --contractive, --pretrain-epochs have no effect with --finetune-only/);
  assert.not.ok(existsSync(at("never.safetensors")));
});

test("CSV: a header only when every cell is a name; a bad cell is an error naming line and column", () => {
  const rows = Array.from({ length: 20 }, (_, i) => Array.from({ length: D }, (_, j) => ((i * D + j) % 97) / 97).join(","));
  for (const bad of ["O.5", "NaN", "-inf", "0x1A", "0b1", "", "1,5"]) {
    const first = rows[0].split(",");
    first[2] = bad;
    const text = [first.join(","), ...rows.slice(1)].join("\n");
    if (bad === "NaN" || bad === "-inf") {
      // a number (not a finite one): read as data, and refused as input, naming the file
      assert.equal(decodeCsv(text).shape, [20, D]);
      const p = at(`bad-${bad}.csv`);
      writeFileSync(p, text);
      refused(run("energy", "--model", aePath, "--input", p), new RegExp(`bad-${bad}\\.csv: row 0, column 2 is (NaN|-Infinity) \\(counted from 0\\)`), bad, true);
      refused(run("train", "--data", p, "--labels", lPath.replace("l.npy", "l20.npy"), "--save", at("no.safetensors")), new RegExp(`bad-${bad}\\.csv: row 0, column 2 is`), `train ${bad}`, true);
      continue;
    }
    if (bad === "1,5") {
      assert.throws(() => decodeCsv(text, "b.csv"), /line 2 has 6 fields, expected 7/);
      continue;
    }
    assert.throws(() => decodeCsv(text, "b.csv"), (err: unknown) => err instanceof FormatError && /^b\.csv: line 1, column 3: /.test((err as Error).message), bad);
  }
  // an invalid UTF-8 byte
  const bytes = new TextEncoder().encode(rows.join("\n"));
  const broken = Uint8Array.from([...bytes.subarray(0, 3), 0xff, ...bytes.subarray(3)]);
  assert.throws(() => decodeCsv(broken, "u.csv"), /u\.csv: line 1, column 2: not valid UTF-8 text/);
  // 20 rows in, 20 energies out
  const p = at("twenty.csv");
  writeFileSync(p, rows.join("\n") + "\n");
  const res = run("energy", "--model", aePath, "--input", p);
  assert.is(res.code, 0, res.err);
  assert.is(res.out.trim().split("\n").length, 20);
  // a line of names is a header; --header drops any first line; a header then nothing is an error
  assert.equal(decodeCsv(`a,b,"c"\n1,2,3\n`).header, ["a", "b", "c"]);
  assert.equal(decodeCsv("x1,2,3\n1,2,3\n", "h", { header: true }).shape, [1, 3]);
  assert.throws(() => decodeCsv("1,2,3\n1,2,3\n".replace("1,2,3\n", "x1,2,3\n"), "h"), /line 1, column 1: "x1" is not a number/);
  assert.throws(() => decodeCsv("a,b\n", "h"), /a header line but no data rows/);
  const withHeader = at("named.csv");
  writeFileSync(withHeader, ["p0,p1,p2,p3,p4,p5", ...rows].join("\n"));
  assert.is(run("energy", "--model", aePath, "--input", withHeader).out.trim().split("\n").length, 20);
  const forced = at("forced.csv");
  writeFileSync(forced, rows.join("\n"));
  assert.is(run("energy", "--model", aePath, "--input", forced, "--header").out.trim().split("\n").length, 19);
});

test("labels: one finite column; class names distinct strings; --workers and --seed checked", () => {
  const nanLabels = at("nan-labels.npy");
  writeArray(nanLabels, { shape: [30], data: Float32Array.from({ length: 30 }, (_, i) => (i === 4 ? NaN : i % 3)) });
  refused(run("train", "--data", xPath, "--labels", nanLabels, "--save", at("no.safetensors")), /nan-labels\.npy: label 4 \(row 4 of the data\) must be an integer of magnitude below 16777216 \(2\^24\), not NaN/, "NaN label", true);
  for (const [name, values] of [["wide", [0, 16777216, 16777217]], ["fraction", [0, 1, 1.5]]] as const) {
    const path = at(`${name}-labels.npy`);
    writeFileSync(path, encodeNpy({ shape: [30], data: Float64Array.from({ length: 30 }, (_, i) => values[i % 3]) } as never));
    refused(run("train", "--data", xPath, "--labels", path, "--save", at("no.safetensors")), /label [12] \(row [12] of the data\) must be an integer of magnitude below 16777216/, `${name} labels`);
  }
  const wide = at("wide-labels.npy");
  writeArray(wide, { shape: [15, 2], data: new Float32Array(30) });
  refused(run("train", "--data", xPath, "--labels", wide, "--save", at("no.safetensors")), /labels must be one column \(shape \[N\] or \[N, 1\]\), not \[15, 2\]/, "(15, 2) labels");
  for (const [classes, pattern] of [
    ['["0","0","1"]', /label "0" appears twice \(at 0 and 1\)/],
    ['["0",["1"],"2"]', /label 1 is \["1"\], not a non-empty string/],
    ['["0","","2"]', /label 1 is an empty string/],
    ['["0",null,"2"]', /label 1 is an empty value/],
  ] as Array<[string, RegExp]>) {
    const aes = [0, 1, 2].map((i) => createAutoencoder(e, { D, H: 4, activation: "sigmoid", output: "real" }, i));
    const good = encodeCsae({ classes: ["a", "b", "c"], aes, C: new Float32Array(3) });
    const json = new TextDecoder().decode(good.subarray(8, 8 + Number(new DataView(good.buffer).getBigUint64(0, true))));
    const header = JSON.parse(json);
    header.__metadata__.classes = classes;
    const t = (name: string) => ({ shape: header[name].shape, data: new Float32Array(header[name].shape.reduce((a: number, b: number) => a * b, 1)) });
    const p = at("dup.safetensors");
    writeFileSync(p, encodeSafetensors({ W: t("W"), bh: t("bh"), br: t("br"), C: t("C") }, header.__metadata__));
    refused(run("evaluate", "--model", p, "--data", xPath, "--labels", lPath), pattern, classes);
  }
  assert.throws(() => encodeCsae({ classes: ["0", "0"], aes: [ae, ae], C: new Float32Array(2) }), /appears twice/);
  refused(run("train", "--data", xPath, "--labels", lPath, "--workers", "-1", "--save", at("no.safetensors")), /--workers must be a non-negative integer, not -1/, "workers -1");
  refused(run("train", "--data", xPath, "--labels", lPath, "--seed", "-1", "--save", at("no.safetensors")), /--seed must be an integer from 0 to 4294967295, not -1/, "seed -1");
  // Rows whose squared norm is beyond float32 would overflow the loss at once, and be blamed on the rate.
  writeArray(at("huge.npy"), { shape: [30, D], data: X.map((v, i) => (i === 3 * D + 2 ? 1e30 : v)) });
  refused(run("train-ae", "--data", at("huge.npy"), "--hidden", "2", "--save", at("no.safetensors")), /huge\.npy: row 3's squared norm 1\.00e\+60 is beyond float32's range: the loss of training on it overflows \(scale the data\)\n?$/, "huge rows (train-ae)");
  refused(run("train", "--data", at("huge.npy"), "--labels", lPath, "--hidden", "2", "--save", at("no.safetensors")), /training data: row 3's squared norm 1\.00e\+60 is beyond float32's range/, "huge rows (train)");
  refused(run("train", "--data", xPath, "--labels", lPath, "--lr", "--save", at("no.safetensors")), /--lr needs a value \(the next word, --save, is an option\)\n?$/, "a value forgotten");
  refused(run("train", "--data", xPath, "--labels", lPath, "--hidden", "4,4", "--valid-fraction", "0.2", "--save", at("no.safetensors")), /--hidden lists 4 twice \(in the list 4,4\)/, "a grid point twice");
  refused(run("train", "--data", xPath, "--labels", lPath, "--batch", "99999999999999999999", "--save", at("no.safetensors")), /--batch must be a positive integer, not 99999999999999999999 \(too large to count exactly\)/, "batch beyond 2^53");
  refused(run("train", "--data", xPath, "--labels", lPath, "--seed", "4294967296", "--save", at("no.safetensors")), /--seed must be an integer from 0 to 4294967295, not 4294967296\n?$/, "seed 2^32");
});

test("no option value hangs: the factored fitter checks its options like the plain one", () => {
  for (const args of [["--batch", "0"], ["--pretrain-epochs", "0"], ["--epochs", "0"], ["--factors", "0"], ["--lr", "0"], ["--momentum", "1"], ["--denoising", "1"]]) {
    const res = run("train", "--factored", "--data", xPath, "--labels", lPath, ...args, "--save", at("no.safetensors"));
    refused(res, new RegExp(`${args[0]} must be`), args.join(" "));
    assert.ok(res.ms < 20000, `${args.join(" ")} took ${res.ms} ms`);
  }
  refused(run("train", "--factored", "--contractive", "0.5", "--data", xPath, "--labels", lPath, "--save", at("no.safetensors")), /pretrained by denoising/, "factored contractive");
  refused(run("train-ae", "--data", xPath, "--epochs", "0", "--save", at("no.safetensors")), /--epochs must be an integer from 1 to 1000000, not 0/, "epochs 0");
  assert.not.ok(existsSync(at("no.safetensors")));
});

// ---- 2. data destroyed ---------------------------------------------------------------------------

test("an output that is one of the inputs is refused: the same path, a symbolic link, a hard link", () => {
  const input = at("keep.npy");
  writeArray(input, { shape: [30, D], data: X });
  const before = readFileSync(input);
  symlinkSync(input, at("sym.npy"));
  linkSync(input, at("hard.npy"));
  for (const out of [input, at("sym.npy"), at("hard.npy"), join(dir, ".", "keep.npy")]) {
    refused(run("energy", "--model", aePath, "--input", input, "--output", out), /is the same file as --input .*keep\.npy; writing it would destroy the input/, out);
    refused(run("train-ae", "--data", input, "--save", out, "--epochs", "1"), /is the same file as --data/, out);
    refused(run("predict", "--model", aePath, "--input", input, "--output", out), /is the same file as --input/, out);
  }
  refused(run("train-ae", "--data", input, "--save", aePath, "--init", aePath, "--epochs", "1", "--hidden", "4", "--activation", "tanh"), /is the same file as --init/, "init");
  assert.equal(readFileSync(input), before);
});

// ---- 3. memory -----------------------------------------------------------------------------------

test("gzip bombs, devices, directories and lying headers are refused without reading them whole", () => {
  const cases: Array<[string, Uint8Array | undefined, RegExp]> = [];
  // an IDX header declaring 10 rows of 6, then 200 MB of zeros: inflated only as far as declared + 1
  const idxHead = Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 10, 0, 0, 0, 6);
  cases.push(["bomb.idx.gz", gzipSync(Buffer.concat([idxHead, Buffer.alloc(200e6)])), /bomb\.idx\.gz: inflates to more than the 72 bytes its header declares/]);
  // an IDX header claiming 447 million rows of 784 (raw and compressed)
  const huge = Uint8Array.of(0, 0, 0x08, 2, 0x1a, 0xa4, 0x3b, 0x80, 0, 0, 3, 0x10);
  cases.push(["huge.idx", huge, /huge\.idx: holds \d+ values .* more than WebAssembly's 4 GiB/]);
  cases.push(["huge.idx.gz", gzipSync(huge), /huge\.idx\.gz: holds \d+ values .* more than WebAssembly's 4 GiB/]); // (off the header, before inflating)
  const npy = encodeNpy({ shape: [10, D], data: new Float32Array(10 * D) });
  cases.push(["bomb.npy.gz", gzipSync(Buffer.concat([npy, Buffer.alloc(100e6)])), /bomb\.npy\.gz: inflates to more than the 368 bytes its header declares/]);
  cases.push(["bomb.csv.gz", gzipSync(Buffer.alloc(600 * 2 ** 20, "1,")), /bomb\.csv\.gz: inflates to more than the 512\.0 MiB aescore reads from a compressed file/]);
  const results: string[] = [];
  for (const [name, bytes, pattern] of cases) {
    writeFileSync(at(name), bytes!);
    const res = run("energy", "--model", aePath, "--input", at(name));
    refused(res, pattern, name);
    results.push(name);
  }
  mkdirSync(at("adir.npy"));
  refused(run("energy", "--model", aePath, "--input", at("adir.npy")), /adir\.npy: is a directory, not a file/, "directory");
  refused(run("energy", "--model", "/dev/zero", "--input", xPath), /\/dev\/zero: is not a regular file/, "/dev/zero model");
  refused(run("info", "/dev/zero"), /\/dev\/zero: is not a regular file/, "/dev/zero info");
  symlinkSync("/dev/zero", at("zero.npy"));
  refused(run("energy", "--model", aePath, "--input", at("zero.npy")), /zero\.npy: is not a regular file/, "/dev/zero input");
  // a sparse file over 2 GiB (no disk used)
  const big = at("big.npy");
  const fd = openSync(big, "w");
  ftruncateSync(fd, 2 ** 31 + 10);
  closeSync(fd);
  refused(run("energy", "--model", aePath, "--input", big), /big\.npy: is 2\.0 GiB, more than the 2\.0 GiB aescore reads from one file \(Node's limit for one buffer\)/, "2 GiB");
  assert.equal(readArray(at("x.npy")).shape, [30, D]);
  // a gzipped array that is what it says is read
  writeFileSync(at("fine.npy.gz"), gzipSync(encodeNpy({ shape: [30, D], data: X })));
  assert.is(run("energy", "--model", aePath, "--input", at("fine.npy.gz")).code, 0);
});

test("the memory of a whole job is estimated before work; a job that cannot fit is refused with the figure", async () => {
  // hidden 60000 on 784 inputs, 10 classes in one instance: over 4 GiB
  const wide = at("wide784.npy");
  writeArray(wide, { shape: [20, 784], data: new Float32Array(20 * 784) });
  const labels10 = at("l10.npy");
  writeArray(labels10, { shape: [20], data: Float32Array.from({ length: 20 }, (_, i) => i % 10) });
  const res = run("train", "--data", wide, "--labels", labels10, "--hidden", "60000", "--workers", "0", "--save", at("no.safetensors"));
  refused(res, /memory: 10 classes of 60000 hidden units on 784 inputs need about [\d.]+ GiB in one WebAssembly instance, more than its 4 GiB: lower the hidden size or use more workers/, "60000");
  assert.ok(res.ms < 10000, `refused after ${res.ms} ms`);
  assert.throws(() => checkMemory({ D: 784, H: 10000, K: 10, N: 60000, B: 100, instances: 2, finetune: true }, 2 ** 30), /more than the 1\.0 GiB of free memory/);
  // The advice names what would fit: a huge minibatch, or huge factors, before the hidden size.
  assert.throws(() => checkMemory({ D: 784, H: 100, K: 1, N: 1e7, B: 1e7, instances: 1, finetune: false }), /: lower the batch size \(now 10000000\)$/);
  // A minibatch beyond the rows is one step over all of them: it needs no more than that.
  assert.equal(checkMemory({ D: 784, H: 100, K: 1, N: 1000, B: 1e7, instances: 1, finetune: true }), checkMemory({ D: 784, H: 100, K: 1, N: 1000, B: 1000, instances: 1, finetune: true }));
  assert.throws(() => checkMemory({ D: 784, H: 100, K: 10, N: 1000, B: 100, instances: 1, finetune: true, factors: 1e6 }), /: lower the factors \(now 1000000\)$/);
  // the estimate bounds what training really allocates (and not by more than a few times)
  for (const [Dd, H, B, N] of [[784, 100, 100, 500], [13, 7, 16, 60], [100, 300, 50, 200]]) {
    const eng = createEngineSync();
    const start = eng.top;
    const a = createAutoencoder(eng, { D: Dd, H, activation: "sigmoid", output: "binary" }, 1);
    const data = { shape: [N, Dd], data: new Float32Array(N * Dd).fill(0.5) };
    const o = { ...TRAIN_DEFAULTS, epochs: 1, batch: B, contractive: 0.1 };
    await trainAutoencoder(a, data, o, startState(a, o, rng(1)), { valid: data });
    alloc(eng, "probe", 0, 0);
    const used = eng.top - start;
    const est = estimateMemory({ D: Dd, H, K: 1, N, B, instances: 1, finetune: false }).instance;
    assert.ok(est >= used && est < 4 * used + 2 ** 20, `D ${Dd} H ${H}: estimate ${est}, used ${used}`);
  }
});

test("the library refuses a fit that cannot fit before any class trains, and gives back buffers that did not fit", async () => {
  const N = 20, Dd = 784;
  const X = { shape: [N, Dd], data: new Float32Array(N * Dd) };
  const labels = Array.from({ length: N }, (_, i) => String(i % 10));
  const t0 = performance.now();
  const err = await fitCsae(createEngineSync(), X, labels, { ...FIT_DEFAULTS, hidden: 60000, workers: 0, seed: 1 }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof InputError && /^memory: 10 classes of 60000 hidden units on 784 inputs need about [\d.]+ GiB in one WebAssembly instance/.test(err.message), String(err));
  assert.ok(performance.now() - t0 < 5000, "refused up front");
  // Step buffers of 400000 rows pass the first allocations and not the last: the arena is as it was.
  const eng = createEngineSync();
  const a = createAutoencoder(eng, { D: Dd, H: 10, activation: "sigmoid", output: "binary" }, 1);
  const top = eng.top;
  const o = { ...TRAIN_DEFAULTS, batch: 400000, denoising: 0.3 };
  assert.throws(() => startState(a, o, rng(1)), (err: unknown) => err instanceof InputError && /out of memory/.test(err.message));
  assert.is(eng.top, top);
  const small = { ...TRAIN_DEFAULTS, epochs: 1, batch: 10 };
  await trainAutoencoder(a, { shape: [N, Dd], data: new Float32Array(N * Dd).fill(0.5) }, small, startState(a, small, rng(1)));
});

test("a minibatch larger than the data is one step over every row: the same bits, no more memory", async () => {
  const N = 24, D = 5;
  const r = rng(3);
  const X = { shape: [N, D], data: Float32Array.from({ length: N * D }, () => r.uniform()) };
  const labels = Array.from({ length: N }, (_, i) => String(i % 2));
  const o = (batch: number): FitOptions => ({ ...FIT_DEFAULTS, hidden: 3, seed: 2, workers: 0,
    pretrain: { ...FIT_DEFAULTS.pretrain, epochs: 2, batch }, finetune: { ...FIT_DEFAULTS.finetune, epochs: 2, batch } });
  // (5e7 rows of step buffers would be several GiB: before the cut this ran out of WebAssembly memory)
  const huge = await fitCsae(createEngineSync(), X, labels, o(5e7));
  const exact = await fitCsae(createEngineSync(), X, labels, o(N));
  assert.equal(encodeCsae(huge), encodeCsae(exact));
  const p = at("batch-x.npy"), l = at("batch-l.npy");
  writeArray(p, X);
  writeArray(l, { shape: [N], data: Float32Array.from(labels, Number) });
  const res = run("train", "--data", p, "--labels", l, "--hidden", "3", "--pretrain-epochs", "1", "--epochs", "1", "--batch", "100000000", "--workers", "0", "--save", at("batch.safetensors"));
  assert.is(res.code, 0, res.err);
  const ae = run("train-ae", "--data", p, "--labels", l, "--hidden", "3", "--epochs", "1", "--batch", "100000000", "--workers", "2", "--save", at("batch-ae.safetensors"));
  assert.is(ae.code, 0, ae.err);
});

// ---- 4. errors that leak internals, and leftovers ------------------------------------------------

test("unwritable outputs and checkpoint directories are found before any work", () => {
  writeFileSync(at("plain.txt"), "x");
  const slow = ["train-ae", "--data", xPath, "--epochs", "100000", "--hidden", "50"];
  for (const [args, pattern] of [
    [["--save", join(at("plain.txt"), "m.safetensors")], /plain\.txt is not a directory/],
    [["--save", join(at("nowhere"), "m.safetensors")], /its directory .*nowhere does not exist/],
    [["--save", dir], /the model is a directory; give a file name/],
    [["--save", at("m.safetensors"), "--checkpoint", at("plain.txt")], /plain\.txt: cannot create the checkpoint directory \(a file is in the way\)/],
    [["--save", at("m.safetensors"), "--checkpoint", join(at("plain.txt"), "ck")], /cannot create the checkpoint directory/],
  ] as Array<[string[], RegExp]>) {
    const res = run(...slow, ...args);
    refused(res, pattern, args.join(" "));
    assert.ok(res.ms < 10000, `${args.join(" ")}: refused after ${res.ms} ms`);
  }
  if (process.getuid?.() !== 0) {
    const ro = at("readonly");
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    refused(run(...slow, "--save", join(ro, "m.safetensors")), /cannot write the model \(permission denied\)/, "read-only");
  }
  // What is at the output path: a pipe or device is refused; a symbolic link is written through (it
  // keeps pointing at the new file); a dangling one is refused.
  spawnSync("mkfifo", [at("fifo.npy")]);
  if (existsSync(at("fifo.npy"))) refused(run("energy", "--model", aePath, "--input", xPath, "--output", at("fifo.npy")), /exists and is not a regular file/, "fifo");
  refused(run(...slow, "--save", "/dev/zero"), /\/dev\/zero: the model exists and is not a regular file/, "/dev/zero");
  symlinkSync(join(dir, "missing", "e.npy"), at("dangling.npy"));
  refused(run("energy", "--model", aePath, "--input", xPath, "--output", at("dangling.npy")), /a symbolic link to nothing/, "dangling link");
  mkdirSync(at("real"));
  writeFileSync(at("real/e.npy"), "old");
  symlinkSync(at("real/e.npy"), at("link.npy"));
  const ok = run("energy", "--model", aePath, "--input", xPath, "--output", at("link.npy"));
  assert.is(ok.code, 0, ok.err);
  assert.ok(lstatSync(at("link.npy")).isSymbolicLink(), "the link is kept");
  assert.is(readArray(at("real/e.npy")).shape[0], readArray(xPath).shape[0], "its target holds the energies");
  refused(run("energy", "--model", aePath, "--input", xPath, "--output", at("e.idx")), /results are written as \.npy or \.csv/, "idx output");
  refused(run("energy", "--model", aePath, "--input", xPath, "--output", at("e.txt")), /e\.txt: results are written as \.npy or \.csv/, "txt output");
});

test("one-line answers for typos, with suggestions; two names for the two meanings of output", () => {
  refused(run("train", "--hiden", "3"), /unknown option --hiden; did you mean --hidden\?/, "hiden");
  refused(run("energy", "--modle", aePath), /unknown option --modle; did you mean --model\?/, "modle");
  refused(run("train-ae", "--output", "binary", "--data", xPath, "--save", at("no.safetensors")), /unknown option --output; did you mean --output-type\?/, "output");
  refused(run("train-ae", "--data", xPath, "--output-type", "bin", "--save", at("no.safetensors")), /--output-type must be one of real, binary, not bin; did you mean binary\?/, "bin");
  const cmd = run("trian");
  assert.is(cmd.code, 2);
  assert.match(cmd.err, /^aescore: unknown command "trian"; did you mean train\?/);
  assert.is(cmd.err.trim().split("\n").length, 1);
  refused(run("train-ae", "--data", xPath, "--seed", "-1", "--save", at("no.safetensors")), /--seed must be an integer from 0 to 4294967295, not -1/, "seed -1");
  refused(run("train-ae", "--data", xPath, "--lr", "0x10", "--save", at("no.safetensors")), /--lr must be a number > 0, not 0x10/, "hex");
  refused(run("train-ae", "--data", xPath, "--lr", "1e999", "--save", at("no.safetensors")), /--lr must be a number > 0, not 1e999/, "1e999");
  refused(run("train-ae", "--data", xPath, "--batch", "1.5", "--save", at("no.safetensors")), /--batch must be a positive integer, not 1\.5/, "1.5");
  refused(run("train-ae", "--data", xPath, "--batch", "", "--save", at("no.safetensors")), /--batch is empty/, "empty");
  refused(run("train-ae", "--data", xPath, "--batch"), /--batch needs a value/, "no value");
  refused(run("train-ae", "--data", xPath, "--quiet=yes"), /--quiet is a switch and takes no value/, "switch");
  refused(run("train-ae", "--data", xPath, "--data", xPath), /--data is given twice/, "twice");
  refused(run("energy", "--model", aePath, "--input", xPath, "stray"), /unexpected argument stray/, "stray");
  refused(run("reproduce", "start", "--quick"), /start has no quick configuration/, "start --quick");
  refused(run("reproduce", "tabel2"), /unknown experiment "tabel2"; did you mean table2\?/, "tabel2");
  refused(run("datasets", "generate", "convx", "--output", at("sets")), /unknown data set "convx"; did you mean convex\?/, "convx");
  // a model file whose metadata lacks a field says so in words
  const noAct = at("noact.safetensors");
  writeFileSync(noAct, encodeSafetensors({ W: { shape: [4, D], data: new Float32Array(4 * D) }, bh: { shape: [4], data: new Float32Array(4) }, br: { shape: [D], data: new Float32Array(D) } }, { format: "aescore", kind: "autoencoder", output: "real" }));
  refused(run("energy", "--model", noAct, "--input", xPath), /unknown activation nothing/, "no activation");
  const empty = at("empty.npy");
  writeArray(empty, { shape: [0, D], data: new Float32Array(0) });
  refused(run("energy", "--model", aePath, "--input", empty), /empty\.npy: holds no values \(shape \[0, 6\]\)/, "no rows");
});

test("temporary files of killed saves are removed at the next save of the same path", async () => {
  const target = at("t.npy");
  // a dead process's leftover (pid 2^22 + 1 is above Linux's default pid_max)
  const tag = `.aescore-${createHash("sha256").update("t.npy").digest("hex").slice(0, 12)}.`;
  const stale = join(dir, `${tag}${2 ** 22 + 1}-0.tmp`);
  writeFileSync(stale, "half");
  // Files of the user's that look like temporary files are not ours to remove.
  const mine = [`.t.npy.${2 ** 22 + 1}.tmp`, `.t.npy.2024-backup.tmp`, `${tag}${2 ** 22 + 1}-0.tmp.keep`, `${tag}12x-0.tmp`].map((n) => join(dir, n));
  for (const f of mine) writeFileSync(f, "unrelated");
  writeArray(target, { shape: [1], data: Float32Array.of(1) });
  assert.not.ok(existsSync(stale));
  for (const f of mine) assert.ok(existsSync(f), f);
  // a save killed mid-way leaves the target intact
  const big = at("big-save.mjs");
  writeFileSync(big, `import { writeAtomic } from ${JSON.stringify(new URL("../src/node.js", import.meta.url).href)};\nwriteAtomic(${JSON.stringify(target)}, new Uint8Array(2e9));\n`);
  const child = spawn(process.execPath, [big]);
  await new Promise((res) => setTimeout(res, 300));
  child.kill("SIGKILL");
  await new Promise((res) => child.on("exit", res));
  assert.equal(readArray(target).data, Float32Array.of(1));
  writeArray(target, { shape: [1], data: Float32Array.of(2) });
  assert.equal(readdirSync(dir).filter((n) => n.startsWith(tag) && n.endsWith(".tmp")), [`${tag}12x-0.tmp`]);
  // A 254-byte name (the most a file name holds, less one) can be written: the temporary name is short.
  const long = at(`${"n".repeat(250)}.npy`);
  writeArray(long, { shape: [1], data: Float32Array.of(3) });
  assert.equal(readArray(long).data, Float32Array.of(3));
  // A file nobody may write is not replaced by a command (checked up front, with the other output checks).
  const ro = at("read-only.npy");
  writeArray(ro, { shape: [1], data: Float32Array.of(4) });
  chmodSync(ro, 0o444);
  refused(run("energy", "--model", aePath, "--input", xPath, "--output", ro), /read-only\.npy: the output is read-only/, "read-only output");
  assert.equal(readArray(ro).data, Float32Array.of(4));
});

test("train --checkpoint: a resumed fit skips finished stages and saves the same bits; other options are refused", () => {
  const base = ["train", "--data", xPath, "--labels", lPath, "--hidden", "4", "--pretrain-epochs", "2", "--epochs", "2", "--workers", "0", "-q"];
  const plain = at("ck-plain.safetensors");
  const first = at("ck-first.safetensors");
  const again = at("ck-again.safetensors");
  const ck = at("ck");
  assert.is(run(...base, "--save", plain).code, 0);
  assert.is(run(...base, "--checkpoint", ck, "--save", first).code, 0);
  assert.equal(readdirSync(ck).filter((n) => n.endsWith(".safetensors")).sort(), ["class-0.safetensors", "class-1.safetensors", "class-2.safetensors", "finetune.safetensors"]);
  assert.is(run(...base, "--checkpoint", ck, "--resume", "--save", again).code, 0);
  assert.equal(readFileSync(first), readFileSync(plain));
  assert.equal(readFileSync(again), readFileSync(plain));
  refused(run(...base.map((a) => (a === "4" ? "5" : a)), "--checkpoint", ck, "--resume", "--save", again), /made with other options|a 4x\d+ sigmoid\/real model, not the 5-hidden sigmoid\/real one asked for/, "other H");
  // The factored model's stages are checkpointed too, in their own files.
  const factored = at("ck-factored.safetensors");
  const ckf = at("ckf");
  assert.is(run(...base, "--factored", "--factors", "3", "--save", factored).code, 0);
  assert.is(run(...base, "--factored", "--factors", "3", "--checkpoint", ckf, "--save", again).code, 0);
  assert.equal(readdirSync(ckf).filter((n) => n.endsWith(".safetensors")).sort(), ["factored.safetensors", "finetune.safetensors"]);
  assert.is(run(...base, "--factored", "--factors", "3", "--checkpoint", ckf, "--resume", "--save", again).code, 0);
  assert.equal(readFileSync(again), readFileSync(factored));
  refused(run(...base, "--resume", "--save", again), /--resume needs --checkpoint/, "resume alone");
});

test("library: energies of a model are what the CLI writes for CSV input (no row lost)", () => {
  const p = at("plain.csv");
  writeFileSync(p, Array.from({ length: 30 }, (_, i) => Array.from(X.subarray(i * D, (i + 1) * D)).join(",")).join("\n"));
  const out = at("plain-e.npy");
  assert.is(run("energy", "--model", aePath, "--input", p, "--output", out).code, 0);
  assert.equal(readArray(out).data, energy(ae, { shape: [30, D], data: X }));
  assert.throws(() => checkMemory({ D: 784, H: 500000, K: 1, N: 1, B: 1, instances: 1, finetune: false }), (err: unknown) => err instanceof InputError);
});

test("worker threads making one checkpoint directory at once do not collide (each class's job makes it)", async () => {
  // The write probe was named by the pid alone, which threads share: 4 threads got EEXIST thousands of times.
  const dir = mkdtempSync(join(tmpdir(), "aescore-race-"));
  const node = new URL("../src/node.js", import.meta.url).href;
  const body = `const { parentPort, workerData } = require("node:worker_threads");
    import(workerData.node).then(({ makeDir }) => {
      const errors = [];
      for (let i = 0; i < 300; i++) { try { makeDir(workerData.dir, "checkpoint directory"); } catch (e) { errors.push(e.message); } }
      parentPort.postMessage(errors);
    });`;
  const { Worker } = await import("node:worker_threads");
  const errors = (await Promise.all(Array.from({ length: 4 }, () => new Promise<string[]>((done, fail) => {
    const w = new Worker(body, { eval: true, workerData: { dir, node } });
    w.once("message", (m) => { done(m); void w.terminate(); });
    w.once("error", fail);
  })))).flat();
  assert.equal(errors.slice(0, 2), []);
  assert.equal(readdirSync(dir), [], "no probe left behind");
});

test("a file replaced atomically keeps its permissions (a private model calibrated in place became world-readable)", () => {
  const dir = mkdtempSync(join(tmpdir(), "aescore-mode-"));
  const path = join(dir, "priv.safetensors");
  writeFileSync(path, "old");
  chmodSync(path, 0o600);
  writeAtomic(path, "new");
  assert.equal([readFileSync(path, "utf8"), lstatSync(path).mode & 0o777], ["new", 0o600]);
  // The library's write keeps even a read-only mode (a checkpoint made under a umask without write
  // bits is rewritten every epoch); the commands refuse such an output up front (checkWritable).
  chmodSync(path, 0o444);
  writeAtomic(path, "newer");
  assert.equal([readFileSync(path, "utf8"), lstatSync(path).mode & 0o777], ["newer", 0o444]);
  assert.throws(() => checkWritable(path, "model"), /priv\.safetensors: the model is read-only \(no write permission\)/);
});


test("results too big to build are refused up front, and evaluate leaves out a confusion matrix of hundreds of classes", () => {
  // H = 2^16 hidden units of D = 1: a small file whose hidden units for 2^13 rows are 2^29 values.
  const wide = at("wide.safetensors");
  writeAtomic(wide, encodeAutoencoder(createAutoencoder(e, { D: 1, H: 2 ** 16, activation: "sigmoid", output: "real" }, 1)));
  const col = at("col.npy");
  writeArray(col, { shape: [2 ** 13, 1], data: new Float32Array(2 ** 13).fill(0.5) });
  refused(run("energy", "--model", wide, "--input", col, "--what", "hidden", "--output", at("h.npy")), /--what hidden: the result would hold 536870912 values, more than the 268435456 allowed for \.npy/, "hidden to .npy");
  refused(run("energy", "--model", wide, "--input", col, "--what", "hidden"), /more than the 33554432 allowed for CSV: score fewer rows at a time, or write \.npy/, "hidden to stdout");
  assert.not.ok(existsSync(at("h.npy")));
  // 101 classes of D = 1: the error rate, no 101 x 101 table.
  const K = 101;
  const aes = Array.from({ length: K }, (_, i) => createAutoencoder(e, { D: 1, H: 1, activation: "sigmoid", output: "real" }, i));
  const many = at("many.safetensors");
  writeAtomic(many, encodeCsae({ classes: aes.map((_, i) => String(i)), aes, C: new Float32Array(K) }));
  writeArray(at("x1.npy"), { shape: [K, 1], data: Float32Array.from({ length: K }, (_, i) => i / K) });
  writeArray(at("l1.npy"), { shape: [K], data: Float32Array.from({ length: K }, (_, i) => i) });
  const ev = run("evaluate", "--model", many, "--data", at("x1.npy"), "--labels", at("l1.npy"));
  assert.is(ev.code, 0, ev.err);
  assert.match(ev.out, /^error rate: \d+\.\d\d% \(\d+ of 101\)\n\(no confusion matrix: 101 classes, more than 100\)\n$/);
});

test("errors name the right file and bound, and nothing is made before the options are checked", () => {
  writeArray(at("v7.npy"), { shape: [30, 7], data: new Float32Array(210) });
  refused(run("train", "--data", xPath, "--labels", lPath, "--valid", at("v7.npy"), "--valid-labels", lPath, "--hidden", "3", "--save", at("v.safetensors")), /v7\.npy: 7 columns, the training data .*x\.npy 6\n?$/, "valid columns");
  refused(run("train-ae", "--data", xPath, "--hidden", "4", "--blocks", "5", "--save", at("b.safetensors")), /--blocks must be an integer from 1 to 4 \(the 4 hidden units\), not 5\n?$/, "blocks");
  refused(run("train-ae", "--data", xPath, "--blocks", "65", "--save", at("b.safetensors")), /--blocks must be an integer from 1 to 64, not 65\n?$/, "blocks beyond the most");
  refused(run("train", "--data", xPath, "--labels", lPath, "--hidden", "8,4", "--valid-fraction", "0.2", "--blocks", "5", "--save", at("b.safetensors")), /--blocks must be an integer from 1 to 4 \(the 4 hidden units\), not 5\n?$/, "blocks of the smallest hidden size");
  refused(run("train", "--data", xPath, "--labels", lPath, "--factored", "--batch", "4", "--blocks", "5", "--save", at("b.safetensors")), /--blocks must be an integer from 1 to 4 \(the 4 rows of a minibatch, --batch\), not 5\n?$/, "factored blocks");
  refused(run("datasets", "frob"), /^aescore datasets: usage: aescore datasets generate </, "subcommand");
  refused(run("train-ae", "--data", xPath, "--patience", "2", "--save", at("p.safetensors")), /--patience needs validation rows \(--valid-fraction\)/, "patience without validation");
  refused(run("train", "--data", xPath, "--labels", lPath, "--patience", "2", "--save", at("p.safetensors")), /--patience needs validation data/, "patience without validation (train)");
  refused(run("train-ae", "--data", xPath, "--activation", "kmeans", "--save", at("k.safetensors")), /--activation must be one of sigmoid, .*sync, not kmeans\n?$/, "kmeans is not offered");
  refused(run("train-ae", "--data", xPath, "--checkpoint", xPath, "--save", at("c.safetensors")), /x\.npy: cannot create the checkpoint directory \(a file is in the way\)\n?$/, "checkpoint on an input file");
  const fig = at("fig-none");
  refused(run("figure", "energy-surface", "--output", fig, "--epochs", "1000000001"), /--epochs must be an integer from 1 to 1000000, not 1000000001/, "figure epochs");
  assert.not.ok(existsSync(fig), "no directory made");
  // A model holding NaN is named as the cause, not the row it scored.
  const broken = createAutoencoder(e, { D, H: 4, activation: "tanh", output: "real" }, 3);
  broken.bh.data[2] = NaN;
  assert.throws(() => energy(broken, { shape: [30, D], data: X }), (err: Error) => err instanceof InputError && /^the model is broken: its bh holds values that are not finite numbers$/.test(err.message));
});

test("datasets generate all reads every background image before it writes a set", () => {
  // A copy of the package whose last background image is missing: the MNIST sets come first in "all",
  // so reading the images lazily would have written them before failing.
  const root = at("pkg");
  const here = fileURLToPath(new URL("../../", import.meta.url));
  cpSync(join(here, "dist"), join(root, "dist"), { recursive: true });
  cpSync(join(here, "src", "datasets", "backgrounds"), join(root, "src", "datasets", "backgrounds"), { recursive: true, filter: (f) => !f.endsWith("text.pgm") });
  symlinkSync(join(here, "node_modules"), join(root, "node_modules"));
  const out = at("sets-all");
  const r = spawnSync(process.execPath, [join(root, "dist", "src", "cli", "main.js"), "datasets", "generate", "all", "--output", out, "--scale", "0.01"], { encoding: "utf8", timeout: 60000 });
  refused({ code: r.status ?? -1, out: r.stdout, err: r.stderr, ms: 0 }, /text\.pgm/, "missing background");
  assert.not.ok(existsSync(out), "nothing written");
});

test("datasets generate and figure check every file they will write before any work, and write a set all or none", () => {
  // A directory where the last set's mosaic goes: refused before the first set is generated.
  const out = at("sets-blocked");
  mkdirSync(join(out, "convex-samples.png"), { recursive: true });
  refused(run("datasets", "generate", "all", "--output", out, "--scale", "0.002"), /convex-samples\.png: the convex file is a directory; give a file name\n?$/, "directory in the way");
  assert.equal(readdirSync(out), ["convex-samples.png"], "no set written");
  // A read-only file and a pipe are refused, not replaced.
  const ro = at("sets-ro");
  mkdirSync(ro);
  writeFileSync(join(ro, "rectangles.json"), "mine\n");
  chmodSync(join(ro, "rectangles.json"), 0o444);
  refused(run("datasets", "generate", "rectangles", "--output", ro, "--scale", "0.002"), /rectangles\.json: the rectangles file is read-only/, "read-only file");
  assert.is(readFileSync(join(ro, "rectangles.json"), "utf8"), "mine\n");
  const fig = at("fig-blocked");
  mkdirSync(join(fig, "energy.png"), { recursive: true });
  const t0 = Date.now();
  refused(run("figure", "energy-surface", "--output", fig, "--epochs", "1000000"), /energy\.png: the figure is a directory; give a file name\n?$/, "figure file in the way");
  assert.ok(Date.now() - t0 < 20000, "refused before training");
  assert.equal(readdirSync(fig), ["energy.png"], "no picture written");
  // A report that cannot be written is refused before the experiment starts.
  const res = at("results-blocked");
  mkdirSync(join(res, "quick", "fig2.md"), { recursive: true });
  refused(run("reproduce", "fig2", "--quick", "--results", res), /fig2\.md: the report is a directory; give a file name\n?$/, "report in the way");
  assert.equal(readdirSync(join(res, "quick")), ["fig2.md"], "nothing computed");
});

test("writeAllAtomic leaves none of its files changed when one cannot be written", () => {
  const d = at("all-or-none");
  mkdirSync(d);
  writeFileSync(join(d, "a.txt"), "old a");
  mkdirSync(join(d, "b.txt"));
  assert.throws(() => writeAllAtomic([[join(d, "a.txt"), "new a"], [join(d, "b.txt"), "new b"]]), (err: Error) => err instanceof InputError && /b\.txt: cannot write \(a directory is in the way\)$/.test(err.message));
  assert.is(readFileSync(join(d, "a.txt"), "utf8"), "old a");
  assert.equal(readdirSync(d).sort(), ["a.txt", "b.txt"], "no temporary file left");
  writeAllAtomic([[join(d, "a.txt"), "new a"], [join(d, "c.txt"), "c"]]);
  assert.is(readFileSync(join(d, "a.txt"), "utf8") + readFileSync(join(d, "c.txt"), "utf8"), "new ac");
});

test.run();
