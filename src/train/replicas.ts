// One model on several workers (docs/math.md §6.7). The step's work is split into fixed blocks
// (TrainOptions.blocks) whose shares are added in block order; each worker computes its own blocks,
// writes their shares into shared memory, waits for the others at a barrier, and adds every block's
// share in order: whichever worker computed a block, every worker adds the same numbers the same way,
// so the result equals training on one worker with the same blocks.
//   - An autoencoder splits its hidden units: a worker holds the rows of W of its blocks and their
//     velocities, and the only share that crosses workers is each block's part Hd_j W_j of the
//     decoder input (B x D values a step, not the H x D gradient); every worker then forms the same
//     Delta, and steps its own rows. After each epoch the workers swap their rows (gatherModel).
//   - The factored model splits its minibatch rows: every worker holds a replica, the blocks' shares
//     are gradients, and every worker takes the same step.
// Block slots alternate between two halves, so one barrier a step is enough: no worker can write step
// t + 1's half before every worker has passed step t's barrier.

import { InputError } from "../errors.js";
import type { Mat } from "../engine/engine.js";

/** A worker's view of the exchange (its buffers are SharedArrayBuffers, shared by all workers). */
export interface Exchange {
  /** This worker's blocks. */
  own: number[];
  /** Workers taking part. */
  workers: number;
  /** Per half, per block: its share, `size` values (the factored model's gradients; an autoencoder's Hd_j W_j part of A). */
  slots: Float32Array;
  /** Per half, per block: the block's share of the loss. */
  losses: Float64Array;
  /** [arrived, generation, aborted]. */
  sync: Int32Array;
  /** Where the workers swap their parts of the model (an autoencoder's rows of W, bh and velocities). */
  model?: Float32Array;
  /** Which half this step uses. */
  parity: number;
  size: number;
  blocks: number;
}

export interface ExchangeBuffers {
  slots: Float32Array;
  losses: Float64Array;
  sync: Int32Array;
  model?: Float32Array;
}

/**
 * The buffers of an exchange for `blocks` blocks of `size` values each (and `model` values of the
 * model to swap): shared memory for workers, plain memory for the blocks of one thread.
 */
export function exchangeBuffers(blocks: number, size: number, model = 0, shared = true): ExchangeBuffers {
  if (2 * blocks * size + model > 2 ** 30) throw new InputError(`train: ${blocks} blocks of ${size} values do not fit in shared memory`);
  const buffer = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  return {
    slots: new Float32Array(buffer(4 * 2 * blocks * size)),
    losses: new Float64Array(buffer(8 * 2 * blocks)),
    sync: new Int32Array(buffer(4 * 3)),
    model: model > 0 ? new Float32Array(buffer(4 * model)) : undefined,
  };
}

/** Block j of P of n things (rows or hidden units): [⌊jn/P⌋, ⌊(j+1)n/P⌋). */
export function blockRange(n: number, P: number, j: number): [number, number] {
  return [Math.floor((j * n) / P), Math.floor(((j + 1) * n) / P)];
}

/** Worker w's exchange of `workers`: contiguous blocks ⌊wP/n⌋ … ⌊(w+1)P/n⌋ − 1. */
export function exchangeOf(buffers: ExchangeBuffers, w: number, workers: number, blocks: number): Exchange {
  const own: number[] = [];
  const [j0, j1] = blockRange(blocks, workers, w);
  for (let j = j0; j < j1; j++) own.push(j);
  return { ...buffers, own, workers, parity: 0, size: buffers.slots.length / (2 * blocks), blocks };
}

function slot(ex: Exchange, j: number): Float32Array {
  const at = (ex.parity * ex.blocks + j) * ex.size;
  return ex.slots.subarray(at, at + ex.size);
}

/** Writes block j's share (matrices in a fixed order) and its loss share into this step's half. */
export function publish(ex: Exchange, j: number, grads: Mat[], loss: number): void {
  const s = slot(ex, j);
  let at = 0;
  for (const g of grads) {
    s.set(g.data, at);
    at += g.data.length;
  }
  ex.losses[ex.parity * ex.blocks + j] = loss;
}

/** Reads block j's share into the matrices (the same order); returns its loss share. */
export function collect(ex: Exchange, j: number, grads: Mat[]): number {
  const s = slot(ex, j);
  let at = 0;
  for (const g of grads) {
    g.data.set(s.subarray(at, at + g.data.length));
    at += g.data.length;
  }
  return ex.losses[ex.parity * ex.blocks + j];
}

/** Asks every worker of an exchange to stop at its next barrier (one of them failed). */
export function abort(sync: Int32Array): void {
  Atomics.store(sync, 2, 1);
  Atomics.notify(sync, 1);
}

/** Waits until every worker has arrived (a generation barrier); throws if the run was aborted. */
export function barrier(ex: Exchange): void {
  const { sync, workers } = ex;
  const generation = Atomics.load(sync, 1);
  if (Atomics.add(sync, 0, 1) === workers - 1) {
    Atomics.store(sync, 0, 0);
    Atomics.add(sync, 1, 1);
    Atomics.notify(sync, 1);
    return;
  }
  while (Atomics.load(sync, 1) === generation) {
    if (Atomics.load(sync, 2) !== 0) throw new InputError("train: stopped: another worker of this model failed");
    Atomics.wait(sync, 1, generation, 200);
  }
}
