// The worker pool (src/train/threads.ts): a run hands its workers back and the next run starts on
// them, with the same bits; a failed run's workers are ended, not reused; idle workers never keep a
// process alive and end by themselves.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { trainClasses, idleThreads, endIdleThreads, IDLE_MS } from "../src/train/parallel.js";
import { threads } from "../src/train/threads.js";
import { TRAIN_DEFAULTS } from "../src/train/autoencoder.js";
import { DivergenceError } from "../src/train/driver.js";
import { createEngineSync } from "../src/engine/engine.js";
import { fit, FIT_DEFAULTS } from "../src/train/fit.js";
import { encodeModel } from "../src/model/files.js";
import { rng } from "../src/random.js";
import { sameBits } from "./util.js";

const D = 11;
const H = 6;
const r = rng(7);
const X = { shape: [60, D], data: Float32Array.from({ length: 60 * D }, () => r.uniform()) };
const spec = { D, H, activation: "sigmoid", output: "binary" } as const;
const o = { ...TRAIN_DEFAULTS, epochs: 2, batch: 10, lr: 0.05, contractive: 0.2 };
const jobs = [0, 1, 2].map((index) => ({ index, label: String(index), data: { shape: [20, D], data: X.data.subarray(index * 20 * D, (index + 1) * 20 * D) } }));

test("a run's workers serve the next runs (class-parallel, one model in blocks, finetuning), with the same bits", async () => {
  endIdleThreads();
  const alone = await trainClasses(spec, o, jobs, { seed: 1, workers: 0 });
  const first = await trainClasses(spec, o, jobs, { seed: 1, workers: 2 });
  assert.is(idleThreads(), 2);
  const again = await trainClasses(spec, o, jobs, { seed: 1, workers: 2 });
  assert.is(idleThreads(), 2, "the second run started no new worker and handed both back");
  for (const run of [first, again]) run.forEach((c, k) => assert.ok(sameBits(c.W, alone[k].W) && sameBits(c.br, alone[k].br), `class ${k}`));
  const blocked = { ...o, blocks: 3 };
  const [one] = await trainClasses(spec, blocked, jobs.slice(0, 1), { seed: 1, workers: 0 });
  const [two] = await trainClasses(spec, blocked, jobs.slice(0, 1), { seed: 1, workers: 2 });
  assert.ok(sameBits(one.W, two.W), "one model in blocks on reused workers");
  // Finetuning's workers hold classes ("slots"); handed back, they free them and train jobs again.
  const labels = Array.from({ length: 60 }, (_, i) => String(i % 3));
  const fo = { ...FIT_DEFAULTS, hidden: H, seed: 3, pretrain: { ...FIT_DEFAULTS.pretrain, epochs: 2, batch: 10 }, finetune: { ...FIT_DEFAULTS.finetune, epochs: 2, batch: 10 } };
  const m0 = encodeModel(await fit(createEngineSync(), X, labels, { ...fo, workers: 0 }));
  for (let i = 0; i < 2; i++) {
    const m2 = encodeModel(await fit(createEngineSync(), X, labels, { ...fo, workers: 2 }));
    assert.ok(Buffer.from(m2).equals(Buffer.from(m0)), `fit ${i + 1} on reused workers`);
  }
  assert.is(idleThreads(), 2);
});

test("a failed run's workers are ended, and the next run starts new ones", async () => {
  await trainClasses(spec, o, jobs, { seed: 1, workers: 2 });
  assert.is(idleThreads(), 2);
  try {
    await trainClasses(spec, { ...o, lr: 1e30 }, jobs, { seed: 1, workers: 2 });
    assert.unreachable("diverged");
  } catch (err) {
    assert.instance(err, DivergenceError);
  }
  assert.is(idleThreads(), 0, "the failed run's workers were not handed back");
  const alone = await trainClasses(spec, o, jobs, { seed: 1, workers: 0 });
  const after = await trainClasses(spec, o, jobs, { seed: 1, workers: 2 });
  after.forEach((c, k) => assert.ok(sameBits(c.W, alone[k].W), `class ${k}`));
});

test("idle workers keep no process alive and end by themselves", async () => {
  const parallel = fileURLToPath(new URL("../src/train/parallel.js", import.meta.url));
  const script = `
    const { trainClasses, idleThreads } = await import(${JSON.stringify(parallel)});
    const X = { shape: [40, 5], data: new Float32Array(200).map((_, i) => (i % 7) / 7) };
    const job = (index) => ({ index, label: String(index), data: X });
    await trainClasses({ D: 5, H: 3, activation: "sigmoid", output: "binary" }, { epochs: 1, batch: 10, lr: 0.01, momentum: 0.9, weightDecay: 0, contractive: 0, denoising: 0, renormalize: 0, patience: 0 }, [job(0), job(1)], { seed: 1, workers: 2 });
    console.log("idle " + idleThreads());
    globalThis.t0 = Date.now();
    process.on("exit", () => console.log("exit after " + (Date.now() - globalThis.t0) + " ms"));
  `;
  const dir = mkdtempSync(join(tmpdir(), "aescore-threads-"));
  writeFileSync(join(dir, "run.mjs"), script);
  const res = spawnSync(process.execPath, [join(dir, "run.mjs")], { encoding: "utf8", timeout: 30000 });
  assert.is(res.status, 0, res.stderr);
  assert.ok(/idle 2/.test(res.stdout), `stdout: ${res.stdout} stderr: ${res.stderr}`);
  const ms = Number(/exit after (\d+) ms/.exec(res.stdout)?.[1]);
  assert.ok(ms < IDLE_MS / 2, `the process lived ${ms} ms after its run (idle workers held it)`);
  // In a process that stays, they end after IDLE_MS.
  await trainClasses(spec, o, jobs, { seed: 1, workers: 2 });
  assert.is(idleThreads(), 2);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS + 300));
  assert.is(idleThreads(), 0);
});

test("a worker whose last message failed without a reply is ended, not handed back; a used-up handle refuses messages", async () => {
  endIdleThreads();
  const spawn = (await threads())!;
  const url = new URL("../src/train/worker.js", import.meta.url);
  const errors: string[] = [];
  const t = spawn(url, { message: (m) => void (m.type === "error" && errors.push(m.message)), error: () => {} });
  t.post({ type: "step", g: new Float32Array(1), o: {} }); // no reply expected; fails in the worker (no classes)
  await t.release();
  await new Promise((resolve) => setTimeout(resolve, 300)); // the worker's "idle" answer is long in by now
  assert.is(idleThreads(), 0, "an unclean worker was handed back");
  assert.throws(() => t.post({ type: "idle" }), /used after its run handed it back/);
  // The next run starts a new worker, which answers.
  let t2: ReturnType<typeof spawn> | undefined;
  const answer = await new Promise<unknown>((resolve, reject) => {
    t2 = spawn(url, { message: (m) => resolve(m.value), error: reject });
    t2.post({ type: "idle" });
    setTimeout(() => reject(new Error("no answer in 5 s")), 5000).unref();
  });
  assert.is(answer, "idle");
  t2!.terminate();
  endIdleThreads();
});

test.run();
