// A training worker (see parallel.ts): one WebAssembly instance, jobs one at a time from the main thread.

import { parentPort } from "node:worker_threads";
import { createEngineSync } from "./engine.js";
import { runJob } from "./parallel.js";

const port = parentPort!;
const e = createEngineSync();
port.on("message", (m) => {
  if (m.type === "exit") {
    port.close();
    return;
  }
  try {
    const result = runJob(e, m.spec, m.options, m.job, m.run, (report) => port.postMessage({ type: "epoch", slot: m.slot, report }));
    port.postMessage({ type: "done", slot: m.slot, result }, [result.W, result.bh, result.br].map((a) => a.buffer as ArrayBuffer));
  } catch (err) {
    const x = err as Error;
    port.postMessage({ type: "error", slot: m.slot, name: x.name, message: x.message, stack: x.stack });
  }
});
