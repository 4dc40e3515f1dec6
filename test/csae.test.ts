// The classifier on real MNIST digits: finetuning helps, the variants work, workers agree bit for bit,
// classes can be added, and the command line trains, predicts and evaluates.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEngineSync } from "../src/engine/engine.js";
import { fitCsae, addClass, selectCsae, FIT_DEFAULTS, type FitOptions } from "../src/train/fit.js";
import { predict, predictProba, encodeCsae, decodeCsae, classEnergies, type Csae } from "../src/model/csae.js";
import { encodeAutoencoder } from "../src/model/autoencoder.js";
import { loadMnist, writeArray, writeAtomic, readArray } from "../src/node.js";
import { InputError, ShapeError, FormatError } from "../src/errors.js";
import { sameBits } from "./util.js";

const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "aescore-csae-"));
const mnist = loadMnist("test");
const slice = (a: number, b: number, keep?: (label: number) => boolean) => {
  const idx = Array.from({ length: b - a }, (_, i) => a + i).filter((i) => !keep || keep(mnist.labels[i]));
  const X = new Float32Array(idx.length * 784);
  idx.forEach((n, i) => X.set(mnist.images.data.subarray(n * 784, (n + 1) * 784), i * 784));
  return { X: { shape: [idx.length, 784], data: X }, labels: idx.map((n) => String(mnist.labels[n])) };
};
const train = slice(0, 2000);
const valid = slice(2000, 2500);
const testSet = slice(5000, 7000);
const e = createEngineSync();
const error = (m: Csae, d: typeof testSet) => predict(m, d.X).filter((l, i) => l !== d.labels[i]).length / d.labels.length;
async function rejects(p: Promise<unknown>, type: Function, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type && pattern.test((err as Error).message), (err as Error).message);
    return;
  }
  assert.unreachable("no error");
}
const base: FitOptions = { ...FIT_DEFAULTS, hidden: 50, seed: 1, workers: 2, valid, finetune: { ...FIT_DEFAULTS.finetune, epochs: 8 } };

test("finetuning beats the pretrained-only model and the reconstruction-error baseline", async () => {
  // pretrained only: the autoencoders frozen, only C learned
  const pretrained = await fitCsae(e, train.X, train.labels, { ...base, variant: "normalization" });
  const baseline = await fitCsae(e, train.X, train.labels, { ...base, variant: "reconstruction" });
  const tuned = await fitCsae(e, train.X, train.labels, base);
  const [p, r, t] = [error(pretrained, testSet), error(baseline, testSet), error(tuned, testSet)];
  assert.ok(t < p && t < r, `finetuned ${t}, pretrained only ${p}, reconstruction error ${r}`);
  assert.ok(t < 0.12, `finetuned error ${t}`);
  // probabilities are a distribution and agree with predict
  const P = predictProba(tuned, { shape: [5, 784], data: testSet.X.data.subarray(0, 5 * 784) });
  for (let n = 0; n < 5; n++) assert.ok(Math.abs(P.subarray(n * 10, n * 10 + 10).reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

test("every variant trains and classifies far better than chance", async () => {
  for (const variant of ["hinge", "normalization", "energies", "no-pretraining"] as const) {
    const m = await fitCsae(e, train.X, train.labels, { ...base, variant, workers: 0 });
    const err = error(m, testSet);
    assert.ok(err < 0.3, `${variant}: error ${err}`);
    const back = decodeCsae(e, encodeCsae(m), "m");
    assert.equal(predict(back, valid.X), predict(m, valid.X), `${variant} survives save and load`);
  }
});

test("finetuning on 1, 2 or 3 workers is bit-identical to one thread", async () => {
  const small = slice(0, 600);
  const o: FitOptions = { ...base, hidden: 20, valid: slice(600, 700), pretrain: { ...base.pretrain, epochs: 2 }, finetune: { ...base.finetune, epochs: 3 } };
  const bytes = await Promise.all([0, 1, 2, 3].map(async (workers) => encodeCsae(await fitCsae(e, small.X, small.labels, { ...o, workers }))));
  for (let w = 1; w < 4; w++) assert.ok(Buffer.from(bytes[w]).equals(Buffer.from(bytes[0])), `${w} workers`);
});

test("addClass: a new class learns its constant; the other autoencoders stay bit-identical", async () => {
  const noNines = slice(0, 2000, (l) => l !== 9);
  const m = await fitCsae(e, noNines.X, noNines.labels, { ...base, valid: undefined, workers: 0 });
  const before = encodeCsae(m);
  const nines = slice(2000, 5000, (l) => l === 9);
  const others = slice(2000, 3000, (l) => l !== 9);
  const m2 = await addClass(e, m, "9", nines.X, { pretrain: base.pretrain, seed: 1, others });
  assert.equal(m2.classes, [...m.classes, "9"]);
  for (let i = 0; i < m.aes.length; i++) {
    assert.ok(sameBits(m2.aes[i].W.data, m.aes[i].W.data) && sameBits(m2.aes[i].bh.data, m.aes[i].bh.data) && sameBits(m2.aes[i].br.data, m.aes[i].br.data), `class ${m.classes[i]}`);
  }
  assert.ok(sameBits(m2.C.subarray(0, 9), m.C));
  assert.ok(Buffer.from(encodeCsae(m)).equals(Buffer.from(before)), "the original model is untouched");
  const nineTest = slice(5000, 7000, (l) => l === 9);
  const recall = predict(m2, nineTest.X).filter((l) => l === "9").length / nineTest.labels.length;
  assert.ok(recall > 0.7, `new class recall ${recall}`);
  assert.ok(error(m2, testSet) < 0.2, `error with the new class ${error(m2, testSet)}`);
  await rejects(addClass(e, m, "3", nines.X, { pretrain: base.pretrain, seed: 1 }), InputError, /already has a class "3"/);
});

test("clear errors: mismatched labels, unknown classes, a model of the wrong kind", async () => {
  await rejects(fitCsae(e, train.X, train.labels.slice(1), base), ShapeError, /1999 labels for 2000 data rows/);
  await rejects(fitCsae(e, train.X, train.labels.map(() => "7"), base), InputError, /at least two classes/);
  await rejects(fitCsae(e, train.X, train.labels, { ...base, variant: "bagging" as never }), InputError, /unknown variant "bagging"/);
  await rejects(fitCsae(e, train.X, train.labels, { ...base, valid: { X: valid.X, labels: valid.labels.map((l) => (l === "4" ? "four" : l)) } }), InputError, /validation labels: row \d+ has label "four", not one of the classes/);
  const m = decodeCsae(e, encodeCsae(await fitCsae(e, slice(0, 300).X, slice(0, 300).labels, { ...base, hidden: 5, valid: undefined, workers: 0, pretrain: { ...base.pretrain, epochs: 1 }, finetune: { ...base.finetune, epochs: 1 } })), "m");
  assert.throws(() => decodeCsae(e, encodeAutoencoder(m.aes[0]), "ae.safetensors"), (err: unknown) => err instanceof FormatError && /ae\.safetensors: is a "autoencoder" model, not "csae"/.test((err as Error).message));
  assert.equal(classEnergies(m, { shape: [1, 784], data: train.X.data.subarray(0, 784) }).shape, [1, 10]);
});

test("model selection scores each grid point on the validation rows, then refits the best on train + valid", async () => {
  const small = slice(0, 500);
  const v = slice(500, 700);
  const seen: number[] = [];
  const { best, results, model } = await selectCsae(e, small, v, { hidden: [4, 16], lr: [0.003], weightDecay: [0, 1e-3] },
    { ...base, workers: 0, pretrain: { ...base.pretrain, epochs: 2 }, finetune: { ...base.finetune, epochs: 2 } }, (r) => seen.push(r.validError));
  assert.is(results.length, 4);
  assert.equal(seen, results.map((r) => r.validError));
  assert.is(best.validError, Math.min(...seen));
  assert.is(model.aes[0].H, best.hidden);
});

test("the command line trains, predicts and evaluates", () => {
  const x = join(dir, "x.npy");
  const l = join(dir, "l.npy");
  const small = slice(0, 1000);
  writeArray(x, small.X);
  writeArray(l, { shape: [1000], data: Float32Array.from(small.labels, Number) });
  const model = join(dir, "m.safetensors");
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  const t = run("train", "--data", x, "--labels", l, "--hidden", "20", "--pretrain-epochs", "2", "--epochs", "2", "--valid-fraction", "0.1", "--quiet", "--save", model);
  assert.is(t.status, 0, t.stderr);
  const p = run("predict", "--model", model, "--input", x);
  assert.is(p.status, 0, p.stderr);
  const predicted = p.stdout.trim().split("\n");
  assert.is(predicted.length, 1000);
  const ev = run("evaluate", "--model", model, "--data", x, "--labels", l);
  assert.is(ev.status, 0, ev.stderr);
  const wrong = predicted.filter((v, i) => v !== small.labels[i]).length;
  assert.match(ev.stdout, new RegExp(`error rate: ${((100 * wrong) / 1000).toFixed(2)}% \\(${wrong} of 1000\\)`));
  assert.match(ev.stdout, /confusion matrix/);
  const proba = join(dir, "p.npy");
  assert.is(run("predict", "--model", model, "--input", x, "--proba", "--output", proba).status, 0);
  assert.equal(readArray(proba).shape, [1000, 10]);
  const fac = join(dir, "f.safetensors");
  const f = run("train", "--data", x, "--labels", l, "--factored", "--factors", "20", "--hidden", "20", "--pretrain-epochs", "2", "--epochs", "2", "--quiet", "--save", fac);
  assert.is(f.status, 0, f.stderr);
  assert.is(run("evaluate", "--model", fac, "--data", x, "--labels", l).status, 0);
  const bad = run("evaluate", "--model", model, "--data", x, "--labels", join(dir, "missing.npy"));
  assert.is(bad.status, 2);
  const ae = join(dir, "ae.safetensors");
  writeAtomic(ae, encodeAutoencoder(decodeCsae(e, readFileSync(model), model).aes[0]));
  const wrongKind = run("predict", "--model", ae, "--input", x);
  assert.is(wrongKind.status, 2);
  assert.match(wrongKind.stderr, /is an autoencoder model, not a classifier/);
  // A .npy of labels is int32: every integer label comes back as it was ("16777217" too, which
  // float32 would round); labels written otherwise ("0x10", "1e3", "01", "-0") or beyond int32 are refused.
  const csae = decodeCsae(e, readFileSync(model), model);
  const named = (classes: string[]) => {
    const path = join(dir, `named-${classes.length}-${classes[0].length}.safetensors`);
    writeAtomic(path, encodeCsae({ ...csae, aes: csae.aes.slice(0, classes.length), C: csae.C.slice(0, classes.length), classes }));
    return path;
  };
  const asInt = join(dir, "pi.npy");
  const ints = run("predict", "--model", named(["16777217", "-3", "2147483647"]), "--input", x, "--output", asInt);
  assert.is(ints.status, 0, ints.stderr);
  const written = readFileSync(asInt);
  assert.match(written.subarray(0, 128).toString("latin1"), /'descr': '<i4'.*'shape': \(1000,\)/);
  const body = new Int32Array(written.buffer.slice(written.byteOffset + written.length - 4000, written.byteOffset + written.length));
  const byText = run("predict", "--model", named(["16777217", "-3", "2147483647"]), "--input", x).stdout.trim().split("\n");
  assert.equal(Array.from(body, String), byText);
  assert.ok(byText.includes("16777217") || byText.includes("2147483647") || byText.includes("-3"));
  for (const odd of ["2147483648", "0x10", "1e3", "01", "-0"]) {
    const r = run("predict", "--model", named([odd, "1", "2"]), "--input", x, "--output", join(dir, "pn.npy"));
    assert.is(r.status, 2, odd);
    assert.match(r.stderr, new RegExp(`label "${odd}" is not an integer that \\.npy's int32 holds: write \\.csv`), odd);
  }
  const commas = run("predict", "--model", named(["a,b", 'say "x"', "c"]), "--input", x);
  assert.is(commas.status, 0, commas.stderr);
  const cells = commas.stdout.trim().split("\n");
  assert.is(cells.length, 1000);
  assert.ok(cells.every((c) => ['"a,b"', '"say ""x"""', "c"].includes(c)), cells.slice(0, 3).join(" "));
});

test.run();
