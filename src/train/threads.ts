// Threads wherever the runtime has them: Node's worker_threads (Node, Deno, Bun) or module Web Workers
// (browsers). Both carry the same messages (structured clones, transferable buffers); this module hides
// which one runs, so the class-parallel trainers are written once. Nothing here imports a Node module
// statically: a browser or an edge runtime loads it without a bundler.

/** One worker thread as the trainers use it. */
export interface Thread {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  terminate(): void;
}

export interface ThreadEvents {
  message(m: any): void;
  error(err: Error): void;
}

/** Starts a worker running `url` (an ES module), or undefined where the runtime has no threads. */
export type Spawn = (url: URL, on: ThreadEvents) => Thread;

const g = globalThis as any;

/** Node, Deno and Bun: Node's worker_threads (Deno's and Bun's compatible module included). */
const isNodeLike = (): boolean => typeof g.process?.versions?.node === "string";

/** The runtime's threads, or undefined (e.g. Cloudflare workerd): then everything runs in this thread. */
export async function threads(): Promise<Spawn | undefined> {
  if (isNodeLike()) {
    const { Worker } = await import("node:worker_threads");
    return (url, on) => {
      const w = new Worker(url);
      w.on("message", on.message);
      w.on("error", on.error);
      return { post: (m, transfer) => w.postMessage(m, transfer), terminate: () => void w.terminate() };
    };
  }
  if (typeof g.Worker === "function") {
    return (url, on) => {
      const w = new g.Worker(url, { type: "module" });
      w.onmessage = (ev: MessageEvent) => on.message(ev.data);
      // A module that fails to load gives an error event without a message: say what failed.
      w.onerror = (ev: ErrorEvent) => {
        ev.preventDefault?.();
        on.error(new Error(ev.message || `worker ${url.href} failed to start`));
      };
      w.onmessageerror = () => on.error(new Error("a message from a worker could not be read"));
      return { post: (m, transfer) => w.postMessage(m, transfer ?? []), terminate: () => w.terminate() };
    };
  }
  return undefined;
}

/** The number of cores the runtime reports (1 if it does not say). */
export async function cores(): Promise<number> {
  const n = g.navigator?.hardwareConcurrency;
  if (Number.isInteger(n) && n > 0) return n;
  if (isNodeLike()) return (await import("node:os")).availableParallelism();
  return 1;
}

/** Whether the training rows can be shared between threads (browsers need cross-origin isolation). */
export function canShare(): boolean {
  return typeof g.SharedArrayBuffer === "function" && g.crossOriginIsolated !== false;
}

/** The worker side: how a worker talks to the thread that started it. */
export interface Parent {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (m: any) => void): void;
}

/**
 * The parent of this worker. A Web Worker's listener is attached at once (messages that arrive
 * before a listener would be lost); Node's port buffers messages until its listener is attached.
 */
export function parent(): Parent | Promise<Parent> {
  if (!isNodeLike() && typeof g.WorkerGlobalScope === "function" && g instanceof g.WorkerGlobalScope) {
    const queue: any[] = [];
    let handler: ((m: any) => void) | undefined;
    g.addEventListener("message", (ev: MessageEvent) => (handler ? handler(ev.data) : queue.push(ev.data)));
    return {
      post: (m, transfer) => g.postMessage(m, transfer ?? []),
      onMessage: (h) => {
        handler = h;
        queue.splice(0).forEach(h);
      },
    };
  }
  return import("node:worker_threads").then(({ parentPort }) => {
    if (!parentPort) throw new Error("aescore's worker module runs only as a worker thread");
    return { post: (m, transfer) => parentPort.postMessage(m, transfer), onMessage: (h) => void parentPort.on("message", h) };
  });
}
