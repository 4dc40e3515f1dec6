// The one epoch driver of every trainer: it owns the permutation, the minibatches, the learning-rate
// schedule, divergence, the best epoch, patience and the progress report. A trainer is a step
// function on it (plus, with validation data, a metric to minimize and a way to keep and restore the
// best parameters), so a new model family needs a step, not a loop.

import { InputError, quote } from "../errors.js";
import type { Rng } from "../random.js";
import { MAX_VALUES } from "../tensor.js";

export interface Schedule {
  epochs: number;
  /** Minibatch rows B. */
  batch: number;
  lr: number;
  /** Learning-rate decay τ: epoch t (from 0) uses lr · τ / (τ + t); 0 keeps lr constant. */
  decay: number;
  /** Stop after this many epochs without a better validation metric (0: never). */
  patience: number;
}

/**
 * The options every trainer's schedule shares, checked alike (pretraining's decay may be absent: 0);
 * `where` ("train", "finetune") begins the message.
 */
export function checkSchedule(o: Omit<Schedule, "decay"> & { decay?: number; momentum: number; weightDecay: number }, where: string): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new InputError(`${where}: ${what}`);
  };
  const decay = o.decay ?? 0;
  need(Number.isInteger(o.epochs) && o.epochs >= 0 && o.epochs <= MAX_EPOCHS, `epochs must be an integer in [0, ${MAX_EPOCHS}], not ${quote(o.epochs)}`);
  need(Number.isInteger(o.batch) && o.batch >= 1, `batch must be a positive integer, not ${quote(o.batch)}`);
  need(o.lr > 0 && Number.isFinite(o.lr), `lr must be positive, not ${quote(o.lr)}`);
  need(o.momentum >= 0 && o.momentum < 1, `momentum must be in [0, 1), not ${quote(o.momentum)}`);
  need(o.weightDecay >= 0 && Number.isFinite(o.weightDecay), `weight decay must be a finite number >= 0, not ${quote(o.weightDecay)}`);
  need(Number.isInteger(o.patience) && o.patience >= 0, `patience must be a non-negative integer, not ${quote(o.patience)}`);
  need(decay >= 0 && Number.isFinite(decay), `decay must be a finite number >= 0, not ${quote(o.decay)}`);
  need(Number.isFinite(o.lr * decay), `lr · decay must be finite (lr ${o.lr}, decay ${o.decay}): the schedule lr·τ/(τ + t) overflows`);
}

/**
 * The rows a step can hold: a batch beyond the N rows there are is one step over all of them (the
 * same bits), so step buffers are sized by this, not by the batch asked for (which the options,
 * checkpoints and cache keys keep as given).
 */
export const stepRows = (batch: number, N: number): number => Math.max(1, Math.min(batch, N));

/** What one epoch reports (progress display, logs, tests), the same for every trainer. */
export interface EpochReport {
  epoch: number; // 1-based, epochs done
  epochs: number;
  loss: number; // mean training objective over the epoch's rows
  valid?: number; // the validation metric (a loss, or an error rate), when there is validation data
  bestEpoch?: number; // the epoch kept so far: the first with the lowest validation metric
  examplesPerSec: number;
  elapsedMs: number;
  etaMs: number;
}

/** Everything a run needs to continue exactly where it stopped; S is the trainer's snapshot type. */
export interface RunState<S = unknown> {
  epoch: number; // epochs completed
  rng: Rng; // shuffles (and whatever else the trainer draws, e.g. the corruption)
  history: Array<{ epoch: number; loss: number; valid?: number }>;
  best?: { epoch: number; valid: number; params: S };
  stale: number; // epochs since the best validation metric
  stopped: boolean; // stopped early (patience): a resumed run does not go on
}

export interface Trainer<S = unknown> {
  /** Names the trainer in messages ("train", "finetune", …). */
  what: string;
  /** Training rows. */
  rows: number;
  /** One minibatch of the given rows at learning rate lr; returns the loss summed over the rows. */
  step(rows: Int32Array, lr: number, rng: Rng): number | Promise<number>;
  /** The validation metric after an epoch (lower is better); absent without validation data. */
  validate?(): number | Promise<number>;
  /** After an epoch's steps, before validation and checkpoints: make the model whole (see replicas.ts). */
  settle?(): void;
  /** A copy of the parameters to keep (called for a new best epoch). */
  keep(): S | Promise<S>;
  /** Puts the kept parameters back (called once at the end). */
  restore(params: S): void | Promise<void>;
  /**
   * The name of a parameter that diverged, checked once at the end: an epoch's loss is summed before
   * its steps, so the last steps of the last epoch can break the model unseen.
   */
  diverged?(): string | undefined | Promise<string | undefined>;
}

// The step is the rate times the gradient, and these set the gradient's size too.
const HINT = ", or the weight decay or momentum, or check the data's scale";

/** The loss stopped being a number: the learning rate is too large for this model and data. */
export class DivergenceError extends InputError {
  override name = "DivergenceError";
  constructor(readonly what: string, readonly epoch: number, readonly loss: number, readonly lr: number, readonly param?: string) {
    // (the epoch's rate after its decay, to 6 digits: not 1.0000000000000002e+30 for a given 1e30)
    const now = +lr.toPrecision(6);
    super(param === undefined
      ? `${what}: the loss became ${quote(loss)} in epoch ${epoch}: lower the learning rate (now ${now})${HINT}`
      : `${what}: the parameter ${param} diverged (values not finite or beyond float32's range) in epoch ${epoch}: lower the learning rate (now ${now})${HINT}`);
  }
}

/** The most epochs a run may ask for: a run keeps one history entry per epoch. */
export const MAX_EPOCHS = 1_000_000;

export function startRun<S>(rng: Rng): RunState<S> {
  return { epoch: 0, rng, history: [], stale: 0, stopped: false };
}

/** A random permutation of 0..n−1 (Fisher–Yates, from rng). */
export function permutation(n: number, rng: Rng): Int32Array {
  // (the rows of any array aescore holds: at most MAX_VALUES)
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_VALUES) throw new InputError(`permutation: n must be an integer from 0 to ${MAX_VALUES}, not ${quote(n)}`);
  if (typeof rng?.int !== "function") throw new InputError(`permutation: want a generator (rng(seed)), not ${quote(rng)}`);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** The learning rate of epoch t (from 0). */
function epochRate(s: Pick<Schedule, "lr" | "decay">, t: number): number {
  return s.decay > 0 ? (s.lr * s.decay) / (s.decay + t) : s.lr;
}

/**
 * Runs epochs from state.epoch to s.epochs (or until patience stops it): each shuffles the rows with
 * the state's generator and steps through them in minibatches of s.batch. With validation, the
 * parameters of the first epoch with the lowest metric are restored at the end.
 */
export async function runEpochs<S>(
  t: Trainer<S>, s: Schedule, state: RunState<S>,
  hooks: { onEpoch?: (r: EpochReport) => void; checkpoint?: (state: RunState<S>) => void | Promise<void> } = {},
): Promise<RunState<S>> {
  const N = t.rows;
  if (N === 0) throw new InputError(`${t.what}: no training rows`);
  const started = performance.now();
  const first = state.epoch;
  for (let epoch = state.epoch; epoch < s.epochs && !state.stopped; epoch++) {
    const order = permutation(N, state.rng);
    const lr = epochRate(s, epoch);
    let total = 0;
    for (let start = 0; start < N; start += s.batch) total += await t.step(order.subarray(start, Math.min(N, start + s.batch)), lr, state.rng);
    const loss = total / N;
    if (!Number.isFinite(loss)) throw new DivergenceError(t.what, epoch + 1, loss, lr);
    t.settle?.();
    const valid = t.validate ? await t.validate() : undefined;
    state.epoch = epoch + 1;
    state.history.push(valid === undefined ? { epoch: epoch + 1, loss } : { epoch: epoch + 1, loss, valid });
    if (valid !== undefined) {
      if (!state.best || valid < state.best.valid) {
        state.best = { epoch: epoch + 1, valid, params: await t.keep() };
        state.stale = 0;
      } else {
        state.stale++;
      }
    }
    const elapsedMs = performance.now() - started;
    const done = epoch + 1 - first;
    hooks.onEpoch?.({
      epoch: epoch + 1, epochs: s.epochs, loss, valid, bestEpoch: state.best?.epoch,
      examplesPerSec: (done * N) / (elapsedMs / 1000), elapsedMs, etaMs: (elapsedMs / done) * (s.epochs - epoch - 1),
    });
    state.stopped = s.patience > 0 && state.stale >= s.patience;
    await hooks.checkpoint?.(state);
  }
  if (state.best) await t.restore(state.best.params);
  // Also on a resumed run with nothing left to do: its checkpoint holds the last epoch's parameters.
  if (state.epoch > 0 && t.diverged) {
    const name = await t.diverged();
    if (name !== undefined) throw new DivergenceError(t.what, state.epoch, NaN, epochRate(s, state.epoch - 1), name);
  }
  return state;
}
