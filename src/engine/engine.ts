// The engine: one WebAssembly instance, its memory, and an arena of named f32 matrices in it.
//
// TypeScript owns all memory: the module imports it and its kernels never allocate. Buffers are
// carved from a bump arena (64-byte aligned); growing the memory detaches every typed array, so a
// matrix's `data` view is re-created on access whenever the buffer has changed.

import { simdWasm, scalarWasm } from "./wasm.generated.js";
import type { KernelExports } from "./kernels.generated.js";
import { InputError, ShapeError, onlyKeys, quote } from "../errors.js";

/** The raw kernel exports (pointers are byte offsets into the engine's memory), typed by the build. */
export type Kernels = KernelExports;

export type Backend = "simd" | "scalar";

export interface Engine {
  /** Which build runs: "simd" where the runtime validates WebAssembly SIMD, else "scalar". */
  readonly backend: Backend;
  readonly memory: WebAssembly.Memory;
  readonly k: Kernels;
  /** Scratch for GEMM packing, reserved once at start-up. */
  readonly gemmWork: number;
  /** The compiled build it runs: worker threads get it instead of compiling their own. */
  readonly module: WebAssembly.Module;
  /** First byte of the arena (below it: the runtime's data and gemmWork). */
  readonly base: number;
  /** Next free byte of the arena. */
  top: number;
  /** Ticks at every alloc, view and release: when a matrix was made, against when memory was given back. */
  clock: number;
  /**
   * The releases that can still have freed a live matrix's bytes: their ticks and positions, both
   * increasing (a later release at or below an earlier one's position covers it). `at`: the last tick.
   */
  readonly freed: { ticks: number[]; positions: number[]; at: number };
}

/** A rows x cols f32 matrix, row-major and contiguous, living in an engine's memory. */
export interface Mat {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  /** Byte offset of element (0, 0). */
  readonly ptr: number;
  /** Live view of the rows*cols elements (valid until the next memory growth; re-read it). */
  readonly data: Float32Array;
  readonly engine: Engine;
  /** The engine's clock when the matrix was made (absent on a hand-made one, which is not checked for it). */
  readonly born?: number;
}

export interface EngineOptions {
  /** "auto" (default) picks SIMD when the runtime supports it. */
  backend?: Backend | "auto";
  /**
   * A precompiled module of one of the two builds (dist/wasm/aescore-simd.wasm or aescore-scalar.wasm),
   * for runtimes that forbid compiling bytes (Cloudflare Workers and other edge runtimes). Say which
   * build it is with `backend` (default "simd").
   */
  module?: WebAssembly.Module;
}

const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32: 4 GiB
const ALIGN = 64;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

let simdSupported: boolean | undefined;

/** Whether this runtime validates the SIMD build (checked once). */
export function hasSimd(): boolean {
  if (simdSupported === undefined) simdSupported = WebAssembly.validate(decode(simdWasm));
  return simdSupported;
}

function pick(options: EngineOptions, withBytes = true): { backend: Backend; bytes: Uint8Array<ArrayBuffer> } {
  const want = options.backend ?? "auto";
  if (want !== "auto" && want !== "simd" && want !== "scalar") {
    throw new InputError(`engine: backend must be "auto", "simd" or "scalar", not ${quote(want)}`);
  }
  if (want === "simd" && !hasSimd()) throw new InputError("engine: this runtime does not support WebAssembly SIMD");
  const backend: Backend = want === "auto" ? (hasSimd() ? "simd" : "scalar") : want;
  return { backend, bytes: withBytes ? decode(backend === "simd" ? simdWasm : scalarWasm) : new Uint8Array(0) };
}

// The module imports only its memory (no loader needed: kernels take and return numbers, and the
// stub runtime has no abort import).
function imports(): { memory: WebAssembly.Memory; imports: WebAssembly.Imports } {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  return { memory, imports: { env: { memory } } };
}

function given(options: EngineOptions): { backend: Backend; module: WebAssembly.Module } | undefined {
  onlyKeys(options, ["backend", "module"], "engine");
  const { module } = options;
  if (module === undefined) return undefined;
  if (!(module instanceof WebAssembly.Module)) throw new InputError("engine: module must be a WebAssembly.Module (one of aescore's two .wasm builds)");
  if (!WebAssembly.Module.exports(module).some((x) => x.name === "gemm_workspace_bytes")) {
    throw new InputError("engine: module is not one of aescore's kernel builds (dist/wasm/aescore-simd.wasm or aescore-scalar.wasm)");
  }
  const backend = options.backend === undefined || options.backend === "auto" ? "simd" : options.backend;
  if (backend !== "simd" && backend !== "scalar") throw new InputError(`engine: with a module, backend must be "simd" or "scalar", not ${quote(backend)}`);
  return { backend, module };
}

function finish(backend: Backend, memory: WebAssembly.Memory, k: Kernels, module: WebAssembly.Module): Engine {
  const gemmWork = align(k.heap_base());
  const base = align(gemmWork + k.gemm_workspace_bytes());
  const e: Engine = { backend, memory, k, gemmWork, module, base, top: base, clock: 0, freed: { ticks: [], positions: [], at: 0 } };
  ensure(e, e.top);
  return e;
}

// Each build compiled once per thread: engines share its code (and the optimized code V8 makes of it).
const compiled: Partial<Record<Backend, WebAssembly.Module>> = {};

/**
 * The compiled build the options pick (the given module, or the embedded bytes compiled once per
 * thread): what createEngineSync runs, and what worker threads are handed so they need not compile.
 */
export function compiledBuild(options: EngineOptions = {}): { backend: Backend; module: WebAssembly.Module } {
  const pre = given(options);
  if (pre) return pre;
  const { backend } = pick(options, false);
  return { backend, module: (compiled[backend] ??= new WebAssembly.Module(pick(options).bytes)) };
}

/** Creates an engine synchronously (Node, workers; browsers allow it for small modules like ours). */
export function createEngineSync(options: EngineOptions = {}): Engine {
  const { backend, module } = compiledBuild(options);
  const { memory, imports: env } = imports();
  const instance = new WebAssembly.Instance(module, env);
  return finish(backend, memory, instance.exports as unknown as Kernels, module);
}

/** Creates an engine (compiles asynchronously: the portable way in browsers). */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const pre = given(options);
  const { memory, imports: env } = imports();
  if (pre) return finish(pre.backend, memory, (await WebAssembly.instantiate(pre.module, env)).exports as unknown as Kernels, pre.module);
  const { backend, bytes } = pick(options);
  const { instance, module } = await WebAssembly.instantiate(bytes, env);
  return finish(backend, memory, instance.exports as unknown as Kernels, module);
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function ensure(e: Engine, end: number): void {
  const have = e.memory.buffer.byteLength;
  if (end <= have) return;
  const pages = Math.ceil((end - have) / PAGE);
  if (have / PAGE + pages > MAX_PAGES) {
    throw new InputError(`engine: out of memory: ${end} bytes needed, WebAssembly memory is limited to 4 GiB`);
  }
  try {
    e.memory.grow(pages);
  } catch {
    // Under 4 GiB the host itself can refuse (a browser tab's or a worker's limit): the same typed error.
    throw new InputError(`engine: out of memory: ${end} bytes needed, the runtime refused to grow WebAssembly memory beyond ${have}`);
  }
}

/** Refuses what is not an engine (a null or a module where the engine goes). */
function checkEngine(e: Engine, op: string): void {
  if (!(typeof e === "object" && e !== null && e.memory instanceof WebAssembly.Memory && typeof e.top === "number")) {
    throw new InputError(`${op}: not an engine (createEngine or createEngineSync makes one): ${quote(e)}`);
  }
}

/** Allocates a rows x cols matrix in the arena (contents undefined until written). */
export function alloc(e: Engine, name: string, rows: number, cols: number): Mat {
  checkEngine(e, `alloc ${name}`);
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new ShapeError(`alloc ${name}: shape must be two non-negative integers, not ${rows}x${cols}`);
  }
  const ptr = e.top;
  const end = align(ptr + rows * cols * 4);
  ensure(e, end);
  e.top = end;
  return new View(name, rows, cols, ptr, e, ++e.clock);
}

/** A matrix over existing engine memory (no copy). */
export function view(e: Engine, name: string, ptr: number, rows: number, cols: number): Mat {
  checkEngine(e, `view ${name}`);
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0 && Number.isInteger(ptr) && ptr >= e.base && ptr % 4 === 0 && ptr + 4 * rows * cols <= e.top)) {
    throw new ShapeError(`view ${name}: ${rows}x${cols} at byte ${ptr} is not inside the engine's allocated memory (bytes ${e.base} to ${e.top})`);
  }
  return new View(name, rows, cols, ptr, e, ++e.clock);
}

// A class, not an object literal with its own getter: a literal's getter gave every matrix a hidden class
// of its own, so each kernel's loads of ptr, rows and cols went megamorphic (tens of ns per small call).
class View implements Mat {
  private buffer: ArrayBuffer | undefined = undefined;
  private view: Float32Array | undefined = undefined;
  constructor(readonly name: string, readonly rows: number, readonly cols: number, readonly ptr: number, readonly engine: Engine, readonly born: number) {}
  get data(): Float32Array {
    if (this.buffer !== this.engine.memory.buffer) {
      this.buffer = this.engine.memory.buffer;
      this.view = new Float32Array(this.buffer, this.ptr, this.rows * this.cols);
    }
    return this.view!;
  }
}

/**
 * Refuses m unless it is a matrix of first's engine lying inside that engine's allocated memory: a
 * hand-made Mat with a bad ptr or shape (or one released and allocated over) would otherwise trap
 * inside WebAssembly or read another matrix's numbers. Plain field arithmetic (memory.buffer is a
 * slow getter): every kernel call runs it on each operand.
 */
export function inArena(op: string, m: Mat, first: Mat): void {
  const e = first?.engine;
  if (e == null || m?.engine !== e || !(m.ptr >= e.base && m.rows >= 0 && m.cols >= 0 && (m.ptr & 3) === 0 && m.ptr + 4 * m.rows * m.cols <= e.top) || (m.born! < e.freed.at && freedUnder(m))) throw notInArena(op, m, first);
}

/**
 * Whether a release since m was made gave back any of its bytes: the matrix may lie inside the arena
 * again, over numbers allocated since (a model below a mark released too far), which its bounds alone
 * cannot tell. The first release after m's birth has the lowest position of those after it.
 */
function freedUnder(m: Mat): boolean {
  const { ticks, positions } = m.engine.freed;
  let lo = 0, hi = ticks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ticks[mid] > m.born!) hi = mid;
    else lo = mid + 1;
  }
  return lo < ticks.length && positions[lo] < m.ptr + 4 * m.rows * m.cols && m.rows * m.cols > 0;
}

// (the message apart, so that inArena stays small enough to inline)
function notInArena(op: string, m: Mat, first: Mat): ShapeError {
  for (const x of [first, m]) if (typeof x !== "object" || x === null || typeof x.ptr !== "number") return new ShapeError(`${op}: an operand is not a matrix (${quote(x)})`);
  if (m.engine !== first.engine) return new ShapeError(`${op}: ${m.name} lives in another engine than ${first.name}`);
  if (m.born! < m.engine.freed.at && freedUnder(m)) return new ShapeError(`${op}: ${m.name} (${m.rows}x${m.cols}) was given back by release() to a mark taken before it was made; its memory may hold other numbers now`);
  return new ShapeError(`${op}: ${m.name} (${m.rows}x${m.cols} at byte ${m.ptr}) is not a matrix inside its engine's allocated memory (bytes ${m.engine.base} to ${m.engine.top})`);
}

/** Whether two matrices share any byte (an empty one shares none). */
export function overlaps(a: Mat, b: Mat): boolean {
  const aEnd = a.ptr + a.rows * a.cols * 4;
  const bEnd = b.ptr + b.rows * b.cols * 4;
  return a.ptr < bEnd && b.ptr < aEnd && a.rows * a.cols > 0 && b.rows * b.cols > 0;
}

/** Rows [r0, r1) of m, as a matrix sharing m's memory. */
export function rowsOf(m: Mat, r0: number, r1: number): Mat {
  inArena("rowsOf", m, m);
  if (!(Number.isInteger(r0) && Number.isInteger(r1) && 0 <= r0 && r0 <= r1 && r1 <= m.rows)) {
    throw new ShapeError(`rows ${r0}..${r1} of ${m.name} (${m.rows}x${m.cols}) are out of range`);
  }
  // (born with m: the rows are m's bytes, freed when m's are)
  return new View(`${m.name}[${r0}:${r1}]`, r1 - r0, m.cols, m.ptr + r0 * m.cols * 4, m.engine, m.born ?? ++m.engine.clock);
}

/** Allocates a matrix and copies `values` (row-major, rows*cols of them) into it. */
export function fromArray(e: Engine, name: string, rows: number, cols: number, values: ArrayLike<number>): Mat {
  checkEngine(e, String(name));
  if (typeof values !== "object" || values === null || typeof values.length !== "number") throw new InputError(`${name}: want an array of numbers, not ${quote(values)}`);
  if (values.length !== rows * cols) {
    throw new ShapeError(`${name}: ${values.length} values given for a ${rows}x${cols} matrix (${rows * cols})`);
  }
  // Values that view this engine's memory (another matrix's data) are copied first: the allocation
  // may grow the memory, which detaches every view of it.
  const source = ArrayBuffer.isView(values) && (values as Float32Array).buffer === e.memory.buffer ? (values as Float32Array).slice() : values;
  const m = alloc(e, name, rows, cols);
  m.data.set(source);
  return m;
}

/** The arena position, to give back with `release` everything allocated after it. */
export function mark(e: Engine): number {
  checkEngine(e, "mark");
  return e.top;
}

/** Gives back everything allocated after `position` (a mark): matrices there are no longer valid. */
export function release(e: Engine, position: number): void {
  checkEngine(e, "release");
  // Below the arena would hand out the engine's own scratch; beyond the top, memory never reserved.
  if (!(Number.isInteger(position) && position >= e.base && position <= e.top)) {
    throw new ShapeError(`release: ${quote(position)} is not a mark of this engine's arena (bytes ${e.base} to ${e.top})`);
  }
  const { ticks, positions } = e.freed;
  while (positions.length > 0 && positions[positions.length - 1] >= position) {
    ticks.pop();
    positions.pop();
  }
  e.freed.at = ++e.clock;
  ticks.push(e.freed.at);
  positions.push(position);
  e.top = position;
}

/** "3x4" with the name, for error messages. */
export function describe(m: Mat): string {
  return `${m.name} ${m.rows}x${m.cols}`;
}
