// Class-parallel training: K autoencoders, one per class, on worker threads (Node's worker_threads in
// Node, Deno and Bun; module Web Workers in browsers; see threads.ts) with one WebAssembly instance per
// worker. Each class has its own generator, seeded from (seed, class index), so a class's result does
// not depend on which worker trains it or how many there are: the same bits as training the classes
// one after another in this thread (which is what runs where there are no threads, e.g. workerd).

import { threads, cores, canShare, type Spawn, type Thread } from "./threads.js";

export { endIdleThreads, idleThreads, IDLE_MS } from "./threads.js";
import { abort, exchangeBuffers, exchangeOf, type ExchangeBuffers } from "./replicas.js";
import { compiledBuild, createEngineSync, mark, release, type Engine } from "../engine/engine.js";
import { checkInput, checkTrainingRows, checkSpec, createAutoencoder, type AutoencoderSpec } from "../model/autoencoder.js";
import { train, startState, aeCheckpoint, aeFromCheckpoint, checkTrainOptions, type TrainOptions } from "./autoencoder.js";
import type { EpochReport } from "./driver.js";
import { checkResumable, decodeCheckpoint, encodeCheckpoint, fingerprint, type Checkpoint } from "./checkpoint.js";
import { classSeed, rng, type Rng } from "../random.js";

export { classSeed };
import { AescoreError, FormatError, InputError, RowError, ShapeError } from "../errors.js";
import type { Tensor } from "../tensor.js";
import { DivergenceError, stepRows } from "./driver.js";
import type { Params, ClassGroups, FinetuneOptions } from "./finetune.js";
import type { ParamState } from "./params.js";

export type { Params };

export interface ClassJob {
  index: number;
  label: string;
  data: Tensor;
  valid?: Tensor;
  /** Start from these weights instead of a random initialization. */
  init?: Params;
}

export interface ClassResult extends Params {
  index: number;
  history: Array<{ epoch: number; loss: number; valid?: number }>;
  bestEpoch?: number;
}

export interface RunOptions {
  /** Worker threads; 0 trains in this thread. Default: one per core, at most one per class. */
  workers?: number;
  seed: number;
  /** Save a checkpoint per class here after every epoch (atomically). */
  checkpointDir?: string;
  /** Continue from the checkpoints in checkpointDir where they exist. */
  resume?: boolean;
  onEpoch?: (job: { index: number; label: string }, r: EpochReport) => void;
  /** Set by runReplicas for each worker of one model: its place and the shared exchange. */
  replica?: { w: number; workers: number; buffers: ExchangeBuffers };
}

/** Trains one class's autoencoder in engine e: the same function in the main thread and in workers. */
export async function runJob(
  e: Engine, spec: AutoencoderSpec, o: TrainOptions, job: ClassJob, run: Omit<RunOptions, "workers" | "onEpoch">,
  onEpoch?: (r: EpochReport) => void,
): Promise<ClassResult> {
  const top = mark(e);
  try {
    const files = run.checkpointDir ? await checkpointFiles(run.checkpointDir, run.resume) : undefined;
    const data = files ? fingerprint(job.data, job.valid) : ""; // (a pass over every byte: only for checkpoints)
    const name = `class-${job.index}.safetensors`;
    const file = files?.path(name) ?? name;
    const bytes = run.resume ? files?.read(name) : undefined;
    const replica = run.replica;
    const exchange = replica && exchangeOf(replica.buffers, replica.w, replica.workers, o.blocks ?? 1);
    let ae;
    let state;
    if (bytes) {
      const saved = decodeCheckpoint(bytes, file, "train");
      checkResumable(saved, { ...o }, data, file);
      ({ ae, state } = aeFromCheckpoint(e, spec, o, saved, file, exchange, job.data.shape[0]));
    } else {
      const r: Rng = rng(classSeed(run.seed, job.index));
      ae = createAutoencoder(e, spec, r);
      if (job.init) {
        ae.W.data.set(job.init.W);
        ae.bh.data.set(job.init.bh);
        ae.br.data.set(job.init.br);
      }
      state = startState(ae, o, r, exchange, job.data.shape[0]);
    }
    const model = ae;
    const lead = !replica || replica.w === 0; // of replicas, one reports and saves
    await train(ae, job.data, o, state, {
      valid: job.valid,
      onEpoch: lead ? onEpoch : undefined,
      checkpoint: files && lead ? (s) => files.write(name, encodeCheckpoint(aeCheckpoint(model, s, o, data))) : undefined,
    });
    return {
      index: job.index,
      W: ae.W.data.slice(),
      bh: ae.bh.data.slice(),
      br: ae.br.data.slice(),
      history: state.history,
      bestEpoch: state.best?.epoch,
    };
  } finally {
    release(e, top);
  }
}

const ERRORS: Record<string, new (message: string) => Error> = { InputError, ShapeError, FormatError, AescoreError };

/** An error a worker posted, as the class it was thrown as (so callers can tell a divergence by its type). */
type Fields = { what: string; epoch: number; loss: number; lr: number; param?: string } & { where: string; row: number; detail: string };

function rebuildError(m: { name: string; message: string; stack?: string; fields?: Fields }): Error {
  if (m.name === "DivergenceError" && m.fields) return new DivergenceError(m.fields.what, m.fields.epoch, m.fields.loss, m.fields.lr, m.fields.param);
  if (m.name === "RowError" && m.fields) return new RowError(m.fields.where, m.fields.row, m.fields.detail);
  const E = ERRORS[m.name];
  return E ? new E(m.message) : new Error(m.stack ?? m.message);
}

/**
 * Trains every job's autoencoder, in parallel on worker threads; results in job order. Options and
 * data are checked first, before any work.
 */
export function trainClasses(spec: AutoencoderSpec, o: TrainOptions, jobs: ClassJob[], run: RunOptions): Promise<ClassResult[]> {
  checkSpec(spec);
  checkTrainOptions(spec, o);
  for (const job of jobs) {
    if (checkTrainingRows(checkInput(spec, job.data, `class ${job.label} data`), `class ${job.label} data`).shape[0] === 0) throw new InputError(`train: class ${job.label} has no training rows`);
    if (job.valid) checkInput(spec, job.valid, `class ${job.label} validation data`);
  }
  return runClasses(spec, o, jobs, run);
}

/** trainClasses on options and data already checked (fit checks everything once, up front). */
export async function runClasses(spec: AutoencoderSpec, o: TrainOptions, jobs: ClassJob[], run: RunOptions): Promise<ClassResult[]> {
  const spawn = await threads();
  const asked = spawn ? (run.workers ?? (await cores())) : 0;
  const blocks = o.blocks ?? 1;
  if (jobs.length === 1 && blocks > 1 && asked > 1 && canShare()) return [await replicaJob(spawn!, spec, o, jobs[0], run, Math.min(asked, blocks))];
  const workers = Math.min(asked, jobs.length);
  const { onEpoch, workers: _w, ...shared } = run;
  if (workers <= 0) {
    const e = createEngineSync();
    const out: ClassResult[] = [];
    for (const job of jobs) out.push(await runJob(e, spec, o, job, shared, (r) => onEpoch?.(job, r)));
    return out;
  }
  const results: ClassResult[] = new Array(jobs.length);
  const queue = jobs.map((_, i) => i);
  const wasm = compiledBuild(); // the workers run this thread's compiled build
  const url = new URL("./worker.js", import.meta.url);
  const pool: Thread[] = [];
  let failed = false;
  try {
    await new Promise<void>((resolve, reject) => {
      let done = 0;
      const fail = (err: Error) => {
        failed = true;
        reject(err);
      };
      const next = (w: Thread) => {
        const i = queue.shift();
        if (i === undefined || failed) return;
        const { index, label, data, valid, init } = jobs[i];
        w.post({ type: "job", slot: i, spec, options: o, run: shared, job: { index, label, data, valid, init }, wasm });
      };
      for (let k = 0; k < workers; k++) {
        const w: Thread = spawn!(url, {
          message(m) {
            if (failed) return;
            if (m.type === "epoch") {
              // A progress callback that throws stops the run (as it would in this thread), not the process.
              try {
                onEpoch?.(jobs[m.slot], m.report);
              } catch (err) {
                fail(err as Error);
              }
            } else if (m.type === "done") {
              results[m.slot] = m.result;
              if (++done === jobs.length) resolve();
              else next(w);
            } else if (m.type === "error") {
              fail(rebuildError(m));
            }
          },
          error: fail,
        });
        pool.push(w);
        next(w);
      }
    });
  } finally {
    // Ended from here (not by a message asking a worker to close its port: Deno's has no close());
    // after a failure a worker may still be busy.
    await Promise.all(pool.map((w) => (failed ? w.terminate() : w.release())));
  }
  return results;
}

/** A copy of a tensor in shared memory (the rows every replica reads). */
export function shareRows(t: Tensor): Tensor {
  const data = new Float32Array(new SharedArrayBuffer(t.data.byteLength));
  data.set(t.data);
  return { shape: t.shape, data };
}

/**
 * One model on n workers (see replicas.ts): `message(w)` starts replica w (every replica trains the
 * same model and swaps its blocks' gradients through `buffers`); the first worker reports and saves,
 * and its result is the run's.
 */
export async function runReplicas<R>(
  spawn: Spawn, n: number, buffers: ExchangeBuffers, message: (w: number) => unknown, onEpoch?: (r: EpochReport) => void,
): Promise<R> {
  const url = new URL("./worker.js", import.meta.url);
  const pool: Thread[] = [];
  let failed = false;
  try {
    return await new Promise<R>((resolve, reject) => {
      let done = 0;
      let result: R | undefined;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        abort(buffers.sync); // the others stop at their next barrier instead of waiting for ever
        reject(err);
      };
      for (let w = 0; w < n; w++) {
        const t = spawn(url, {
          message(m) {
            if (failed) return;
            if (m.type === "epoch") {
              try {
                onEpoch?.(m.report);
              } catch (err) {
                fail(err as Error);
              }
            } else if (m.type === "done") {
              if (w === 0) result = m.result;
              if (++done === n) resolve(result!);
            } else if (m.type === "error") {
              fail(rebuildError(m));
            }
          },
          error: fail,
        });
        pool.push(t);
        t.post(message(w));
      }
    });
  } finally {
    await Promise.all(pool.map((t) => (failed ? t.terminate() : t.release())));
  }
}

/** One class's autoencoder on n workers. */
function replicaJob(spawn: Spawn, spec: AutoencoderSpec, o: TrainOptions, job: ClassJob, run: RunOptions, n: number): Promise<ClassResult> {
  const { onEpoch, workers: _w, ...shared } = run;
  // The blocks' shares of the decoder input (B x D each); W, bh and their velocities swapped after an epoch.
  const buffers = exchangeBuffers(o.blocks ?? 1, stepRows(o.batch, job.data.shape[0]) * spec.D, 2 * (spec.H * spec.D + spec.H));
  const { index, label, init } = job;
  const data = shareRows(job.data);
  const valid = job.valid && shareRows(job.valid);
  return runReplicas<ClassResult>(spawn, n, buffers, (w) => ({
    type: "job", slot: 0, spec, options: o, run: { ...shared, replica: { w, workers: n, buffers } }, job: { index, label, data, valid, init }, wasm: compiledBuild(),
  }), onEpoch && ((r) => onEpoch(job, r)));
}

/**
 * A stage's checkpoint `name` in the checkpoint directory: with resume, the checkpoint to go on from
 * (if the file exists; refused if made with other options or data; none, so the stage starts again,
 * when only the options named in `afresh` differ), and the saver of every epoch.
 */
export async function stageCheckpoint(
  checkpoint: { dir: string; resume: boolean } | undefined, name: string, trainer: string, options: Record<string, unknown>, fingerprintOf: () => string, afresh: readonly string[] = [],
): Promise<{ resume?: { from: Checkpoint; source: string }; checkpoint?: (c: Omit<Checkpoint, "options" | "data">) => void }> {
  if (!checkpoint) return {};
  const data = fingerprintOf(); // (a pass over every byte of the data: only with checkpoints)
  const files = await checkpointFiles(checkpoint.dir, checkpoint.resume);
  const file = files.path(name);
  const bytes = checkpoint.resume ? files.read(name) : undefined;
  let resume;
  if (bytes) {
    const from = decodeCheckpoint(bytes, file, trainer);
    // (not resumable: the stage starts again and its first checkpoint replaces the file)
    if (checkResumable(from, options, data, file, afresh)) resume = { from, source: file };
  }
  return { resume, checkpoint: (c) => files.write(name, encodeCheckpoint({ ...c, options, data })) };
}

/** Checkpoint files in a directory: read (undefined if absent), written atomically. */
export interface CheckpointFiles {
  path(name: string): string;
  read(name: string): Uint8Array | undefined;
  write(name: string, bytes: Uint8Array): void;
}

/**
 * The checkpoint directory `dir` (Node, Deno and Bun: the file system is loaded only when a
 * checkpoint is asked for, so that browsers and edge runtimes load this module too).
 */
async function checkpointFiles(dir: string, resume = false): Promise<CheckpointFiles> {
  if (typeof (globalThis as any).process?.versions?.node !== "string") {
    throw new InputError("checkpoints are files: they need Node, Deno or Bun (this runtime has no file system)");
  }
  const [{ makeDir, readBytes, writeAtomic }, { existsSync }, { join }] = await Promise.all([import("../node.js"), import("node:fs"), import("node:path")]);
  // Made (or found unwritable) now, before any work: not at the first epoch's write. A resumed fit
  // whose stages are all finished writes nothing, so a read-only directory is not refused then.
  makeDir(dir, "checkpoint directory", !resume);
  return {
    path: (name) => join(dir, name),
    read: (name) => (existsSync(join(dir, name)) ? readBytes(join(dir, name)) : undefined),
    write: (name, bytes) => writeAtomic(join(dir, name), bytes),
  };
}

// ---- finetuning on workers -------------------------------------------------------------------------

/** The messages a finetuning worker answers, in order; "step", "keep" and "restore" send no answer. */
type SlotMessage =
  | { type: "slots"; spec: AutoencoderSpec; params: Params[]; data: Tensor; B: number; offset: number; wasm: ReturnType<typeof compiledBuild> }
  | { type: "energies"; rows: Int32Array }
  | { type: "step"; g: Float32Array; o: FinetuneOptions }
  | { type: "classify"; X: Tensor }
  | { type: "load"; state: ParamState }
  | { type: "keep" | "restore" | "params" | "save" | "diverged" };

/**
 * The classes split over `workers` threads in contiguous blocks, each block's autoencoders in its
 * worker's engine. The training rows are shared (one SharedArrayBuffer, no copies); per step only the
 * minibatch's row indices go out and B x K energies and B x K gradients cross.
 */
export async function workerGroups(spec: AutoencoderSpec, params: Params[], data: Tensor, B: number, workers: number): Promise<ClassGroups> {
  const spawn = await threads();
  if (!spawn) throw new InputError("finetuning on workers: this runtime has no worker threads (use workers: 0)");
  const K = params.length;
  const n = Math.max(1, Math.min(workers, K));
  // One copy of the rows for every worker where memory cannot be shared (a browser page that is not
  // cross-origin isolated); the same bits either way.
  let rows = data.data;
  if (canShare()) {
    rows = new Float32Array(new SharedArrayBuffer(data.data.byteLength));
    rows.set(data.data);
  }
  const blocks = Array.from({ length: n }, (_, w) => [Math.floor((w * K) / n), Math.floor(((w + 1) * K) / n)] as const);
  const url = new URL("./worker.js", import.meta.url);
  const pending: Array<Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }>> = blocks.map(() => []);
  let failure: Error | undefined;
  const pool = blocks.map((_, i) =>
    spawn(url, {
      message(m) {
        const p = pending[i].shift();
        if (m.type === "error") {
          failure = rebuildError(m);
          p?.reject(failure);
        } else {
          p?.resolve(m.value);
        }
      },
      error(err) {
        failure = err;
        pending[i].splice(0).forEach((p) => p.reject(err));
      },
    }),
  );
  const send = (i: number, m: SlotMessage) => {
    if (failure) throw failure;
    pool[i].post(m);
  };
  const ask = <T>(i: number, m: SlotMessage): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      pending[i].push({ resolve: (v) => resolve(v as T), reject });
      pool[i].post(m);
    });
  // Interleave the workers' (b, k_w) blocks into (b, K) in class order.
  const gather = (parts: Float32Array[], rows: number): Float32Array => {
    const out = new Float32Array(rows * K);
    parts.forEach((part, w) => {
      const [lo, hi] = blocks[w];
      const k = hi - lo;
      for (let r = 0; r < rows; r++) out.set(part.subarray(r * k, (r + 1) * k), r * K + lo);
    });
    return out;
  };
  await Promise.all(blocks.map(([lo, hi], i) => ask(i, { type: "slots", spec, params: params.slice(lo, hi), data: { shape: data.shape, data: rows }, B, offset: lo, wasm: compiledBuild() })));
  return {
    rows: data.shape[0],
    classes: K,
    energies: async (rows) => gather(await Promise.all(blocks.map((_, i) => ask<Float32Array>(i, { type: "energies", rows }))), rows.length),
    step: async (g, o) => {
      const b = g.length / K;
      blocks.forEach(([lo, hi], i) => {
        const k = hi - lo;
        const part = new Float32Array(b * k);
        for (let r = 0; r < b; r++) part.set(g.subarray(r * K + lo, r * K + hi), r * k);
        send(i, { type: "step", g: part, o });
      });
    },
    classify: async (X) => gather(await Promise.all(blocks.map((_, i) => ask<Float32Array>(i, { type: "classify", X }))), X.data.length / X.shape[1]),
    keep: async () => blocks.forEach((_, i) => send(i, { type: "keep" })),
    restore: async () => blocks.forEach((_, i) => send(i, { type: "restore" })),
    params: async () => (await Promise.all(blocks.map((_, i) => ask<Params[]>(i, { type: "params" })))).flat(),
    diverged: async () => (await Promise.all(blocks.map((_, i) => ask<string | null>(i, { type: "diverged" })))).find((n) => n !== null) ?? undefined,
    save: async () => {
      const parts = await Promise.all(blocks.map((_, i) => ask<ParamState>(i, { type: "save" })));
      const best = parts.every((p) => p.best) ? Object.assign({}, ...parts.map((p) => p.best)) : undefined;
      return { values: Object.assign({}, ...parts.map((p) => p.values)), velocities: Object.assign({}, ...parts.map((p) => p.velocities)), best };
    },
    load: async (state) => blocks.forEach((_, i) => send(i, { type: "load", state })),
    // A worker still owing an answer, or after a failure, may be busy: ended, not handed back.
    close: async () => void (await Promise.all(pool.map((w, i) => (failure || pending[i].length > 0 ? w.terminate() : w.release())))),
  };
}
