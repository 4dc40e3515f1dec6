// A worker thread (see parallel.ts): one WebAssembly instance. It either trains class autoencoders
// ("job" messages, one at a time) or holds some classes for finetuning ("slots", then "energies",
// "step", ... in order). Each answered message gets exactly one reply, in order. "idle" (the pool
// taking it back between runs, see threads.ts) frees what the run allocated.

import { parent } from "./threads.js";
import { createEngineSync, mark, release, type Backend, type Engine } from "../engine/engine.js";
import { runJob } from "./parallel.js";
import { factoredReplica } from "./fit.js";
import { makeSlots, slotEnergies, slotStep, slotClassify, slotKeep, slotRestore, slotParams, slotSave, slotLoad, slotDiverged, type Slots } from "./finetune.js";

const port = await parent();
// The engine is made from the first message's compiled build (the pool sends the one it runs, so a
// worker does not compile its own), or from the embedded bytes if none came.
let engine: Engine | undefined;
let base = 0; // the engine's arena above its own workspace
function engineFor(m: { wasm?: { backend: Backend; module: WebAssembly.Module } }): Engine {
  const given = m.wasm instanceof Object && m.wasm.module instanceof WebAssembly.Module ? m.wasm : undefined;
  if (!engine || (given && given.backend !== engine.backend)) {
    engine = createEngineSync(given ?? {});
    base = mark(engine);
  }
  return engine;
}
let slots: Slots | undefined;

async function handle(m: any): Promise<{ value: unknown } | undefined> {
  if (m.type === "idle") {
    // Back to the pool (threads.ts): nothing of this run stays allocated for the next one.
    slots = undefined;
    if (engine) release(engine, base);
    return { value: "idle" };
  }
  const e = engineFor(m);
  switch (m.type) {
    case "job": {
      const result = await runJob(e, m.spec, m.options, m.job, m.run, (report) => port.post({ type: "epoch", slot: m.slot, report }));
      port.post({ type: "done", slot: m.slot, result }, [result.W, result.bh, result.br].map((a) => a.buffer as ArrayBuffer));
      return undefined;
    }
    case "factored": {
      const result = await factoredReplica(e, m, (report) => port.post({ type: "epoch", report }));
      port.post({ type: "done", result });
      return undefined;
    }
    case "slots":
      slots = makeSlots(e, m.spec, m.params, m.data, m.B, m.offset);
      return { value: true };
    case "energies":
      return { value: slotEnergies(slots!, m.rows) };
    case "step":
      slotStep(slots!, m.g, m.o);
      return undefined;
    case "classify":
      return { value: slotClassify(slots!, m.X) };
    case "keep":
      slotKeep(slots!);
      return undefined;
    case "restore":
      slotRestore(slots!);
      return undefined;
    case "save":
      return { value: slotSave(slots!) };
    case "load":
      slotLoad(slots!, m.state);
      return undefined;
    case "params":
      return { value: slots!.slots.map((s) => slotParams(s.ae)) };
    case "diverged":
      return { value: slotDiverged(slots!) ?? null };
    default:
      throw new Error(`worker: unknown message ${m.type}`);
  }
}

// Messages are handled one after another in arrival order: a job (the only asynchronous one) is
// awaited before the next message starts. The pool ends a worker with terminate(), in every runtime
// (an idle one after threads.ts's IDLE_MS).
let queue: Promise<void> = Promise.resolve();
port.onMessage((m) => {
  queue = queue.then(async () => {
    try {
      const answer = await handle(m);
      if (answer) port.post({ type: "value", value: answer.value });
    } catch (err) {
      const x = err as Error & { what?: string; epoch?: number; loss?: number; lr?: number; param?: string; where?: string; row?: number; detail?: string };
      const fields =
        x.name === "DivergenceError" ? { what: x.what, epoch: x.epoch, loss: x.loss, lr: x.lr, param: x.param }
        : x.name === "RowError" ? { where: x.where, row: x.row, detail: x.detail }
        : undefined;
      port.post({ type: "error", slot: m.slot, name: x.name, message: x.message, stack: x.stack, fields });
    }
  });
});
