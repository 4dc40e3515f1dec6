// What a training job will need, estimated before it starts, so that a job that cannot fit is refused
// with the figure instead of failing after minutes (or exhausting the machine). The counts follow the
// buffers the trainers allocate (train/autoencoder.ts, train/finetune.ts, model/factored.ts), rounded up.

import { InputError } from "../errors.js";
import { CHUNK } from "../model/autoencoder.js";

const F32 = 4;
/** A worker thread's own isolate and heap, beyond its WebAssembly memory (measured: about 12.5 MB). */
const THREAD = 16 * 2 ** 20;
/** The most one WebAssembly instance can address, less the kernels' own scratch and alignment. */
export const INSTANCE_LIMIT = 4 * 2 ** 30 - 64 * 2 ** 20;

export interface JobShape {
  D: number;
  H: number;
  /** Classes (1 for a single autoencoder). */
  K: number;
  /** Training rows in all. */
  N: number;
  /** Minibatch rows of pretraining and finetuning. */
  B: number;
  /** Engines that train classes side by side (workers, or 1 for this thread). */
  instances: number;
  /** Finetuning follows (a classifier), or only pretraining (train-ae). */
  finetune: boolean;
  /** Factors of the factored model (it is one model in one instance, or replicas of it). */
  factors?: number;
  /** TrainOptions.blocks: an autoencoder's blocks of hidden units (a block's share of the decoder
   * input; on several instances, the shared exchange of 2 x blocks shares and the swapped model), the
   * factored model's row blocks (a block's scratch gradients; replicas exchange 2 x blocks gradients). */
  blocks?: number;
}

export interface MemoryEstimate {
  /** The largest WebAssembly memory one instance needs, in bytes. */
  instance: number;
  /** Everything: every instance plus the host copies, in bytes. */
  total: number;
}

/** Bytes one engine needs to pretrain one autoencoder with minibatches of B rows. */
function pretrainInstance(D: number, H: number, B: number, N: number, blocks: number): number {
  const model = 5 * H * D + 5 * (H + D); // W, dW, VW, W and Wᵀ packed (per block), the vectors
  const step = B * (5 * H + (blocks > 1 ? 6 : 5) * D + 1); // X, Xt, A, R, Delta (and a block's share of A); U, Hd, G, S; loss
  const chunked = Math.min(CHUNK, N) * (2 * H + 2 * D + 2); // validation loss and energies, CHUNK rows at a time
  return F32 * (model + step + chunked);
}

/** Bytes one engine needs to finetune k of the classes. */
function finetuneInstance(D: number, H: number, B: number, N: number, k: number): number {
  const perClass = 3 * H * D + B * H + 6 * (H + D);
  const shared = B * (2 * D + H + 4) + Math.min(CHUNK, N) * (2 * H + 2 * D + 2);
  return F32 * (k * perClass + shared);
}

export function estimateMemory(j: JobShape): MemoryEstimate {
  const { D, H, K, N } = j;
  const B = Math.min(j.B, Math.max(1, N)); // (the trainers cut the batch to the rows)
  const blocks = j.blocks ?? 1;
  const data = F32 * N * D;
  // One model on several instances: the rows and the exchange shared.
  const one = j.factors !== undefined || K === 1;
  const replicas = one && blocks > 1 ? Math.max(1, Math.min(j.instances, blocks)) : 1;
  if (j.factors !== undefined) {
    const F = j.factors;
    const params = D * F + K * F + F * H + K * H + K * D;
    const instance = F32 * ((blocks > 1 ? 4 : 3) * params + B * (8 * F + 4 * H + 4 * D + 2) + K * B * (F + H) + CHUNK * (F + 2 * H + 2 * D)) + F32 * H * D;
    const exchange = replicas > 1 ? F32 * 2 * blocks * params + data : 0;
    // The host holds the data, the best epoch's copy and the expanded per-class weights for the result.
    return { instance, total: replicas * instance + exchange + 2 * data + F32 * (params + K * H * D) + threads(j, replicas) };
  }
  const n = replicas > 1 ? replicas : Math.max(1, Math.min(j.instances, K));
  const pre = pretrainInstance(D, H, B, N, blocks);
  const fine = j.finetune ? finetuneInstance(D, H, B, N, Math.ceil(K / n)) : 0;
  const instance = Math.max(pre, fine);
  // Host: the rows (and a copy per worker of its classes), the trained weights coming back, the
  // best epoch's copies, and the caller's engine holding the finished model.
  const weights = F32 * K * (H * D + H + D);
  // (Measured: 13.3 GB peak for H = 60000, K = 10 on two workers, where this says 16.)
  const host = 2 * data + 3 * weights + (j.finetune ? 2 * weights + data : 0);
  const exchange = replicas > 1 ? F32 * (2 * blocks * B * D + 2 * (H * D + H)) + data : 0;
  return { instance, total: n * instance + host + exchange + threads(j, n) };
}

/** The threads' own memory: n instances on workers (1 instance is this thread). */
const threads = (j: JobShape, n: number) => (j.instances > 1 ? n * THREAD : 0);

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

/**
 * Refuses a job whose estimate exceeds one instance's 4 GiB or the memory `free` (bytes, when known),
 * saying how much it needs and what to change.
 */
export function checkMemory(j: JobShape, free?: number): MemoryEstimate {
  const m = estimateMemory(j);
  const what = `${j.factors !== undefined ? `a factored model with ${j.factors} factors, ` : ""}${j.K} ${j.K === 1 ? "autoencoder" : "classes"} of ${j.H} hidden units on ${j.D} inputs`;
  if (m.instance > INSTANCE_LIMIT) {
    // Advise the change that would fit: the minibatch or the factors alone, else the hidden size.
    const fits = (k: Partial<JobShape>) => estimateMemory({ ...j, ...k }).instance <= INSTANCE_LIMIT;
    const more = j.finetune && j.factors === undefined && j.instances < j.K ? " or use more workers" : "";
    const B = Math.min(j.B, Math.max(1, j.N));
    const advice = B > 1 && fits({ B: 1 }) ? `lower the batch size (now ${B})` : j.factors !== undefined && j.factors > 1 && fits({ factors: 1 }) ? `lower the factors (now ${j.factors})` : `lower the hidden size${more}`;
    throw new InputError(`memory: ${what} need about ${gib(m.instance)} in one WebAssembly instance, more than its 4 GiB: ${advice}`);
  }
  if (free !== undefined && m.total > free) {
    throw new InputError(`memory: ${what} on ${j.N} rows need about ${gib(m.total)}, more than the ${gib(free)} of free memory`);
  }
  return m;
}
