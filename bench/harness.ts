// What every bench section shares: the row it reports, the timing rule, seeded inputs, the
// agreement check, and peak-memory lines from child processes. It knows no library; sections bring
// their own contenders.

import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { rng } from "../src/random.js";
import type { Tfjs } from "./tfjs.js";

/** One measured contender on one problem. `vs` holds speed ratios (this / other), > 1 = faster. */
export interface Row {
  bench: string;
  shape: number[];
  op: string;
  /** "aescore", "tfjs-wasm", "naive", ...: the names `vs` uses. */
  lib: string;
  /** Which build of lib, e.g. "simd" or "scalar" for aescore. */
  backend: string;
  /** Median latency of one call, milliseconds. */
  ms: number;
  /** Timed calls behind ms. */
  samples: number;
  gflops?: number;
  /** For bandwidth-bound sections (bytes that must move / time). */
  gbps?: number;
  /** Items (rows, examples) per second, for sections that count those. */
  perSec?: number;
  vs?: Record<string, number>;
}

export interface Context {
  quick: boolean;
  /** null when the peers are not installed or failed to load (already reported). */
  tfjs: Tfjs | null;
  report(row: Row): void;
  /** A problem skipped or wrong: printed, and the run exits non-zero. */
  fail(message: string): void;
}

/** A section adds its rows through ctx.report; run.ts lists sections by name. */
export type Section = (ctx: Context) => Promise<void>;

export interface Timing {
  /** Median of the per-call latency samples (robust to the noise of a shared 2-core machine). */
  ms: number;
  samples: number;
  /** Relative margin of error of the mean, percent. */
  rme: number;
}

/**
 * Times fn with tinybench. `onceMs` (a cold call's time, measured by the caller) decides the
 * budget: calls slower than a third of the budget get 3 timed runs after 1 warm-up instead of
 * filling the budget, so a naive 1024^3 product does not take minutes.
 */
export async function measure(name: string, fn: () => void, onceMs: number, quick: boolean): Promise<Timing> {
  const budget = quick ? 250 : 1500;
  const slow = onceMs > budget / 3;
  const bench = new Bench(slow
    ? { time: 0, iterations: quick ? 1 : 3, warmupTime: 0, warmupIterations: 1, throws: true }
    : { time: budget, iterations: quick ? 3 : 10, warmupTime: budget / 5, warmupIterations: 3, throws: true });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== "completed") throw new Error(`${name}: tinybench ended in state ${r.state}`);
  return { ms: r.latency.p50, samples: r.latency.samplesCount, rme: r.latency.rme };
}

/** Milliseconds of one call of fn (its first, cold, call included: only a budget estimate). */
export function timeOnce(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Uniform values in [-1, 1) from the library's seeded generator: identical on every run and machine. */
export function uniform(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * r.uniform() - 1);
}

/**
 * max|x - ref| / max|ref|: normwise, so entries that cancel to near zero (common in a product of
 * centred values) do not turn rounding into a huge elementwise ratio.
 */
export function maxRelDiff(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (x.length !== ref.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - ref[i]);
    if (Number.isNaN(d)) return Infinity;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** A peak resident set size, KiB, of one configuration. */
export interface Peak {
  name: string;
  kb: number;
  note?: string;
}

export function mib(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MiB`;
}

const rssScript = join(dirname(fileURLToPath(import.meta.url)), "rss.js");

/** The peak RSS of a fresh Node process that runs one configuration of a section alone (bench/rss.ts); "" runs none. */
function childPeak(section: string, config: string, quick: boolean): Promise<number | string> {
  return new Promise((resolve) => {
    execFile(process.execPath, [rssScript, section, config, ...(quick ? ["--quick"] : [])], (error, stdout, stderr) => {
      const m = /"peakRssKb":(\d+)/.exec(stdout);
      resolve(m ? Number(m[1]) : (stderr.trim().split("\n").pop() ?? "") || String(error));
    });
  });
}

/**
 * Prints one line per configuration with its peak resident memory (VmHWM), each measured in its own
 * child process so that they do not mix, after the peak of a child that only loads the bench; `more`
 * are peaks measured elsewhere (the torch children).
 */
export async function peakRss(section: string, what: string, configs: string[], more: Peak[], quick: boolean): Promise<void> {
  const base = await childPeak(section, "", quick);
  console.log(`peak RSS (VmHWM), ${section}: each configuration in a child process running ${what}; ` +
    `node with the bench loaded and nothing run: ${typeof base === "number" ? mib(base) : base}`);
  for (const config of configs) {
    const kb = await childPeak(section, config, quick);
    console.log(`peak RSS, ${section}, ${config}: ${typeof kb === "number" ? mib(kb) : `not measured (${kb})`}`);
  }
  for (const p of more) console.log(`peak RSS, ${section}, ${p.name}: ${mib(p.kb)}${p.note ? ` (${p.note})` : ""}`);
}
