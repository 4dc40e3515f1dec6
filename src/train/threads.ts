// Threads wherever the runtime has them: Node's worker_threads (Node, Deno, Bun) or module Web Workers
// (browsers). Both carry the same messages (structured clones, transferable buffers); this module hides
// which one runs, so the class-parallel trainers are written once. Nothing here imports a Node module
// statically: a browser or an edge runtime loads it without a bundler.

/** One worker thread as the trainers use it. */
export interface Thread {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  /** Ends the thread now (after a failure: it may still be busy). */
  terminate(): void;
  /**
   * Hands the thread back once it has handled every message sent to it: the next run starts on it
   * instead of a new one (starting a worker costs about 0.1 s here); an idle thread ends after
   * IDLE_MS and never keeps a process alive. Resolves once the thread is idle (or ended).
   */
  release(): Promise<void>;
}

export interface ThreadEvents {
  message(m: any): void;
  error(err: Error): void;
}

/** Starts a worker running `url` (an ES module), or gives an idle one back; see Thread. */
export type Spawn = (url: URL, on: ThreadEvents) => Thread;

/** How long an idle thread is kept for the next run. */
export const IDLE_MS = 2000;

const g = globalThis as any;

/** Node, Deno and Bun: Node's worker_threads (Deno's and Bun's compatible module included). */
const isNodeLike = (): boolean => typeof g.process?.versions?.node === "string";

// A started worker; `on` is whoever uses it now.
interface Worker {
  url: string;
  on: ThreadEvents;
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  /** Ends the thread; nothing it still sends reaches anyone. */
  end(): void;
  ended: boolean;
  /** Called once when it ends (a release waiting for its answer). */
  onEnd?: () => void;
  /** Whether an idle worker may keep the process alive (Node's ref/unref, where the runtime has it). */
  hold(yes: boolean): void;
  timer?: unknown;
}

const SILENT: ThreadEvents = { message() {}, error() {} };

function ender(x: Worker, terminate: () => void): () => void {
  return () => {
    if (x.ended) return;
    x.ended = true;
    x.on = SILENT;
    dropIdle(x);
    terminate();
    x.onEnd?.();
  };
}

const idle: Worker[] = [];

function startNode(Worker: typeof import("node:worker_threads").Worker, url: URL): Worker {
  const w = new Worker(url);
  const x: Worker = {
    url: url.href, on: SILENT, ended: false,
    post: (m, transfer) => w.postMessage(m, transfer),
    end: () => {},
    hold: (yes) => (yes ? w.ref?.() : w.unref?.()),
  };
  x.end = ender(x, () => void w.terminate());
  w.on("message", (m) => x.on.message(m));
  w.on("error", (err) => x.on.error(err));
  // A worker that exits without an error event (killed, or process.exit in it) ends its run too.
  w.on("exit", (code) => {
    if (!x.ended) x.on.error(new Error(`a worker thread exited (code ${code})`));
    x.end();
  });
  return x;
}

function startWeb(url: URL): Worker {
  const w = new g.Worker(url, { type: "module" });
  const x: Worker = { url: url.href, on: SILENT, ended: false, post: (m, transfer) => w.postMessage(m, transfer ?? []), end: () => {}, hold() {} };
  x.end = ender(x, () => w.terminate());
  w.onmessage = (ev: MessageEvent) => x.on.message(ev.data);
  // A module that fails to load gives an error event without a message: say what failed.
  w.onerror = (ev: ErrorEvent) => {
    ev.preventDefault?.();
    x.on.error(new Error(ev.message || `worker ${url.href} failed to start`));
  };
  w.onmessageerror = () => x.on.error(new Error("a message from a worker could not be read"));
  return x;
}

function dropIdle(x: Worker): void {
  const i = idle.indexOf(x);
  if (i >= 0) idle.splice(i, 1);
  clearTimeout(x.timer as number);
}

// An idle worker waits IDLE_MS for another run, then ends; neither it nor its timer keeps a process alive.
function park(x: Worker): void {
  if (x.ended) return;
  x.hold(false);
  x.on = { message: () => x.end(), error: () => x.end() }; // an idle worker has nothing to say
  const t = setTimeout(() => x.end(), IDLE_MS) as unknown;
  if (typeof t === "number") g.Deno?.unrefTimer?.(t);
  else (t as { unref?: () => void })?.unref?.();
  x.timer = t;
  idle.push(x);
}

/** How many workers wait idle for the next run. */
export function idleThreads(): number {
  return idle.length;
}

/** Ends every idle worker now (e.g. a page that wants their memory back at once). */
export function endIdleThreads(): void {
  for (const x of [...idle]) x.end();
}

/** The runtime's threads, or undefined (e.g. Cloudflare workerd): then everything runs in this thread. */
export async function threads(): Promise<Spawn | undefined> {
  let start: (url: URL) => Worker;
  if (isNodeLike()) {
    const { Worker } = await import("node:worker_threads");
    start = (url) => startNode(Worker, url);
  } else if (typeof g.Worker === "function") {
    start = startWeb;
  } else {
    return undefined;
  }
  return (url, on) => {
    const reused = idle.find((x) => x.url === url.href && !x.ended);
    if (reused) {
      dropIdle(reused);
      reused.hold(true); // (a new worker holds the process already: Deno counts ref() calls)
    }
    const x = reused ?? start(url);
    x.on = on;
    let done = false;
    return {
      post(m, transfer) {
        if (done) throw new Error("a worker was used after its run handed it back");
        x.post(m, transfer);
      },
      terminate() {
        done = true;
        x.end();
      },
      release() {
        if (done || x.ended) return Promise.resolve();
        done = true;
        // Messages are handled in order: the answer to "idle" comes after every earlier one's. Anything
        // else first (an error a message without a reply caused) means the worker is not clean: ended.
        return new Promise<void>((resolve) => {
          x.onEnd = resolve;
          x.on = {
            message: (m) => {
              x.onEnd = undefined;
              if (m.type === "value" && m.value === "idle") park(x);
              else x.end();
              resolve();
            },
            error: () => x.end(), // (resolves through onEnd)
          };
          x.post({ type: "idle" });
        });
      },
    };
  };
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
