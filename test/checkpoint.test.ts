// Checkpoints of every trainer on the epoch driver: a fit stopped in the middle of any stage (plain or
// factored pretraining, finetuning, on this thread or on workers) and resumed from its checkpoints
// gives the same bits as a fit never stopped; a changed option or data set is refused, a changed
// number of epochs is not; damaged checkpoint files are refused with one line.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEngineSync } from "../src/engine/engine.js";
import { fit, FIT_DEFAULTS, type FitOptions } from "../src/train/fit.js";
import { decodeModel, encodeModel } from "../src/model/files.js";
import { decodeCheckpoint, encodeCheckpoint } from "../src/train/checkpoint.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "../src/formats/safetensors.js";
import { rng } from "../src/random.js";
import { AescoreError } from "../src/errors.js";

const root = mkdtempSync(join(tmpdir(), "aescore-ck-"));
let dirs = 0;
const newDir = () => {
  const d = join(root, `run-${dirs++}`);
  mkdirSync(d);
  return d;
};

// Three classes of 6-dim blobs, 30 rows each, and a validation set.
function blobs(n: number, seed: number) {
  const r = rng(seed);
  const D = 6;
  const X = new Float32Array(n * 3 * D);
  const labels: string[] = [];
  for (let i = 0; i < n * 3; i++) {
    const c = i % 3;
    for (let j = 0; j < D; j++) X[i * D + j] = 0.2 + 0.6 * r.uniform() * (j % 3 === c ? 1 : 0.3);
    labels.push(["a", "b", "c"][c]);
  }
  return { X: { shape: [n * 3, D], data: X }, labels };
}
const train = blobs(30, 1);
const valid = blobs(10, 2);

const base = (o: Partial<FitOptions> = {}): FitOptions => ({
  ...FIT_DEFAULTS, hidden: 5, seed: 3, workers: 0, valid,
  pretrain: { ...FIT_DEFAULTS.pretrain, epochs: 4, batch: 8, lr: 0.05 },
  finetune: { ...FIT_DEFAULTS.finetune, epochs: 5, batch: 8, lr: 0.05, decay: 3, patience: 4 },
  ...o,
});

class Stop extends Error {}

/** Fits, throwing (as a crash would) once `stage` reports epoch `at`; returns the model's bytes if it finished. */
async function fitBytes(o: FitOptions, stop?: { stage: "pretrain" | "finetune"; at: number }): Promise<Uint8Array | undefined> {
  const halt = (stage: string) => (_l: unknown, r?: { epoch: number }) => {
    const rep = (r ?? _l) as { epoch: number };
    if (stop && stop.stage === stage && rep.epoch === stop.at) throw new Stop();
  };
  try {
    const m = await fit(createEngineSync(), train.X, train.labels, { ...o, onPretrain: (l, r) => halt("pretrain")(l, r), onFinetune: (r) => halt("finetune")(r) });
    return encodeModel(m);
  } catch (err) {
    if (err instanceof Stop) return undefined;
    throw err;
  }
}

/** Resuming from `dir` is refused with one line that matches every pattern. */
async function refusedOnResume(o: FitOptions, dir: string, what: string, ...patterns: RegExp[]): Promise<void> {
  try {
    await fitBytes({ ...o, checkpoint: { dir, resume: true } });
    assert.unreachable(what);
  } catch (err) {
    assert.instance(err, AescoreError, what);
    for (const p of patterns) assert.match((err as Error).message, p, `${what}: ${(err as Error).message}`);
    assert.not.match((err as Error).message, /\n/, what);
  }
}

async function stoppedAndResumed(o: FitOptions, stage: "pretrain" | "finetune", at: number): Promise<{ dir: string; bytes: Uint8Array }> {
  const dir = newDir();
  const stopped = await fitBytes({ ...o, checkpoint: { dir, resume: false } }, { stage, at });
  assert.is(stopped, undefined, "the run was stopped");
  const bytes = await fitBytes({ ...o, checkpoint: { dir, resume: true } });
  return { dir, bytes: bytes! };
}

for (const [name, o] of [
  ["plain CSAE, this thread", base()],
  ["plain CSAE, two workers", base({ workers: 2 })],
  ["factored CSAE", base({ factors: 4, pretrain: { ...base().pretrain, contractive: 0, denoising: 0.25 } })],
] as const) {
  test(`${name}: stopped in pretraining or finetuning and resumed, the same bits as never stopped`, async () => {
    const whole = (await fitBytes(o))!;
    for (const [stage, at] of [["pretrain", 3], ["finetune", 1], ["finetune", 4]] as const) {
      const { dir, bytes } = await stoppedAndResumed(o, stage, at);
      assert.ok(Buffer.from(bytes).equals(Buffer.from(whole)), `${name}: stopped in ${stage} epoch ${at}`);
      const files = readdirSync(dir).sort();
      assert.ok(files.includes("finetune.safetensors"), files.join());
      assert.ok(files.includes(o.factors ? "factored.safetensors" : "class-0.safetensors"), files.join());
    }
  });
}

test("only the number of epochs may change on resume: more finetuning epochs continue the same run", async () => {
  const o = base({ finetune: { ...base().finetune, patience: 0 } });
  const dir = newDir();
  await fitBytes({ ...o, finetune: { ...o.finetune, epochs: 2 }, checkpoint: { dir, resume: false } });
  const longer = await fitBytes({ ...o, checkpoint: { dir, resume: true } });
  assert.ok(Buffer.from(longer!).equals(Buffer.from((await fitBytes(o))!)));
  for (const [what, changed] of [
    ["finetuning lr", { ...o, finetune: { ...o.finetune, lr: 0.04 } }],
    ["seed", { ...o, seed: 4 }],
  ] as const) {
    try {
      await fitBytes({ ...changed, checkpoint: { dir, resume: true } });
      assert.unreachable(what);
    } catch (err) {
      assert.instance(err, AescoreError, what);
      assert.match((err as Error).message, /made with other options/, what);
      assert.not.match((err as Error).message, /\n/);
    }
  }
  // Fewer epochs than the checkpoint holds would return the longer run under the shorter name.
  try {
    await fitBytes({ ...o, finetune: { ...o.finetune, epochs: 1 }, checkpoint: { dir, resume: true } });
    assert.unreachable("fewer epochs");
  } catch (err) {
    assert.match((err as Error).message, /finetune\.safetensors: \d+ epochs are done, more than the 1 asked for: ask for \d+ or more, or start again without resuming$/);
  }
  const other = blobs(30, 7);
  try {
    await fit(createEngineSync(), other.X, other.labels, { ...o, checkpoint: { dir, resume: true } });
    assert.unreachable("other data");
  } catch (err) {
    assert.match((err as Error).message, /made from other data/);
  }
});

test("more pretraining epochs on resume: pretraining goes on and finetuning starts again, the same bits as never stopped", async () => {
  // (no validation rows: with them pretraining keeps its best validation epoch, which here came early)
  for (const o of [base({ valid: undefined }), base({ valid: undefined, factors: 4, pretrain: { ...base().pretrain, contractive: 0, denoising: 0.25 } })]) {
    const dir = newDir();
    const done = await fitBytes({ ...o, checkpoint: { dir, resume: false } });
    assert.ok(done, "the first run finished");
    const longer = { ...o, pretrain: { ...o.pretrain, epochs: o.pretrain.epochs + 2 } };
    const resumed = (await fitBytes({ ...longer, checkpoint: { dir, resume: true } }))!;
    const whole = (await fitBytes(longer))!;
    assert.ok(Buffer.from(resumed).equals(Buffer.from(whole)), `${o.factors ? "factored" : "plain"}: the resumed run equals an uninterrupted one`);
    assert.not.ok(Buffer.from(resumed).equals(Buffer.from(done)), "not the first run's model");
  }
});

test("damaged pretraining checkpoints (plain and factored) are refused with one line naming the file", async () => {
  for (const [o, name, drop, reshape] of [
    [base(), "class-0.safetensors", "bh", "br"],
    [base({ factors: 4, pretrain: { ...base().pretrain, contractive: 0, denoising: 0.25 } }), "factored.safetensors", "Wf", "Bh"],
  ] as const) {
    const dir = newDir();
    assert.is(await fitBytes({ ...o, checkpoint: { dir, resume: false } }, { stage: "pretrain", at: 3 }), undefined);
    const file = join(dir, name);
    // (re-encoded without the checksum, as files of before it, to reach each check)
    const { tensors, metadata: { checksum: _, ...metadata } } = decodeSafetensors(readFileSync(file));
    const without = (k: string) => Object.fromEntries(Object.entries(tensors).filter(([n]) => n.split("/").pop() !== k));
    // A parameter's value, velocity and kept best (those the file has) under another name, or another value.
    const every = (of: string, as: string, value?: Tensor) => Object.fromEntries(["", "velocity/", "best/"].filter((p) => tensors[p + of]).map((p) => [p + as, value ?? tensors[p + of]]));
    const t = tensors[reshape];
    const wrong = { shape: [t.data.length, 1], data: t.data };
    for (const [what, bytes, message] of [
      [`no ${drop}`, encodeSafetensors(without(drop), metadata), /holds tensors/],
      // Names that join to the same list ("bh,br" for bh and br), and one that is an object's prototype key.
      [`${drop} and ${reshape} as one name`, encodeSafetensors({ ...without(drop), ...every(reshape, `${drop},${reshape}`) }, metadata), /holds tensors/],
      ["an extra __proto__", encodeSafetensors(Object.assign(Object.create(null), tensors, every(drop, "__proto__")), metadata), /holds tensors .*__proto__/],
      [`${reshape} reshaped`, encodeSafetensors({ ...tensors, ...every(reshape, reshape, wrong) }, metadata), new RegExp(`${reshape} is \\[${t.data.length}, 1\\], the model's is`)],
    ] as const) {
      writeFileSync(file, bytes);
      await refusedOnResume(o, dir, what, message, new RegExp(name.replace(".", "\\.")));
    }
  }
});

/** bytes with the lowest bit of byte i flipped. */
function flipped(bytes: Uint8Array, i: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[i] ^= 1;
  return out;
}

test("damaged checkpoints are refused with one line naming the file", async () => {
  const o = base();
  const dir = newDir();
  await fitBytes({ ...o, checkpoint: { dir, resume: false } });
  const file = join(dir, "finetune.safetensors");
  const good = readFileSync(file);
  const c = decodeCheckpoint(good, file, "finetune");
  assert.is(c.trainer, "finetune");
  assert.ok(c.velocities.C instanceof Float64Array, "C's velocity is kept in float64");
  // The cases below are re-encoded without the checksum (as files of before it), to reach each check.
  const { tensors, metadata: { checksum, ...metadata } } = decodeSafetensors(good);
  assert.match(checksum, /^[0-9a-f]{8}$/);
  const without = (...names: string[]) => Object.fromEntries(Object.entries(tensors).filter(([k]) => !names.includes(k)));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["another trainer's", encodeSafetensors(tensors, { ...metadata, trainer: "train" }), /a checkpoint of "train", not of "finetune"/],
    ["a missing velocity", encodeSafetensors(without("velocity/W0"), metadata), /velocity\/W0 is missing/],
    ["a missing class", encodeSafetensors(without("W2", "velocity/W2", "best/W2"), metadata), /holds tensors/],
    ["a stray velocity", encodeSafetensors({ ...tensors, "velocity/Q": tensors.C ?? tensors.W0 }, metadata), /tensor velocity\/Q belongs to no parameter Q/],
    ["a bad generator state", encodeSafetensors(tensors, { ...metadata, rng: "[1,2]" }), /rng is not a generator state/],
    ["an epoch count beyond its history", encodeSafetensors(tensors, { ...metadata, epoch: "999999999" }), /history is not one record per epoch of the 999999999 done/],
    ["a history of other records", encodeSafetensors(tensors, { ...metadata, history: JSON.stringify([null, 1, "x"].slice(0, c.epoch)) }), /history is not one record per epoch/],
    ["a bad C velocity", encodeSafetensors(tensors, { ...metadata, "velocity/C": "[1]" }), /velocity\/C is not 3 finite numbers/],
    ["a reshaped W", encodeSafetensors({ ...tensors, W1: { shape: [6, 5], data: tensors.W1.data }, "velocity/W1": { shape: [6, 5], data: tensors.W1.data }, "best/W1": { shape: [6, 5], data: tensors.W1.data } }, metadata), /W1 is \[6, 5\]/],
    ["a truncated file", good.subarray(0, good.length - 9), /finetune\.safetensors/],
    // A bit flipped in a weight, or the metadata edited, under the checksum: refused, not resumed into other bits.
    ["a flipped bit", flipped(good, good.length - 4 * 7), /finetune\.safetensors: its contents do not match its checksum \(changed or damaged since it was written\): start again without resuming/],
    ["an edited counter", encodeSafetensors(tensors, { ...metadata, stale: "1", checksum }), /its contents do not match its checksum/],
  ];
  for (const [what, bytes, message] of cases) {
    writeFileSync(file, bytes);
    await refusedOnResume(o, dir, what, message);
  }
  // The codec round-trips a checkpoint exactly.
  assert.ok(Buffer.from(encodeCheckpoint(c)).equals(Buffer.from(good)));
  // Opened as a model, a checkpoint says what it is.
  assert.throws(() => decodeModel(createEngineSync(), good, "ck.safetensors"), /ck\.safetensors: a training checkpoint, not a model: go on from it with --checkpoint DIR --resume/);
});

test.run();
