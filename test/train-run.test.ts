// Training runs: learning on real digits, determinism, class-parallel agreement, checkpoints and
// kill-and-resume, bad input.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEngineSync } from "../src/engine/engine.js";
import { createAutoencoder, type AutoencoderSpec } from "../src/model/autoencoder.js";
import { trainAutoencoder, startState, TRAIN_DEFAULTS, type TrainOptions } from "../src/train/autoencoder.js";
import { trainClasses, type ClassJob } from "../src/train/parallel.js";
import { loadMnist, writeArray, readBytes } from "../src/node.js";
import { decodeSafetensors } from "../src/formats/safetensors.js";
import { rng } from "../src/random.js";
import { sameBits } from "./util.js";
import { InputError } from "../src/errors.js";

const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "aescore-train-"));
const mnist = loadMnist("test");

/** The first n test digits of class c, (n, 784). */
function digits(c: number, n: number): { shape: number[]; data: Float32Array } {
  const out = new Float32Array(n * 784);
  let k = 0;
  for (let i = 0; i < mnist.labels.length && k < n; i++) {
    if (mnist.labels[i] === c) out.set(mnist.images.data.subarray(i * 784, (i + 1) * 784), 784 * k++);
  }
  return { shape: [n, 784], data: out };
}

const hash = (...arrays: Float32Array[]): string => {
  const h = createHash("sha256");
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest("hex");
};

async function train(spec: AutoencoderSpec, data: { shape: number[]; data: Float32Array }, o: Partial<TrainOptions>, seed: number) {
  const e = createEngineSync();
  const r = rng(seed);
  const ae = createAutoencoder(e, spec, r);
  const opts = { ...TRAIN_DEFAULTS, ...o };
  const state = await trainAutoencoder(ae, data, opts, startState(ae, opts, r));
  return { ae, state, hash: hash(ae.W.data, ae.bh.data, ae.br.data) };
}

test("the loss falls on real MNIST digits of one class (contractive and denoising)", async () => {
  const threes = digits(3, 400);
  for (const o of [{ contractive: 0.5 }, { denoising: 0.25 }]) {
    const { state } = await train({ D: 784, H: 50, activation: "sigmoid", output: "real" }, threes, { ...o, epochs: 6 }, 1);
    const first = state.history[0].loss;
    const last = state.history.at(-1)!.loss;
    assert.ok(last < 0.6 * first, `${JSON.stringify(o)}: loss ${first} -> ${last}`);
  }
  const { state } = await train({ D: 784, H: 50, activation: "tanh", output: "binary" }, threes, { contractive: 0.1, epochs: 6 }, 2);
  assert.ok(state.history.at(-1)!.loss < 0.8 * state.history[0].loss);
});

test("same seed and data give bit-identical weights; another seed does not", async () => {
  const data = digits(5, 200);
  const spec: AutoencoderSpec = { D: 784, H: 30, activation: "softplus", output: "binary" };
  const o = { denoising: 0.3, epochs: 3, batch: 32, weightDecay: 1e-4, renormalize: 2 };
  const a = await train(spec, data, o, 7);
  const b = await train(spec, data, o, 7);
  const c = await train(spec, data, o, 8);
  assert.is(a.hash, b.hash);
  assert.is.not(a.hash, c.hash);
  // renormalization holds every filter at the chosen norm
  for (let k = 0; k < 30; k++) {
    let s = 0;
    for (let j = 0; j < 784; j++) s += a.ae.W.data[k * 784 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - 2) < 1e-5, `filter ${k} norm ${Math.sqrt(s)}`);
  }
});

test("class-parallel training on workers is bit-identical to training in one thread", async () => {
  const spec: AutoencoderSpec = { D: 784, H: 20, activation: "sigmoid", output: "real" };
  const jobs: ClassJob[] = [0, 1, 2].map((c) => ({ index: c, label: String(c), data: digits(c, 150), valid: digits(c, 170) }));
  const o = { ...TRAIN_DEFAULTS, contractive: 0.3, epochs: 3 };
  const serial = await trainClasses(spec, o, jobs, { seed: 11, workers: 0 });
  const parallel = await trainClasses(spec, o, jobs, { seed: 11, workers: 2 });
  for (let i = 0; i < 3; i++) {
    assert.is(hash(parallel[i].W, parallel[i].bh, parallel[i].br), hash(serial[i].W, serial[i].bh, serial[i].br), `class ${i}`);
    assert.equal(parallel[i].history, serial[i].history);
  }
});

test("validation keeps the best epoch and patience stops early", async () => {
  const data = digits(7, 200);
  const valid = digits(7, 260);
  const e = createEngineSync();
  const r = rng(3);
  const ae = createAutoencoder(e, { D: 784, H: 20, activation: "sigmoid", output: "real" }, r);
  // A learning rate this high oscillates, so the validation loss stops improving.
  const o = { ...TRAIN_DEFAULTS, epochs: 40, lr: 0.5, momentum: 0.9, patience: 2 };
  const state = await trainAutoencoder(ae, data, o, startState(ae, o, r), { valid });
  assert.ok(state.stopped, "stopped early");
  assert.ok(state.epoch < 40);
  assert.is(state.epoch - state.best!.epoch, 2);
  assert.ok(state.history.every((h) => h.valid! >= state.best!.valid));
  assert.equal(Array.from(ae.W.data.subarray(0, 5)), Array.from(state.best!.params.W.subarray(0, 5)));
});

// The CLI on small files, and SIGKILL in the middle of a checkpointed run.
const X = digits(2, 300);
const xPath = join(dir, "x.npy");
writeArray(xPath, X);
const ARGS = ["train-ae", "--data", xPath, "--hidden", "40", "--contractive", "0.3", "--epochs", "60", "--seed", "5", "--quiet"];

test("killed with SIGKILL and resumed, a run ends bit-identical to an uninterrupted one", async () => {
  const straight = join(dir, "straight.safetensors");
  assert.is(spawnSync(process.execPath, [cli, ...ARGS, "--save", straight]).status, 0);
  const ck = join(dir, "ck");
  const resumed = join(dir, "resumed.safetensors");
  const child = spawn(process.execPath, [cli, ...ARGS, "--save", resumed, "--checkpoint", ck]);
  const file = join(ck, "class-0.safetensors");
  // Kill it once a checkpoint from the third epoch on exists.
  const killedAt = await new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      if (!existsSync(file)) return;
      let epoch = 0;
      try {
        epoch = Number(decodeSafetensors(readBytes(file)).metadata.epoch);
      } catch {
        return; // never a torn file (atomic rename), but be safe
      }
      if (epoch >= 3) {
        clearInterval(poll);
        child.kill("SIGKILL");
        resolve(epoch);
      }
    }, 2);
    child.on("exit", () => {
      clearInterval(poll);
      reject(new Error("the run ended before it could be killed"));
    });
  });
  await new Promise((r) => child.on("exit", r));
  assert.is(child.signalCode, "SIGKILL");
  assert.ok(killedAt < 60);
  assert.not.ok(existsSync(resumed));
  const res = spawnSync(process.execPath, [cli, ...ARGS, "--save", resumed, "--checkpoint", ck, "--resume"]);
  assert.is(res.status, 0, String(res.stderr));
  assert.equal(readFileSync(resumed), readFileSync(straight));
  // Resuming with other options is refused.
  const other = spawnSync(process.execPath, [cli, ...ARGS.map((a) => (a === "0.3" ? "0.4" : a)), "--save", resumed, "--checkpoint", ck, "--resume"], { encoding: "utf8" });
  assert.is(other.status, 2);
  assert.match(other.stderr, /made with other options \(contractive 0.3 then, 0.4 now\); only the number of epochs may change on resume/);
});

test("train-ae: --init starts from given weights; --labels trains a csae, --class one autoencoder", () => {
  const m0 = join(dir, "m0.safetensors");
  assert.is(spawnSync(process.execPath, [cli, "train-ae", "--data", xPath, "--hidden", "8", "--epochs", "1", "--quiet", "--save", m0]).status, 0);
  // One epoch at a rate far below W's rounding leaves W bit for bit as --init gave it (another seed
  // would have drawn other weights).
  const same = join(dir, "same.safetensors");
  assert.is(spawnSync(process.execPath, [cli, "train-ae", "--data", xPath, "--hidden", "8", "--epochs", "1", "--lr", "1e-30", "--seed", "99", "--init", m0, "--quiet", "--save", same]).status, 0);
  assert.ok(sameBits(decodeSafetensors(readBytes(same)).tensors.W.data, decodeSafetensors(readBytes(m0)).tensors.W.data));

  const n = 240;
  const rows = new Float32Array(n * 784);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    rows.set(digits(i % 3, 80).data.subarray(Math.floor(i / 3) * 784, Math.floor(i / 3 + 1) * 784), i * 784);
  }
  writeArray(join(dir, "xl.npy"), { shape: [n, 784], data: rows });
  writeArray(join(dir, "l.npy"), { shape: [n], data: labels });
  const base = [cli, "train-ae", "--data", join(dir, "xl.npy"), "--labels", join(dir, "l.npy"), "--hidden", "10", "--epochs", "2", "--quiet"];
  const csae = join(dir, "csae.safetensors");
  assert.is(spawnSync(process.execPath, [...base, "--save", csae]).status, 0);
  const { tensors, metadata } = decodeSafetensors(readBytes(csae));
  assert.is(metadata.kind, "csae");
  assert.is(metadata.classes, '["0","1","2"]');
  assert.equal(tensors.W.shape, [3, 10, 784]);
  assert.ok(tensors.C.data.every((c) => Number.isFinite(c) && c !== 0));
  const one = join(dir, "one.safetensors");
  assert.is(spawnSync(process.execPath, [...base, "--class", "1", "--save", one]).status, 0);
  const single = decodeSafetensors(readBytes(one));
  assert.is(single.metadata.kind, "autoencoder");
  // the same class, the same seed: the same autoencoder as inside the csae
  assert.equal(Array.from(single.tensors.W.data), Array.from(tensors.W.data.subarray(10 * 784, 20 * 784)));
  const missing = spawnSync(process.execPath, [...base, "--class", "7", "--save", one], { encoding: "utf8" });
  assert.match(missing.stderr, /class "7" does not occur in .*l\.npy \(classes: "0", "1", "2"\)/);
  // Starting from the csae with labels of only two of its classes would save a classifier without the third.
  writeArray(join(dir, "l2.npy"), { shape: [n], data: labels.map((c) => c % 2) });
  const two = spawnSync(process.execPath, [...base.map((a) => (a === join(dir, "l.npy") ? join(dir, "l2.npy") : a)), "--init", csae, "--save", join(dir, "two.safetensors")], { encoding: "utf8" });
  assert.is(two.status, 2, two.stderr);
  assert.match(two.stderr, /csae\.safetensors: has class "2" that the labels do not: the classifier saved would lose it \(give labels of every class, or --class c to retrain one\)\n$/);
  assert.is(spawnSync(process.execPath, [...base.map((a) => (a === join(dir, "l.npy") ? join(dir, "l2.npy") : a)), "--init", csae, "--class", "1", "--save", join(dir, "two.safetensors")]).status, 0, "--class: one of them");
});

test("bad input: a clear error before any work starts", async () => {
  const nan = X.data.slice();
  nan[5 * 784 + 100] = NaN;
  const nanPath = join(dir, "nan.npy");
  writeArray(nanPath, { shape: X.shape, data: nan });
  const labels = join(dir, "labels.npy");
  writeArray(labels, { shape: [299], data: new Float32Array(299) });
  const save = join(dir, "never.safetensors");
  const cases: Array<[string[], RegExp]> = [
    [["--data", nanPath], /nan\.npy: row 5, column 100 is NaN/],
    [["--data", xPath, "--labels", labels], /labels\.npy: 299 labels for 300 data rows/],
    [["--data", xPath, "--hidden", "0"], /--hidden must be a positive integer, not 0/],
    [["--data", xPath, "--activation", "gelu"], /--activation must be one of sigmoid, .*, not gelu/],
    [["--data", xPath, "--contractive", "0.1", "--denoising", "0.2"], /the contractive penalty or denoising, not both/],
    [["--data", xPath, "--lr", "fast"], /--lr must be a number > 0, not fast/],
    [["--data", xPath, "--resume"], /--resume needs --checkpoint/],
  ];
  for (const [args, pattern] of cases) {
    const r = spawnSync(process.execPath, [cli, "train-ae", ...args, "--save", save], { encoding: "utf8" });
    assert.is(r.status, 2, args.join(" "));
    assert.match(r.stderr, pattern);
  }
  assert.not.ok(existsSync(save));
  const empty = await train({ D: 784, H: 10, activation: "sigmoid", output: "real" }, { shape: [0, 784], data: new Float32Array(0) }, {}, 1).then(() => undefined, (e: unknown) => e);
  assert.ok(empty instanceof InputError && /no training rows/.test(empty.message));
});

test.run();
