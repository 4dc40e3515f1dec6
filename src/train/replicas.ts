// One autoencoder on several workers. Every worker holds a replica of the model and runs the same
// epoch driver with the same generator, so all see the same minibatches. A minibatch's gradient is the
// sum of fixed row blocks in block order (TrainOptions.blocks); each worker computes its own blocks,
// writes them into shared memory, waits for the others at a barrier, and adds all blocks in order into
// its gradient, then takes the same SGD step: the replicas stay identical, and equal to training on
// one worker with the same blocks. Block slots alternate between two halves, so one barrier a step is
// enough: no worker can write step t + 1's half before every worker has passed step t's barrier.

import { InputError } from "../errors.js";
import type { Mat } from "../engine/engine.js";

/** A worker's view of the exchange (its buffers are SharedArrayBuffers, shared by all workers). */
export interface Exchange {
  /** This worker's blocks. */
  own: number[];
  /** Workers taking part. */
  workers: number;
  /** Per half, per block: the model's gradients one after another (`size` values). */
  slots: Float32Array;
  /** Per half, per block: the block's share of the loss. */
  losses: Float64Array;
  /** [arrived, generation, aborted]. */
  sync: Int32Array;
  /** Which half this step uses. */
  parity: number;
  size: number;
  blocks: number;
}

export interface ExchangeBuffers {
  slots: Float32Array;
  losses: Float64Array;
  sync: Int32Array;
}

/** The shared buffers of an exchange for `blocks` blocks of a model with `size` gradient values. */
export function exchangeBuffers(blocks: number, size: number): ExchangeBuffers {
  if (2 * blocks * size > 2 ** 30) throw new InputError(`replicas: ${blocks} blocks of ${size} gradient values do not fit in shared memory`);
  return {
    slots: new Float32Array(new SharedArrayBuffer(4 * 2 * blocks * size)),
    losses: new Float64Array(new SharedArrayBuffer(8 * 2 * blocks)),
    sync: new Int32Array(new SharedArrayBuffer(4 * 3)),
  };
}

/** Worker w's exchange of `workers`: contiguous blocks ⌊wP/n⌋ … ⌊(w+1)P/n⌋ − 1. */
export function exchangeOf(buffers: ExchangeBuffers, w: number, workers: number, blocks: number): Exchange {
  const own: number[] = [];
  for (let j = Math.floor((w * blocks) / workers); j < Math.floor(((w + 1) * blocks) / workers); j++) own.push(j);
  return { ...buffers, own, workers, parity: 0, size: buffers.slots.length / (2 * blocks), blocks };
}

function slot(ex: Exchange, j: number): Float32Array {
  const at = (ex.parity * ex.blocks + j) * ex.size;
  return ex.slots.subarray(at, at + ex.size);
}

/** Writes block j's gradients (the model's, in a fixed order) and loss share into this step's half. */
export function publish(ex: Exchange, j: number, grads: Mat[], loss: number): void {
  const s = slot(ex, j);
  let at = 0;
  for (const g of grads) {
    s.set(g.data, at);
    at += g.data.length;
  }
  ex.losses[ex.parity * ex.blocks + j] = loss;
}

/** Reads block j's gradients into grads (the same order); returns its loss share. */
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
