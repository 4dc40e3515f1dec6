// Loads TensorFlow.js with its WebAssembly backend from bench/peers (a separate npm package, so the
// main install and its tests never need it), single-threaded, from the .wasm files on disk.
// It does not install anything: a missing peer is reported and the bench goes on without it.

import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Only the few calls the bench makes; the real types live in bench/peers, outside the root build.
export interface TfTensor {
  dataSync(): Float32Array;
  dispose(): void;
}
export interface TfCore {
  version_core: string;
  tensor2d(values: Float32Array, shape: [number, number], dtype: "float32"): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA: boolean, transposeB: boolean): TfTensor;
  tensor1d(values: Float32Array, dtype: "float32"): TfTensor;
  sigmoid(x: TfTensor): TfTensor;
  tanh(x: TfTensor): TfTensor;
  relu(x: TfTensor): TfTensor;
  softplus(x: TfTensor): TfTensor;
  abs(x: TfTensor): TfTensor;
  square(x: TfTensor): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  sub(a: TfTensor, b: TfTensor): TfTensor;
  mul(a: TfTensor, b: TfTensor | number): TfTensor;
  sum(x: TfTensor, axis?: number): TfTensor;
  tidy<T>(fn: () => T): T;
  variable(t: TfTensor): TfTensor;
  scalar(v: number): TfTensor;
  reshape(x: TfTensor, shape: number[]): TfTensor;
  train: { momentum(lr: number, momentum: number): { minimize(f: () => TfTensor, returnCost?: boolean): TfTensor | null; dispose(): void } };
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  enableProdMode(): void;
  env(): { getAsync(flag: string): Promise<unknown>; set(flag: string, value: unknown): void };
}
interface TfWasm {
  version_wasm: string;
  setWasmPaths(map: Record<string, string>): void;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

export interface Tfjs {
  tf: TfCore;
  /** e.g. "tfjs-backend-wasm-simd.wasm, 1 thread, tfjs 4.22.0" */
  describe: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const peersDir = join(root, "bench", "peers");
export const installHint = "npm run bench:peers";

const BINARIES = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"];

/** tfjs on its wasm backend, or a one-line reason why not. */
export async function loadTfjs(): Promise<Tfjs | string> {
  const req = createRequire(join(peersDir, "package.json"));
  let tf: TfCore;
  let wasm: TfWasm;
  try {
    // The union package: tfjs-core plus the registered gradients (the training section needs autodiff).
    tf = req("@tensorflow/tfjs") as TfCore;
    wasm = req("@tensorflow/tfjs-backend-wasm") as TfWasm;
  } catch {
    return `tfjs-wasm peers not installed (run \`${installHint}\`): benchmarking aescore and naive only`;
  }
  try {
    // tfjs asks the map for exactly one binary when it instantiates; a getter records which, because
    // tfjs itself never says which of the three (plain, SIMD, threaded SIMD) it picked.
    const dist = join(dirname(req.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
    const map: Record<string, string> = {};
    let armed = false;
    let picked = "";
    for (const name of BINARIES) {
      Object.defineProperty(map, name, {
        enumerable: true,
        get: () => {
          if (armed) picked = name;
          return join(dist, name);
        },
      });
    }
    // Absolute paths: in Node the Emscripten loader then reads the file with fs, never fetch.
    wasm.setWasmPaths(map);
    armed = true;
    // Node already reports no thread support to tfjs; set it anyway so a future tfjs cannot
    // silently switch to the threaded build and compare 2 cores with our 1.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend("wasm")) || tf.getBackend() !== "wasm") return "tfjs-wasm backend failed to initialise";
    tf.enableProdMode();
    if (!picked || !existsSync(join(dist, picked))) return `tfjs-wasm loaded an unknown binary (${picked || "none recorded"})`;
    const threads = wasm.getThreadsCount();
    return { tf, describe: `${picked}, ${threads} thread${threads === 1 ? "" : "s"}, tfjs ${tf.version_core}` };
  } catch (e) {
    return `tfjs-wasm failed to load: ${(e as Error)?.message ?? String(e)}`;
  }
}
